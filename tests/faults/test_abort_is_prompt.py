"""#11 abort is slow: after abort, frames still waiting skip slow processors and are
saved as acquired, marked so (or dropped, if asked): the end comes at once."""

from __future__ import annotations

import time

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.acquisition.state import RunState
from app.acquisition.workers import UNPROCESSED_KEY

SLOW_S = 0.3


def _slow(image, metadata):
    time.sleep(SLOW_S)
    metadata["Processed"] = True
    return image, metadata


def _start(tmp_path, name):
    acq = Acquisition(directory=tmp_path, name=name, image_process_fn=_slow, queue_size=32)
    acq.acquire(multi_d_acquisition_events(num_time_points=30))
    deadline = time.monotonic() + 10
    while acq.status.counts["acquired"] < 30 and time.monotonic() < deadline:
        time.sleep(0.02)  # the camera is fast: every frame waits for the processor
    return acq


def test_abort_saves_waiting_frames_unprocessed_and_ends_at_once(core, tmp_path):
    acq = _start(tmp_path, "abort")
    processed_at_abort = acq.status.counts["processed"]
    acq.abort()
    acq.await_completion(timeout=30)
    status = acq.status
    # only the frame inside the processor at the abort finished processing (before the
    # change, every waiting frame went through the slow processor: 30 x 0.3 s)
    assert status.counts["processed"] <= processed_at_abort + 2  # one may finish meanwhile
    assert status.state is RunState.ABORTED
    counts = status.counts
    assert counts["acquired"] == 30 and counts["lost"] == 0
    assert counts["unprocessed"] >= 20 and counts["saved"] == 30
    dataset = open_dataset(acq.dataset_path)
    assert sorted(dataset.axes["time"]) == list(range(30))  # nothing acquired is lost
    last = dataset.read_metadata(time=29)
    assert "aborted by the user" in last[UNPROCESSED_KEY] and "Processed" not in last
    assert dataset.read_metadata(time=0)["Processed"] is True


def test_abort_can_discard_what_was_not_processed(core, tmp_path):
    acq = _start(tmp_path, "discard")
    acq.abort(discard_unprocessed=True)
    acq.await_completion(timeout=30)
    counts = acq.status.counts
    assert counts["unprocessed"] == 0 and counts["lost"] >= 20
    assert counts["acquired"] == counts["processed"] + counts["lost"]
    saved = open_dataset(acq.dataset_path).axes["time"]
    assert len(saved) == counts["processed"]
