"""The engine thread: events in, hardware moved, frames out.

Hardware control is pymmcore-plus's ``MDAEngine`` (``setup_event``, ``exec_event``,
hardware sequencing through ``event_iterator``; see ``mda_engine``). This module is
the runner around it, in the role of pymmcore-plus's ``MDARunner`` but built for a
queue that processors keep feeding: pycro-manager's hooks and notifications,
``min_start_time`` waits, abort, and handing each frame to the processing thread
through a bounded queue with an explicit full-queue policy.

The hooks see events as pycro-manager's do: the event-generation hook each event as
it was submitted, before merging; the pre-hardware, post-hardware and post-camera
hooks a *unit*: one event dict, or the list of event dicts that hardware sequencing
merged into one camera burst.
"""

from __future__ import annotations

import copy
import logging
import queue
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import useq
from pymmcore_plus import CMMCorePlus

from app.acquisition.batches import NOT_READY, EventBatch
from app.acquisition.bounded_call import CallAbandonedError
from app.acquisition.cameras import camera_names, image_axes
from app.acquisition.context import ErrorSource, WorkerContext
from app.acquisition.events import (
    EVENT_METADATA_KEY,
    InvalidEventError,
    normalize_event,
    to_useq,
)
from app.acquisition.frames import Frame, FrameMemory, FrameMetadataFactory, writable
from app.acquisition.handoff import HandoffQueue
from app.acquisition.hardware_state import HardwareState
from app.acquisition.hooks import UserFunction
from app.acquisition.markers import STOP
from app.acquisition.mda_engine import ScopeflowMDAEngine
from app.acquisition.microscope_lock import acquire_microscope, lock_for
from app.acquisition.notifications import (
    AcqNotification,
    AcquisitionMilestone,
    CameraMilestone,
    HardwareMilestone,
    ImageMilestone,
    Milestone,
)
from app.acquisition.priority import lower_worker_priority

logger = logging.getLogger(__name__)

Event = dict[str, Any]


class CameraBufferOverflowError(RuntimeError):
    """The camera's circular buffer overflowed during a burst; frames were lost."""


class HookError(RuntimeError):
    """A hook returned something that is not an event, a list of events, or None."""


def unit_events(unit: useq.MDAEvent) -> list[Event]:
    """The event dicts behind one unit: a single event, or a merged hardware sequence."""
    members = getattr(unit, "events", None) or (unit,)
    return [e.metadata[EVENT_METADATA_KEY] for e in members]


def axes_payload(events: list[Event]) -> Any:
    """A notification's payload: the event's axes, or a list of axes for a sequence."""
    if len(events) == 1:
        return dict(events[0]["axes"])
    return [dict(e["axes"]) for e in events]


def _close(payloads: Any) -> None:
    """End the engine's frame generator early, never raising over what ended it."""
    try:
        payloads.close()
    except Exception:
        logger.exception("Error while ending the camera's readout")


class EngineWorker:
    """Runs the acquisition's events on the hardware, on a worker thread of its own.

    Contract: ``run`` returns after putting ``STOP`` on ``frames``, whatever
    happens; an exception from the hardware or a hook is reported through the context
    (which decides whether the acquisition aborts) and never escapes the thread.
    Every submitted event ends in a frame handed on, or in an ``IMAGE_NOT_SAVED``
    notification that says why not, so that no future waits for it forever.
    """

    name = "scopeflow-engine"

    def __init__(
        self,
        context: WorkerContext,
        core: CMMCorePlus,
        frames: HandoffQueue[Frame],
        *,
        hooks: dict[str, UserFunction | None],
        check_event: Callable[[Event], None] | None = None,
        place_event: Callable[[Event], Event] | None = None,
        drop_when_full: bool = False,
        hardware_sequencing: bool = True,
        restore_hardware: bool = False,
        frame_memory: FrameMemory | None = None,
    ) -> None:
        self.core = core
        #: where each camera frame is put as it is read (the RAM storage's memory), or
        #: None: the camera's own array, made writable
        self.frame_memory = frame_memory
        self.restore_hardware = restore_hardware
        self.flow = context.flow
        self.frames = frames
        self.counts = context.counts
        self.notify = context.notify
        self.report_error = context.report_error
        self.event_queue = context.event_queue
        self.hooks = hooks
        self.check_event = check_event
        #: completes the events an event-generation hook returned (a tile's stage
        #: position from its row and column, as pycro-manager places them after the hook)
        self.place_event = place_event
        self.drop_when_full = drop_when_full
        self.mda = ScopeflowMDAEngine(core, use_hardware_sequencing=hardware_sequencing)
        group = core.getChannelGroup()
        self.metadata = FrameMetadataFactory(
            core, (core.getCurrentConfig(group) if group else "") or "Default"
        )
        self.start_time = time.perf_counter()
        #: time spent paused: the plan's times are counted without it
        self._paused_s = 0.0
        # For accounting: events handed to the sequencer whose unit has not started,
        # events the event-generation hook made that wait their turn, and events of the
        # running unit whose outcome is still to come (by id: dicts are not hashable).
        self._handed: deque[Event] = deque()
        self._generated: deque[Event] = deque()
        self._open_events: dict[int, Event] = {}
        #: the batch running and its events held back unmerged: frames known to come
        self._batch: EventBatch | None = None
        self._alone: list[Event] = []
        self._failed_in: str | None = None  # the hook running, for error reports

    # ------------------------------------------------------------------ run
    def run(self) -> None:
        self.flow.wait_for_start()
        lower_worker_priority()
        if not acquire_microscope(self.core, lambda: self.flow.stopping, self._wait_note):
            self._post(AcquisitionMilestone.ACQ_EVENTS_FINISHED)
            self.frames.put_marker(STOP)  # aborted while another acquisition ran
            return
        try:
            # the clock and the channel start when the microscope is ours: an acquisition
            # that waited for another must not count its wait in its intervals
            group = self.core.getChannelGroup()
            self.metadata = FrameMetadataFactory(
                self.core, (self.core.getCurrentConfig(group) if group else "") or "Default"
            )
            self.start_time = time.perf_counter()
            self._paused_s = 0.0
            self._run_on_microscope()
        finally:
            lock_for(self.core).release()

    def _wait_note(self) -> None:
        logger.warning(
            "Another acquisition is running on this microscope: this one starts when "
            "it has run its last event"
        )

    def _run_on_microscope(self) -> None:
        before = HardwareState.read(self.core) if self.restore_hardware else None
        try:
            self.mda.setup_sequence(useq.MDASequence())
            self._post(AcquisitionMilestone.ACQ_STARTED)
            while (batch := self.flow.next_batch()) is not None:
                self._run_batch(batch)
                if batch.error is not None:
                    self._failed_in = "the generator given to acquire()"
                    raise batch.error
                if batch.ends_acquisition:
                    self.flow.end_now()
        except CallAbandonedError as exc:  # aborted while a hook ran: not its error
            logger.warning("%s", exc)
        except Exception as exc:
            if self._failed_in is not None:
                self.report_error(ErrorSource.HOOK, self._failed_in, exc, traceback.format_exc())
            else:
                where = "the acquisition engine"
                self.report_error(ErrorSource.HARDWARE, where, exc, traceback.format_exc())
        finally:
            try:
                self.mda.teardown_sequence(useq.MDASequence())
            except Exception:
                logger.exception("Error while tearing down the acquisition")
            if before is not None:
                before.restore(self.core)
            self._post(AcquisitionMilestone.ACQ_EVENTS_FINISHED)
            self.frames.put_marker(STOP)

    def _post(self, milestone: Milestone, payload: Any = None, detail: str | None = None) -> None:
        self.notify(AcqNotification(milestone, payload, detail))

    # ---- accounting: every event ends in a frame handed on or an IMAGE_NOT_SAVED ----
    def _open(self, events: list[Event]) -> None:
        """Events whose outcome (a frame, or IMAGE_NOT_SAVED) is still to come."""
        for event in events:
            self._open_events[id(event)] = event

    def _settle(self, event: Event) -> None:
        self._open_events.pop(id(event), None)

    def _not_saved(self, events: list[Event], why: str) -> None:
        for event in events:
            self._settle(event)
            self._post(ImageMilestone.IMAGE_NOT_SAVED, dict(event["axes"]), why)

    def _run_batch(self, batch: EventBatch) -> None:
        """Run the events of one ``acquire`` call, merged into sequences where possible."""
        self._handed.clear()
        self._generated.clear()
        self._open_events.clear()
        limit = self._burst_limit(batch.lazy)
        alone: list[Event] = []
        self._batch, self._alone = batch, alone
        error: Exception | None = None
        try:
            while not self.flow.stopping:
                chunk = self._mergeable_chunk(batch, limit, alone)
                for unit in self.mda.event_iterator(chunk):
                    if self.flow.stopping:
                        return
                    members = [self._handed.popleft() for _ in unit_events(unit)]
                    self._open(members)
                    self._run_unit(unit, members)
                while alone and not self.flow.stopping:
                    event = alone.pop(0)
                    self._open([event])
                    self._run_unit(to_useq(event), [event])
                if batch.exhausted and not self._generated and not len(batch):
                    return
        except Exception as exc:
            error = exc
            raise
        finally:
            if error is not None:
                why = f"the acquisition stopped on an error ({type(error).__name__}: {error})"
            elif self.flow.stopping:
                why = "the acquisition was aborted"
            else:
                why = "the acquisition stopped on an error"
            running = list(self._open_events.values())
            if running and error is not None:
                self._not_saved(running, why)
            unrun = [
                *self._open_events.values(),
                *self._handed,
                *alone,
                *self._generated,
                *batch.unread(f"{why} before its events were read"),
            ]
            self._handed.clear()
            self._generated.clear()
            self._open_events.clear()
            self._batch, self._alone = None, []
            if unrun:
                self._not_saved(unrun, f"{why} before the event ran")

    def _mergeable_chunk(
        self, batch: EventBatch, limit: int | None, alone: list[Event]
    ) -> Iterator[useq.MDAEvent]:
        """The next events that may be merged into sequences, after the event-generation
        hook, lazily (a hook runs as its event comes up, not a whole chunk ahead).

        The chunk ends after ``limit`` events, or before an event the hardware check
        refuses: that one goes to ``alone``, to run unmerged (its pre-hardware hook may
        still fix or cancel it; otherwise it fails with the check's error).
        """
        count = 0
        while limit is None or count < limit:
            if self.flow.stopping:
                return
            if not self._generated:
                event = batch.pull()
                if event is NOT_READY:
                    if count:
                        return  # run what was read rather than wait for more to merge
                    continue
                if event is None:
                    return
                assert isinstance(event, dict)
                try:
                    generated = self._call_hook("event_generation_hook_fn", [event])
                except Exception:
                    self._not_saved([event], "event_generation_hook_fn raised on it")
                    raise
                if generated is None:
                    self._not_saved([event], "event_generation_hook_fn skipped the event")
                    continue
                if self.place_event is not None:
                    try:
                        generated = [self.place_event(g) for g in generated]
                    except Exception:
                        self._not_saved([event], "an event the hook returned could not be placed")
                        raise
                if all(g["axes"] != event["axes"] for g in generated):
                    self._not_saved([event], "event_generation_hook_fn replaced the event")
                self._generated.extend(generated)
            event = self._generated.popleft()
            if self.check_event is not None and not self._passes_check(event):
                alone.append(event)
                return
            self._handed.append(event)
            count += 1
            yield to_useq(event)

    def _passes_check(self, event: Event) -> bool:
        try:
            self.check_event(event)  # type: ignore[misc]
        except InvalidEventError:
            return False
        return True

    def _burst_limit(self, lazy: bool = False) -> int | None:
        """The longest camera burst that cannot overflow the camera's buffer.

        Under the block policy a slow consumer must slow the camera down, but a
        camera in a hardware sequence runs freely until the sequence ends: a burst
        longer than the circular buffer would overflow it and lose frames. So bursts
        are cut to the buffer's size; between them the engine waits for room. Events
        from a generator are cut the same way under either policy: an endless one
        would otherwise be read for ever before its first frame.
        """
        if self.drop_when_full and not lazy:
            return None
        core = self.core
        frame_bytes = (core.getImageWidth() * core.getImageHeight() * core.getBytesPerPixel()) or 1
        capacity = core.getCircularBufferMemoryFootprint() * 1024 * 1024 // frame_bytes
        return max(1, capacity - 1)

    # ------------------------------------------------------------------ hooks
    def _call_hook(self, name: str, events: list[Event]) -> list[Event] | None:
        """Call a hook on a unit (a dict, or a list for a sequence); its events after.

        Returns the events unchanged without a hook, None if the hook skipped the
        unit, or the events it returned, checked. An exception from the hook stops
        the acquisition, reported as the hook's.
        """
        hook = self.hooks.get(name)
        if hook is None:
            return events
        sequenced = len(events) > 1
        argument = copy.deepcopy(events if sequenced else events[0])
        self._failed_in = hook.where
        result = hook(argument, self.event_queue)
        if result is None:
            self._failed_in = None
            logger.info("%s skipped %s", hook.where, axes_payload(events))
            return None
        returned = result if isinstance(result, list) else [result]
        if not all(isinstance(e, dict) for e in returned) or not returned:
            raise HookError(
                f"{hook.where} returned {type(result).__name__}; a hook returns the event "
                "(a dict, possibly changed), the list of events it was given for a hardware "
                "sequence, or None to skip them"
            )
        normalized = [normalize_event(e) for e in returned]
        self._failed_in = None
        return normalized

    # ------------------------------------------------------------------ units
    def _run_unit(self, unit: useq.MDAEvent, events: list[Event]) -> None:
        """Pre-hardware hook, then run the unit (or what the hook made of it)."""
        self._paused_s += self.flow.wait_while_paused()
        self._wait_until(unit.min_start_time)
        if self.flow.stopping:
            return  # the open events are reported by the batch
        self._post(HardwareMilestone.PRE_HARDWARE, axes_payload(events))
        changed = self._call_hook("pre_hardware_hook_fn", events)
        if changed is None:
            self._not_saved(events, "pre_hardware_hook_fn skipped the event")
            return
        if changed == events:
            if self.check_event is not None:  # an event held back unmerged fails here
                for event in events:
                    self.check_event(event)
            self._execute(unit, events)
            return
        # The hook changed the events: sequence what it returned afresh.
        kept = [c["axes"] for c in changed]
        self._not_saved(
            [e for e in events if e["axes"] not in kept], "pre_hardware_hook_fn replaced the event"
        )
        for event in events:
            self._settle(event)  # the events returned carry the rest
        self._open(changed)
        if self.check_event is not None:
            self._failed_in = self.hooks["pre_hardware_hook_fn"].where  # type: ignore[union-attr]
            for event in changed:  # before sequencing: the sequencer reads the presets
                self.check_event(event)
            self._failed_in = None
        for new_unit in self.mda.event_iterator(to_useq(e) for e in changed):
            if self.flow.stopping:
                return
            self._execute(new_unit, unit_events(new_unit))

    def _execute(self, unit: useq.MDAEvent, events: list[Event]) -> None:
        """Set the hardware up for one unit (its events checked already), then read its
        frames; whatever fails, what the unit started is stopped."""
        try:
            self._set_up_and_read(unit, events)
        except BaseException as error:
            self._stop_after(unit, error)
            raise
        self.mda.teardown_event(unit)

    def _stop_after(self, unit: useq.MDAEvent, error: BaseException) -> None:
        """Tear a unit down after ``error``: stop its camera, stage, exposure and
        property sequences. Never raises over the error: a device that will not stop
        is logged, and noted on the error the user sees."""
        problems: list[str] = []
        try:
            self.mda.teardown_event(unit)
        except Exception as exc:
            logger.exception("While stopping the hardware after %r", error)
            problems.append(str(exc))
        problems += self.mda.abandon()  # what is still going; it logs what will not stop
        for problem in problems:
            error.add_note(f"While stopping the hardware after this error: {problem}")

    def _set_up_and_read(self, unit: useq.MDAEvent, events: list[Event]) -> None:
        payload = axes_payload(events)
        self._post(HardwareMilestone.PRE_Z_DRIVE, payload)
        unit.metadata["runner_t0"] = self.start_time
        self.mda.setup_event(unit)
        self._post(HardwareMilestone.POST_HARDWARE, payload)
        after = self._call_hook("post_hardware_hook_fn", events)
        if after is None:
            self._not_saved(events, "post_hardware_hook_fn skipped the event")
            return
        if len(after) != len(events):
            self._failed_in = self.hooks["post_hardware_hook_fn"].where  # type: ignore[union-attr]
            raise HookError(
                f"post_hardware_hook_fn returned {len(after)} events for a hardware sequence "
                f"of {len(events)}: once the hardware is set, a hook may rename the events "
                "(the same number, in order) or skip them all (None); change a sequence in "
                "pre_hardware_hook_fn"
            )
        # A hook that changed the events renames the images (same count, same order).
        renamed = {id(old): new for old, new in zip(events, after, strict=True) if new != old}
        self._not_saved_renamed(events, renamed)
        self._read_frames(unit, events, renamed)

    def _not_saved_renamed(self, events: list[Event], renamed: dict[int, Event]) -> None:
        """Tell whoever waits for an event's image that it comes under other axes."""
        for event in events:
            new = renamed.get(id(event))
            if new is not None and new["axes"] != event["axes"]:
                self._post(
                    ImageMilestone.IMAGE_NOT_SAVED,
                    dict(event["axes"]),
                    f"post_hardware_hook_fn renamed the event to {new['axes']}",
                )

    def _post_camera(self, events: list[Event]) -> None:
        """The post-camera hook: the camera has been started; its return is ignored,
        as in pycro-manager (a frame cannot be un-taken)."""
        if self.hooks.get("post_camera_hook_fn") is not None:
            self._call_hook("post_camera_hook_fn", events)

    def _read_frames(
        self, unit: useq.MDAEvent, events: list[Event], renamed: dict[int, Event]
    ) -> None:
        """Start the camera (snap or burst), hand each frame on, account for the rest."""
        sequenced = getattr(unit, "events", None) is not None
        payload = axes_payload([renamed.get(id(e), e) for e in events])
        if sequenced:
            self._post(CameraMilestone.PRE_SEQUENCE_STARTED, payload)
            self.mda.on_sequence_started = lambda _unit: self._post_camera(events)
        else:
            self._post(CameraMilestone.PRE_SNAP, payload)
        cameras = camera_names(self.mda.mmcore)  # several: each camera's image apart
        self._expect_frames(events, len(cameras))
        payloads = self.mda.exec_event(unit)
        signal = None
        delivered: set[int] = set()
        first = True
        hook_raised = False
        failure: Exception | None = None
        try:
            while True:
                try:
                    frame_payload = payloads.send(signal)  # type: ignore[attr-defined]
                except StopIteration:
                    break
                except MemoryError as exc:
                    raise CameraBufferOverflowError(
                        "The camera's circular buffer overflowed and frames were lost: the "
                        "camera produced frames faster than they were read. Enlarge the "
                        "buffer (core.setCircularBufferMemoryFootprint(MB)) or use "
                        "full_queue='block'."
                    ) from exc
                if first and not sequenced:
                    self._post(CameraMilestone.POST_SNAP, payload)
                    hook_raised = True
                    self._post_camera(events)
                    hook_raised = False
                first = False
                if frame_payload is None:
                    continue  # a frame the camera did not deliver: accounted below
                image, mda_event, meta = frame_payload
                del frame_payload  # the camera's array goes as soon as it is read in
                original = mda_event.metadata[EVENT_METADATA_KEY]
                delivered.add(id(original))
                self._settle(original)
                event = renamed.get(id(original), original)
                camera_index = mda_event.index.get("cam") if cameras else None
                if camera_index is not None:
                    camera = cameras[camera_index]
                    event = {**event, "axes": image_axes(event["axes"], camera)}
                    meta = {**meta, "camera_device": camera}
                image = self.frame_memory.copy_of(image) if self.frame_memory else writable(image)
                metadata = self.metadata.build(image, event, meta)
                if camera_index is not None:  # MMStudio's tags for a camera's image
                    metadata["Channel"] = event["axes"]["channel"]
                    metadata["CameraChannelIndex"] = camera_index
                frame = Frame(image, metadata, time.perf_counter_ns())
                # the frame holds them now: a processor's check of what it kept counts
                # their holders (processing/ownership.py), and one left here until the
                # next frame hid the processor's own (the first frame's, at least)
                del image, metadata
                self.counts.add(acquired=1)
                self._post(CameraMilestone.POST_EXPOSURE, dict(event["axes"]))
                self._hand_over(frame)
                signal = "cancel" if self.flow.stopping else None
        except Exception as exc:
            failure = exc
            raise
        finally:
            self.mda.on_sequence_started = None
            _close(payloads)  # a burst given up stops its camera (the generator sees to it)
            missing = [renamed.get(id(e), e) for e in events if id(e) not in delivered]
            for event in events:
                if id(event) not in delivered:
                    self._settle(event)
            if missing:
                if hook_raised:
                    why = "post_camera_hook_fn raised before its frame was read"
                elif failure is not None:
                    self.counts.add(missing=len(missing))
                    why = str(failure)
                elif self.flow.stopping:
                    why = "the acquisition was aborted before its frame was acquired"
                else:
                    self.counts.add(missing=len(missing))
                    why = "the camera did not deliver its frame"
                self._not_saved(missing, why)
            if sequenced:
                self._post(CameraMilestone.POST_SEQUENCE_STOPPED, payload)

    def _expect_frames(self, events: list[Event], cameras: int) -> None:
        """Tell the frame memory the bytes of frames known to be coming: this unit's,
        the events still queued in its batch and in the batches after it (a
        generator's next events are not known until it gives them: then none is
        known), and whether more may follow (another ``acquire`` call)."""
        if self.frame_memory is None:
            return
        batch = self._batch
        if batch is None or not batch.exhausted:
            self.frame_memory.expect(None)
            return
        queued = len(self._handed) + len(self._alone) + len(self._generated) + len(batch)
        frames = (len(events) + queued + self.flow.pending) * max(1, cameras)
        self.frame_memory.expect(
            frames * self.core.getImageBufferSize(), not self.flow.finish_requested
        )

    def _hand_over(self, frame: Frame) -> None:
        """Put a frame on the processing queue, by the configured full-queue policy."""
        if self.drop_when_full:
            try:
                self.frames.put_nowait(frame)
            except queue.Full:
                self._lose(frame, "the processing queue was full (full_queue='drop')")
            return
        while True:  # block the camera readout, but never past an abort
            try:
                self.frames.put(frame, timeout=0.1)
                return
            except queue.Full:
                if self.flow.stopping:
                    self._lose(frame, "the acquisition was aborted while it waited")
                    return

    def _lose(self, frame: Frame, why: str) -> None:
        self.counts.add(lost=1)
        self._post(ImageMilestone.IMAGE_NOT_SAVED, dict(frame.metadata["Axes"]), why)

    def _wait_until(self, min_start_time: float | None) -> None:
        """Until the event's time in the plan, moved by the time spent paused: after
        Resume the time-lapse goes on at its interval (it caught up at once, the images
        of the pause's length taken back to back)."""
        if not min_start_time:
            return
        while (remaining := self.start_time + self._paused_s + min_start_time
               - time.perf_counter()) > 0:  # fmt: skip
            if self.flow.wait_for_stop(min(remaining, 0.05)):
                return
            if self.flow.paused:  # paused while waiting: the schedule moves with it
                self._paused_s += self.flow.wait_while_paused()
