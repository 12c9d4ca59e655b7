"""#11 overwritten data: two images with the same axes are both kept, and it is said."""

from __future__ import annotations

import numpy as np
import pytest

from app import Acquisition, open_dataset
from app.acquisition.notifications import ImageMilestone


@pytest.mark.parametrize("storage", ["ndtiff", "ram"])
def test_repeated_events_keep_every_image(core, tmp_path, storage, caplog):
    saved = []
    kwargs = {"directory": tmp_path, "name": "dup"} if storage == "ndtiff" else {}

    def mark(image, metadata):
        image[0, 0] = len(saved) + 100
        saved.append(dict(metadata["Axes"]))
        return image, metadata

    notified = []
    with Acquisition(
        image_process_fn=mark,
        notification_callback_fn=lambda n: notified.append(n),
        **kwargs,
    ) as acq:
        acq.acquire([{"axes": {"time": 0}}, {"axes": {"time": 0}}, {"axes": {"time": 0}}])
    dataset = open_dataset(acq.dataset_path) if storage == "ndtiff" else acq.get_dataset()
    assert dataset.read_image(time=0)[0, 0] == 100
    assert dataset.read_image(time=0, duplicate=1)[0, 0] == 101
    assert dataset.read_image(time=0, duplicate=2)[0, 0] == 102
    assert dataset.read_metadata(time=0, duplicate=2)["Axes"] == {"time": 0, "duplicate": 2}
    status = acq.status
    assert status.counts["duplicates"] == 2 and status.counts["saved"] == 3
    saved_axes = [n.payload for n in notified if n.milestone == ImageMilestone.IMAGE_SAVED]
    assert {"time": 0, "duplicate": 1} in saved_axes  # the callback learns the real axes
    assert "Two images have the axes {'time': 0}" in caplog.text


def test_a_processor_returning_two_images_under_one_name_keeps_both(core, tmp_path):
    def two_same(image, metadata):
        return [(image, metadata), (np.zeros_like(image), dict(metadata))]

    with Acquisition(directory=tmp_path, name="two", image_process_fn=two_same) as acq:
        acq.acquire({"axes": {"time": 0}})
    dataset = open_dataset(acq.dataset_path)
    assert dataset.read_image(time=0).any()
    assert not dataset.read_image(time=0, duplicate=1).any()


def test_renaming_a_duplicate_leaves_the_first_images_metadata_alone(core):
    def one_dict_for_two(image, metadata):
        return [(image, metadata), (np.zeros_like(image), metadata)]

    with Acquisition(image_process_fn=one_dict_for_two) as acq:
        acq.acquire({"axes": {"time": 0}})
    dataset = acq.get_dataset()
    assert dataset.read_metadata(time=0)["Axes"] == {"time": 0}
    assert dataset.read_metadata(time=0, duplicate=1)["Axes"] == {"time": 0, "duplicate": 1}
