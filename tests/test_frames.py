"""Frames from the camera: their memory is theirs, and processors may change them."""

from __future__ import annotations

import time

import numpy as np

from app.acquisition.frames import writable
from app.microscope import SimulatedCameraSettings, configure_simulated_camera


def test_a_kept_frame_survives_the_camera_buffer_wrapping_around(core):
    """The zero-copy writable view in ``writable`` relies on this."""
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=128, height=96, mode="Noise", exposure_ms=1)
    )
    footprint = core.getCircularBufferMemoryFootprint()
    core.setCircularBufferMemoryFootprint(1)  # ~40 frames: wraps within the wait below
    try:
        core.startContinuousSequenceAcquisition(0)
        deadline = time.monotonic() + 5
        while not core.getRemainingImageCount() and time.monotonic() < deadline:
            time.sleep(0.005)
        kept = core.popNextImage()
        before = np.array(kept, copy=True)
        time.sleep(0.5)
        assert np.array_equal(kept, before)
    finally:
        core.stopSequenceAcquisition()
        core.setCircularBufferMemoryFootprint(footprint)
        core.setProperty("Camera", "Mode", "Fluorescent Beads")


def test_writable_gives_the_same_memory_without_a_copy(core):
    core.snapImage()
    image = core.getImage()
    view = writable(image)
    assert view.flags.writeable
    assert np.shares_memory(view, image) or image.flags.writeable
    view[0, 0] = 4321
    assert view[0, 0] == 4321
    assert np.array_equal(view, image)
