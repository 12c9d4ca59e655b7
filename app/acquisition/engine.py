"""The engine thread: events in, hardware moved, frames out.

Hardware control is pymmcore-plus's ``MDAEngine`` (``setup_event``, ``exec_event``,
hardware sequencing through ``event_iterator``; see ``mda_engine``). This module is
the runner around it, in the role of pymmcore-plus's ``MDARunner`` but built for a
queue that processors keep feeding: pycro-manager's hooks, ``min_start_time`` waits,
abort, and handing each frame to the processing thread through a bounded queue with
an explicit full-queue policy.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import useq
from pymmcore_plus import CMMCorePlus
from pymmcore_plus.mda._engine import SequencedEvent

from app.acquisition.counts import FrameCounts
from app.acquisition.events import EVENT_METADATA_KEY, normalize_event, to_useq
from app.acquisition.flow import AcquisitionFlow
from app.acquisition.frames import Frame, FrameMetadataFactory, writable
from app.acquisition.hooks import UserCallable
from app.acquisition.mda_engine import ScopeflowMDAEngine
from app.acquisition.notifications import AcqNotification
from app.acquisition.priority import lower_current_thread_priority

logger = logging.getLogger(__name__)

STOP = object()  # travels down the queues after the last frame


class CameraBufferOverflowError(RuntimeError):
    """The camera's circular buffer overflowed during a burst; frames were lost."""


class HookError(RuntimeError):
    """A hook returned something that is not an event or None."""


class EngineThread(threading.Thread):
    """Runs the acquisition's events on the hardware, on a thread of its own.

    Contract: ``run`` returns after putting ``STOP`` on ``frames``, whatever
    happens; an exception from the hardware or a hook is passed to ``on_error``
    (which decides whether the acquisition aborts) and never escapes the thread.
    """

    def __init__(
        self,
        core: CMMCorePlus,
        flow: AcquisitionFlow,
        frames: queue.Queue[Any],
        counts: FrameCounts,
        notify: Callable[[AcqNotification], None],
        on_error: Callable[[str, BaseException, str], bool],
        *,
        event_queue: Any,
        hooks: dict[str, UserCallable | None],
        drop_when_full: bool = False,
        hardware_sequencing: bool = True,
    ) -> None:
        super().__init__(name="scopeflow-engine", daemon=True)
        self.core = core
        self.flow = flow
        self.frames = frames
        self.counts = counts
        self.notify = notify
        self.on_error = on_error
        self.event_queue = event_queue
        self.hooks = hooks
        self.drop_when_full = drop_when_full
        self.mda = ScopeflowMDAEngine(core, use_hardware_sequencing=hardware_sequencing)
        group = core.getChannelGroup()
        self.metadata = FrameMetadataFactory(
            core, (core.getCurrentConfig(group) if group else "") or "Default"
        )
        self.start_time = time.perf_counter()

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        lower_current_thread_priority()
        try:
            self.mda.setup_sequence(useq.MDASequence())
            self.notify(AcqNotification("global", AcqNotification.Global.ACQ_STARTED))
            while (batch := self.flow.next_batch()) is not None:
                self._run_batch(batch)
        except Exception as exc:
            self.on_error("the acquisition engine", exc, traceback.format_exc())
        finally:
            try:
                self.mda.teardown_sequence(useq.MDASequence())
            except Exception:
                logger.exception("Error while tearing down the acquisition")
            self.frames.put(STOP)

    def _run_batch(self, batch: list[dict[str, Any]]) -> None:
        events = self._prepared_events(batch)
        limit = self._burst_limit()
        # Lazily, so that hooks run as their event comes up, not a whole chunk ahead.
        while (first := next(events, None)) is not None:
            chunk = itertools.chain(
                [first], itertools.islice(events, None if limit is None else limit - 1)
            )
            for unit in self.mda.event_iterator(chunk):
                if self.flow.aborted.is_set():
                    return
                self._run_unit(unit)

    def _burst_limit(self) -> int | None:
        """The longest camera burst that cannot overflow the camera's buffer.

        Under the block policy a slow consumer must slow the camera down, but a
        camera in a hardware sequence runs freely until the sequence ends: a burst
        longer than the circular buffer would overflow it and lose frames. So bursts
        are cut to the buffer's size; between them the engine waits for room.
        """
        if self.drop_when_full:
            return None
        core = self.core
        frame_bytes = (core.getImageWidth() * core.getImageHeight() * core.getBytesPerPixel()) or 1
        capacity = core.getCircularBufferMemoryFootprint() * 1024 * 1024 // frame_bytes
        return max(1, capacity - 1)

    def _prepared_events(self, batch: list[dict[str, Any]]) -> Iterator[useq.MDAEvent]:
        """Events after the generation and pre-hardware hooks; a hook's None skips one."""
        for event in batch:
            if self.flow.aborted.is_set():
                return
            for name in ("event_generation_hook_fn", "pre_hardware_hook_fn"):
                event = self._call_hook(name, event)
                if event is None:
                    break
            else:
                self.notify(
                    AcqNotification(
                        "hardware", AcqNotification.Hardware.PRE_HARDWARE, event["axes"]
                    )
                )
                yield to_useq(event)

    def _call_hook(self, name: str, event: dict[str, Any]) -> dict[str, Any] | None:
        hook = self.hooks.get(name)
        if hook is None:
            return event
        result = hook(event, self.event_queue)
        if result is None:
            logger.info("%s skipped the event %s", hook.where, event.get("axes"))
            return None
        if not isinstance(result, dict):
            raise HookError(
                f"{hook.where} returned {type(result).__name__}; a hook returns the event "
                "(possibly changed) or None to skip it"
            )
        return normalize_event(result)

    def _run_unit(self, unit: useq.MDAEvent) -> None:
        """Set up the hardware for one event or merged burst, then read its frames."""
        events = _events_of(unit)
        self.flow.wait_while_paused()
        self._wait_until(unit.min_start_time)
        if self.flow.aborted.is_set():
            return
        unit.metadata["runner_t0"] = self.start_time
        self.mda.setup_event(unit)
        self._notify_each("hardware", AcqNotification.Hardware.POST_HARDWARE, events)
        # For a burst, the post hooks see its first event; None cancels the whole burst.
        for name in ("post_hardware_hook_fn", "post_camera_hook_fn"):
            if self._call_hook(name, events[0]) is None:
                self.mda.teardown_event(unit)
                return
        self._notify_each("camera", AcqNotification.Camera.PRE_SNAP, events)
        try:
            self._read_frames(unit)
        finally:
            self.mda.teardown_event(unit)

    def _notify_each(self, kind: str, milestone: str, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.notify(AcqNotification(kind, milestone, event["axes"]))

    def _read_frames(self, unit: useq.MDAEvent) -> None:
        payloads = self.mda.exec_event(unit)
        signal = None
        while True:
            try:
                payload = payloads.send(signal)  # type: ignore[attr-defined]
            except StopIteration:
                return
            except MemoryError as exc:
                raise CameraBufferOverflowError(
                    "The camera's circular buffer overflowed and frames were lost: the "
                    "camera produced frames faster than they were read. Enlarge the buffer "
                    "(core.setCircularBufferMemoryFootprint(MB)) or use full_queue='block'."
                ) from exc
            if payload is None:
                self.counts.add(missing=1)
                continue
            image, mda_event, meta = payload
            image = writable(image)
            event = mda_event.metadata[EVENT_METADATA_KEY]
            frame = Frame(image, self.metadata.build(image, event, meta), time.perf_counter_ns())
            self.counts.add(acquired=1)
            self.notify(
                AcqNotification("camera", AcqNotification.Camera.POST_EXPOSURE, event["axes"])
            )
            self._hand_over(frame)
            signal = "cancel" if self.flow.aborted.is_set() else None

    def _hand_over(self, frame: Frame) -> None:
        """Put a frame on the processing queue, by the configured full-queue policy."""
        self.flow.add_in_flight()
        if self.drop_when_full:
            try:
                self.frames.put_nowait(frame)
            except queue.Full:
                self.counts.add(lost=1)
                self.flow.remove_in_flight()
            return
        while True:  # block the camera readout, but never past an abort
            try:
                self.frames.put(frame, timeout=0.1)
                return
            except queue.Full:
                if self.flow.aborted.is_set():
                    self.counts.add(lost=1)
                    self.flow.remove_in_flight()
                    return

    def _wait_until(self, min_start_time: float | None) -> None:
        if not min_start_time:
            return
        deadline = self.start_time + min_start_time
        while (remaining := deadline - time.perf_counter()) > 0:
            if self.flow.aborted.wait(min(remaining, 0.05)):
                return


def _events_of(unit: useq.MDAEvent) -> list[dict[str, Any]]:
    events = unit.events if isinstance(unit, SequencedEvent) else (unit,)
    return [e.metadata[EVENT_METADATA_KEY] for e in events]
