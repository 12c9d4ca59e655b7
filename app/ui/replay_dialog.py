"""Process dataset…: the replay on a worker thread, with a progress dialog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QThread, pyqtSignal
from PyQt6.QtWidgets import QProgressDialog, QWidget

from app.processing.pipeline import Processor
from app.processing.replay import process_dataset


@dataclass
class ReplayResult:
    path: str | None
    error: str | None


class _ReplayThread(QThread):
    progress = pyqtSignal(int, int)

    def __init__(self, source: str, processors: list[Processor]) -> None:
        super().__init__()
        self.source = source
        self.processors = processors
        self.cancelled = False
        self.result = ReplayResult(None, None)

    def run(self) -> None:
        source = Path(self.source)
        try:
            path = process_dataset(
                source,
                self.processors,
                source.parent,
                f"{source.name}_processed",
                on_progress=self.progress.emit,
                should_stop=lambda: self.cancelled,
            )
            self.result = ReplayResult(str(path), None)
        except Exception as exc:
            self.result = ReplayResult(None, f"{type(exc).__name__}: {exc}")


def run_replay(parent: QWidget, source: str, processors: list[Processor]) -> ReplayResult:
    """Run the replay with a modal progress dialog (Cancel stops it, keeping what was done)."""
    dialog = QProgressDialog(f"Processing {source}…", "Cancel", 0, 100, parent)
    dialog.setWindowTitle("Process dataset")
    dialog.setMinimumDuration(300)
    thread = _ReplayThread(source, processors)

    def show(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    thread.progress.connect(show)
    dialog.canceled.connect(lambda: setattr(thread, "cancelled", True))
    thread.finished.connect(dialog.reset)
    thread.start()
    from app.ui.qt_waiting import wait_processing_events

    done = _Finished(thread)
    wait_processing_events(done.event, None)
    thread.wait()
    dialog.close()
    return thread.result


class _Finished:
    def __init__(self, thread: QThread) -> None:
        import threading

        self.event = threading.Event()
        thread.finished.connect(self.event.set)
