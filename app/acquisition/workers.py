"""The processing and saving threads between the engine and the storage."""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, MutableSequence
from typing import Any

from app.acquisition.counts import FrameCounts
from app.acquisition.engine import STOP
from app.acquisition.flow import AcquisitionFlow
from app.acquisition.frames import Frame
from app.acquisition.hooks import UserCallable
from app.acquisition.notifications import AcqNotification, ImageMilestone
from app.acquisition.priority import lower_current_thread_priority
from app.processing.display import LatestFrameSlot
from app.processing.pipeline import ProcessorPipeline
from app.storage.sink import ImageSink

logger = logging.getLogger(__name__)

#: ``on_error(where, exception, traceback_text, fatal=False) -> stops``
ErrorHandler = Callable[..., bool]


class ProcessingThread(threading.Thread):
    """Takes frames from the engine, runs the pipeline, passes outputs on.

    Outputs go to the saving queue (when the sink stores images) and to the display
    slot. Each output handed to the saver stays counted in flight until it is saved,
    so that feedback from ``image_saved_fn`` is not cut off by the end of the
    acquisition. A frame whose event's axes none of the outputs carries is announced
    as ``IMAGE_NOT_SAVED``, so a future waiting for that image ends at once.
    """

    def __init__(
        self,
        frames: queue.Queue[Any],
        to_save: queue.Queue[Any] | None,
        pipeline: ProcessorPipeline,
        flow: AcquisitionFlow,
        counts: FrameCounts,
        display: LatestFrameSlot,
        event_queue: Any,
        notify: Callable[[AcqNotification], None],
        on_error: ErrorHandler,
        latency_ns: MutableSequence[int],
    ) -> None:
        super().__init__(name="scopeflow-processing", daemon=True)
        self.frames = frames
        self.to_save = to_save
        self.pipeline = pipeline
        self.flow = flow
        self.counts = counts
        self.display = display
        self.event_queue = event_queue
        self.notify = notify
        self.on_error = on_error
        self.latency_ns = latency_ns
        self.stopped_on_error = False

    def run(self) -> None:
        lower_current_thread_priority()
        try:
            while (frame := self.frames.get()) is not STOP:
                try:
                    self._process(frame)
                finally:
                    self.flow.remove_in_flight()
        finally:
            if self.to_save is not None:
                self.to_save.put(STOP)

    def _not_saved(self, axes: dict[str, Any], why: str) -> None:
        self.notify(AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, why))

    def _process(self, frame: Frame) -> None:
        axes = dict(frame.metadata.get("Axes") or {})
        if self.stopped_on_error:
            self.counts.add(lost=1)
            self._not_saved(axes, "the acquisition stopped on an error before it was processed")
            return
        self.latency_ns.append(time.perf_counter_ns() - frame.acquired_ns)
        failures_before = len(self.pipeline.failures)
        try:
            outputs = self.pipeline.process(frame.image, frame.metadata, self.event_queue)
        except Exception as exc:
            self.counts.add(failed=1)
            self._not_saved(axes, f"an image processor raised {exc!r} on it")
            if self.on_error("an image processor", exc, traceback.format_exc()):
                self.stopped_on_error = True
            return
        if len(self.pipeline.failures) > failures_before and not outputs:
            self.counts.add(failed=1)  # skipped by the error policy
            self._not_saved(axes, "an image processor raised on it (on_error='skip')")
            return
        self.counts.add(processed=1, outputs=len(outputs), dropped_by_processors=not outputs)
        if self.to_save is None:
            self.counts.add(unsaved=len(outputs))  # futures know: nothing is ever saved
        else:
            if not any(md.get("Axes") == axes for _, md in outputs):
                self._not_saved(axes, _why_not_among(outputs))
            for image, metadata in outputs:
                self.flow.add_in_flight()
                self.to_save.put((image, metadata, frame.acquired_ns))
        if outputs and self.display.put(*outputs[-1]):
            self.counts.add(displayed_skipped=1)


def _why_not_among(outputs: list[tuple[Any, dict[str, Any]]]) -> str:
    if not outputs:
        return "the image processor returned None (no image)"
    names = [md.get("Axes") for _, md in outputs]
    return f"the image processors returned images with other axes: {names}"


class SavingThread(threading.Thread):
    """Puts images into the sink, then calls ``image_saved_fn`` for each.

    Contract: when the callback runs, the image can already be read back from the
    dataset. The sink is finished (files closed, dataset readable) when the thread
    ends, whatever happened. A sink error stops the acquisition.
    """

    def __init__(
        self,
        to_save: queue.Queue[Any],
        sink: ImageSink,
        flow: AcquisitionFlow,
        counts: FrameCounts,
        notify: Callable[[AcqNotification], None],
        on_error: ErrorHandler,
        image_saved: UserCallable | None,
        event_queue: Any,
        saved_latency_ns: MutableSequence[int],
    ) -> None:
        super().__init__(name="scopeflow-saving", daemon=True)
        self.to_save = to_save
        self.sink = sink
        self.flow = flow
        self.counts = counts
        self.notify = notify
        self.on_error = on_error
        self.image_saved = image_saved
        self.event_queue = event_queue
        self.saved_latency_ns = saved_latency_ns
        self.failed = False

    def run(self) -> None:
        lower_current_thread_priority()
        try:
            while (item := self.to_save.get()) is not STOP:
                try:
                    self._save(*item)
                finally:
                    self.flow.remove_in_flight()
        finally:
            try:
                self.sink.finish()
            except Exception as exc:
                self.on_error(self.sink.description, exc, traceback.format_exc(), fatal=True)
            self.notify(AcqNotification(ImageMilestone.DATA_SINK_FINISHED))

    def _save(self, image: Any, metadata: dict[str, Any], acquired_ns: int) -> None:
        axes = dict(metadata.get("Axes") or {})
        if self.failed:
            self.counts.add(unsaved=1)
            self.notify(
                AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, "the storage failed before")
            )
            return
        try:
            self.sink.put(axes, image, metadata)
        except Exception as exc:
            self.counts.add(unsaved=1)
            where = f" to {self.sink.path}" if self.sink.path is not None else ""
            exc.add_note(f"Could not save the image {axes}{where}")
            self.notify(AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, axes, str(exc)))
            self.failed = self.on_error(
                self.sink.description, exc, traceback.format_exc(), fatal=True
            )
            return
        self.counts.add(saved=1)
        self.saved_latency_ns.append(time.perf_counter_ns() - acquired_ns)
        self.notify(AcqNotification(ImageMilestone.IMAGE_SAVED, axes))
        if self.image_saved is not None:
            try:
                self.image_saved(axes, self.sink.dataset, self.event_queue)
            except Exception as exc:
                self.on_error(self.image_saved.where, exc, traceback.format_exc())
