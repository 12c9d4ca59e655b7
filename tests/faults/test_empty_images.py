"""#20: an empty image a processor returns is its error, said with the processor's
name and the shape; nothing is written for it, and the other images are."""

from __future__ import annotations

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.processing.pipeline import ProcessorOutputError
from app.storage.ndtiff_writer import NDTiffWriter, UnsupportedImageError


def crop_to_nothing(image, metadata):
    if metadata["Axes"]["time"] == 1:
        return image[:0], metadata  # shape (0, width)
    return image, metadata


def test_an_empty_image_is_the_processors_error_and_nothing_is_written(core, tmp_path):
    with (
        pytest.raises(
            ProcessorOutputError, match=r"crop_to_nothing.*empty image \(shape \(0, 128\)\)"
        ),
        Acquisition(tmp_path, "empty", image_process_fn=crop_to_nothing, show_display=False) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    saved = open_dataset(acq.dataset_path)
    assert 1 not in saved.axes["time"] and 0 in saved.axes["time"]


def test_under_skip_the_others_are_saved(core, tmp_path):
    with Acquisition(
        tmp_path, "skip", image_process_fn=crop_to_nothing, on_error="skip", show_display=False
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0, 2]
    assert any("empty image" in str(e.exception) for e in acq.errors)


def test_the_writer_refuses_an_empty_image_with_its_shape(tmp_path):
    writer = NDTiffWriter(tmp_path / "w", {}, "w")
    with pytest.raises(UnsupportedImageError, match=r"shape \(0, 128\)"):
        writer.write({"time": 0}, np.zeros((0, 128), np.uint16), {})
    writer.close()
