"""#20: a parallel processor (workers=N) that hangs: abort ends the acquisition at
once, the frames acquired are kept (saved unprocessed), the hung call is said; and a
plain processor that hangs, the same."""

from __future__ import annotations

import threading

import pytest

from app import Acquisition, Processor, multi_d_acquisition_events
from app.acquisition.bounded_call import CallAbandonedError
from app.acquisition.state import RunState

PROMPTLY_S = 10


@pytest.mark.parametrize("workers", [1, 3])
def test_abort_does_not_wait_for_a_hung_processor(core, release, workers):
    entered = threading.Event()

    def hangs_on_the_fifth(image, metadata):
        if metadata["Axes"]["time"] == 4:
            entered.set()
            release.wait()
        return image, metadata

    acq = Acquisition(
        storage="ram",
        show_display=False,
        image_process_fn=Processor(hangs_on_the_fifth, workers=workers),
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=30, time_interval_s=0.01))
    assert entered.wait(20)
    acq.abort()
    acq.await_completion(timeout=PROMPTLY_S)
    assert acq.status.state is RunState.ABORTED
    dataset = acq.get_dataset()
    saved = set(dataset.axes["time"])
    assert {0, 1, 2, 3} <= saved and 4 not in saved  # before the hung frame: processed
    abandoned = [e for e in acq.errors if isinstance(e.exception, CallAbandonedError)]
    assert abandoned and "hangs_on_the_fifth" in str(abandoned[0].exception)
    assert acq.status.counts["lost"] >= 1  # the hung frame, said
    # the next acquisition runs, with the hung thread still out there
    with Acquisition(storage="ram", show_display=False) as after:
        after.acquire(multi_d_acquisition_events(num_time_points=3))
    assert after.status.counts["saved"] == 3
