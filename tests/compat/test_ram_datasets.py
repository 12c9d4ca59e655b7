"""Without a directory, images stay in memory and read back like a saved dataset."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app import (
    Acquisition,
    Dataset,
    RAMDataset,
    StorageFullError,
    multi_d_acquisition_events,
)

EVENTS = multi_d_acquisition_events(
    num_time_points=2,
    z_start=0,
    z_end=2,
    z_step=1,
    channel_group="Channel",
    channels=["DAPI", "FITC"],
)


def test_reads_as_the_same_acquisition_saved_to_disk(core, tmp_path):
    def stamp(image, metadata):
        axes = metadata["Axes"]
        image[0, 0] = 100 * axes["time"] + 10 * axes["z"] + (axes["channel"] == "FITC")
        return image, metadata

    datasets = {}
    for where in (tmp_path, None):
        with Acquisition(where, "same", show_display=False, image_process_fn=stamp) as acq:
            acq.acquire(EVENTS)
        datasets["disk" if where else "ram"] = acq.get_dataset()
    disk, ram = datasets["disk"], datasets["ram"]
    assert isinstance(ram, RAMDataset)
    assert {k: list(v) for k, v in ram.axes.items()} == {k: list(v) for k, v in disk.axes.items()}
    assert list(ram.axes) == ["time", "channel", "z"]  # outermost first, as NDTiff
    assert ram.get_channel_names() == disk.get_channel_names() == ["DAPI", "FITC"]
    for event in EVENTS:
        axes = event["axes"]
        assert ram.has_image(**axes) and disk.has_image(**axes)
        assert ram.read_image(**axes)[0, 0] == disk.read_image(**axes)[0, 0]
        assert ram.read_metadata(**axes)["Axes"] == disk.read_metadata(**axes)["Axes"] == axes
    assert not ram.has_image(time=5)
    assert np.array_equal(
        ram.read_image(channel=1, z=2, time=1), disk.read_image(channel="FITC", z=2, time=1)
    )  # an int for the channel axis is its index, as ndtiff reads it
    order = ["time", "channel", "z"]
    assert np.array_equal(np.asarray(ram.as_array()), np.asarray(disk.as_array(axes=order)))
    fixed = ram.as_array(axes=["time", "z"], channel="FITC")
    assert fixed.shape == (2, 3, 96, 128) and int(fixed[1, 2, 0, 0]) == 121
    assert sorted(map(str, ram.get_image_coordinates_list())) == sorted(
        map(str, disk.get_image_coordinates_list())
    )
    assert len(ram.index) == len(disk.index) == 12


def test_readable_while_acquiring(core):
    release = threading.Event()

    def slow(image, metadata):
        if metadata["Axes"]["time"] == 3:
            release.wait(20)  # hold the acquisition while the test reads
        return image, metadata

    acq = Acquisition(show_display=False, image_process_fn=slow)
    acq.acquire(multi_d_acquisition_events(num_time_points=6))
    dataset = acq.get_dataset()
    while not dataset.has_image(time=2):
        assert dataset.await_new_image(timeout=20)
    assert dataset.read_image(time=2).shape == (96, 128)
    assert not dataset.is_finished() and not dataset.has_image(time=4)
    release.set()
    acq.mark_finished()
    acq.await_completion(timeout=20)
    assert dataset.is_finished() and len(dataset.index) == 6


def test_images_read_back_cannot_be_changed(core):
    with Acquisition(show_display=False) as acq:
        acq.acquire({"axes": {"time": 0}})
    image = acq.get_dataset().read_image(time=0)
    with pytest.raises(ValueError, match="read-only"):
        image[0, 0] = 1


def test_reaching_the_ram_limit_stops_with_a_clear_error(core):
    frame = 96 * 128 * 2
    acq = Acquisition(show_display=False, ram_limit_gb=5.5 * frame / 1e9)
    acq.acquire(multi_d_acquisition_events(num_time_points=20))
    acq.mark_finished()
    with pytest.raises(StorageFullError, match="RAM limit"):
        acq.await_completion(timeout=20)
    dataset = acq.get_dataset()
    assert len(dataset.index) == 5 and acq.counts.saved == 5
    assert all(dataset.read_image(time=t).shape == (96, 128) for t in range(5))
    assert acq.counts.balanced()


def test_the_default_limit_is_a_share_of_free_memory(core):
    import psutil

    with Acquisition(show_display=False) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert 0 < acq.sink.limit_bytes <= psutil.virtual_memory().total


def test_written_to_ndtiff_afterwards(core, tmp_path):
    with Acquisition(show_display=False) as acq:
        acq.acquire(EVENTS)
    ram = acq.get_dataset()
    path = ram.save_as_ndtiff(tmp_path, "from_ram")
    assert path.name == "from_ram_1"
    disk = Dataset(path)  # pycro-manager's name for open_dataset
    assert len(disk.index) == 12 and set(disk.get_channel_names()) == {"DAPI", "FITC"}
    for event in EVENTS:
        axes = event["axes"]
        assert np.array_equal(disk.read_image(**axes), ram.read_image(**axes))
        assert disk.read_metadata(**axes)["Axes"] == axes


def test_close_releases_the_images(core):
    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    dataset = acq.get_dataset()
    assert dataset.bytes == 3 * 96 * 128 * 2
    dataset.close()
    assert dataset.bytes == 0
    with pytest.raises(RuntimeError, match="closed"):
        dataset.read_image(time=0)


def test_a_missing_image_names_what_exists(core):
    with Acquisition(show_display=False) as acq:
        acq.acquire({"axes": {"time": 0}})
    with pytest.raises(KeyError, match=r"time': \[0\]"):
        acq.get_dataset().read_image(time=7)
