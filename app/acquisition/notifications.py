"""Acquisition milestones, delivered to the user's notification callback in order."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcqNotification:
    """One milestone, shaped like pycro-manager's: a type, a milestone, a payload.

    ``notification_type`` is ``"global"``, ``"hardware"``, ``"camera"`` or ``"image"``;
    ``payload`` is the event's axes for hardware and camera milestones, the image's
    axes for ``image_saved``, and ``None`` for global ones.
    """

    notification_type: str
    milestone: str
    payload: Any = None
    timestamp: float = field(default=0.0, compare=False)

    class Global:
        ACQ_STARTED = "acq_started"
        ACQ_FINISHED = "acq_finished"
        ACQ_ERROR = "acq_error"

    class Hardware:
        PRE_HARDWARE = "pre_hardware"
        POST_HARDWARE = "post_hardware"

    class Camera:
        PRE_SEQUENCE_STARTED = "pre_sequence_started"
        PRE_SNAP = "pre_snap"
        POST_EXPOSURE = "post_exposure"

    class Image:
        IMAGE_ACQUIRED = "image_acquired"
        IMAGE_PROCESSED = "image_processed"
        IMAGE_SAVED = "image_saved"
        DATA_SINK_FINISHED = "data_sink_finished"


class NotificationDispatcher:
    """Calls listeners on a thread of its own, so a slow listener never slows the camera.

    ``post`` never blocks. ``close`` delivers what was posted, then stops the thread.
    A listener that raises is logged and keeps receiving notifications.
    """

    _STOP = object()

    def __init__(self) -> None:
        self._listeners: list[Callable[[AcqNotification], Any]] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name="scopeflow-notifications", daemon=True
        )
        self._thread.start()

    def connect(self, listener: Callable[[AcqNotification], Any]) -> None:
        self._listeners.append(listener)

    def post(self, notification: AcqNotification) -> None:
        self._queue.put(notification)

    def close(self, timeout: float | None = None) -> None:
        self._queue.put(self._STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._STOP:
            for listener in list(self._listeners):
                try:
                    listener(item)
                except Exception:
                    logger.exception("Notification listener %r raised", listener)
