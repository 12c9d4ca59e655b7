"""#20: images kept in memory (no directory) when memory runs short: the RAM limit the
user set (``ram_limit_gb``) is reached, or the computer itself is out of memory (a
``MemoryError`` while an image is stored). Either way the acquisition stops with an
error that names the cause, every image kept stays readable, and the counts say which
images were saved and which were not."""

from __future__ import annotations

import numpy as np
import pytest
from sortedcontainers import SortedSet

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.acquisition.state import RunState
from app.storage.sink import StorageFullError

FRAME_BYTES = 96 * 128 * 2  # the core fixture's camera: 128 x 96, 16-bit


def _stamp(image, metadata):
    """Each image filled with a value of its own, so a wrong or half-kept one shows."""
    axes = metadata["Axes"]
    image[:] = 1 + 10 * axes["time"] + axes.get("z", 0)
    return image, metadata


def _acquire(events, **kwargs):
    """An acquisition in memory as a script runs it; (acquisition, the error it ended
    with, the axes its image-saved callback was given)."""
    saved: list[dict] = []
    acq = Acquisition(
        show_display=False,
        image_process_fn=_stamp,
        image_saved_fn=lambda axes, dataset: saved.append(dict(axes)),
        **kwargs,
    )
    acq.acquire(events)
    acq.mark_finished()
    with pytest.raises(StorageFullError) as raised:
        acq.await_completion(timeout=30)
    return acq, raised.value, saved


def _check_kept(acq, saved: list[dict]) -> None:
    """What the user keeps: the images the callback was told about, each readable with
    its own pixels, and the counts saying so (the others counted unsaved)."""
    dataset = acq.get_dataset()
    kept = sorted(dataset.get_image_coordinates_list(), key=lambda a: (a["time"], a.get("z", 0)))
    assert kept == saved
    for axes in kept:
        image = dataset.read_image(**axes)
        assert np.all(image == 1 + 10 * axes["time"] + axes.get("z", 0)), axes
    assert dataset.axes["time"] == {a["time"] for a in kept}  # no axis value without an image
    counts = acq.status.counts
    assert counts["saved"] == len(kept) == acq.sink.images_written
    assert counts["unsaved"] == counts["outputs"] - len(kept) > 0
    assert acq.counts.balanced()
    assert acq.status.state is RunState.FAILED


def test_reaching_ram_limit_gb_stops_the_run_and_names_the_limit(core):
    limit_gb = 5.5 * FRAME_BYTES / 1e9  # room for 5 images and a half
    acq, error, saved = _acquire(
        multi_d_acquisition_events(num_time_points=20), ram_limit_gb=limit_gb
    )
    message = str(error)
    # the limit as the user gave it, in words a person reads (not "0.00 GB")
    assert f"ram_limit_gb={limit_gb:g}" in message and "135 kB" in message
    assert "5 images (123 kB) are kept" in message and "{'time': 5}" in message
    assert "not saved" in message
    assert saved == [{"time": t} for t in range(5)]
    _check_kept(acq, saved)


def test_a_computer_out_of_memory_stops_the_run_and_keeps_what_was_stored(
    core, monkeypatch, tmp_path
):
    """The allocation fails in the middle of storing an image: after its time point was
    noted, when its z is (a ``MemoryError``, as CPython raises when malloc fails)."""
    real_add = SortedSet.add
    calls = {"n": 0}  # only the RAM dataset adds to a SortedSet, image after image

    def add(self, value):
        calls["n"] += 1
        if calls["n"] == 2 * 8 + 2:  # the 9th image's second axis: (time 4, z 0)
            raise MemoryError()
        return real_add(self, value)

    monkeypatch.setattr(SortedSet, "add", add)
    acq, error, saved = _acquire(
        multi_d_acquisition_events(num_time_points=10, z_start=0, z_end=1, z_step=1)
    )
    message = str(error)
    assert isinstance(error.__cause__, MemoryError)
    assert "out of memory" in message and "{'time': 4, 'z': 0}" in message
    assert "8 images (197 kB) are kept" in message and "save_as_ndtiff" in message
    assert len(saved) == 8
    _check_kept(acq, saved)
    # what the message advises works: every image kept goes to disk afterwards
    monkeypatch.setattr(SortedSet, "add", real_add)
    on_disk = open_dataset(acq.get_dataset().save_as_ndtiff(tmp_path, "rescued"))
    written = {frozenset(axes.items()) for axes in on_disk.get_image_coordinates_list()}
    assert written == {frozenset(axes.items()) for axes in saved}
