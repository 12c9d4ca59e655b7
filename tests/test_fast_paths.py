"""The fast paths are correct: no copy where none is promised, and the bytes on disk are
the frames acquired, in order, with their metadata."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pytest
import tifffile

from app import Acquisition, SimulatedCameraSettings, multi_d_acquisition_events, open_dataset
from app.microscope import configure_simulated_camera


def test_frames_travel_without_copies(core):
    objects = []
    metadata_objects = []
    seen = []

    def first(image, metadata):
        objects.append(weakref.ref(image))  # a strong reference would be "kept": copied
        metadata_objects.append((id(metadata), id(metadata["Axes"])))
        seen.append(image.copy())
        return image, metadata

    def second(image, metadata):
        assert image is objects[-1]()  # the same array object, not a copy
        # nor the metadata: nothing of it is held elsewhere (a copy per frame, deep,
        # cost a fifth of the rate of frames kept in memory: #21)
        assert (id(metadata), id(metadata["Axes"])) == metadata_objects[-1]
        return image, metadata

    with Acquisition(image_process_fn=[first, second]) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert acq.display.peek()[0] is objects[-1]()
    # each frame's memory was its own while it travelled (a camera buffer reused under
    # it would show here); kept in memory, the dataset holds a copy in warm memory and
    # the camera's buffer is let go (warm_memory.py), so addresses may repeat
    for t, image in enumerate(seen):
        np.testing.assert_array_equal(acq.get_dataset().read_image(time=t), image)


# the second size is written in several pieces (ndtiff_writer.WRITE_PIECE_BYTES), the
# last one shorter
@pytest.mark.parametrize("width, height", [(64, 48), (1030, 700)])
def test_bytes_on_disk_are_the_frames_in_order(core, tmp_path, width, height):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=width, height=height, mode="Noise", exposure_ms=1)
    )
    kept = []

    def keep(image, metadata):
        kept.append((image.copy(), metadata["ImageNumber"]))
        return image, metadata

    try:
        with Acquisition(tmp_path, "order", image_process_fn=keep) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=20))
    finally:
        core.setProperty("Camera", "Mode", "Fluorescent Beads")
    assert [number for _, number in kept] == list(range(20))
    dataset = open_dataset(acq.dataset_path)
    assert [dict(key)["time"] for key in dataset.index] == list(range(20))  # written in order
    for t, (image, number) in enumerate(kept):
        assert np.array_equal(dataset.read_image(time=t), image)
        assert dataset.read_metadata(time=t)["ImageNumber"] == number
    # any TIFF reader sees the same pixels, page after page
    tiff = next(Path(acq.dataset_path).glob("*.tif"))
    with tifffile.TiffFile(tiff) as f:
        assert len(f.pages) == 20
        for t, (image, _) in enumerate(kept):
            assert np.array_equal(f.pages[t].asarray(), image)
