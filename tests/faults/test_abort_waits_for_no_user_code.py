"""#20: abort ends the acquisition at once whatever user code is doing, with the
default limits (a stuck callback would otherwise hold it for ``callback_timeout_s``,
60 s); a stuck listener holds no future; the stuck code is reported by name and the
next acquisition works. No timing is asserted beyond "well before the 60 s limit"."""

from __future__ import annotations

import threading

import pytest

from app import Acquisition, multi_d_acquisition_events
from app.acquisition.bounded_call import CallAbandonedError
from app.acquisition.state import RunState

#: far below the default 60 s callback limit, far above a prompt abort
PROMPTLY_S = 10


def _next_acquisition_works(tmp_path):
    with Acquisition(tmp_path, "next", show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    assert acq.status.state is RunState.FINISHED and acq.status.counts["saved"] == 2


@pytest.mark.parametrize("role", ["image_saved_fn", "notification_callback_fn"])
def test_abort_does_not_wait_for_a_stuck_callback(core, tmp_path, release, role):
    entered = threading.Event()

    def stuck(*args):
        entered.set()
        release.wait()

    acq = Acquisition(tmp_path, "stuck", show_display=False, **{role: stuck})
    acq.acquire(multi_d_acquisition_events(num_time_points=200, time_interval_s=0.02))
    assert entered.wait(10)
    acq.abort()
    acq.await_completion(timeout=PROMPTLY_S)  # the default limit is 60 s
    assert acq.status.state is RunState.ABORTED
    abandoned = [e for e in acq.errors if isinstance(e.exception, CallAbandonedError)]
    assert abandoned and role in abandoned[0].where  # reported, by name
    _next_acquisition_works(tmp_path)


def test_abort_does_not_wait_for_a_stuck_hook(core, tmp_path, release):
    entered = threading.Event()

    def stuck(event):
        entered.set()
        release.wait()
        return event

    acq = Acquisition(tmp_path, "hook", show_display=False, post_camera_hook_fn=stuck)
    acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert entered.wait(10)
    acq.abort()
    acq.await_completion(timeout=PROMPTLY_S)
    assert acq.status.state is RunState.ABORTED
    _next_acquisition_works(tmp_path)


def test_a_stuck_listener_holds_no_future(core, tmp_path, release):
    """With the default 60 s limit: futures hear of each image when it is saved, not
    after the user's listener has returned."""

    def stuck(notification):
        release.wait()

    with Acquisition(
        tmp_path, "listener", show_display=False, notification_callback_fn=stuck
    ) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3))
        image = future.await_image_saved({"time": 2}, return_image=True, timeout=PROMPTLY_S)
        assert image is not None
        acq.abort()  # and the end does not wait for the listener either
    acq.await_completion(timeout=PROMPTLY_S)
