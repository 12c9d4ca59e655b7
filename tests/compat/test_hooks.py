"""Hooks: a single event as a dict, a hardware sequence as the list of its events."""

from __future__ import annotations

import time

import pytest

from app import Acquisition, ImageNotSavedError, multi_d_acquisition_events

CHANNELS = ["DAPI", "FITC", "Rhodamine", "Cy5"]


def recorder(result=lambda events: events):
    """A hook that records what it was given (a dict, or a list's length) and returns
    ``result(events)``."""

    def hook(events):
        hook.calls.append(len(events) if isinstance(events, list) else dict)
        return result(events)

    hook.calls = []
    return hook


def run(directory, events, **hooks):
    with Acquisition(directory, "acq", show_display=False, **hooks) as acq:
        future = acq.acquire(events)
    return acq, future


def test_time_points_with_an_interval_are_single_events(directory):
    hook = recorder()
    acq, _ = run(
        directory,
        multi_d_acquisition_events(num_time_points=4, time_interval_s=0.05),
        pre_hardware_hook_fn=hook,
    )
    assert hook.calls == [dict] * 4
    assert all(acq.get_dataset().has_image(time=t) for t in range(4))


def test_time_points_without_interval_are_one_sequence(directory):
    hook = recorder()
    acq, _ = run(
        directory, multi_d_acquisition_events(num_time_points=10), pre_hardware_hook_fn=hook
    )
    assert hook.calls == [10]
    assert all(acq.get_dataset().has_image(time=t) for t in range(10))


@pytest.mark.usefixtures("sequenceable")
def test_a_skipped_z_sequence_acquires_nothing(directory):
    events = multi_d_acquisition_events(z_start=0, z_end=9, z_step=1)
    hook = recorder(lambda events: None)
    acq, future = run(directory, events, pre_hardware_hook_fn=hook)
    assert hook.calls == [10]
    assert acq.counts.acquired == 0
    with pytest.raises(ImageNotSavedError, match="pre_hardware_hook_fn skipped"):
        future.await_image_saved({"z": 3}, timeout=5)


@pytest.mark.usefixtures("sequenceable")
@pytest.mark.parametrize(
    ("exposures", "expected"), [(None, [4]), ([10] * 4, [4]), ([5, 10, 15, 20], [dict] * 4)]
)
def test_channels_are_sequenced_unless_exposures_differ(directory, exposures, expected):
    events = multi_d_acquisition_events(
        channel_group="Channel-Multiband", channels=CHANNELS, channel_exposures_ms=exposures
    )
    hook = recorder()
    acq, _ = run(directory, events, pre_hardware_hook_fn=hook)
    assert hook.calls == expected
    dataset = acq.get_dataset()
    for i, channel in enumerate(CHANNELS):
        if exposures is not None:
            assert dataset.read_metadata(channel=channel)["Exposure"] == exposures[i]


@pytest.mark.usefixtures("sequenceable")
@pytest.mark.parametrize("order", ["tpcz", "tpzc"])
def test_time_channels_and_z_in_one_sequence(directory, order):
    events = multi_d_acquisition_events(
        num_time_points=2,
        z_start=0,
        z_end=4,
        z_step=1,
        channel_group="Channel-Multiband",
        channels=CHANNELS,
        order=order,
    )
    hook = recorder()
    acq, _ = run(directory, events, pre_hardware_hook_fn=hook)
    assert hook.calls == [40]
    assert acq.get_dataset().as_array(axes=["time", "channel", "z"]).shape[:3] == (2, 4, 5)


def test_z_sequences_per_channel_when_channels_cannot_be_sequenced(core, directory):
    core.setProperty("Z", "UseSequences", "Yes")
    try:
        events = multi_d_acquisition_events(
            z_start=0,
            z_end=4,
            z_step=1,
            channel_group="Channel-Multiband",
            channels=CHANNELS,
            channel_exposures_ms=[5, 10, 15, 20],
            order="tpcz",
        )
        hook = recorder()
        acq, _ = run(directory, events, pre_hardware_hook_fn=hook)
    finally:
        core.setProperty("Z", "UseSequences", "No")
    assert hook.calls == [5] * 4
    for channel, exposure in zip(CHANNELS, [5, 10, 15, 20], strict=True):
        assert acq.get_dataset().read_metadata(channel=channel, z=0)["Exposure"] == exposure


@pytest.mark.usefixtures("sequenceable")
def test_time_points_with_an_interval_between_sequenced_stacks(directory):
    events = multi_d_acquisition_events(
        num_time_points=2, time_interval_s=0.5, z_start=0, z_end=4, z_step=1
    )
    hook = recorder()
    start = time.perf_counter()
    run(directory, events, pre_hardware_hook_fn=hook)
    assert time.perf_counter() - start >= 0.5
    assert hook.calls == [5, 5]


def test_pre_hardware_hook_may_return_a_shorter_sequence(directory):
    hook = recorder(lambda events: events[:-2])
    acq, future = run(
        directory, multi_d_acquisition_events(num_time_points=6), pre_hardware_hook_fn=hook
    )
    assert sorted(acq.get_dataset().axes["time"]) == [0, 1, 2, 3]
    with pytest.raises(ImageNotSavedError, match="replaced"):
        future.await_image_saved({"time": 5}, timeout=5)


def test_pre_hardware_hook_may_change_a_single_event(core, directory):
    def move(event):
        event["z"] = 7.0
        event["tags"] = {"moved": True}
        return event

    acq, _ = run(directory, {"axes": {"time": 0}, "z": 0.0}, pre_hardware_hook_fn=move)
    metadata = acq.get_dataset().read_metadata(time=0)
    assert metadata["ZPosition_um_Intended"] == 7.0 and metadata["tags"] == {"moved": True}


@pytest.mark.usefixtures("sequenceable")
def test_post_hooks_see_the_sequence_and_the_camera_is_running(core, directory):
    running = []

    def post_camera(events):
        running.append(
            (len(events) if isinstance(events, list) else dict, core.isSequenceRunning())
        )

    post_hardware = recorder()
    run(
        directory,
        multi_d_acquisition_events(z_start=0, z_end=4, z_step=1),
        post_hardware_hook_fn=post_hardware,
        post_camera_hook_fn=post_camera,
    )
    assert post_hardware.calls == [5]
    assert running == [(5, True)]  # after startSequenceAcquisition, as pycro-manager runs it


def test_post_hooks_see_single_events_after_the_snap(directory):
    post_hardware, post_camera = recorder(), recorder()
    run(
        directory,
        multi_d_acquisition_events(num_time_points=2, time_interval_s=0.01),
        post_hardware_hook_fn=post_hardware,
        post_camera_hook_fn=post_camera,
    )
    assert post_hardware.calls == post_camera.calls == [dict, dict]


def test_post_hardware_hook_can_cancel(directory):
    acq, _ = run(
        directory,
        multi_d_acquisition_events(num_time_points=3),
        post_hardware_hook_fn=lambda events: None,
    )
    assert acq.counts.acquired == 0


def test_event_generation_hook_sees_each_event_before_merging(directory):
    def drop_odd(event):
        drop_odd.calls.append(type(event))
        return None if event["axes"]["time"] % 2 else event

    drop_odd.calls = []
    pre = recorder()
    acq, _ = run(
        directory,
        multi_d_acquisition_events(num_time_points=6),
        event_generation_hook_fn=drop_odd,
        pre_hardware_hook_fn=pre,
    )
    assert drop_odd.calls == [dict] * 6
    assert pre.calls == [3]  # the three left were merged afterwards
    assert sorted(acq.get_dataset().axes["time"]) == [0, 2, 4]


def test_events_reach_the_hook_as_they_were_submitted(core):
    # pycro-manager's event round trip: every key of an event arrives unchanged; the
    # hook cancels each, so devices the microscope lacks are never touched.
    events = [
        {"axes": {"channel": "DAPI"}, "config_group": ["Channel", "DAPI"]},
        {"axes": {"view": 0}, "camera": "Camera"},
        {"axes": {"z": 4}, "z": 123.34},
        {"axes": {"time": 0}, "exposure": 100.0},
        {"axes": {"time": 1}, "properties": [["DeviceName", "PropertyName", "PropertyValue"]]},
        {"axes": {"z": 1}, "stage_positions": [["ZDeviceName", 123.45]]},
        {"axes": {"time": 2}, "timeout_ms": 1000},
        {"axes": {"time": 3}, "timeout": 1000},  # the name pycro-manager's own test uses
    ]
    expected = list(events)

    def hook(event):
        assert event == expected.pop(0)

    with Acquisition(show_display=False, pre_hardware_hook_fn=hook) as acq:
        for event in events:
            acq.acquire(event)
    assert expected == [] and acq.counts.acquired == 0


def test_hooks_with_the_event_queue(directory):
    def add_one_more(event, event_queue):
        if event["axes"]["time"] == 0:
            event_queue.put({"axes": {"time": 1}})
        return event

    acq = Acquisition(directory, "acq", show_display=False, pre_hardware_hook_fn=add_one_more)
    acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()  # events the hook queues while event 0 runs still run
    acq.await_completion()
    assert sorted(acq.get_dataset().axes["time"]) == [0, 1]


def test_a_burst_longer_than_the_camera_buffer_is_cut(core, directory):
    footprint = core.getCircularBufferMemoryFootprint()
    core.setCircularBufferMemoryFootprint(1)  # about 40 frames of 128x96 16-bit
    try:
        hook = recorder()
        acq, _ = run(
            directory, multi_d_acquisition_events(num_time_points=100), pre_hardware_hook_fn=hook
        )
    finally:
        core.setCircularBufferMemoryFootprint(footprint)
    assert len(hook.calls) > 1 and sum(hook.calls) == 100 and max(hook.calls) < 100
    assert acq.counts.saved == 100
