"""#11 hangs from user code: a callback or hook that never returns is given up after
``callback_timeout_s``, reported, and hangs neither ``with``, abort nor futures."""

from __future__ import annotations

import threading
import time

import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.acquisition.bounded_call import CallbackTimeoutError
from app.acquisition.state import RunState

TIMEOUT_S = 0.5


def test_an_image_saved_fn_that_never_returns_is_given_up(core, tmp_path, release):
    def stuck(axes, dataset):
        if axes["time"] == 1:
            release.wait()

    with (
        pytest.raises(CallbackTimeoutError, match=r"image_saved_fn .*did not return within 0.5 s"),
        Acquisition(
            directory=tmp_path, name="stuck", image_saved_fn=stuck, callback_timeout_s=TIMEOUT_S
        ) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=4))
    assert acq.status.state is RunState.FAILED
    assert {0, 1} <= set(open_dataset(acq.dataset_path).axes["time"])  # saved before the callback


def test_under_pass_through_the_acquisition_goes_on_without_the_callback(core, tmp_path, release):
    calls = []

    def stuck(axes, dataset):
        calls.append(axes["time"])
        if axes["time"] == 0:
            release.wait()

    with Acquisition(
        directory=tmp_path,
        name="goes_on",
        image_saved_fn=stuck,
        callback_timeout_s=TIMEOUT_S,
        on_error="pass_through",
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert acq.status.state is RunState.FINISHED
    assert acq.status.counts["saved"] == 5
    assert calls == [0]  # given up, not called again
    assert any(isinstance(e.exception, CallbackTimeoutError) for e in acq.errors)


def test_a_notification_listener_that_never_returns_blocks_no_future(core, tmp_path, release):
    def stuck(notification):
        release.wait()

    with Acquisition(
        directory=tmp_path,
        name="listener",
        notification_callback_fn=stuck,
        callback_timeout_s=TIMEOUT_S,
    ) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3))
        image = future.await_image_saved({"time": 2}, return_image=True, timeout=20)
    assert image is not None
    assert acq.status.state is RunState.FINISHED  # a listener only watches
    assert any(isinstance(e.exception, CallbackTimeoutError) for e in acq.errors)


def test_a_hook_that_outlasts_its_limit_stops_the_acquisition(core, tmp_path, release):
    def stuck(event):
        release.wait()
        return event

    with (
        pytest.raises(CallbackTimeoutError, match="post_hardware_hook_fn"),
        Acquisition(
            directory=tmp_path,
            name="hook",
            post_hardware_hook_fn=stuck,
            hook_timeout_s=TIMEOUT_S,
        ) as acq,
    ):
        acq.acquire({"axes": {"time": 0}})
    assert acq.status.state is RunState.FAILED


def test_a_long_hook_is_waited_for_by_default_but_not_by_abort(core, tmp_path, release):
    """A hook may wait for the sample as long as it likes (no limit by default), yet
    abort does not wait for it."""
    entered = threading.Event()

    def waits_for_the_sample(event):
        entered.set()
        release.wait()
        return event

    acq = Acquisition(
        directory=tmp_path,
        name="long_hook",
        pre_hardware_hook_fn=waits_for_the_sample,
        callback_timeout_s=TIMEOUT_S,  # does not apply to hooks
    )
    acq.acquire({"axes": {"time": 0}})
    assert entered.wait(10)
    time.sleep(3 * TIMEOUT_S)
    assert not acq.is_finished()  # still waiting for the hook: no limit by default
    acq.abort()
    acq.await_completion(timeout=20)  # raises if abort waited for the hook
    assert acq.status.state is RunState.ABORTED


def test_abort_returns_while_a_callback_is_stuck(core, tmp_path, release):
    def stuck(axes, dataset):
        release.wait()

    acq = Acquisition(
        directory=tmp_path,
        name="abort",
        image_saved_fn=stuck,
        callback_timeout_s=2,
        on_error="pass_through",
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=50, time_interval_s=0.05))
    time.sleep(0.3)  # the callback is stuck on the first image by now
    acq.abort()
    acq.await_completion(timeout=20)  # raises if the stuck callback held the end
    assert acq.status.state is RunState.ABORTED
    assert 0 in open_dataset(acq.dataset_path).axes["time"]
    # the release fixture frees the stuck thread only now, after the end was reached
