"""The window's ThreadFactory: the acquisition's workers in QThreads."""

from __future__ import annotations

from typing import ClassVar

from PyQt6.QtCore import QDeadlineTimer, QThread

from app.acquisition.threads import Worker, WorkerHandle


class WorkerQThread(QThread):
    """A QThread running one worker; it keeps itself referenced until it has finished,
    since Qt aborts if a running QThread is destroyed."""

    _running: ClassVar[set[WorkerQThread]] = set()

    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self.worker = worker
        self.setObjectName(worker.name)
        WorkerQThread._running.add(self)
        self.finished.connect(lambda: WorkerQThread._running.discard(self))

    def run(self) -> None:
        self.worker.run()

    # the WorkerHandle protocol
    def join(self, timeout: float | None = None) -> None:
        if timeout is None:
            self.wait()
        else:
            self.wait(QDeadlineTimer(int(timeout * 1000)))

    def is_alive(self) -> bool:
        return self.isRunning()


class QtThreads:
    """Starts each worker in a ``WorkerQThread``."""

    def start(self, worker: Worker) -> WorkerHandle:
        thread = WorkerQThread(worker)
        thread.start()
        return thread
