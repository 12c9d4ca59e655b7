"""#11 lost errors: a setting the hardware refuses and a camera that fails to snap are
counted, reported in the acquisition's result and raised where the user awaits them;
what was acquired before stays saved."""

from __future__ import annotations

import pytest

from app import Acquisition, open_dataset
from app.acquisition.futures import ImageNotSavedError
from app.acquisition.mda_engine import CameraSnapError, HardwareRefusedError
from app.acquisition.state import RunState


def test_a_property_value_the_device_refuses_stops_with_its_cause(core, tmp_path):
    refused = {"axes": {"time": 1}, "properties": [["Camera", "Binning", "7"]]}
    with (
        pytest.raises(HardwareRefusedError, match=r'Binning.*"7"'),
        Acquisition(directory=tmp_path, name="refused") as acq,
    ):
        acq.acquire({"axes": {"time": 0}})
        future = acq.acquire(refused)
    status = acq.status
    assert status.state is RunState.FAILED
    assert "Binning" in str(status.error)
    assert any(isinstance(e.exception, HardwareRefusedError) for e in acq.errors)
    with pytest.raises(ImageNotSavedError, match="Binning"):
        future.await_image_saved({"time": 1}, timeout=5)
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0]  # kept


def test_a_camera_that_fails_to_snap_is_counted_and_raised(core, tmp_path):
    def camera_gone_at_time_2(event):
        if event["axes"]["time"] == 2:
            core.setCameraDevice("")  # snapImage now fails, as a camera that died would
        return event

    try:
        with (
            pytest.raises(CameraSnapError, match="Camera not loaded"),
            Acquisition(
                directory=tmp_path,
                name="snap",
                post_hardware_hook_fn=camera_gone_at_time_2,
                hardware_sequencing=False,  # one snap per event
            ) as acq,
        ):
            future = acq.acquire([{"axes": {"time": t}} for t in range(4)])
    finally:
        core.setCameraDevice("Camera")
    counts = acq.status.counts
    assert counts["saved"] == 2 and counts["missing"] == 1
    with pytest.raises(ImageNotSavedError, match="Camera not loaded"):
        future.await_image_saved({"time": 2}, timeout=5)
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0, 1]


def test_a_refused_setting_in_a_camera_burst_is_raised_even_with_a_quiet_logger(core, tmp_path):
    import logging

    library_logger = logging.getLogger("pymmcore-plus")
    was = library_logger.level
    library_logger.setLevel(logging.ERROR)  # a user hushing pymmcore-plus
    try:
        events = [
            {"axes": {"time": t}, "properties": [["Camera", "Binning", "7"]]} for t in range(3)
        ]
        with (
            pytest.raises(HardwareRefusedError, match=r"burst \{'time': 0\} to \{'time': 2\}"),
            Acquisition(directory=tmp_path, name="burst") as acq,
        ):
            acq.acquire(events)  # merged into one hardware sequence
    finally:
        library_logger.setLevel(was)
    assert library_logger.level == was
    assert acq.status.state is RunState.FAILED
