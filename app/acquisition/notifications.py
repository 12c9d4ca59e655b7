"""Acquisition milestones, shaped like pycro-manager's, delivered in order on their own thread.

A notification has a ``type`` (the milestone's class: ``AcqNotification.Acquisition``,
``.Hardware``, ``.Camera`` or ``.Image``), a ``milestone`` (a string enum member, so it
compares equal to pycro-manager's strings) and a ``payload``: the event's axes for
hardware and camera milestones (a list of axes when hardware sequencing merged
several events), the image's axes for ``IMAGE_SAVED``, and ``None`` otherwise.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class AcquisitionMilestone(StrEnum):
    """The acquisition as a whole (``type`` string ``"global"``, as pycro-manager)."""

    ACQ_STARTED = "acq_started"
    #: every event has run on the hardware (images may still be processed and saved)
    ACQ_EVENTS_FINISHED = "acq_events_finished"
    #: Scopeflow's: everything is done, images saved and callbacks returned
    ACQ_FINISHED = "acq_finished"
    #: Scopeflow's: an error stopped the acquisition (payload: where it happened)
    ACQ_ERROR = "acq_error"

    @staticmethod
    def to_string() -> str:
        return "global"


class HardwareMilestone(StrEnum):
    PRE_HARDWARE = "pre_hardware"
    #: posted before the hardware (Z drive included) moves for the event
    PRE_Z_DRIVE = "pre_z_drive"
    POST_HARDWARE = "post_hardware"

    @staticmethod
    def to_string() -> str:
        return "hardware"


class CameraMilestone(StrEnum):
    PRE_SEQUENCE_STARTED = "pre_sequence_started"
    POST_SEQUENCE_STOPPED = "post_sequence_stopped"
    PRE_SNAP = "pre_snap"
    POST_SNAP = "post_snap"
    #: Scopeflow's: one frame of the event arrived from the camera (snap or sequence)
    POST_EXPOSURE = "post_exposure"

    @staticmethod
    def to_string() -> str:
        return "camera"


class ImageMilestone(StrEnum):
    IMAGE_SAVED = "image_saved"
    DATA_SINK_FINISHED = "data_sink_finished"
    #: Scopeflow's: the event's image will never be saved (payload: its axes;
    #: ``detail``: why: a hook skipped the event, a processor returned no image with
    #: those axes, the camera did not deliver it, or the acquisition stopped first)
    IMAGE_NOT_SAVED = "image_not_saved"

    @staticmethod
    def to_string() -> str:
        return "image"


Milestone = AcquisitionMilestone | HardwareMilestone | CameraMilestone | ImageMilestone
_MILESTONE_TYPES: tuple[type[StrEnum], ...] = (
    AcquisitionMilestone,
    HardwareMilestone,
    CameraMilestone,
    ImageMilestone,
)


def _milestone(value: str) -> Milestone:
    for kind in _MILESTONE_TYPES:
        try:
            return kind(value)  # type: ignore[return-value]
        except ValueError:
            continue
    raise ValueError(f"Unknown acquisition milestone {value!r}")


@dataclass(frozen=True)
class AcqNotification:
    """One milestone: ``type``, ``milestone`` and ``payload``, as pycro-manager's.

    ``AcqNotification.Acquisition.ACQ_STARTED`` and the other constants are string
    enums, so ``notification.milestone == "acq_started"`` holds too.
    """

    milestone: Milestone
    payload: Any = None
    detail: str | None = field(default=None, compare=False)

    Acquisition = AcquisitionMilestone
    Hardware = HardwareMilestone
    Camera = CameraMilestone
    Image = ImageMilestone
    Global = AcquisitionMilestone  # Scopeflow's earlier name, kept for its scripts

    @property
    def type(self) -> type[StrEnum]:
        """The milestone's class, e.g. ``AcqNotification.Hardware`` (pycro-manager's ``type``)."""
        return type(self.milestone)

    @property
    def notification_type(self) -> str:
        """``"global"``, ``"hardware"``, ``"camera"`` or ``"image"``."""
        return self.milestone.to_string()

    def is_acquisition_finished_notification(self) -> bool:
        return self.milestone == AcquisitionMilestone.ACQ_EVENTS_FINISHED

    def is_data_sink_finished_notification(self) -> bool:
        return self.milestone == ImageMilestone.DATA_SINK_FINISHED

    def is_image_saved_notification(self) -> bool:
        return self.milestone == ImageMilestone.IMAGE_SAVED

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``type`` and ``milestone`` as strings, ``payload`` if any.

        (pycro-manager puts the type's class object under ``type``, which ``json``
        cannot write; Scopeflow writes its string.)
        """
        out: dict[str, Any] = {"type": self.notification_type, "milestone": str(self.milestone)}
        if self.payload:
            out["payload"] = self.payload
        if self.detail:
            out["detail"] = self.detail
        return out

    @staticmethod
    def from_json(data: dict[str, Any]) -> AcqNotification:
        return AcqNotification(
            _milestone(data["milestone"]), data.get("payload"), data.get("detail")
        )

    def __repr__(self) -> str:
        return f"AcqNotification({self.to_json()})"


class NotificationDispatcher:
    """Calls listeners on a thread of its own, so a slow listener never slows the camera.

    ``post`` never blocks. ``close`` delivers what was posted, then stops the thread.
    A listener that raises is logged and keeps receiving notifications.

    The acquisition's own bookkeeping (its futures) is told at once on the posting
    thread instead (``connect_direct``): it only notes the milestone and wakes whoever
    waits, never runs user code, and a notification then costs no hand-over to the
    dispatching thread (two per frame were a tenth of a frame's work in the pipeline's
    threads, #21). With no threaded listener (no ``notification_callback_fn``, no
    debug log), nothing is queued at all.
    """

    _STOP = object()

    def __init__(self) -> None:
        self._listeners: list[Callable[[AcqNotification], Any]] = []
        self._direct: list[Callable[[AcqNotification], Any]] = []
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name="scopeflow-notifications", daemon=True
        )
        self._thread.start()

    def connect(self, listener: Callable[[AcqNotification], Any]) -> None:
        self._listeners.append(listener)

    def connect_direct(self, listener: Callable[[AcqNotification], Any]) -> None:
        """``listener`` is called on the thread that posts: it must be quick, never
        block and never call user code."""
        self._direct.append(listener)

    def post(self, notification: AcqNotification) -> None:
        for listener in self._direct:
            try:
                listener(notification)
            except Exception:
                logger.exception("Notification listener %r raised", listener)
        if self._listeners:
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
