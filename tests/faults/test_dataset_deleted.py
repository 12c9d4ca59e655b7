"""#20: the dataset folder deleted while it is written (a user freeing disk space):
the acquisition fails with an error that names the folder and says what was lost,
instead of counting every image as saved."""

from __future__ import annotations

import os
import shutil
import threading

import pytest

from app import Acquisition, multi_d_acquisition_events
from app.acquisition.state import RunState
from app.storage.sink import DatasetGoneError


def test_a_deleted_dataset_folder_stops_the_acquisition_and_says_so(core, tmp_path):
    third = threading.Event()

    def note(axes, dataset):
        if axes["time"] == 2:
            third.set()

    acq = Acquisition(tmp_path, "deleted", image_saved_fn=note, show_display=False)
    acq.acquire(multi_d_acquisition_events(num_time_points=400, time_interval_s=0.01))
    assert third.wait(20)
    shutil.rmtree(acq.dataset_path)  # the user frees disk space
    acq.mark_finished()
    with pytest.raises(DatasetGoneError, match="deleted") as raised:
        acq.await_completion(timeout=30)
    assert acq.dataset_path in str(raised.value) and "are gone" in str(raised.value)
    assert acq.status.state is RunState.FAILED
    counts = acq.status.counts
    assert counts["unsaved"] >= 1 and counts["saved"] < 400  # not counted as saved


def test_a_deleted_ome_zarr_folder_stops_the_acquisition_and_says_so(core, tmp_path):
    third = threading.Event()

    def note(axes, dataset):
        if axes["time"] == 2:
            third.set()

    acq = Acquisition(tmp_path, "zarr", storage="ome-zarr", image_saved_fn=note, show_display=False)
    acq.acquire(multi_d_acquisition_events(num_time_points=400, time_interval_s=0.01))
    assert third.wait(20)
    while os.path.exists(acq.dataset_path):  # as a file manager does, as files come
        shutil.rmtree(acq.dataset_path, ignore_errors=True)
    acq.mark_finished()
    with pytest.raises(DatasetGoneError, match="deleted") as raised:
        acq.await_completion(timeout=30)
    assert acq.dataset_path in str(raised.value)
    assert acq.status.state is RunState.FAILED
