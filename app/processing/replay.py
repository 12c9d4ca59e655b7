"""Replaying processors over a dataset on disk, into a new dataset.

As Micro-Manager's pipeline window does: a processor can be developed and tried
without a microscope. Images are read in the order they were saved, each with its
own metadata, and what the processors return is written as a new NDTiff dataset.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.processing.errors import ErrorPolicy
from app.processing.ordered_stages import Finished, OrderedStages
from app.processing.pipeline import Processor, ProcessorPipeline
from app.storage.ndtiff_sink import NDTiffSink
from app.storage.opening import open_dataset

logger = logging.getLogger(__name__)


class _NoAcquisitionQueue:
    """Events a processor queues while replaying have no microscope to run on."""

    def put(self, event: Any, *args: Any, **kwargs: Any) -> None:
        logger.info("Replaying a dataset: the event %r was not acquired", event)

    put_nowait = put


def process_dataset(
    source: str | os.PathLike[str],
    processors: Sequence[Processor],
    directory: str | os.PathLike[str],
    name: str,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_error: ErrorPolicy | str = ErrorPolicy.ABORT,
) -> Path:
    """Run the enabled ``processors`` over every image of ``source``; returns the new
    dataset's folder. A processor error stops it (``on_error="abort"``) and is raised;
    what was written stays readable."""
    dataset = open_dataset(source)
    coordinates = dataset.get_image_coordinates_list()  # in the order saved
    summary = dict(getattr(dataset, "summary_metadata", {}) or {})
    summary["ProcessedFrom"] = str(source)
    summary["Processors"] = [p.name for p in processors if p.enabled]
    sink = NDTiffSink(directory, name, summary)
    pipeline = ProcessorPipeline([p for p in processors if p.enabled], on_error=on_error)
    queue = _NoAcquisitionQueue()
    # the acquisition's scheduler: parallel processors (workers=N) take several images
    # at once, serial ones keep the saved order, outputs are written in that order
    stages: OrderedStages[dict[str, Any]] = OrderedStages(pipeline.stages(queue))
    written = 0

    def write(finished: list[Finished[dict[str, Any]]]) -> None:
        nonlocal written
        for done in finished:
            if done.error is not None:
                raise done.error
            for out_image, out_metadata in done.items:
                sink.put(dict(out_metadata.get("Axes") or done.payload), out_image, out_metadata)
            written += 1
            if on_progress is not None:
                on_progress(written, len(coordinates))

    try:
        for done_count, axes in enumerate(coordinates):
            if should_stop is not None and should_stop():
                logger.info("Processing %s stopped after %d images", source, done_count)
                break
            image = np.array(dataset.read_image(**axes))  # a writable copy: the file is the source
            metadata = dataset.read_metadata(**axes)
            metadata.setdefault("Axes", dict(axes))
            write(stages.put(dict(axes), [(image, metadata)]))
        write(stages.drain())
        for out_image, out_metadata in pipeline.finish(queue):  # an incomplete Z-stack
            sink.put(dict(out_metadata.get("Axes") or {}), out_image, out_metadata)
    finally:
        stages.close()
        sink.finish()
        dataset.close()
    return sink.path
