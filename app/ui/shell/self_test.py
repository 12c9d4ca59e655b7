"""``scopeflow --self-test REPORT``: the installed app checks itself through its window.

What a Windows smoke test (or a microscopist asked by support) runs: the real window
starts, snaps an image, acquires three time points saved as NDTiff in a temporary
folder, reads them back, runs a line in the console, and writes a plain-text report.
The exit code says whether every step passed, so a script can check an installation
that has no console.
"""

from __future__ import annotations

import logging
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from app.app_logging import log_folder
from app.storage.opening import open_dataset
from app.ui.shell.main_window import MainWindow

logger = logging.getLogger(__name__)

TIME_POINTS = 3
CONSOLE_WAIT_S = 20.0
GIVE_UP_AFTER_MS = 120_000  # a self-test that cannot finish says so, never hangs


class SelfTest:
    def __init__(self, window: MainWindow, report: Path) -> None:
        self.window = window
        self.report = report
        self.lines = [
            f"Scopeflow self-test on {platform.platform()}, Python {sys.version.split()[0]}",
            f"executable: {sys.executable}",
            f"log folder: {log_folder()}",
        ]
        self.passed = True
        self._folder = tempfile.TemporaryDirectory(
            prefix="scopeflow-self-test-", ignore_cleanup_errors=True
        )
        self._ended = False
        self._console_deadline = 0.0
        self._user_directory = window.acquisition_panel.data_directory  # restored at the end

    def start(self) -> None:
        QTimer.singleShot(200, self._snap)
        QTimer.singleShot(GIVE_UP_AFTER_MS, lambda: self._fail("did not finish in time"))

    def _step(self, name: str, check: Callable[[], str]) -> bool:
        try:
            detail = check()
        except Exception as exc:
            self._fail(f"{name}: {type(exc).__name__}: {exc}")
            return False
        self.lines.append(f"PASS {name}: {detail}")
        return True

    def _snap(self) -> None:
        def snap() -> str:
            self.window.camera.snap()
            image = self.window.camera.snap_slot.peek()
            if image is None:
                raise RuntimeError("Snap gave no image (see the log)")
            frame, _ = image
            return f"{frame.shape[1]}x{frame.shape[0]} {frame.dtype}"

        if self._step("snap", snap):
            self._acquire()

    def _acquire(self) -> None:
        panel = self.window.acquisition_panel

        def start() -> str:
            panel.time_box.setChecked(True)
            panel.time_points.setValue(TIME_POINTS)
            panel.interval.setValue(0)
            panel.save_box.setChecked(True)
            panel.data_directory = self._folder.name
            self.window.controller.finished.connect(self._acquired)
            panel.start_button.click()
            if not self.window.controller.running:
                raise RuntimeError("the acquisition did not start (see the log)")
            return f"{TIME_POINTS} time points into {self._folder.name}"

        self._step("start acquisition", start)

    def _acquired(self, error: str) -> None:
        def read_back() -> str:
            if error:
                raise RuntimeError(error)
            acquisition = self.window.controller.acquisition
            assert acquisition is not None and acquisition.dataset_path is not None
            dataset = open_dataset(acquisition.dataset_path)
            try:
                count = len(dataset.axes.get("time", ()))
            finally:
                dataset.close()
            if count != TIME_POINTS:
                raise RuntimeError(f"{count} of {TIME_POINTS} images saved")
            return f"{count} images saved and read back"

        if self._step("acquisition saved", read_back):
            self._console()

    def _console(self) -> None:
        console = self.window.console
        if console is None:
            self._end()
            return
        console.execute('print("self-test"); self_test_answer = 6 * 7')
        self._console_deadline = time.monotonic() + CONSOLE_WAIT_S
        QTimer.singleShot(100, self._console_answered)

    def _console_answered(self) -> None:
        assert self.window.console is not None
        answer = self.window.console.namespace.get("self_test_answer")
        if answer != 42 and time.monotonic() < self._console_deadline:
            QTimer.singleShot(100, self._console_answered)  # not yet: look again
            return

        def answered() -> str:
            if answer != 42:
                raise RuntimeError(f"the console's code did not run (got {answer!r})")
            return "code typed in the console ran, its print did not fail"

        if self._step("console", answered):
            self._end()

    def _fail(self, message: str) -> None:
        if self._ended:
            return
        self.passed = False
        self.lines.append(f"FAIL {message}")
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self.lines.append("RESULT " + ("PASS" if self.passed else "FAIL"))
        text = "\n".join(self.lines) + "\n"
        try:
            self.report.parent.mkdir(parents=True, exist_ok=True)
            self.report.write_text(text, encoding="utf-8")
        except OSError as exc:
            logger.error("Could not write the self-test report %s: %s", self.report, exc)
        logger.info("Self-test %s:\n%s", "passed" if self.passed else "failed", text)
        print(text, end="")  # a terminal, or the output file under pythonw.exe
        self.window.acquisition_panel.data_directory = self._user_directory  # remembered
        self.window.close()
        QTimer.singleShot(0, self._folder.cleanup)
        QApplication.exit(0 if self.passed else 1)
