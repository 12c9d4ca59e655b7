"""Every event ends in its image or in a reason why not, however hooks and processors
rename, hold or replace images, so that no wait lasts forever."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from app import (
    AcqNotification,
    Acquisition,
    ImageNotSavedError,
    MilestoneUnreachableError,
    multi_d_acquisition_events,
)

WAIT = 20


def test_a_long_list_is_followed_from_its_first_event(directory):
    acq = Acquisition(directory, "acq", hardware_sequencing=False)
    future = acq.acquire([{"axes": {"time": t}} for t in range(5000)])
    future.await_execution(AcqNotification.Hardware.PRE_HARDWARE, {"time": 0}, timeout=WAIT)
    assert future.await_image_saved({"time": 1}, timeout=WAIT).shape == (96, 128)
    acq.abort()
    acq.await_completion(timeout=WAIT)


def test_an_event_the_generation_hook_replaced(directory):
    def later(event):
        return {"axes": {"time": event["axes"]["time"] + 100}}

    with Acquisition(directory, "acq", event_generation_hook_fn=later) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=2))
        with pytest.raises(ImageNotSavedError, match="event_generation_hook_fn replaced"):
            future.await_image_saved({"time": 0}, timeout=WAIT)
    assert sorted(acq.get_dataset().axes["time"]) == [100, 101]


def test_an_event_the_post_hardware_hook_renamed(directory):
    def rename(event):
        event["axes"] = {"time": event["axes"]["time"] + 100}
        return event

    with Acquisition(directory, "acq", post_hardware_hook_fn=rename) as acq:
        future = acq.acquire({"axes": {"time": 0}})
        with pytest.raises(ImageNotSavedError, match=r"renamed the event to \{'time': 100\}"):
            future.await_image_saved({"time": 0}, timeout=WAIT)
    assert acq.get_dataset().has_image(time=100)


def test_a_post_hardware_hook_cannot_shorten_a_sequence(directory):
    acq = Acquisition(directory, "acq", post_hardware_hook_fn=lambda events: events[:2])
    future = acq.acquire(multi_d_acquisition_events(num_time_points=6))
    acq.mark_finished()
    with pytest.raises(MilestoneUnreachableError):
        future.await_image_saved({"time": 0}, timeout=WAIT)
    with pytest.raises(RuntimeError, match="pre_hardware_hook_fn"):
        acq.await_completion(timeout=WAIT)
    assert "post_hardware_hook_fn" in acq.errors[0].where


def test_a_hook_that_raises_is_named(directory):
    def broken(event):
        raise ZeroDivisionError("the user's bug")

    acq = Acquisition(directory, "acq", pre_hardware_hook_fn=broken)
    future = acq.acquire(multi_d_acquisition_events(num_time_points=3, time_interval_s=0.01))
    acq.mark_finished()
    with pytest.raises(MilestoneUnreachableError):
        future.await_image_saved({"time": 2}, timeout=WAIT)
    with pytest.raises(ZeroDivisionError):
        acq.await_completion(timeout=WAIT)
    assert "pre_hardware_hook_fn" in acq.errors[0].where


def test_aborting_inside_a_replaced_sequence_ends_every_wait(directory):
    release = threading.Event()

    def reversed_slowly(events):
        return list(reversed(events)) if isinstance(events, list) else events

    def hold(image, metadata):
        release.wait(WAIT)
        return image, metadata

    acq = Acquisition(
        directory,
        "acq",
        pre_hardware_hook_fn=reversed_slowly,
        image_process_fn=hold,
        hardware_sequencing=False,
    )
    future = acq.acquire(multi_d_acquisition_events(num_time_points=10, time_interval_s=0.01))
    future.await_execution(AcqNotification.Camera.POST_SNAP, {"time": 0}, timeout=WAIT)
    acq.abort()
    release.set()
    outcomes = []
    for t in range(10):
        try:
            future.await_image_saved({"time": t}, timeout=WAIT)
            outcomes.append("saved")
        except ImageNotSavedError:
            outcomes.append("not saved")
    assert "not saved" in outcomes and len(outcomes) == 10
    acq.await_completion(timeout=WAIT)


def test_an_image_a_processor_held_is_found_once_saved(directory):
    held = []

    def hold_the_first(image, metadata):
        if metadata["Axes"]["time"] == 0:
            held.append((image, metadata))
            return None
        return [*held, (image, metadata)]

    with Acquisition(directory, "acq", image_process_fn=hold_the_first) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=2))
    # asked before the processor returned it, the wait would have said "returned None";
    # once it is saved, it is found
    assert future.await_image_saved({"time": 0}, timeout=WAIT).shape == (96, 128)


def test_a_generator_is_read_as_the_acquisition_reaches_it(directory):
    produced = []

    def endless():
        for t in itertools.count():
            produced.append(t)
            yield {"axes": {"time": t}}

    acq = Acquisition(directory, "acq")
    future = acq.acquire(endless())  # returns at once: the generator is never exhausted
    image = future.await_image_saved({"time": 3}, timeout=WAIT)
    assert image.shape == (96, 128)
    acq.abort()
    acq.await_completion(timeout=WAIT)
    # read as far as one camera burst reaches (the buffer's size), never to the end
    assert 4 <= len(produced) < 100_000 and acq.events_submitted >= 4


def test_a_generator_that_ends(directory):
    def three():
        yield from ({"axes": {"time": t}} for t in range(3))

    with Acquisition(directory, "acq") as acq:
        future = acq.acquire(three())
        images = future.await_image_saved([{"time": t} for t in range(3)], timeout=WAIT)
    assert len(images) == 3 and all(np.asarray(i).shape == (96, 128) for i in images)
    with pytest.raises(ValueError, match="no event with axes"):
        future.await_image_saved({"time": 7}, timeout=WAIT)


def test_waiting_for_axes_a_generator_has_not_produced_yet(directory):
    release = threading.Event()

    def slow():
        yield {"axes": {"time": 0}}
        release.wait(WAIT)
        yield {"axes": {"time": 1}}

    acq = Acquisition(directory, "acq", hardware_sequencing=False)
    future = acq.acquire(slow())
    errors: list[Exception] = []
    waiter = threading.Thread(target=_record, args=(errors, future, {"time": 5}))
    waiter.start()
    release.set()
    waiter.join(WAIT)
    acq.mark_finished()
    acq.await_completion(timeout=WAIT)
    assert isinstance(errors[0], MilestoneUnreachableError) and "produced no event" in str(
        errors[0]
    )


def _record(errors, future, axes):
    try:
        future.await_image_saved(axes, timeout=WAIT)
    except Exception as exc:
        errors.append(exc)


def test_a_generator_yielding_none_ends_the_acquisition(directory):
    def two_then_stop():
        yield {"axes": {"time": 0}}
        yield {"axes": {"time": 1}}
        yield None

    acq = Acquisition(directory, "acq")
    acq.acquire(two_then_stop())
    acq.await_completion(timeout=WAIT)  # no mark_finished needed
    assert acq.counts.saved == 2


def test_an_invalid_event_from_a_generator_stops_with_its_error(directory):
    def bad():
        yield {"axes": {"time": 0}}
        yield {"axes": {"time": 1}, "exposur": 3}

    acq = Acquisition(directory, "acq")
    acq.acquire(bad())
    acq.mark_finished()
    with pytest.raises(ValueError, match="exposur"):
        acq.await_completion(timeout=WAIT)
    assert acq.get_dataset().has_image(time=0)


def test_an_endless_generator_acquires_under_the_drop_policy(directory):
    acq = Acquisition(directory, "acq", full_queue="drop")
    future = acq.acquire({"axes": {"time": t}} for t in itertools.count())
    assert future.await_image_saved({"time": 0}, timeout=WAIT).shape == (96, 128)
    acq.abort()
    acq.await_completion(timeout=WAIT)


def test_abort_is_seen_while_the_generator_blocks(directory):
    blocked = threading.Event()
    release = threading.Event()

    def waits_for_the_user():
        yield {"axes": {"time": 0}}
        blocked.set()
        release.wait(60)  # e.g. a prompt nobody answers
        yield {"axes": {"time": 1}}

    acq = Acquisition(directory, "acq")
    future = acq.acquire(waits_for_the_user())
    future.await_image_saved({"time": 0}, timeout=WAIT)
    assert blocked.wait(WAIT)
    acq.abort()
    acq.await_completion(timeout=5)  # not held by the generator
    with pytest.raises(ImageNotSavedError, match="aborted"):
        future.await_image_saved({"time": 1}, timeout=5)
    release.set()


def test_a_generator_fed_by_its_own_images(directory):
    # each event is produced only once the previous image is saved: the events read so
    # far run instead of waiting for the next one to merge with (hardware sequencing on)
    saved = []
    acq = Acquisition(directory, "acq", image_saved_fn=lambda axes, ds: saved.append(axes))

    def feedback():
        for t in range(4):
            yield {"axes": {"time": t}}
            deadline = threading.Event()
            while len(saved) <= t and not deadline.wait(0.01):
                pass

    future = acq.acquire(feedback())
    future.await_image_saved({"time": 3}, timeout=WAIT)
    acq.mark_finished()
    acq.await_completion(timeout=WAIT)
    assert saved == [{"time": t} for t in range(4)]


def test_a_queued_generator_dropped_by_abort_says_so(directory):
    release = threading.Event()

    def hold(image, metadata):
        release.wait(WAIT)
        return image, metadata

    acq = Acquisition(directory, "acq", image_process_fn=hold)
    acq.acquire({"axes": {"time": 0}})
    queued = acq.acquire({"axes": {"time": t}} for t in range(1, 5))
    acq.abort()
    release.set()
    with pytest.raises(ImageNotSavedError, match="aborted"):
        queued.await_image_saved({"time": 2}, timeout=WAIT)
    acq.await_completion(timeout=WAIT)


def test_two_events_with_the_same_axes(directory):
    skipped = []

    def skip_the_first(event):
        if not skipped:
            skipped.append(event)
            return None
        return event

    with Acquisition(directory, "acq", pre_hardware_hook_fn=skip_the_first) as acq:
        future = acq.acquire([{"axes": {"time": 0}}, {"axes": {"time": 0}, "exposure": 2.0}])
        image = future.await_image_saved({"time": 0}, timeout=WAIT)
    assert image.shape == (96, 128) and len(skipped) == 1


def test_an_event_generation_hook_that_raises(directory):
    def broken_on_one(event):
        if event["axes"]["time"] == 1:
            raise KeyError("the user's bug")
        return event

    acq = Acquisition(
        directory, "acq", event_generation_hook_fn=broken_on_one, hardware_sequencing=False
    )
    future = acq.acquire(multi_d_acquisition_events(num_time_points=3, time_interval_s=0.01))
    acq.mark_finished()
    for t, why in ((1, "event_generation_hook_fn raised"), (2, "stopped on an error")):
        with pytest.raises(ImageNotSavedError, match=why):
            future.await_image_saved({"time": t}, timeout=WAIT)
    with pytest.raises(KeyError):
        acq.await_completion(timeout=WAIT)
    assert "event_generation_hook_fn" in acq.errors[0].where


def test_a_post_camera_hook_that_raises_loses_no_count(directory):
    def broken(event):
        raise RuntimeError("the trigger box is off")

    acq = Acquisition(directory, "acq", post_camera_hook_fn=broken)
    future = acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()
    with pytest.raises(ImageNotSavedError, match="post_camera_hook_fn raised"):
        future.await_image_saved({"time": 0}, timeout=WAIT)
    with pytest.raises(RuntimeError, match="trigger box"):
        acq.await_completion(timeout=WAIT)
    assert acq.counts.missing == 0 and acq.counts.balanced()
    assert "post_camera_hook_fn" in acq.errors[0].where


def test_a_replacement_the_hardware_refuses_names_the_hook(directory):
    def to_a_missing_preset(event):
        return [{**event, "config_group": ["Channel", "NoSuchPreset"]}]

    acq = Acquisition(directory, "acq", pre_hardware_hook_fn=to_a_missing_preset)
    acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()
    with pytest.raises(ValueError, match="NoSuchPreset"):
        acq.await_completion(timeout=WAIT)
    assert "pre_hardware_hook_fn" in acq.errors[0].where
