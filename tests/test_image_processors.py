"""The examples of pycro-manager's image-processor documentation, checked on disk."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset


def test_modify_pixels_and_add_metadata(core, tmp_path):
    def img_process_fn(image, metadata):
        metadata["a_new_metadata_key"] = "a new value"
        image[:10, :10] = 0
        return image, metadata

    with Acquisition(
        directory=tmp_path, name="acquisition_name", image_process_fn=img_process_fn
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))

    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == [0, 1, 2]
    for t in range(3):
        image = dataset.read_image(time=t)
        assert image.shape == (96, 128)
        assert not image[:10, :10].any()
        assert image[10:, 10:].any()  # the beads are still there
        metadata = dataset.read_metadata(time=t)
        assert metadata["a_new_metadata_key"] == "a new value"
        assert metadata["Axes"] == {"time": t}


def test_axes_metadata_reaches_the_processor(core, tmp_path):
    seen = []

    def img_process_fn(image, metadata):
        seen.append(metadata["Axes"]["time"])
        image[:] = metadata["Axes"]["time"] + 100
        return image, metadata

    with Acquisition(tmp_path, "axes", image_process_fn=img_process_fn) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=4))
    assert seen == [0, 1, 2, 3]
    dataset = open_dataset(acq.dataset_path)
    assert [int(dataset.read_image(time=t)[0, 0]) for t in range(4)] == [100, 101, 102, 103]


def test_return_two_images_with_a_new_channel(core, tmp_path):
    def img_process_fn(image, metadata):
        image_2 = np.array(image, copy=True)
        image_2[:] = 7
        metadata_2 = copy.deepcopy(metadata)
        metadata_2["Channel"] = "A_new_channel"
        return [(image, metadata), (image_2, metadata_2)]

    with Acquisition(tmp_path, "two", image_process_fn=img_process_fn) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))

    dataset = open_dataset(acq.dataset_path)
    # the changed Channel names the new image; the original keeps the event's axes
    assert set(dataset.get_channel_names()) == {"A_new_channel"}
    for t in range(2):
        assert (dataset.read_image(time=t, channel="A_new_channel") == 7).all()
        assert dataset.read_image(time=t).max() > 7
        assert dataset.read_metadata(time=t, channel="A_new_channel")["Channel"] == "A_new_channel"
    assert acq.counts.saved == 4


def test_return_none_deletes_images(core, tmp_path):
    def img_process_fn(image, metadata):
        if metadata["Axes"]["time"] % 2:
            return None
        return image, metadata

    with Acquisition(tmp_path, "drop", image_process_fn=img_process_fn) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=6))
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == [0, 2, 4]
    counts = acq.counts.snapshot()
    assert counts["acquired"] == 6
    assert counts["dropped_by_processors"] == 3
    assert counts["saved"] == 3


def test_divert_to_custom_saving_without_directory(core, tmp_path):
    diverted = []

    def img_process_fn(image, metadata):
        diverted.append((image, metadata["Axes"]))

    with Acquisition(image_process_fn=img_process_fn, show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert acq.get_dataset().get_image_coordinates_list() == []  # kept in RAM: none returned
    assert [axes for _, axes in diverted] == [{"time": t} for t in range(5)]
    assert all(image.shape == (96, 128) for image, _ in diverted)
    assert list(tmp_path.iterdir()) == []


def test_feedback_with_event_queue_and_put_none(core, tmp_path):
    """pycro-manager's form: no ``with``; the processor ends the acquisition with None."""

    def img_process_fn(image, metadata, event_queue):
        t = metadata["Axes"]["time"]
        if t >= 4:
            event_queue.put(None)
        else:
            event_queue.put({"axes": {"time": t + 1}, "z": float(t + 1)})
        return image, metadata

    acq = Acquisition(directory=tmp_path, name="feedback", image_process_fn=img_process_fn)
    acq.acquire({"axes": {"time": 0}, "z": 0.0})
    acq.await_completion(timeout=30)
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == [0, 1, 2, 3, 4]
    assert [dataset.read_metadata(time=t)["ZPosition_um"] for t in range(5)] == pytest.approx(
        [0, 1, 2, 3, 4], abs=0.01
    )


def test_feedback_inside_a_with_block_continues_after_the_block(core, tmp_path):
    """Scopeflow's improvement: the block's exit waits for feedback events in flight."""

    def img_process_fn(image, metadata, event_queue):
        t = metadata["Axes"]["time"]
        if t < 9:
            event_queue.put({"axes": {"time": t + 1}})
        return image, metadata

    with Acquisition(tmp_path, "feedback_with", image_process_fn=img_process_fn) as acq:
        acq.acquire({"axes": {"time": 0}})
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == list(range(10))
    assert acq.counts.balanced()


def test_accumulate_z_stack_and_process_as_volume(core, tmp_path):
    num_z_steps = 10
    volumes = []

    def img_process_fn(image, metadata):
        if not hasattr(img_process_fn, "images"):
            img_process_fn.images = []
        img_process_fn.images.append(image)
        if len(img_process_fn.images) == num_z_steps:
            zyx_array = np.stack(img_process_fn.images, axis=0)
            img_process_fn.images = []
            volumes.append(zyx_array)
            projection = zyx_array.max(axis=0)
            projection_md = copy.deepcopy(metadata)
            projection_md["Channel"] = "max_projection"
            return [(image, metadata), (projection, projection_md)]
        return image, metadata

    with Acquisition(tmp_path, "volume", image_process_fn=img_process_fn) as acq:
        acq.acquire(multi_d_acquisition_events(z_start=0, z_end=9, z_step=1))

    assert len(volumes) == 1 and volumes[0].shape == (10, 96, 128)
    dataset = open_dataset(acq.dataset_path)
    projection = dataset.read_image(z=9, channel="max_projection")
    assert np.array_equal(projection, volumes[0].max(axis=0))
    # the beads blur away from focus (z=0): the stack really moved the focus
    assert volumes[0][0].std() != volumes[0][9].std()


def test_image_saved_callback_reads_each_image_back(core, tmp_path):
    calls = []

    def image_saved_fn(axes, dataset):
        calls.append((axes, dataset.read_image(**axes).copy()))

    with Acquisition(tmp_path, "saved", image_saved_fn=image_saved_fn) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert [axes for axes, _ in calls] == [{"time": t} for t in range(3)]
    dataset = open_dataset(acq.dataset_path)
    for axes, image in calls:
        assert np.array_equal(image, dataset.read_image(**axes))


def test_image_saved_callback_can_queue_events(core, tmp_path):
    def image_saved_fn(axes, dataset, event_queue):
        if axes["time"] < 3:
            event_queue.put({"axes": {"time": axes["time"] + 1}})

    with Acquisition(tmp_path, "saved_feedback", image_saved_fn=image_saved_fn) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert sorted(open_dataset(acq.dataset_path).axes["time"]) == [0, 1, 2, 3]


def test_list_of_processors_applied_in_order(core, tmp_path):
    def first(image, metadata):
        image[:] = 10
        metadata["order"] = ["first"]
        return image, metadata

    def second(image, metadata):
        image[:] = image * 3
        metadata["order"].append("second")
        return image, metadata

    with Acquisition(tmp_path, "chain", image_process_fn=[first, second]) as acq:
        acq.acquire({"axes": {"time": 0}})
    dataset = open_dataset(acq.dataset_path)
    assert (dataset.read_image(time=0) == 30).all()
    assert dataset.read_metadata(time=0)["order"] == ["first", "second"]
    assert [p.stats.frames_in for p in acq.pipeline.processors] == [1, 1]
