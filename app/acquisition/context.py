"""What the threads of one acquisition share, and how their errors are judged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from app.acquisition.counts import FrameCounts
from app.acquisition.event_queue import EventQueue
from app.acquisition.flow import AcquisitionFlow
from app.acquisition.notifications import AcqNotification


class ErrorSource(Enum):
    """Where an error came from; it decides whether the acquisition can go on.

    The hardware, the storage and the user's hooks and generators stop it always (an
    event half-run or an image unstorable leaves nothing sound to go on with); image
    processors and image-saved callbacks follow the ``on_error`` policy; a notification
    listener never stops it (as in pycro-manager: it only watches), its errors are
    recorded.
    """

    HARDWARE = "hardware"
    STORAGE = "storage"
    HOOK = "hook"
    PROCESSOR = "processor"
    CALLBACK = "callback"
    LISTENER = "listener"

    @property
    def always_stops(self) -> bool:
        return self in (ErrorSource.HARDWARE, ErrorSource.STORAGE, ErrorSource.HOOK)

    @property
    def follows_policy(self) -> bool:
        return self in (ErrorSource.PROCESSOR, ErrorSource.CALLBACK)


class ErrorHandler(Protocol):
    def __call__(
        self, source: ErrorSource, where: str, exception: BaseException, traceback_text: str
    ) -> bool:
        """Record an error from a worker; True if the acquisition stops because of it.

        Called on the worker's thread; must not block and must not raise."""
        ...


@dataclass(frozen=True)
class WorkerContext:
    """The acquisition as its engine, processing and saving threads see it."""

    flow: AcquisitionFlow
    counts: FrameCounts
    notify: Callable[[AcqNotification], None]
    report_error: ErrorHandler
    event_queue: EventQueue
