"""#11: a script whose module code never returns freezes nothing: it loads on a thread
of its own, is given up after the load limit, and the other scripts and later saves
still load."""

from __future__ import annotations

import time

from PyQt6.QtCore import QTimer

from app.processing.registry import ProcessorRegistry
from app.scripting.scripts_folder import ScriptsFolder
from app.scripting.scripts_watcher import ScriptsWatcher
from tests.windows import new_window

ENDLESS = "import time\nwhile True:\n    time.sleep(0.05)\n"
GOOD = (
    "from app import processor\n\n@processor\n"
    "def {name}(image, metadata):\n    return image, metadata\n"
)


def _wait(condition, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_an_endless_script_is_given_up_and_the_others_load(tmp_path):
    (tmp_path / "a_endless.py").write_text(ENDLESS)
    (tmp_path / "b_good.py").write_text(GOOD.format(name="good"))
    registry = ProcessorRegistry()
    folder = ScriptsFolder(tmp_path, registry)
    watcher = ScriptsWatcher(folder, interval_s=0.05, load_timeout_s=0.5)
    watcher.start()
    try:
        assert _wait(lambda: "good" in registry)  # loaded after the stuck file
        state = folder.state_of(tmp_path / "a_endless.py")
        assert state is not None and "still running its module code" in state.error
        assert watcher.stuck_threads == 1
        # a fixed version is loaded, by the fresh scanning thread
        (tmp_path / "a_endless.py").write_text(GOOD.format(name="fixed"))
        assert _wait(lambda: "fixed" in registry)
        assert folder.state_of(tmp_path / "a_endless.py").error is None
        (tmp_path / "c_later.py").write_text(GOOD.format(name="later"))
        assert _wait(lambda: "later" in registry)
    finally:
        watcher.stop()


def test_the_window_stays_responsive_with_an_endless_script(qtbot, core, tmp_path):

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "a_good.py").write_text(GOOD.format(name="good"))
    (scripts / "b_endless.py").write_text(ENDLESS)  # stuck after the good one loaded
    registry = ProcessorRegistry()
    started = time.monotonic()
    window = new_window(qtbot, core, tmp_path / "settings.json", scripts, registry=registry)
    window.show()
    assert time.monotonic() - started < 5  # the window was built without waiting on it
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    qtbot.waitUntil(lambda: "good" in registry, timeout=10000)
    qtbot.waitUntil(lambda: window.scripts.loading is not None, timeout=5000)
    qtbot.wait(300)  # the endless script is running on its thread meanwhile
    timer.stop()
    assert len(ticks) >= 5  # the GUI thread kept running its timers
    window.close()


SLOW_THEN = (
    "import time\ntime.sleep({sleep})\nfrom app import processor\n\n@processor\n"
    "def proc(image, metadata):\n    return {version!r}\n"
)


def test_a_given_up_load_that_returns_later_registers_nothing(tmp_path):
    """The slow version finishes after it was given up and after a fixed version was
    saved: what it defined is dropped, the fixed version stays."""
    script = tmp_path / "s.py"
    script.write_text(SLOW_THEN.format(sleep=1.5, version="slow"))
    registry = ProcessorRegistry()
    folder = ScriptsFolder(tmp_path, registry)
    watcher = ScriptsWatcher(folder, interval_s=0.05, load_timeout_s=0.3)
    watcher.start()
    try:
        assert _wait(lambda: getattr(folder.state_of(script), "error", None))
        assert "proc" not in registry  # given up: nothing of it is registered
        script.write_text(SLOW_THEN.format(sleep=0, version="fixed"))
        assert _wait(lambda: "proc" in registry)
        time.sleep(2.0)  # the slow version's module code returns meanwhile
        assert registry.get("proc").fn(None, None) == "fixed"
        assert folder.state_of(script).error is None
    finally:
        watcher.stop()


def test_moving_to_another_folder_during_a_scan_loads_only_the_new_one(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "a_slow.py").write_text("import time\ntime.sleep(0.5)\n")
    (old / "b_old.py").write_text(GOOD.format(name="from_old"))
    (new / "c_new.py").write_text(GOOD.format(name="from_new"))
    registry = ProcessorRegistry()
    folder = ScriptsFolder(old, registry)
    watcher = ScriptsWatcher(folder, interval_s=0.05, load_timeout_s=5)
    watcher.start()
    try:
        assert _wait(lambda: folder.loading is not None)  # inside a_slow.py
        folder.move_to(new)
        assert _wait(lambda: "from_new" in registry)
        time.sleep(0.8)
        assert registry.names() == ["from_new"]
    finally:
        watcher.stop()
