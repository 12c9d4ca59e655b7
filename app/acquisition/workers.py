"""The processing and saving workers between the engine and the storage."""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, MutableSequence
from typing import Any

import numpy as np

from app.acquisition.context import ErrorSource, WorkerContext
from app.acquisition.frames import Frame
from app.acquisition.handoff import HandoffQueue
from app.acquisition.hooks import UserFunction
from app.acquisition.markers import STOP, WAKE
from app.acquisition.notifications import AcqNotification, ImageMilestone
from app.acquisition.priority import lower_worker_priority
from app.processing.display import LatestFrameSlot
from app.processing.ordered_stages import Finished, OrderedStages
from app.processing.pipeline import ImageAndMetadata, ProcessorPipeline
from app.storage.axes import DUPLICATE_AXIS
from app.storage.sink import ImageSink

logger = logging.getLogger(__name__)

#: the metadata key that marks an image saved without going through the processors
UNPROCESSED_KEY = "ScopeflowUnprocessed"

#: what the saving queue carries: an image, its metadata, when its frame was acquired
SaveItem = tuple[Any, dict[str, Any], int]


class ProcessingWorker:
    """Takes frames from the engine, runs the pipeline, passes outputs on.

    Outputs go to the saving queue (when the sink stores images) and to the display
    slot. A frame whose event's axes none of the outputs carries is announced as
    ``IMAGE_NOT_SAVED``, so a future waiting for that image ends at once.

    A processor stuck in user code after an abort is not waited for: the acquisition's
    closer calls ``abandon`` from its own thread, which saves the frames still queued
    unprocessed and ends the saving; whatever the stuck thread returns later is dropped
    (counted lost). Python cannot stop the thread; it ends when the processor returns.
    """

    name = "scopeflow-processing"

    def __init__(
        self,
        context: WorkerContext,
        frames: HandoffQueue[Frame],
        to_save: HandoffQueue[SaveItem] | None,
        pipeline: ProcessorPipeline,
        display: LatestFrameSlot[np.ndarray],
        latency_ns: MutableSequence[int],
    ) -> None:
        self.context = context
        self.frames = frames
        self.to_save = to_save
        self.pipeline = pipeline
        self.display = display
        self.latency_ns = latency_ns
        self.stopped_on_error = False
        self.abandoned = False
        self._abandon_lock = threading.Lock()
        self._in_hand = 0  # frames taken from the queue and not handed on yet
        # the metadata of the frame in processing (for an abandoned processor's report):
        # the dict, not its axes, which a processor may be given to keep (ownership.py
        # counts holders of metadata values; one held here would copy every frame's)
        self._in_processing: dict[str, Any] | None = None

    def run(self) -> None:
        lower_worker_priority()
        try:
            if self.pipeline.parallel:
                self._run_ordered()
            else:
                while not self.abandoned and (frame := self.frames.get()) is not STOP:
                    try:
                        self._process(frame)  # type: ignore[arg-type]
                    finally:
                        self.frames.done()
            if not self.abandoned:
                self._finish_pipeline()
        finally:
            with self._abandon_lock:
                if self.to_save is not None and not self.abandoned:
                    self.to_save.put_marker(STOP)

    @property
    def current(self) -> dict[str, Any] | None:
        """The axes of the frame in processing."""
        metadata = self._in_processing
        return None if metadata is None else metadata.get("Axes")

    def abandon(self, engine_running: Callable[[], bool]) -> int:
        """Called by another thread when this one is stuck in a processor after an
        abort: from now on, what this thread hands on is dropped; the frames still
        queued are saved unprocessed, marked so, here; the saving is told to end.
        Returns how many frames were in this thread's hands (lost)."""
        with self._abandon_lock:
            self.abandoned = True
            lost = self._in_hand
            self.context.counts.add(lost=lost)
        while True:
            try:
                item = self.frames.get_nowait()
            except queue.Empty:
                if not engine_running():
                    break  # the engine has put its last frame
                time.sleep(0.01)
                continue
            if item is STOP:
                break
            if item is WAKE:
                continue
            frame: Frame = item  # type: ignore[assignment]
            try:
                self._save_unprocessed(frame, "an image processor was stuck when it stopped")
            finally:
                self.frames.done()
        if self.to_save is not None:
            self.to_save.put_marker(STOP)
        self.frames.put_marker(STOP)  # for this thread, if it waits for a frame
        return lost

    def _finish_pipeline(self) -> None:
        """What processors held back (an incomplete Z-stack) is saved like any output;
        an error there is reported as a processor's."""
        failures_before = len(self.pipeline.failures)
        outputs = self.pipeline.finish(self.context.event_queue)
        for failure in self.pipeline.failures[failures_before:]:
            self.context.report_error(
                ErrorSource.PROCESSOR, failure.where, failure.exception, failure.traceback_text
            )
        if not outputs:
            return
        self.context.counts.add(outputs=len(outputs))
        if self.to_save is None:
            self.context.counts.add(unsaved=len(outputs))
        else:
            now = time.perf_counter_ns()
            for image, metadata in outputs:
                self.to_save.put((image, metadata, now))
        if self.display.put(*outputs[-1]):
            self.context.counts.add(displayed_skipped=1)

    def _run_ordered(self) -> None:
        """A pipeline with a parallel processor (``workers=N``): frames go through
        ``OrderedStages``; each is done (and handed on) when it leaves, in order."""
        # one WAKE on the queue at most: markers must not take the camera's slots
        wake_offered = threading.Event()

        def wake() -> None:
            if not wake_offered.is_set():
                wake_offered.set()
                if not self.frames.offer_marker(WAKE):
                    wake_offered.clear()  # full: the frames queued wake it, and the next result

        stages: OrderedStages[tuple[Frame, int]] = OrderedStages(
            self.pipeline.stages(self.context.event_queue), wake=wake
        )
        try:
            while not self.abandoned and (item := self.frames.get()) is not STOP:
                if item is WAKE:
                    wake_offered.clear()  # before looking: a result from now wakes again
                    finished = stages.advance()
                elif self._skipped(item):  # type: ignore[arg-type]
                    self.frames.done()
                    finished = stages.advance()
                else:
                    frame: Frame = item  # type: ignore[assignment]
                    with self._abandon_lock:
                        self._in_hand += 1
                    self.latency_ns.append(time.perf_counter_ns() - frame.acquired_ns)
                    before = len(self.pipeline.failures)
                    finished = stages.put((frame, before), [(frame.image, frame.metadata)])
                self._leave(finished)
            self._leave(stages.drain())
        finally:
            stages.close()

    def _leave(self, finished: list[Finished[tuple[Frame, int]]]) -> None:
        for done in finished:
            frame, failures_before = done.payload
            try:
                self._hand_on(frame, done.items, done.error, failures_before, done.skipped)
            finally:
                self.frames.done()

    def _pass_unprocessed(self, frame: Frame, why: str) -> None:
        """After a stop, a frame still waiting skips the processors (a slow one would
        hold the end of the acquisition for as long as the queue is long) and is
        saved as acquired, marked so: nothing acquired is lost."""
        with self._abandon_lock:
            if self.abandoned:  # too late: the saving has ended
                self.context.counts.add(lost=1)
                return
            self._save_unprocessed(frame, why)

    def _save_unprocessed(self, frame: Frame, why: str) -> None:
        frame.metadata[UNPROCESSED_KEY] = f"not processed: the acquisition stopped ({why})"
        self.context.counts.add(unprocessed=1, outputs=1)
        if self.to_save is None:
            self.context.counts.add(unsaved=1)
        else:
            self.to_save.put((frame.image, frame.metadata, frame.acquired_ns))
        if self.display.put(frame.image, frame.metadata):
            self.context.counts.add(displayed_skipped=1)

    def _not_saved(self, axes: dict[str, Any], why: str) -> None:
        self.context.notify(AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, why))

    def _skipped(self, frame: Frame) -> bool:
        """After a stop, a frame skips the processors: discarded or saved unprocessed."""
        flow = self.context.flow
        if not (self.stopped_on_error or flow.stopping):
            return False
        if flow.discard_unprocessed:
            self.context.counts.add(lost=1)
            axes = dict(frame.metadata.get("Axes") or {})
            self._not_saved(axes, "discarded: the acquisition was aborted before its turn")
        else:
            self._pass_unprocessed(frame, flow.reason)
        return True

    def _process(self, frame: Frame) -> None:
        if self._skipped(frame):
            return
        with self._abandon_lock:
            self._in_hand += 1
        self._in_processing = frame.metadata
        self.latency_ns.append(time.perf_counter_ns() - frame.acquired_ns)
        failures_before = len(self.pipeline.failures)
        error: Exception | None = None
        outputs: list[ImageAndMetadata] = []
        try:
            outputs = self.pipeline.process(frame.image, frame.metadata, self.context.event_queue)
        except Exception as exc:
            error = exc
        self._in_processing = None
        self._hand_on(frame, outputs, error, failures_before)

    def _hand_on(
        self,
        frame: Frame,
        outputs: list[ImageAndMetadata],
        error: BaseException | None,
        failures_before: int,
        skipped: bool | None = None,
    ) -> None:
        """A frame's outputs to saving and display, or its error reported. ``skipped``:
        the ordered scheduler knows whether the error policy dropped this frame; one at
        a time, any failure since the frame came is its own."""
        with self._abandon_lock:
            self._in_hand -= 1
            if self.abandoned:  # the acquisition went on without this thread
                return
            self._hand_on_now(frame, outputs, error, failures_before, skipped)

    def _hand_on_now(
        self,
        frame: Frame,
        outputs: list[ImageAndMetadata],
        error: BaseException | None,
        failures_before: int,
        skipped: bool | None,
    ) -> None:
        counts = self.context.counts
        axes = dict(frame.metadata.get("Axes") or {})
        if error is not None:
            counts.add(failed=1)
            self._not_saved(axes, f"an image processor raised {error!r} on it")
            text = "".join(traceback.format_exception(error))
            stops = self.context.report_error(
                ErrorSource.PROCESSOR, "an image processor", error, text
            )
            self.stopped_on_error = stops
            return
        if skipped is None:
            skipped = len(self.pipeline.failures) > failures_before
        if not outputs and skipped:
            counts.add(failed=1)  # skipped by the error policy
            self._not_saved(axes, "an image processor raised on it (on_error='skip')")
            return
        counts.add(processed=1, outputs=len(outputs), dropped_by_processors=not outputs)
        if self.to_save is None:
            counts.add(unsaved=len(outputs))  # futures know: nothing is ever saved
        else:
            held = self.pipeline.holds(axes)  # e.g. a plane of a Z-stack not yet whole
            if not held and not any(md.get("Axes") == axes for _, md in outputs):
                self._not_saved(axes, _why_not_among(outputs))
            for image, metadata in outputs:
                self.to_save.put((image, metadata, frame.acquired_ns))
        if outputs and self.display.put(*outputs[-1]):
            counts.add(displayed_skipped=1)


def _why_not_among(outputs: list[ImageAndMetadata]) -> str:
    if not outputs:
        return "the image processor returned None (no image)"
    names = [md.get("Axes") for _, md in outputs]
    return f"the image processors returned images with other axes: {names}"


class SavingWorker:
    """Puts images into the sink, then calls ``image_saved_fn`` for each.

    Contract: when the callback runs, the image can already be read back from the
    dataset. The sink is finished (files closed, dataset readable) when the worker
    ends, whatever happened. A sink error stops the acquisition.
    """

    name = "scopeflow-saving"

    def __init__(
        self,
        context: WorkerContext,
        to_save: HandoffQueue[SaveItem],
        sink: ImageSink,
        image_saved: UserFunction | None,
        saved_latency_ns: MutableSequence[int],
    ) -> None:
        self.context = context
        self.to_save = to_save
        self.sink = sink
        self.image_saved = image_saved
        self.saved_latency_ns = saved_latency_ns
        self.failed = False
        self.warned_duplicates = False

    def run(self) -> None:
        lower_worker_priority()
        try:
            while (item := self.to_save.get()) is not STOP:
                try:
                    self._save(*item)  # type: ignore[misc]
                finally:
                    self.to_save.done()
        finally:
            try:
                self.sink.finish()
            except Exception as exc:
                self._take_back(exc)
                self.context.report_error(
                    ErrorSource.STORAGE, self.sink.description, exc, traceback.format_exc()
                )
            self.context.notify(AcqNotification(ImageMilestone.DATA_SINK_FINISHED))

    def _take_back(self, exc: Exception) -> None:
        """Images a sink had accepted, then lost (a disk that refused their writes in
        the background: the OME-Zarr sink's ``DiskFullError.reported_saved``) are
        counted and announced as not saved after all."""
        lost = getattr(exc, "reported_saved", ())
        if not lost:
            return
        self.context.counts.add(saved=-len(lost), unsaved=len(lost))
        for axes in lost:
            self.context.notify(
                AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, dict(axes), str(exc))
            )

    def _distinct_axes(self, axes: dict[str, Any]) -> dict[str, Any]:
        """Axes no saved image has: a second image with the same axes (events repeated,
        a processor returning two images under one name) is kept beside the first
        under ``duplicate=1, 2, ...``, never written over it, and said in the log."""
        # a user's own sink may offer no reading API: it then decides about duplicates
        has_image = getattr(self.sink.dataset, "has_image", None)
        if has_image is None or not axes or not has_image(**axes):
            return axes
        number = 1
        while has_image(**{**axes, DUPLICATE_AXIS: number}):
            number += 1
        distinct = {**axes, DUPLICATE_AXIS: number}
        self.context.counts.add(duplicates=1)
        if not self.warned_duplicates:
            self.warned_duplicates = True
            logger.warning(
                "Two images have the axes %s: the later one is kept as %s (each further "
                "duplicate too; the acquisition's counts say how many).",
                axes,
                distinct,
            )
        return distinct

    def _save(self, image: Any, metadata: dict[str, Any], acquired_ns: int) -> None:
        context = self.context
        axes = dict(metadata.get("Axes") or {})
        if self.failed:
            context.counts.add(unsaved=1)
            context.notify(
                AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, "the storage failed before")
            )
            return
        try:
            distinct = self._distinct_axes(axes)
            if distinct is not axes:  # a new dict: the old one may be another image's
                axes, metadata = distinct, {**metadata, "Axes": distinct}
            self.sink.put(axes, image, metadata)
        except Exception as exc:
            context.counts.add(unsaved=1)
            self._take_back(exc)
            where = f" to {self.sink.path}" if self.sink.path is not None else ""
            exc.add_note(f"Could not save the image {axes}{where}")
            context.notify(AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, str(exc)))
            self.failed = context.report_error(
                ErrorSource.STORAGE, self.sink.description, exc, traceback.format_exc()
            )
            return
        context.counts.add(saved=1)
        self.saved_latency_ns.append(time.perf_counter_ns() - acquired_ns)
        context.notify(AcqNotification(ImageMilestone.IMAGE_SAVED, axes))
        if self.image_saved is not None:
            try:
                self.image_saved(axes, self.sink.dataset, context.event_queue)
            except Exception as exc:
                context.report_error(
                    ErrorSource.CALLBACK, self.image_saved.where, exc, traceback.format_exc()
                )
