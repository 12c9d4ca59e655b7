"""#20, item 8: a window's timers, threads and signal connections end with it.

Windows made and closed in one process (the test suite, and the app's other windows)
crashed it: a closed window's pyqtgraph items, deleted later with the window, asked
their view box for their bounds after the view box was gone ("AttributeError:
'NoneType' object has no attribute 'size'" in ``InfiniteLine._computeBoundingRect``,
then a segmentation fault); a psygnal signal of a model that outlives the window
(the registry, the scripts folder) called a Qt signal of a deleted object (a
segmentation fault); timers of closed windows kept firing, one polling the
microscope under the next window's acquisition.

Here a window is opened, used (Snap, Live on and off, the measuring tools, a
two-channel acquisition drawn as a composite, a processor's view) and closed
``ROUNDS`` times in one process (with the console one time in ten: it takes 0.4 s to
make), and deleted as pytest-qt deletes its widgets (``deleteLater``, done by the
next round's event loop).
Each closed window must have no timer running and none firing, no thread of its own
running, and no connection left from the microscope, the registry, the scripts
folder or logging; after the rounds no Scopeflow thread runs, no closed window nor
its display models is still referenced, and threads and memory are where they were
after the first rounds. The suite runs with pytest's ``faulthandler``: a crash shows
its stack.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref

import numpy as np
import psutil
import psygnal
from PyQt6 import sip
from PyQt6.QtCore import QThread, QTimer, pyqtSignal

from app import show_image
from app.appstate import AppState
from app.processing.channel_display import ChannelDisplay
from app.processing.display import DisplaySettings
from app.processing.registry import ProcessorRegistry
from app.settings_store import SettingsStore
from app.ui.common.lifecycle import ThreadKeeper
from app.ui.common.qt_threads import WorkerQThread
from app.ui.shell.main_window import MainWindow

ROUNDS = 50
WARM_UP = 10  # the rounds before memory is measured: caches fill once
MEMORY_GROWTH_LIMIT_MB = 20  # over the last ROUNDS - WARM_UP windows (measured: +3 MB)


def _core_connections(core) -> dict[str, int]:
    return {
        name: len(signal)
        for name in dir(core.events)
        if isinstance(signal := getattr(core.events, name, None), psygnal.SignalInstance)
    }


def _window_timers(window: MainWindow) -> list[QTimer]:
    """Every timer of the window: its panels', docks', dialogs', views' and parts'
    (the display's, the map's, the measuring tools')."""
    return window.findChildren(QTimer)


def _python_threads() -> set[threading.Thread]:
    """The process's Python threads, but IPython's history saver: one for the process,
    started with the first console and kept for the next."""
    return {t for t in threading.enumerate() if t.name != "IPythonHistorySavingThread"}


def _display_models() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, ChannelDisplay | DisplaySettings))


def _scopeflow_threads_running() -> list[QThread]:
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, QThread)
        and type(obj).__module__.startswith("app.")
        and not sip.isdeleted(obj)
        and obj.isRunning()
    ]


def _publish(image, metadata):
    """A processor that shows an image of its own: a viewer in a dock of its own."""
    show_image("threshold", (image > image.mean()).astype(np.uint8))
    return image, metadata


def _use(qtbot, window: MainWindow) -> None:
    """Snap, the measuring tools, Live on and off, and two channels acquired through a
    processor with a view of its own and drawn as a composite: every timer, thread and
    pyqtgraph item the window has."""
    scope = window.microscope_panel
    scope.snap_button.click()
    qtbot.waitUntil(lambda: window.display.displayed >= 1, timeout=5000)
    window.measure.set_line_on(True)
    window.measure.set_rectangle_on(True)
    shown = window.display.displayed
    scope.live_button.setChecked(True)
    qtbot.waitUntil(lambda: window.display.displayed > shown, timeout=5000)
    scope.live_button.setChecked(False)
    window.registry.register(_publish, "publish", source="test")  # a named view too
    panel = window.acquisition_panel
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 2)
    panel.set_channel("FITC", True, 2)
    panel.save_box.setChecked(False)  # kept in memory: nothing written 50 times
    panel.start_button.click()
    qtbot.waitUntil(
        lambda: not window.controller.running and panel.start_button.isEnabled(),
        timeout=20000,
    )
    # browse: the other channel's slider position, composed from the dataset (frames
    # that all came before the display's first tick were never shown)
    channel = window.sliders.slider("channel")
    channel.setValue(1 - channel.value())
    viewer = window.viewer

    def composite_drawn() -> bool:
        drawn = viewer.item.screen_rgb()
        return (
            viewer.channels.composite_active and drawn is not None and viewer.item.showing_composite
        )

    qtbot.waitUntil(composite_drawn, timeout=5000)
    qtbot.waitUntil(lambda: window.named_views.view("threshold") is not None, timeout=5000)


def _assert_ended(window: MainWindow, core, connections: dict[str, int], handlers) -> None:
    """What a closed window must have ended."""
    running = [t for t in _window_timers(window) if t.isActive()]
    assert not running, f"timers still running: {[t.parent() for t in running]}"
    assert len(_window_timers(window)) > 10  # the display's, the map's among them
    assert not window.display.preparer.isRunning()
    assert _core_connections(core) == connections  # nothing listens to the microscope
    assert len(window.registry.changed) == 0  # the registry outlives the window
    assert len(window.scripts.changed) == 0  # its scanning thread may finish a scan
    assert len(window.processors.scripts_watcher.first_scan_done) == 0
    assert logging.getLogger().handlers == handlers


def _assert_no_timer_fires(qtbot, window: MainWindow) -> None:
    fired: list[QTimer] = []
    for timer in _window_timers(window):
        timer.timeout.connect(lambda t=timer: fired.append(t))
    qtbot.wait(600)  # longer than every interval of the window's timers
    assert not fired, f"timers of a closed window fired: {[t.parent() for t in fired]}"


def test_a_window_opened_used_and_closed_50_times_leaves_nothing_behind(qtbot, core, tmp_path):
    connections = _core_connections(core)
    handlers = list(logging.getLogger().handlers)
    process = psutil.Process()
    windows: list[weakref.ref[MainWindow]] = []
    threads_before = _python_threads()
    models_before = _display_models()  # other tests' windows, if any
    memory_after_warm_up = 0
    started = time.perf_counter()
    for round_ in range(ROUNDS):
        gc.collect()  # the windows before, deleted: memory is what the live ones hold
        folder = tmp_path / f"round{round_}"
        (folder / "scripts").mkdir(parents=True)
        window = MainWindow(
            AppState(core, ProcessorRegistry()),
            SettingsStore(str(folder / "settings.json")),
            scripts_folder=folder / "scripts",
            # the console (an in-process IPython kernel, 0.4 s to make) in one round of ten
            console=round_ % 10 == 0,
        )
        window.show()
        _use(qtbot, window)
        window.close()
        _assert_ended(window, core, connections, handlers)
        if round_ % 5 == 0:  # Live's, the preparer's, the acquisition's, its waiter's
            assert not _scopeflow_threads_running()  # (0.1 s to look for them)
        if round_ in (0, ROUNDS - 1):
            _assert_no_timer_fires(qtbot, window)
        window.deleteLater()  # as pytest-qt does: deleted in the next event loop
        windows.append(weakref.ref(window))
        del window
        if round_ == WARM_UP - 1:
            qtbot.wait(50)
            gc.collect()
            memory_after_warm_up = process.memory_info().rss
    qtbot.wait(50)  # the last window deleted
    gc.collect()
    elapsed = time.perf_counter() - started

    assert not _scopeflow_threads_running()
    assert not WorkerQThread._running and ThreadKeeper.kept() == 0
    # the scripts folders' scanning threads end on their own, a moment after stop()
    qtbot.waitUntil(lambda: _python_threads() <= threads_before, timeout=5000)
    growth_mb = (process.memory_info().rss - memory_after_warm_up) / 2**20
    assert growth_mb < MEMORY_GROWTH_LIMIT_MB, (
        f"memory grew {growth_mb:.0f} MB over {ROUNDS - WARM_UP} windows"
    )
    # IPython's shell, one for the process, kept the last window that had a console
    alive = sum(1 for ref in windows if ref() is not None)
    assert alive == 0, f"{alive} closed windows are still referenced"
    # psygnal kept display models that their own signals held (one pair per viewer)
    models = _display_models() - models_before
    assert models <= 0, f"{models} display models of closed windows are still alive"
    print(f"{ROUNDS} windows in {elapsed:.1f} s; memory {growth_mb:+.1f} MB after warm-up")


def test_a_live_failure_that_arrives_after_the_window_is_deleted_is_dropped(qtbot, core, tmp_path):
    """Live's thread reports a failure through a queued signal. A thread that outlived
    its stop (kept by ``ThreadKeeper`` after its 5 s) may report after the window is
    closed and deleted: the call dies with the window, never runs on its remains."""

    class Failing(QThread):  # what Live's worker does when its camera fails late
        failed = pyqtSignal(str)

        def run(self):
            time.sleep(0.3)
            self.failed.emit("the camera stopped answering")

    (tmp_path / "scripts").mkdir()
    window = MainWindow(
        AppState(core, ProcessorRegistry()),
        SettingsStore(str(tmp_path / "settings.json")),
        scripts_folder=tmp_path / "scripts",
        console=False,
    )
    window.show()
    worker = Failing()
    worker.failed.connect(window.camera.live_failed)  # as set_live connects Live's
    worker.start()
    window.close()
    window.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(window), timeout=5000)
    worker.wait(5000)
    with qtbot.capture_exceptions() as raised:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            qtbot.wait(20)
    errors = [str(exc) for _, exc, _ in raised]
    assert errors == []
