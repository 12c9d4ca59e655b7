"""Notifications under pycro-manager's names, fields and helpers."""

from __future__ import annotations

import json

import pycromanager
import pytest

from app import AcqNotification, Acquisition, multi_d_acquisition_events


def collect(directory, events, **kwargs):
    notes = []
    with Acquisition(
        directory, "acq", show_display=False, notification_callback_fn=notes.append, **kwargs
    ) as acq:
        acq.acquire(events)
    return acq, notes


def milestones(notes, payload=None):
    return [n.milestone for n in notes if payload is None or n.payload == payload]


def test_names_and_values_are_pycro_managers():
    theirs = pycromanager.AcqNotification
    for kind in ("Acquisition", "Hardware", "Camera", "Image"):
        ours = getattr(AcqNotification, kind)
        assert ours.to_string() == getattr(theirs, kind).to_string()
        for name, value in vars(getattr(theirs, kind)).items():
            if name.isupper():
                assert getattr(ours, name) == value


def test_an_acquisition_starts_saves_and_finishes(directory):
    _, notes = collect(directory, multi_d_acquisition_events(num_time_points=2))
    names = milestones(notes)
    assert names[0] == AcqNotification.Acquisition.ACQ_STARTED
    assert names.count(AcqNotification.Image.IMAGE_SAVED) == 2
    assert AcqNotification.Acquisition.ACQ_EVENTS_FINISHED in names
    assert AcqNotification.Image.DATA_SINK_FINISHED in names
    assert names[-1] == AcqNotification.Acquisition.ACQ_FINISHED  # Scopeflow's: all done
    saved = [n for n in notes if n.is_image_saved_notification()]
    assert [n.payload for n in saved] == [{"time": 0}, {"time": 1}]
    assert all(n.type is AcqNotification.Image for n in saved)
    assert sum(n.is_acquisition_finished_notification() for n in notes) == 1
    assert sum(n.is_data_sink_finished_notification() for n in notes) == 1


def test_a_snapped_event_passes_every_milestone_in_order(directory):
    _, notes = collect(directory, {"axes": {"time": 0}, "z": 1.0})
    assert milestones(notes, {"time": 0}) == [
        AcqNotification.Hardware.PRE_HARDWARE,
        AcqNotification.Hardware.PRE_Z_DRIVE,
        AcqNotification.Hardware.POST_HARDWARE,
        AcqNotification.Camera.PRE_SNAP,
        AcqNotification.Camera.POST_SNAP,
        AcqNotification.Camera.POST_EXPOSURE,
        AcqNotification.Image.IMAGE_SAVED,
    ]
    hardware = [n for n in notes if n.type is AcqNotification.Hardware]
    assert all(n.notification_type == "hardware" for n in hardware)


def test_a_sequence_is_announced_with_the_list_of_its_axes(directory):
    _, notes = collect(directory, multi_d_acquisition_events(num_time_points=3))
    every_axes = [{"time": t} for t in range(3)]
    sequence = [n.milestone for n in notes if n.payload == every_axes]
    assert sequence == [
        AcqNotification.Hardware.PRE_HARDWARE,
        AcqNotification.Hardware.PRE_Z_DRIVE,
        AcqNotification.Hardware.POST_HARDWARE,
        AcqNotification.Camera.PRE_SEQUENCE_STARTED,
        AcqNotification.Camera.POST_SEQUENCE_STOPPED,
    ]
    assert AcqNotification.Camera.PRE_SNAP not in milestones(notes)


def test_to_json_is_json_and_round_trips(directory):
    _, notes = collect(directory, multi_d_acquisition_events(num_time_points=2))
    for note in notes:
        data = note.to_json()
        json.dumps(data)
        assert data["type"] == note.type.to_string() and data["milestone"] == note.milestone
        assert AcqNotification.from_json(data) == note


def test_milestones_compare_equal_to_pycro_managers_strings():
    assert AcqNotification.Hardware.POST_HARDWARE == "post_hardware"
    assert AcqNotification.Global.ACQ_STARTED is AcqNotification.Acquisition.ACQ_STARTED
    with pytest.raises(ValueError, match="Unknown"):
        AcqNotification.from_json({"type": "camera", "milestone": "no_such_thing"})


def test_a_slow_or_failing_listener_does_not_stop_the_acquisition(directory):
    def listener(note):
        raise RuntimeError("a bug in the user's listener")

    with Acquisition(
        directory, "acq", show_display=False, notification_callback_fn=listener
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert acq.counts.saved == 3


def test_an_error_is_announced(directory):
    def broken(image, metadata):
        raise ValueError("broken")

    notes = []
    acq = Acquisition(
        directory, "acq", image_process_fn=broken, notification_callback_fn=notes.append
    )
    acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()
    with pytest.raises(ValueError):
        acq.await_completion(timeout=20)
    errors = [n for n in notes if n.milestone == AcqNotification.Acquisition.ACQ_ERROR]
    assert len(errors) == 1 and "image processor" in errors[0].payload
