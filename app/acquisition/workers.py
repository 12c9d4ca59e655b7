"""The processing and saving threads between the engine and the disk."""

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
from app.acquisition.notifications import AcqNotification
from app.acquisition.priority import lower_current_thread_priority
from app.processing.display import LatestFrameSlot
from app.processing.pipeline import ProcessorPipeline
from app.storage.ndtiff_sink import NDTiffSink

logger = logging.getLogger(__name__)

ErrorHandler = Callable[[str, BaseException, str], bool]


class ProcessingThread(threading.Thread):
    """Takes frames from the engine, runs the pipeline, passes outputs on.

    Outputs go to the saving queue (when saving) and to the display slot. Each
    output handed to the saver stays counted in flight until it is saved, so that
    feedback from ``image_saved_fn`` is not cut off by the end of the acquisition.
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

    def _process(self, frame: Frame) -> None:
        if self.stopped_on_error:
            self.counts.add(lost=1)
            return
        self.latency_ns.append(time.perf_counter_ns() - frame.acquired_ns)
        failures_before = len(self.pipeline.failures)
        try:
            outputs = self.pipeline.process(frame.image, frame.metadata, self.event_queue)
        except Exception as exc:
            self.counts.add(failed=1)
            if self.on_error("an image processor", exc, traceback.format_exc()):
                self.stopped_on_error = True
            return
        if len(self.pipeline.failures) > failures_before and not outputs:
            self.counts.add(failed=1)  # skipped by the error policy
            return
        self.counts.add(processed=1, outputs=len(outputs), dropped_by_processors=not outputs)
        for image, metadata in outputs:
            if self.to_save is not None:
                self.flow.add_in_flight()
                self.to_save.put((image, metadata, frame.acquired_ns))
            else:
                self.counts.add(unsaved=1)
        if outputs and self.display.put(*outputs[-1]):
            self.counts.add(displayed_skipped=1)


class SavingThread(threading.Thread):
    """Writes images with the sink, then calls ``image_saved_fn`` for each.

    Contract: when the callback runs, the image can already be read back from the
    dataset. The sink is finished (files closed, dataset readable) when the thread
    ends, whatever happened.
    """

    def __init__(
        self,
        to_save: queue.Queue[Any],
        sink: NDTiffSink,
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
                self.on_error("the NDTiff writer", exc, traceback.format_exc())
            self.notify(AcqNotification("image", AcqNotification.Image.DATA_SINK_FINISHED))

    def _save(self, image: Any, metadata: dict[str, Any], acquired_ns: int) -> None:
        if self.failed:
            self.counts.add(unsaved=1)
            return
        axes = dict(metadata.get("Axes") or {})
        try:
            self.sink.put(axes, image, metadata)
        except Exception as exc:
            self.counts.add(unsaved=1)
            message = f"Could not save the image {axes} to {self.sink.path}"
            exc.add_note(message)
            self.failed = self.on_error("the NDTiff writer", exc, traceback.format_exc())
            return
        self.counts.add(saved=1)
        self.saved_latency_ns.append(time.perf_counter_ns() - acquired_ns)
        self.notify(AcqNotification("image", AcqNotification.Image.IMAGE_SAVED, axes))
        if self.image_saved is not None:
            try:
                self.image_saved(axes, self.sink.dataset, self.event_queue)
            except Exception as exc:
                self.on_error(self.image_saved.where, exc, traceback.format_exc())
