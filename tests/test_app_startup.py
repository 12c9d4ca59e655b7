"""Starting the app as the Windows installer does: pythonw.exe (no stdout, no stderr),
resources read from files, errors that reach no terminal still reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from app.app_logging import LOG_FILE, OUTPUT_FILE
from app.microscope.loading import load_microscope, release_microscope
from app.microscope.simulated import simulated_camera_from_resources
from app.preferences import default_preferences, documents_folder, expand_path
from app.resource_files import (
    ICON_SIZES,
    MissingResourceError,
    icon_files,
    load_json_resource,
    resources_folder,
)

ROOT = Path(__file__).resolve().parent.parent


def _run_app_process(code: str, tmp_path: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    """A separate process, as a double-click starts one, with its own log folder and
    settings (none of the user's)."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        SCOPEFLOW_LOG_DIR=str(tmp_path / "logs"),
        SCOPEFLOW_NO_DIALOGS="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=env,
        check=False,
    )


def test_self_test_passes_without_stdout_or_stderr_as_under_pythonw(tmp_path):
    report = tmp_path / "report.txt"
    result = _run_app_process(
        f"""
        import sys
        sys.stdout = None  # what pythonw.exe gives a program
        sys.stderr = None
        from app.__main__ import main
        sys.exit(main(["--self-test", {str(report)!r}]))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = report.read_text(encoding="utf-8")
    assert "PASS snap: 512x512 uint16" in text
    assert "PASS acquisition saved: 3 images saved and read back" in text
    assert "PASS console: code typed in the console ran" in text
    assert text.rstrip().endswith("RESULT PASS")
    logs = tmp_path / "logs"
    assert "RESULT PASS" in (logs / OUTPUT_FILE).read_text(encoding="utf-8")  # the print
    log = (logs / LOG_FILE).read_text(encoding="utf-8")
    assert "Acquisition started: 3 events" in log
    assert "Traceback" not in log


def test_an_error_nobody_caught_is_logged_and_the_app_goes_on(tmp_path):
    result = _run_app_process(
        """
        import sys
        sys.stdout = sys.stderr = None
        from PyQt6.QtCore import QTimer
        from PyQt6.QtWidgets import QApplication
        from app.app_logging import configure_logging
        from app.microscope import load_microscope
        from app.ui.shell.main import run_app

        configure_logging(False, to_file=True)

        def broken_slot():
            raise ZeroDivisionError("a bug in a slot")

        qapp = QApplication(sys.argv)  # kept: run_app uses this one
        QTimer.singleShot(300, broken_slot)
        QTimer.singleShot(1200, lambda: QApplication.exit(7))  # still alive after it
        sys.exit(run_app(load_microscope()))
        """,
        tmp_path,
    )
    assert result.returncode == 7, result.stdout + result.stderr
    log = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "Unhandled error" in log and "ZeroDivisionError: a bug in a slot" in log


def test_a_missing_configuration_stops_the_window_app_with_its_cause(tmp_path):
    result = _run_app_process(
        f"""
        import sys
        from app.__main__ import main
        sys.exit(main(["--config", {str(tmp_path / "scope.cfg")!r}]))
        """,
        tmp_path,
    )
    assert result.returncode == 2
    assert "configuration file not found" in result.stderr
    assert "configuration file not found" in (tmp_path / "logs" / LOG_FILE).read_text("utf-8")


# ------------------------------------------------------------ resources
def test_the_icon_comes_in_every_size_and_as_a_windows_ico():
    for size, path in icon_files().items():
        with Image.open(path) as image:
            assert image.size == (size, size), path
            assert image.mode == "RGBA"
    with Image.open(resources_folder() / "icon" / "scopeflow.ico") as ico:
        assert {s for s, _ in ico.info["sizes"]} == {s for s in ICON_SIZES if s <= 256}


def test_the_window_carries_the_icon(window):
    sizes = {size.width() for size in window.windowIcon().availableSizes()}
    assert {16, 32, 256} <= sizes


def test_the_simulated_microscope_is_set_up_as_its_resource_file_says():
    camera = json.loads((ROOT / "resources" / "simulated_microscope.json").read_text())["camera"]
    assert simulated_camera_from_resources().width == camera["width"]
    core = load_microscope()
    try:
        assert (core.getImageWidth(), core.getImageHeight()) == (camera["width"], camera["height"])
        assert core.getExposure() == camera["exposure_ms"]
        assert core.getProperty("Camera", "Mode") == camera["mode"]
    finally:
        release_microscope(core)


def test_default_preferences_put_data_and_scripts_in_documents():
    preferences = default_preferences()
    assert preferences.scripts_folder == documents_folder() / "Scopeflow" / "scripts"
    assert preferences.data_directory == documents_folder() / "Scopeflow" / "data"
    assert preferences.window_size == (1400, 900)
    assert expand_path("~/x") == Path.home() / "x"
    assert expand_path("documents\\a\\b") == documents_folder() / "a" / "b"


def test_comment_keys_are_not_settings():
    assert "_about" not in load_json_resource("default_preferences.json")


def test_a_missing_resource_names_the_file_and_the_remedy():
    with pytest.raises(MissingResourceError, match=r"no_such_file\.json.*reinstall"):
        load_json_resource("no_such_file.json")


def test_the_wheel_carries_the_resources_inside_the_package(tmp_path):
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("scopeflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "app/resources/icon/scopeflow.ico" in names
    assert "app/resources/simulated_microscope.json" in names
    assert "app/resources/default_preferences.json" in names


def test_an_error_in_a_thread_reaches_the_log_file(tmp_path):
    result = _run_app_process(
        """
        import sys, threading
        sys.stdout = sys.stderr = None
        from PyQt6.QtCore import QTimer
        from PyQt6.QtWidgets import QApplication
        from app.app_logging import configure_logging
        from app.microscope import load_microscope
        from app.ui.shell.main import run_app

        configure_logging(False, to_file=True)

        def fails():
            raise KeyError("lost in a thread")

        qapp = QApplication(sys.argv)
        QTimer.singleShot(300, lambda: threading.Thread(target=fails, name="worker").start())
        QTimer.singleShot(1200, lambda: QApplication.exit(5))
        sys.exit(run_app(load_microscope()))
        """,
        tmp_path,
    )
    assert result.returncode == 5, result.stdout + result.stderr
    log = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert "Unhandled error in worker" in log and "lost in a thread" in log


def test_without_a_display_the_app_says_so_and_exits_with_1(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["SCOPEFLOW_LOG_DIR"] = str(tmp_path / "logs")
    result = subprocess.run(
        [sys.executable, "-m", "app"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 1, result.stderr
    assert "needs a display" in result.stderr and "scopeflow run" in result.stderr


def test_missing_x_libraries_are_named_with_the_packages_to_install(monkeypatch):
    import ctypes.util

    from app import display_check

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(
        ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else "x.so"
    )
    problem = display_check.display_problem()
    assert "libxcb-cursor" in problem and "apt-get install libxcb-cursor0" in problem
