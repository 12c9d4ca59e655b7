"""``@z_stack``: a Z-stack processed as a volume, incomplete stacks never lost."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset, z_stack
from app.acquisition.workers import UNPROCESSED_KEY
from app.processing.z_stack import INCOMPLETE_KEY


def _events(**kwargs):
    return multi_d_acquisition_events(z_start=0, z_end=4, z_step=1, **kwargs)


def test_each_stack_becomes_a_volume_and_its_projection_is_saved(core, tmp_path):
    received = []

    @z_stack(planes=5)
    def max_projection(volume, metadata):
        received.append((volume.copy(), [md["Axes"] for md in metadata]))
        projected = dict(metadata[0])
        projected["Axes"] = {k: v for k, v in metadata[0]["Axes"].items() if k != "z"}
        return volume.max(axis=0), projected

    with Acquisition(
        tmp_path, "mip", core=core, show_display=False, image_process_fn=max_projection
    ) as acq:
        # channels inside z ("tpzc"): the two channels' stacks arrive interleaved
        acq.acquire(
            _events(
                num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"], order="tpzc"
            )
        )
    assert len(received) == 4  # 2 time points x 2 channels
    for volume, axes in received:
        assert volume.shape[0] == 5
        assert [a["z"] for a in axes] == [0, 1, 2, 3, 4]
        assert len({(a["time"], a["channel"]) for a in axes}) == 1  # one stack, one channel
    dataset = open_dataset(acq.dataset_path)
    assert set(dataset.axes) == {"time", "channel"}
    volume, axes = received[0]
    saved = dataset.read_image(time=axes[0]["time"], channel=axes[0]["channel"])
    np.testing.assert_array_equal(saved, volume.max(axis=0))


def test_a_volume_returned_goes_on_as_planes(core):
    @z_stack(planes=5)
    def doubled(volume, metadata):
        return volume * 2, metadata

    with Acquisition(core=core, storage="ram", show_display=False, image_process_fn=doubled) as acq:
        acq.acquire(_events())
    dataset = acq.get_dataset()
    assert sorted(dataset.axes["z"]) == [0, 1, 2, 3, 4]


def test_an_aborted_stack_is_saved_as_acquired_and_marked(core):
    calls = []

    def slow_camera(event):
        time.sleep(0.05)
        return event

    @z_stack(planes=5)
    def whole_stacks_only(volume, metadata):
        calls.append(len(volume))
        return volume, metadata

    acq = Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_process_fn=whole_stacks_only,
        pre_hardware_hook_fn=slow_camera,
    )
    acq.acquire(_events(num_time_points=50))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # abort in the middle of a stack
        so_far = acq.counts.snapshot()["acquired"]
        if so_far >= 7 and so_far % 5 in (2, 3):
            break
        time.sleep(0.005)
    acq.abort()
    acq.await_completion()
    acquired = acq.counts.snapshot()["acquired"]
    dataset = acq.get_dataset()
    coordinates = dataset.get_image_coordinates_list()
    assert len(coordinates) == acquired  # every plane acquired is kept
    # the last stack's planes: held by @z_stack, then saved as acquired and marked so;
    # those still queued at the abort skip the processors (marked unprocessed)
    marks = [dataset.read_metadata(**c) for c in coordinates]
    incomplete = [m for m in marks if INCOMPLETE_KEY in m]
    unprocessed = [m for m in marks if UNPROCESSED_KEY in m]
    assert 5 * len(calls) + len(incomplete) + len(unprocessed) == acquired
    assert incomplete
    assert all(n == 5 for n in calls)


def test_incomplete_process_calls_the_function_with_the_planes_there_are():
    seen = []
    stack = z_stack(planes=3, incomplete="process")(
        lambda volume, metadata: seen.append(len(volume)) or (volume, metadata)
    )
    image = np.zeros((2, 2), np.uint16)
    assert stack(image, {"Axes": {"z": 0}}) == []
    outputs = stack.finish()
    assert seen == [1] and len(outputs) == 1
    assert "1 of 3 planes" in outputs[0][1][INCOMPLETE_KEY]


def test_a_frame_without_the_axis_is_a_clear_error():
    stack = z_stack(planes=3)(lambda volume, metadata: None)
    with pytest.raises(ValueError, match="has no 'z' axis"):
        stack(np.zeros((2, 2), np.uint16), {"Axes": {"time": 0}})
    with pytest.raises(ValueError, match="planes must be"):
        z_stack(planes=0)


def test_a_future_waits_for_a_plane_the_stack_holds(core):
    @z_stack(planes=5)
    def doubled(volume, metadata):
        return volume * 2, metadata

    with Acquisition(core=core, storage="ram", show_display=False, image_process_fn=doubled) as acq:
        future = acq.acquire(_events())
        first = future.await_image_saved({"z": 0}, return_image=True, timeout=20)
    assert first is not None and first.shape == (96, 128)


def test_a_function_failing_on_an_incomplete_stack_keeps_its_planes():
    def needs_five(volume, metadata):
        if len(volume) < 5:
            raise ValueError("deconvolution needs the whole stack")
        return volume, metadata

    stack = z_stack(planes=5, incomplete="process")(needs_five)
    for z in range(3):
        assert stack(np.zeros((2, 2), np.uint16), {"Axes": {"z": z}}) == []
    outputs = stack.finish()
    assert len(outputs) == 3
    assert all("raised ValueError" in md[INCOMPLETE_KEY] for _, md in outputs)


def test_a_stack_collector_is_not_run_on_several_frames_at_once():
    from app import Processor

    with pytest.raises(ValueError, match="runs on one frame at a time"):
        Processor(z_stack(planes=3)(lambda volume, metadata: None), workers=2)
