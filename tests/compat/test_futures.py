"""Futures: await execution milestones and saved images; never wait forever."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app import (
    AcqNotification,
    Acquisition,
    AcquisitionEndedError,
    ImageNotSavedError,
    MilestoneUnreachableError,
    multi_d_acquisition_events,
)
from app.acquisition.workers import UNPROCESSED_KEY

WAIT = 20  # seconds: a bound on every wait, so a regression fails instead of hanging


@pytest.mark.parametrize("storage", ["ndtiff", "ome-zarr"])
@pytest.mark.parametrize("interval", [0.05, 0], ids=["snaps", "sequence"])
def test_await_one_image_and_read_it(directory, interval, storage):
    events = multi_d_acquisition_events(num_time_points=8, time_interval_s=interval)
    on_disk = {"storage": storage} if directory is not None else {}  # memory has one
    with Acquisition(directory, "acq", show_display=False, **on_disk) as acq:
        future = acq.acquire(events)
        image = future.await_image_saved({"time": 5}, return_image=True, timeout=WAIT)
        assert np.array_equal(image, acq.get_dataset().read_image(time=5))


@pytest.mark.parametrize("interval", [0.05, 0], ids=["snaps", "sequence"])
def test_await_several_images(directory, interval):
    events = multi_d_acquisition_events(num_time_points=8, time_interval_s=interval)
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire(events)
        axes = [{"time": 5}, {"time": 6}, {"time": 7}]
        images = future.await_image_saved(axes, return_image=True, timeout=WAIT)
    dataset = acq.get_dataset()
    assert len(images) == 3
    assert all(
        np.array_equal(dataset.read_image(time=t), im)
        for t, im in zip([5, 6, 7], images, strict=True)
    )


@pytest.mark.parametrize("storage", ["ndtiff", "ome-zarr"])
def test_image_metadata_or_both(directory, storage):
    on_disk = {"storage": storage} if directory is not None else {}  # memory has one
    with Acquisition(directory, "acq", show_display=False, **on_disk) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3))
        metadata = future.await_image_saved(
            {"time": 1}, return_image=False, return_metadata=True, timeout=WAIT
        )
        image, metadata_2 = future.await_image_saved(
            {"time": 2}, return_image=True, return_metadata=True, timeout=WAIT
        )
        nothing = future.await_image_saved({"time": 0}, return_image=False, timeout=WAIT)
    assert metadata["Axes"] == {"time": 1} and metadata_2["Axes"] == {"time": 2}
    assert image.shape == (96, 128) and nothing is None


def test_await_execution_of_a_milestone(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3, time_interval_s=0.05))
        future.await_execution(AcqNotification.Hardware.POST_HARDWARE, {"time": 1}, timeout=WAIT)
        future.await_execution(
            milestone=AcqNotification.Camera.POST_SNAP, axes={"time": 2}, timeout=WAIT
        )
        # pycro-manager's earlier argument order, (axes, milestone), works too
        future.await_execution({"time": 2}, AcqNotification.Camera.PRE_SNAP, timeout=WAIT)
        with pytest.raises(MilestoneUnreachableError, match="snapped alone"):
            future.await_execution(AcqNotification.Camera.PRE_SEQUENCE_STARTED, {"time": 2})


def test_a_sequenced_event_has_no_snap_milestones(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=4))
        future.await_execution(AcqNotification.Camera.POST_SEQUENCE_STOPPED, {"time": 3}, WAIT)
        with pytest.raises(MilestoneUnreachableError, match="hardware sequence"):
            future.await_execution(AcqNotification.Camera.PRE_SNAP, {"time": 3}, timeout=WAIT)


def test_the_next_image_saved(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=20, time_interval_s=0.02))
        image = future.await_image_saved(timeout=WAIT)
    assert image.shape == (96, 128)


def test_an_image_a_processor_dropped_fails_at_once(directory):
    def drop_two(image, metadata):
        return None if metadata["Axes"]["time"] == 2 else (image, metadata)

    with Acquisition(directory, "acq", show_display=False, image_process_fn=drop_two) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=4))
        with pytest.raises(ImageNotSavedError, match="returned None"):
            future.await_image_saved({"time": 2}, timeout=WAIT)
        assert future.await_image_saved({"time": 3}, timeout=WAIT).shape == (96, 128)


def test_aborting_ends_every_wait(directory):
    acq = Acquisition(directory, "acq", show_display=False)
    future = acq.acquire(multi_d_acquisition_events(num_time_points=200, time_interval_s=0.05))
    future.await_image_saved({"time": 1}, timeout=WAIT)
    errors = []

    def wait_for_the_last():
        try:
            future.await_image_saved({"time": 199}, timeout=WAIT)
        except Exception as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait_for_the_last)
    waiter.start()
    acq.abort()
    waiter.join(WAIT)
    assert not waiter.is_alive()
    assert isinstance(errors[0], ImageNotSavedError) and "aborted" in str(errors[0])
    acq.await_completion(timeout=WAIT)


def test_a_failed_acquisition_ends_every_wait(directory):
    def fails(image, metadata):
        raise ValueError("broken processor")

    acq = Acquisition(directory, "acq", show_display=False, image_process_fn=fails)
    future = acq.acquire(multi_d_acquisition_events(num_time_points=5))
    # The wait ends either way: the frame was acquired before the failure stopped the
    # acquisition (then it is saved unprocessed, marked so: nothing acquired is lost),
    # or it never was (then its image is unreachable).
    try:
        metadata = future.await_image_saved(
            {"time": 4}, return_image=False, return_metadata=True, timeout=WAIT
        )
    except MilestoneUnreachableError:
        metadata = None
    if metadata is not None:
        assert UNPROCESSED_KEY in metadata
    with pytest.raises(ValueError, match="broken processor"):
        acq.await_completion(timeout=WAIT)


def test_axes_the_future_does_not_have_are_refused(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire({"axes": {"time": 0}})
        with pytest.raises(ValueError, match="no event with axes"):
            future.await_image_saved({"time": 9})
        with pytest.raises(ValueError, match="not a milestone"):
            future.await_execution("no_such_milestone", {"time": 0})


def test_nothing_is_ever_saved_without_storage(core):
    with Acquisition(storage="none", show_display=False) as acq:
        future = acq.acquire({"axes": {"time": 0}})
        with pytest.raises(ImageNotSavedError, match="keeps no images"):
            future.await_image_saved({"time": 0})


def test_waiting_after_the_end(directory):
    with Acquisition(directory, "acq", show_display=False) as acq:
        future = acq.acquire({"axes": {"time": 0}})
    assert future.await_image_saved({"time": 0}, timeout=WAIT).shape == (96, 128)
    with pytest.raises(AcquisitionEndedError):
        future.await_image_saved(timeout=WAIT)  # the next image: there is none
