"""A time-lapse paused and resumed keeps its interval: the images after Resume are not
taken back to back to catch up the plan (a newcomer's 1 s time-lapse took five images
within 0.3 s after a pause)."""

from __future__ import annotations

import time

import numpy as np

from app import Acquisition, multi_d_acquisition_events


def test_after_resume_the_interval_is_kept(core):
    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=8, time_interval_s=0.3))
        deadline = time.monotonic() + 10
        while acq.counts.snapshot()["acquired"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        acq.pause()
        time.sleep(1.2)
        acq.resume()
    dataset = acq.get_dataset()
    elapsed = np.array(
        [dataset.read_metadata(time=t)["ElapsedTime-ms"] for t in range(8)], dtype=float
    )
    gaps = np.diff(elapsed)
    assert gaps.max() >= 1000  # the pause itself
    after = gaps[int(np.argmax(gaps)) + 1 :]
    assert len(after) >= 4
    assert (after > 250).all(), gaps  # 0.3 s apart again, not caught up at once
