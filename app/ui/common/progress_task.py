"""Long work on a worker thread behind a modal progress dialog (Cancel keeps what was done)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import Qt, QThread, pyqtSignal
from PyQt6.QtWidgets import QProgressDialog, QWidget

from app.ui.common.qt_waiting import wait_processing_events

#: ``work(on_progress(done, total), should_stop() -> bool) -> result``
Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


@dataclass
class TaskResult:
    value: Any
    error: str | None  # what the user reads: the exception's type and message
    exception: Exception | None = None
    cancelled: bool = False


class _TaskThread(QThread):
    progress = pyqtSignal(int, int)

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.work = work
        self.cancelled = False
        self.result = TaskResult(None, None)

    def run(self) -> None:
        try:
            value = self.work(self.progress.emit, lambda: self.cancelled)
            self.result = TaskResult(value, None)
        except Exception as exc:
            self.result = TaskResult(None, f"{type(exc).__name__}: {exc}", exc)
        self.result.cancelled = self.cancelled


def run_with_progress(
    parent: QWidget,
    title: str,
    label: str,
    work: Work,
    *,
    cancel_text: str = "Cancel",
    busy: bool = False,
) -> TaskResult:
    """Run ``work`` on a worker thread; the window keeps drawing while it runs.

    ``busy``: the work cannot say how far it is (the bar moves without a percentage
    rather than sitting at 0 %)."""
    dialog = QProgressDialog(label, cancel_text, 0, 0 if busy else 100, parent)
    # the window keeps drawing, but takes no clicks meanwhile: nothing may start that
    # the work does not expect (an acquisition during a configuration swap)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setWindowTitle(title)
    dialog.setMinimumDuration(300)
    dialog.setValue(0)  # shows the dialog after 300 ms even if the work never reports
    thread = _TaskThread(work)

    def show(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    finished = threading.Event()
    thread.progress.connect(show)
    thread.finished.connect(finished.set)
    dialog.canceled.connect(lambda: setattr(thread, "cancelled", True))
    thread.finished.connect(dialog.reset)
    thread.start()
    wait_processing_events(finished, None)
    thread.wait()
    dialog.close()
    return thread.result
