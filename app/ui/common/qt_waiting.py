"""Waiting on the GUI thread without freezing it (see ``app.acquisition.waiting``)."""

from __future__ import annotations

import threading
import time

from PyQt6.QtCore import QEventLoop, QThread
from PyQt6.QtWidgets import QApplication


def wait_processing_events(event: threading.Event, timeout: float | None) -> bool:
    """On the GUI thread, keep Qt's events flowing while waiting; elsewhere, just wait."""
    app = QApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return event.wait(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not event.is_set():
        if deadline is not None and time.monotonic() > deadline:
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 15)
        event.wait(0.005)
    return True
