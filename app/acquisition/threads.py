"""Where the acquisition's workers run: the seam between the engine and Qt.

The engine never creates threads itself: it hands each worker (engine, processing,
saving) to a ``ThreadFactory``. Headless, that is a plain ``threading.Thread``; the
window hands in one that makes ``QThread``s (``app.ui.common.qt_threads``), as the design
asks, so the engine works the same in a test, a script and the app.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Worker(Protocol):
    """Something to run on a thread of its own: ``run`` returns when its work is done
    and never raises (workers report their errors through their context)."""

    name: str

    def run(self) -> None: ...


class WorkerHandle(Protocol):
    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...


class ThreadFactory(Protocol):
    def start(self, worker: Worker) -> WorkerHandle:
        """Run ``worker.run`` on a new thread, now; the handle waits for it."""
        ...


class PythonThreads:
    """Plain daemon ``threading.Thread``s: scripts, tests, ``scopeflow run``."""

    def start(self, worker: Worker) -> WorkerHandle:
        thread = threading.Thread(target=worker.run, name=worker.name, daemon=True)
        thread.start()
        return thread
