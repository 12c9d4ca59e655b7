"""Image processors as pycro-manager's documentation and tests use them."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events


def test_processor_changes_pixels_per_time_point(directory):
    def zero_the_second(image, metadata):
        assert image.sum() > 0 and isinstance(metadata, dict)
        if metadata["Axes"]["time"] == 1:
            image = np.zeros_like(image)
        return image, metadata

    with Acquisition(directory, "acq", show_display=False, image_process_fn=zero_the_second) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    data = np.asarray(acq.get_dataset().as_array(axes=["time"]))
    assert data.shape == (3, 96, 128)
    assert data[0].sum() > 0 and data[1].sum() == 0 and data[2].sum() > 0


def test_processor_returning_none_keeps_nothing(directory):
    with Acquisition(
        directory, "acq", show_display=False, image_process_fn=lambda image, md: None
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
        dataset = acq.get_dataset()  # available inside the block, as in pycro-manager
    assert dataset.get_image_coordinates_list() == []
    assert acq.counts.dropped_by_processors == 3


def test_every_processed_image_is_saved_once(directory):
    processed, saved = [], []

    def process(image, metadata):
        processed.append(metadata["Axes"]["time"])
        return image, metadata

    def image_saved(axes, dataset):
        assert dataset.has_image(**axes)
        saved.append(axes["time"])

    with Acquisition(
        directory, "acq", show_display=False, image_saved_fn=image_saved, image_process_fn=process
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=60))
    assert sorted(processed) == sorted(saved) == list(range(60))


def test_two_images_named_by_their_axes_are_two_channels(directory):
    # The documentation's "returning multiple images", with the axes set by the processor:
    # Channel stays as it was, and the axes alone tell the two images apart.
    def split(image, metadata):
        second = copy.deepcopy(metadata)
        metadata["Axes"]["channel"] = "raw"
        second["Axes"]["channel"] = "inverted"
        return [(image, metadata), (65535 - image, second)]

    with Acquisition(directory, "acq", show_display=False, image_process_fn=split) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    dataset = acq.get_dataset()
    assert set(dataset.get_channel_names()) == {"raw", "inverted"}
    for t in range(2):
        raw = dataset.read_image(time=t, channel="raw")
        assert np.array_equal(dataset.read_image(time=t, channel="inverted"), 65535 - raw)
        assert dataset.read_metadata(time=t, channel="inverted")["Channel"] == "DAPI"


def test_a_changed_channel_names_a_new_image(directory):
    def with_copy(image, metadata):
        metadata_2 = copy.deepcopy(metadata)
        metadata_2["Channel"] = "A_new_channel"
        return [(image, metadata), (np.array(image, copy=True), metadata_2)]

    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["FITC"]
    )
    with Acquisition(directory, "acq", show_display=False, image_process_fn=with_copy) as acq:
        acq.acquire(events)
    dataset = acq.get_dataset()
    assert set(dataset.get_channel_names()) == {"FITC", "A_new_channel"}
    assert len(dataset.get_image_coordinates_list()) == acq.counts.saved == 4
    for t in range(2):
        copied = dataset.read_image(time=t, channel="A_new_channel")
        assert np.array_equal(copied, dataset.read_image(time=t, channel="FITC"))


def test_feedback_from_a_processor_without_with(directory):
    def img_process_fn(image, metadata, event_queue):
        t = metadata["Axes"]["time"]
        event_queue.put(None if t == 4 else {"axes": {"time": t + 1}})
        return image, metadata

    acq = Acquisition(directory, "acq", show_display=False, image_process_fn=img_process_fn)
    acq.acquire({"axes": {"time": 0}})
    acq.await_completion()
    assert sorted(acq.get_dataset().axes["time"]) == [0, 1, 2, 3, 4]


def test_accumulate_a_z_stack_and_process_the_volume(directory):
    volumes = []

    def img_process_fn(image, metadata):
        img_process_fn.images.append(image)
        if len(img_process_fn.images) == 5:
            volumes.append(np.stack(img_process_fn.images, axis=0))
            img_process_fn.images = []
        return image, metadata

    img_process_fn.images = []
    with Acquisition(directory, "acq", show_display=False, image_process_fn=img_process_fn) as acq:
        acq.acquire(multi_d_acquisition_events(z_start=0, z_end=40, z_step=10))
    assert len(volumes) == 1 and volumes[0].shape == (5, 96, 128)
    stored = np.asarray(acq.get_dataset().as_array(axes=["z"]))
    assert np.array_equal(stored, volumes[0])


def test_keeping_nothing_is_explicit(core):
    seen = []
    with Acquisition(
        image_process_fn=lambda image, md: seen.append(md["Axes"]), storage="none"
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert acq.get_dataset() is None and len(seen) == 3
    with pytest.raises(ValueError, match="image_saved_fn"):
        Acquisition(storage="none", image_saved_fn=lambda axes, dataset: None)
