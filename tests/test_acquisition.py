"""Acquisitions beyond the documentation's examples: dimensions, hooks, abort, errors, counts."""

from __future__ import annotations

import os
import threading
import time
import weakref

import numpy as np
import pytest
import useq

from app import (
    AcqNotification,
    Acquisition,
    ImageNotSavedError,
    InvalidEventError,
    SimulatedCameraSettings,
    multi_d_acquisition_events,
    open_dataset,
)
from app.acquisition.cameras import image_axes
from app.acquisition.events import CheckedEvents, checked_events
from app.acquisition.futures import (
    AcquisitionEndedError,
    AcquisitionFuture,
    LiveFutures,
    axes_key,
)
from app.acquisition.state import RunState
from app.microscope import configure_simulated_camera


def test_time_z_channels_positions_with_per_channel_exposure(core, tmp_path):
    events = multi_d_acquisition_events(
        num_time_points=2,
        z_start=0,
        z_end=2,
        z_step=1,
        channel_group="Channel",
        channels=["DAPI", "FITC"],
        channel_exposures_ms=[2, 4],
        xy_positions=[[0, 0], [100, 50]],
    )
    with Acquisition(tmp_path, "mda") as acq:
        acq.acquire(events)
    dataset = open_dataset(acq.dataset_path)
    assert {name: sorted(values) for name, values in dataset.axes.items()} == {
        "time": [0, 1],
        "position": [0, 1],
        "channel": ["DAPI", "FITC"],
        "z": [0, 1, 2],
    }
    md = dataset.read_metadata(time=1, position=1, channel="FITC", z=2)
    assert md["Exposure"] == pytest.approx(4)
    assert md["Channel"] == "FITC"
    assert md["XPosition_um"] == pytest.approx(100, abs=0.1)
    assert md["YPosition_um"] == pytest.approx(50, abs=0.1)
    assert md["ZPosition_um"] == pytest.approx(2, abs=0.01)
    assert dataset.read_metadata(time=0, position=0, channel="DAPI", z=0)[
        "Exposure"
    ] == pytest.approx(2)
    assert acq.counts.saved == 24
    assert acq.counts.balanced()


def test_time_interval_is_respected(core, tmp_path):
    start = time.perf_counter()
    with Acquisition(tmp_path, "interval") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3, time_interval_s=0.2))
    assert time.perf_counter() - start >= 0.4
    dataset = open_dataset(acq.dataset_path)
    elapsed = [dataset.read_metadata(time=t)["ElapsedTime-ms"] for t in range(3)]
    # each frame no earlier than its time from the start (a late first frame, on a busy
    # machine, may bring the next ones closer to it: their times count from the start)
    for t, ms in enumerate(elapsed):
        assert ms >= 200 * t - 10, elapsed


def test_useq_sequence_is_accepted(core, tmp_path):
    sequence = useq.MDASequence(
        time_plan={"interval": 0, "loops": 2},
        channels=[{"config": "DAPI", "exposure": 1}, {"config": "Cy5", "exposure": 3}],
    )
    with Acquisition(tmp_path, "useq") as acq:
        acq.acquire(sequence)
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["channel"]) == ["Cy5", "DAPI"]
    assert dataset.read_metadata(time=1, channel="Cy5")["Exposure"] == pytest.approx(3)


def test_pre_hardware_hook_can_skip_and_change_events(core, tmp_path):
    def hook(event):
        if event["axes"]["z"] == 1:
            return None
        event["tags"] = {"seen_by_hook": True}
        return event

    with Acquisition(tmp_path, "hooks", pre_hardware_hook_fn=hook) as acq:
        acq.acquire(multi_d_acquisition_events(z_start=0, z_end=2, z_step=1))
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["z"]) == [0, 2]
    assert dataset.read_metadata(z=2)["tags"] == {"seen_by_hook": True}


def test_post_hardware_and_camera_hooks_see_the_hardware_in_place(core, tmp_path):
    positions = []

    def post_hardware(event, event_queue):
        positions.append(core.getPosition())
        return event

    def post_camera(event):
        return event

    with Acquisition(
        tmp_path, "post", post_hardware_hook_fn=post_hardware, post_camera_hook_fn=post_camera
    ) as acq:
        acq.acquire([{"axes": {"z": i}, "z": 5.0 * i} for i in range(3)])
    assert positions == pytest.approx([0, 5, 10], abs=0.01)
    assert acq.counts.saved == 3


def test_abort_leaves_a_readable_partial_dataset(core, tmp_path):
    configure_simulated_camera(core, SimulatedCameraSettings(width=128, height=96, exposure_ms=20))
    acq = Acquisition(tmp_path, "aborted", hardware_sequencing=False)
    acq.acquire(multi_d_acquisition_events(num_time_points=500))
    future = acq.acquire({"axes": {"time": 1000}})
    while acq.counts.saved < 3:
        time.sleep(0.01)
    acq.abort()
    acq.await_completion(timeout=30)
    saved = acq.counts.saved
    assert 3 <= saved < 500
    dataset = open_dataset(acq.dataset_path)
    assert len(dataset.index) == saved
    assert dataset.read_image(time=0).shape == (96, 128)
    assert acq.counts.balanced()
    with pytest.raises(ImageNotSavedError, match="aborted"):
        future.await_image_saved({"time": 1000}, timeout=5)


def _broken_processor(image, metadata):
    if metadata["Axes"]["time"] == 2:
        raise ZeroDivisionError("a bug in the user's processor")
    return image, metadata


def test_processor_error_stops_and_is_reraised_with_its_traceback(core, tmp_path):
    with (
        pytest.raises(ZeroDivisionError, match="a bug in the user's processor") as info,
        Acquisition(tmp_path, "broken", image_process_fn=_broken_processor) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=50))
    frames = [entry.name for entry in info.traceback]
    assert "_broken_processor" in frames
    assert any("_broken_processor" in note for note in info.value.__notes__)
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"])[:2] == [0, 1]
    assert 2 not in dataset.axes["time"]
    assert acq.counts.failed == 1
    assert acq.counts.balanced()
    assert acq.errors and acq.errors[0].exception is info.value


def test_skip_policy_drops_failing_frames_and_goes_on(core, tmp_path):
    with Acquisition(tmp_path, "skip", image_process_fn=_broken_processor, on_error="skip") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0, 1, 3, 4]
    processor = acq.pipeline.processors[0]
    assert processor.stats.errors == 1
    assert "ZeroDivisionError" in processor.stats.last_error
    assert "_broken_processor" in processor.stats.last_traceback
    assert "pipeline.py" not in processor.stats.last_traceback  # the user's frames only
    assert acq.counts.failed == 1 and acq.counts.balanced()


def test_pass_through_policy_disables_the_processor(core, tmp_path):
    def marker(image, metadata):
        image[:] = 1
        return image, metadata

    with Acquisition(
        tmp_path, "pass", image_process_fn=[_broken_processor, marker], on_error="pass_through"
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == [0, 1, 2, 3, 4]
    assert all((dataset.read_image(time=t) == 1).all() for t in range(5))
    assert acq.pipeline.processors[0].enabled is False
    assert acq.pipeline.processors[0].stats.frames_in == 3


@pytest.mark.parametrize(
    "bad, argument",
    [
        (lambda image: image, "image_process_fn"),
        (lambda a, b, c, d: None, "image_process_fn"),
        (lambda: None, "pre_hardware_hook_fn"),
        (lambda axes: None, "image_saved_fn"),
    ],
)
def test_wrong_arity_is_rejected_at_construction(core, tmp_path, bad, argument):
    with pytest.raises(TypeError, match=r"must take \("):
        Acquisition(tmp_path, "arity", **{argument: bad})


def test_processor_returning_garbage_names_the_problem(core, tmp_path):
    def returns_array(image, metadata):
        return image

    with (
        pytest.raises(TypeError, match="returns_array"),
        Acquisition(tmp_path, "garbage", image_process_fn=returns_array) as acq,
    ):
        acq.acquire({"axes": {"time": 0}})


@pytest.mark.parametrize(
    "event, message",
    [
        ({"z": 1.0}, "'axes' is required"),
        ({"axes": {"time": 0}, "exposur": 5}, "unknown key"),
        ({"axes": {"time": 0.5}}, "must be an int or a str"),
        ({"axes": {"time": True}}, "must be an int or a str"),
        ({"axes": {"time": 0}, "exposure": float("nan")}, "finite number"),
        ({"axes": {"time": 0}, "exposure": True}, "finite number"),
        ({"axes": {"time": 0}, "exposure": 10**400}, "finite number"),
        ({"axes": {"time": 0}, "z": "high"}, "finite number"),
        ({"axes": {"time": 0}, "x": 1.0}, "together"),
        ({"axes": {"time": 0}, "exposure": -1}, "positive"),
        ({"axes": {"time": 0}, "config_group": "DAPI"}, r"\[group, preset\]"),
        ({"axes": {"time": 0}, "config_group": ["Channel"]}, r"\[group, preset\]"),
        ({"axes": {"time": 0}, "config_group": ["Channel", 3]}, r"\[group, preset\]"),
        ({"axes": {"time": 0}, "config_group": None}, r"\[group, preset\]"),
        ("time=0", "takes an event dict"),
        ({"axes": {"c": 0}, "config_group": ["Channel", "DAPPI"]}, "no preset 'DAPPI'"),
        ({"axes": {"c": 0}, "config_group": ["Chanel", "DAPI"]}, "no config group 'Chanel'"),
        ({"axes": {"t": 0}, "properties": [["Camera", "Nope", 1]]}, "no property 'Nope'"),
        ({"axes": {"t": 0}, "properties": [["Cam", "Mode", 1]]}, "no device 'Cam'"),
        ({"axes": {"t": 0}, "stage_positions": [["Z2", 1.0]]}, "no stage 'Z2'"),
    ],
)
def test_invalid_events_are_rejected_with_a_clear_message(core, tmp_path, event, message):
    with Acquisition(tmp_path, "invalid") as acq:
        with pytest.raises(InvalidEventError, match=message):
            acq.acquire([{"axes": {"time": 99}}, event])
        acq.acquire({"axes": {"time": 0}})
    # the valid event of the rejected list was not queued either
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0]


def test_numpy_numbers_in_events_become_python_numbers():
    """numpy's integers and floats (from a loop over an array) pass as Python's, as the
    plain ones do: what is stored and compared is the same either way."""
    from app.acquisition.events import normalize_event

    event = normalize_event(
        {"axes": {"time": np.int64(3), "channel": "DAPI"}, "exposure": np.float32(5), "z": 2}
    )
    assert event == {"axes": {"time": 3, "channel": "DAPI"}, "exposure": 5.0, "z": 2.0}
    assert type(event["axes"]["time"]) is int
    assert type(event["exposure"]) is float and type(event["z"]) is float


def test_events_of_other_mapping_and_number_types_are_read_as_plain_ones():
    """What is not a plain dict, int or str is checked as before the plain ones were
    recognised first: an ``IntEnum`` axis becomes its int, a str subclass stays itself,
    a read-only mapping is an event, and a useq event is converted."""
    import enum
    from collections.abc import Mapping
    from types import MappingProxyType

    import useq

    from app.acquisition.events import normalize_event

    class Well(enum.IntEnum):
        A1 = 3

    class Name(str):
        pass

    event = normalize_event(
        MappingProxyType(
            {"axes": {"position": Well.A1, "c": Name("DAPI")}, "config_group": ("C", Name("D"))}
        )
    )
    assert event == {"axes": {"position": 3, "c": "DAPI"}, "config_group": ["C", "D"]}
    assert type(event["axes"]["position"]) is int and type(event["axes"]["c"]) is Name

    class Listed(Mapping):  # its keys() a list, not a set-like view
        def __init__(self, items):
            self._items = items

        def __getitem__(self, key):
            return self._items[key]

        def __iter__(self):
            return iter(self._items)

        def __len__(self):
            return len(self._items)

        def keys(self):
            return list(self._items)

    class Converting(dict):  # reads its items its own way
        def __getitem__(self, key):
            value = super().__getitem__(key)
            return float(value) if key == "exposure" else value

    listed = normalize_event(Listed({"axes": {"t": 0}, "exposure": 5}))
    assert listed == {"axes": {"t": 0}, "exposure": 5.0}
    converted_here = normalize_event(Converting({"axes": {"t": 0}, "exposure": "2.5"}))
    assert converted_here["exposure"] == 2.5
    converted = normalize_event(useq.MDAEvent(index={"t": 2}, exposure=5.0))
    assert converted["axes"]["time"] == 2 and converted["exposure"] == 5.0


@pytest.mark.parametrize("bit_depth, dtype", [(8, np.uint8), (16, np.uint16)])
def test_8_and_16_bit_round_trip(core, tmp_path, bit_depth, dtype):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=64, height=48, bit_depth=bit_depth, exposure_ms=1)
    )
    received = []

    def keep(image, metadata):
        received.append(image.copy())
        return image, metadata

    with Acquisition(tmp_path, f"bits{bit_depth}", image_process_fn=keep) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    dataset = open_dataset(acq.dataset_path)
    for t in range(2):
        image = dataset.read_image(time=t)
        assert image.dtype == dtype
        assert np.array_equal(image, received[t])
        assert dataset.read_metadata(time=t)["BitDepth"] == bit_depth


def test_float_output_is_refused_with_advice(core, tmp_path):
    def to_float(image, metadata):
        return image.astype(np.float32), metadata

    with (
        pytest.raises(TypeError, match="uint16"),
        Acquisition(tmp_path, "float", image_process_fn=to_float) as acq,
    ):
        acq.acquire({"axes": {"time": 0}})
    assert acq.counts.unsaved == 1


def test_counts_add_up_with_drops_and_extra_outputs(core, tmp_path):
    def split_or_drop(image, metadata):
        t = metadata["Axes"]["time"]
        if t % 3 == 0:
            return None
        if t % 3 == 1:
            other = dict(metadata, Channel="copy")
            return [(image, metadata), (image.copy(), other)]
        return image, metadata

    with Acquisition(tmp_path, "counts", image_process_fn=split_or_drop) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=9))
    counts = acq.counts.snapshot()
    assert counts["acquired"] == 9
    assert counts["processed"] == 9
    assert counts["dropped_by_processors"] == 3
    assert counts["outputs"] == 9  # 3 frames x 0, 3 x 2, 3 x 1
    assert counts["saved"] == 9
    assert counts["lost"] == counts["missing"] == 0
    assert acq.counts.balanced()


def test_drop_policy_counts_lost_frames_when_processing_is_slow(core, tmp_path):
    release = threading.Event()

    def slow(image, metadata):
        release.wait(5)
        return image, metadata

    acq = Acquisition(tmp_path, "lossy", image_process_fn=slow, queue_size=2, full_queue="drop")
    acq.acquire(multi_d_acquisition_events(num_time_points=20))
    while acq.counts.acquired < 20:
        time.sleep(0.01)
    release.set()
    acq.mark_finished()
    acq.await_completion(timeout=30)
    counts = acq.counts.snapshot()
    assert counts["lost"] > 0
    assert counts["saved"] == 20 - counts["lost"]
    assert acq.counts.balanced()


def test_notifications_and_futures(core, tmp_path):
    notes = []
    with Acquisition(tmp_path, "notes", notification_callback_fn=notes.append) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3))
        image, metadata = future.await_image_saved(
            {"time": 1}, return_image=True, return_metadata=True, timeout=30
        )
        assert image.shape == (96, 128)
        assert metadata["Axes"] == {"time": 1}
        future.await_execution(AcqNotification.Hardware.POST_HARDWARE, {"time": 2}, timeout=30)
    milestones = [n.milestone for n in notes]
    assert milestones[0] == AcqNotification.Global.ACQ_STARTED
    assert milestones[-1] == AcqNotification.Global.ACQ_FINISHED
    assert milestones.count(AcqNotification.Image.IMAGE_SAVED) == 3
    assert AcqNotification.Hardware.POST_HARDWARE in milestones


def test_futures_let_go_of_are_forgotten_and_those_held_are_told(core):
    """Feedback scripts call acquire() once per event, thousands of times, mostly
    without keeping the future: the acquisition must not hold them all (nor tell each
    one every notification), and a future kept among them still ends."""
    with Acquisition(show_display=False) as acq:
        kept = acq.acquire({"axes": {"time": 0}})
        let_go = [weakref.ref(acq.acquire({"axes": {"time": t}})) for t in range(1, 200)]
        last = acq.acquire({"axes": {"time": 200}})
        last.await_image_saved({"time": 200}, timeout=30)
        kept.await_image_saved({"time": 0}, timeout=30)
    assert not any(ref() for ref in let_go)


def test_live_futures_stay_few_however_many_are_let_go_of():
    futures = LiveFutures()
    kept = AcquisitionFuture([{"axes": {"time": 0}}], lambda: None)
    futures.add(kept)
    for t in range(1, 1000):
        futures.add(AcquisitionFuture([{"axes": {"time": t}}], lambda: None))
    assert len(futures) < 64  # pruned as they grow: not 1000
    futures.notify(AcqNotification(AcqNotification.Camera.POST_EXPOSURE, {"time": 0}))
    kept.await_execution(AcqNotification.Camera.POST_EXPOSURE, {"time": 0}, timeout=1)


def test_live_futures_tell_each_notification_to_the_futures_of_its_axes():
    """An image's notification reaches the futures that follow its axes (also axes a
    generator's future learns later), a milestone of the whole acquisition all of them."""
    futures = LiveFutures()
    held = [AcquisitionFuture([{"axes": {"time": t}}], lambda: None) for t in range(1000)]
    for future in held:
        futures.add(future)
    growing = AcquisitionFuture([], lambda: None, from_generator=True)
    futures.add(growing)
    growing.expect({"time": 5000})
    exposed = AcqNotification.Camera.POST_EXPOSURE
    futures.notify(AcqNotification(exposed, {"time": 500}))
    futures.notify(AcqNotification(exposed, [{"time": 5000}, {"time": 7}]))
    held[500].await_execution(exposed, {"time": 500}, timeout=1)
    held[7].await_execution(exposed, {"time": 7}, timeout=1)
    growing.await_execution(exposed, {"time": 5000}, timeout=1)
    futures.notify(AcqNotification(AcqNotification.Global.ACQ_FINISHED))
    with pytest.raises(AcquisitionEndedError):
        held[0].await_execution(exposed, {"time": 0}, timeout=1)


def test_events_checked_ahead_are_acquired_and_still_checked_against_the_hardware(core):
    """The window checks its plan's events before Start (``checked_events``): an
    invalid one is refused there, and ``acquire`` takes the rest without checking each
    again, but still against the microscope (a preset it does not have)."""
    with pytest.raises(InvalidEventError, match="'exposure' must be positive"):
        checked_events([{"axes": {"time": 0}}, {"axes": {"time": 1}, "exposure": -1}])
    with pytest.raises(InvalidEventError, match="must be a dict"):
        checked_events([{"axes": {"time": 0}}, None])
    events = checked_events(multi_d_acquisition_events(num_time_points=3))
    with Acquisition(storage="ram", show_display=False) as acq:
        with pytest.raises(InvalidEventError, match="No acquisition events"):
            acq.acquire(checked_events([]))
        with pytest.raises(InvalidEventError, match="Nowhere"):
            acq.acquire(
                checked_events({"axes": {"time": 9}, "config_group": ["Channel", "Nowhere"]})
            )
        acq.acquire(events).await_image_saved({"time": 2}, timeout=30)
    coordinates = acq.get_dataset().get_image_coordinates_list()
    assert sorted(c["time"] for c in coordinates) == [0, 1, 2]
    with pytest.raises(TypeError, match="made by checked_events"):
        CheckedEvents([{"axes": 5}])  # would skip the check


def test_a_hook_that_changes_checked_events_changes_only_its_acquisitions(core):
    def hook(event):  # a sequence's events come as a list
        for each in event if isinstance(event, list) else [event]:
            each["axes"]["time"] += 10  # in place, as a script may
            each["exposure"] = 3.0
        return event

    events = checked_events(multi_d_acquisition_events(num_time_points=2))
    before = [dict(event, axes=dict(event["axes"])) for event in events]
    for _ in range(2):
        with Acquisition(storage="ram", show_display=False, pre_hardware_hook_fn=hook) as acq:
            acq.acquire(events)
        times = sorted(c["time"] for c in acq.get_dataset().get_image_coordinates_list())
        assert times == [10, 11]  # not 20 and 21 the second time
    assert list(events) == before


def test_a_lists_future_counts_each_event_even_with_repeated_axes():
    """A list's events are followed all at once (Start's future of 999 events): an
    image not saved fails its wait only once no other event with its axes may bring it,
    and with several cameras an event's axes name each camera's image."""
    not_saved = AcqNotification.Image.IMAGE_NOT_SAVED
    repeated = AcquisitionFuture([{"axes": {"time": 0}}, {"axes": {"time": 0}}], lambda: None)
    repeated.notify(AcqNotification(not_saved, {"time": 0}, "dropped by a processor"))
    with pytest.raises(TimeoutError):  # the second event may still bring it
        repeated.await_execution(AcqNotification.Image.IMAGE_SAVED, {"time": 0}, timeout=0.05)
    repeated.notify(AcqNotification(not_saved, {"time": 0}, "dropped by a processor"))
    with pytest.raises(ImageNotSavedError, match="dropped by a processor"):
        repeated.await_execution(AcqNotification.Image.IMAGE_SAVED, {"time": 0}, timeout=1)

    cameras = ("Left", "Right")
    two = AcquisitionFuture(
        [{"axes": {"time": t, "channel": "DAPI"}} for t in range(2)],
        lambda: object(),  # a dataset: the wait is refused before anything is read
        cameras=cameras,
    )
    images = [image_axes({"time": t, "channel": "DAPI"}, c) for t in range(2) for c in cameras]
    events = [{"time": t, "channel": "DAPI"} for t in range(2)]
    assert {axes_key(axes) for axes in two.axes} == {axes_key(axes) for axes in images + events}
    two.notify(AcqNotification(AcqNotification.Image.IMAGE_SAVED, images[3]))
    two.await_execution(AcqNotification.Image.IMAGE_SAVED, images[3], timeout=1)
    with pytest.raises(ValueError, match="one image per camera"):
        two.await_image_saved({"time": 1, "channel": "DAPI"}, timeout=1)


def test_dataset_is_readable_while_acquiring(core, tmp_path):
    read_during = []

    def image_saved_fn(axes, dataset):
        read_during.append(len(dataset.get_image_coordinates_list()))

    with Acquisition(tmp_path, "live", image_saved_fn=image_saved_fn) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=4))
    assert read_during == [1, 2, 3, 4]
    assert acq.get_dataset().read_image(time=3).shape == (96, 128)


def test_new_folder_each_time_never_overwrites(core, tmp_path):
    paths = []
    for _ in range(2):
        with Acquisition(tmp_path, "same") as acq:
            acq.acquire({"axes": {"time": 0}})
        paths.append(acq.dataset_path)
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["same_1", "same_2"]


def test_hardware_sequencing_bursts_and_keeps_every_frame(core, tmp_path):
    seen = []

    def keep(image, metadata):
        seen.append((metadata["Axes"]["time"], metadata.get("HardwareTriggered", False)))
        return image, metadata

    with Acquisition(tmp_path, "burst", image_process_fn=keep) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=30))
    assert [t for t, _ in seen] == list(range(30))
    assert all(triggered for _, triggered in seen)
    assert acq.counts.saved == 30


def test_block_policy_never_overflows_the_camera_buffer(core, tmp_path):
    """A slow processor slows the camera down instead of overflowing its buffer."""
    footprint = core.getCircularBufferMemoryFootprint()
    core.setCircularBufferMemoryFootprint(1)  # ~40 frames of 128x96x16 bit
    try:

        def slow(image, metadata):
            time.sleep(0.002)
            return image, metadata

        with Acquisition(tmp_path, "slow", image_process_fn=slow, queue_size=4) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=300))
    finally:
        core.setCircularBufferMemoryFootprint(footprint)
    counts = acq.counts.snapshot()
    assert counts["saved"] == 300
    assert counts["lost"] == counts["missing"] == 0


def test_events_with_properties_stage_positions_and_camera(core, tmp_path):
    event = {
        "axes": {"time": 0},
        "properties": [["Camera", "Mode", "Noise"]],
        "stage_positions": [["Z", 7.0]],
        "camera": "Camera",
        "tags": {"well": "A1"},
    }
    try:
        with Acquisition(tmp_path, "props") as acq:
            acq.acquire(event)
        md = open_dataset(acq.dataset_path).read_metadata(time=0)
        assert core.getProperty("Camera", "Mode") == "Noise"
        assert md["ZPosition_um"] == pytest.approx(7.0, abs=0.01)
        assert md["tags"] == {"well": "A1"}
    finally:
        core.setProperty("Camera", "Mode", "Fluorescent Beads")


def test_hook_that_raises_stops_and_is_reraised(core, tmp_path):
    def hook(event):
        if event["axes"]["time"] == 2:
            raise KeyError("hook bug")
        return event

    with (
        pytest.raises(KeyError, match="hook bug"),
        # without sequencing, hooks run event by event (a burst's hooks run as it is merged)
        Acquisition(
            tmp_path, "hookfail", pre_hardware_hook_fn=hook, hardware_sequencing=False
        ) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=10))
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0, 1]


def test_image_saved_callback_that_raises_stops_and_is_reraised(core, tmp_path):
    def image_saved_fn(axes, dataset):
        raise RuntimeError("callback bug")

    with (
        pytest.raises(RuntimeError, match="callback bug"),
        Acquisition(tmp_path, "savedfail", image_saved_fn=image_saved_fn) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=10))
    dataset = open_dataset(acq.dataset_path)
    assert 0 in dataset.axes["time"]
    assert acq.counts.balanced()


def test_short_bursts_never_lose_their_last_frame(core, tmp_path):
    """pymmcore-plus's own burst readout left a burst's last frame behind about once in
    twenty short bursts on the demo camera; Scopeflow's readout waits for it."""
    with Acquisition(tmp_path, "bursts") as acq:
        for t in range(40):
            future = acq.acquire([{"axes": {"time": t, "z": z}} for z in range(4)])
            future.await_image_saved({"time": t, "z": 3}, return_image=False, timeout=30)
    counts = acq.counts.snapshot()
    assert counts["missing"] == 0
    assert counts["saved"] == 160


def test_pause_holds_the_hardware_and_resume_continues(core, tmp_path):
    acq = Acquisition(tmp_path, "pause", hardware_sequencing=False)
    acq.pause()
    acq.acquire(multi_d_acquisition_events(num_time_points=5))
    time.sleep(0.3)
    assert acq.paused
    assert acq.counts.acquired == 0
    assert acq.events_submitted == 5
    acq.resume()
    acq.mark_finished()
    acq.await_completion(timeout=30)
    assert acq.counts.saved == 5


def test_a_held_start_waits_for_start_now_and_not_longer_than_asked(core):
    """``hold_start_s``: the engine takes no event until ``start_now()`` (the window's
    viewer laid out), and at most that long: a caller that never says so (its window
    closed, say) holds nothing for ever."""
    events = multi_d_acquisition_events(num_time_points=3)
    held = Acquisition(storage="none", show_display=False, hold_start_s=30)
    held.acquire(events)
    time.sleep(0.3)
    assert held.counts.acquired == 0
    assert held.status.state is RunState.RUNNING  # held, not paused: nothing to show
    held.start_now()
    held.mark_finished()
    held.await_completion(timeout=30)
    assert held.counts.acquired == 3

    started = time.perf_counter()
    ran_out = Acquisition(storage="none", show_display=False, hold_start_s=0.2)
    ran_out.acquire(events)
    ran_out.mark_finished()
    ran_out.await_completion(timeout=30)
    assert ran_out.counts.acquired == 3
    assert time.perf_counter() - started >= 0.2


def test_abort_ends_a_held_start_at_once(core):
    acq = Acquisition(storage="none", show_display=False, hold_start_s=60)
    acq.acquire(multi_d_acquisition_events(num_time_points=3))
    acq.abort()
    acq.await_completion(timeout=10)  # not the minute held
    assert acq.counts.acquired == 0
    assert acq.status.state is RunState.ABORTED


@pytest.mark.parametrize("hold", [0, -1.0, float("inf"), float("nan")])
def test_a_hold_of_nothing_or_for_ever_is_refused(core, hold):
    """A hold for ever would hang the acquisition if ``start_now()`` never came."""
    with pytest.raises(ValueError, match="hold_start_s must be a finite number of seconds"):
        Acquisition(storage="none", show_display=False, hold_start_s=hold)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread priorities via nice values")
def test_worker_threads_yield_to_a_window_and_keep_their_priority_without_one(core):
    """A window (AppState.workers_yield) gets the CPU first; a script keeps every core's
    share for the acquisition (a lowered engine lost 15-25% of its rate)."""
    from app.appstate import AppState

    def priority_in_a_processor() -> int:
        seen = []

        def record_priority(image, metadata):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return image, metadata

        with Acquisition(image_process_fn=record_priority, show_display=False) as acq:
            acq.acquire({"axes": {"time": 0}})
        assert seen
        return seen[0]

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert priority_in_a_processor() == mine
    state = AppState(core, workers_yield=True)
    state.install()
    try:
        assert priority_in_a_processor() > mine
    finally:
        state.uninstall()
    assert priority_in_a_processor() == mine


def test_default_queues_hold_a_bounded_amount_of_memory(core):
    from app.acquisition.acquisition import default_queue_size

    assert default_queue_size(2048 * 2048 * 2) == 32  # 256 MB of 8 MB frames
    assert default_queue_size(512 * 512 * 2) == 64
    assert default_queue_size(8192 * 8192 * 2) == 4
    with Acquisition() as acq:
        acq.acquire({"axes": {"time": 0}})
    assert acq.queue_size == default_queue_size(core.getImageBufferSize())


def test_full_disk_stops_with_a_clear_error_and_keeps_what_was_saved(core, tmp_path, monkeypatch):
    import errno

    from app.storage.ndtiff_writer import NDTiffWriter

    real_write = NDTiffWriter.write

    def write_until_full(self, axes, image, metadata, bit_depth=None):
        if self.images_written >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, axes, image, metadata, bit_depth)

    monkeypatch.setattr(NDTiffWriter, "write", write_until_full)
    with (
        pytest.raises(OSError, match="No space left on device") as info,
        Acquisition(tmp_path, "full") as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=10))
    assert any("Could not save the image" in note for note in info.value.__notes__)
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == [0, 1, 2]
    assert acq.counts.saved == 3
    assert acq.counts.balanced()


def test_acquire_flattens_nested_lists_and_generators_and_ends_at_none(core):
    """Events as pycro-manager takes them: nested lists, a generator among them, and
    None, which ends the acquisition (events after it never run)."""
    events = [
        {"axes": {"time": 0}},
        [{"axes": {"time": 1}}, ({"axes": {"time": t}} for t in (2, 3))],
        None,
        {"axes": {"time": 9}},
    ]
    acq = Acquisition(storage="none", show_display=False)
    acq.acquire(events)
    acq.await_completion(timeout=30)
    assert acq.counts.acquired == 4
    assert acq.events_submitted == 4
