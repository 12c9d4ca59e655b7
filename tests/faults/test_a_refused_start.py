"""#20: events the acquisition refuses, given to the window's controller (a script, the
console, a plan file): the error is raised and the acquisition made for them ends, so
the microscope is free for the next one (it waited for events forever, holding it)."""

from __future__ import annotations

import pytest

from app.acquisition.events import InvalidEventError


def test_refused_events_leave_no_acquisition_holding_the_microscope(qtbot, window, core):
    controller = window.controller
    with pytest.raises(InvalidEventError):
        controller.start([{"axes": {"time": 0}, "exposure": "not a number"}], None)
    assert controller.acquisition is None
    # the next one starts and finishes: nothing holds the microscope
    acq = controller.start([{"axes": {"time": 0}}, {"axes": {"time": 1}}], None)
    qtbot.waitUntil(lambda: not controller.running, timeout=10000)
    assert acq.counts.snapshot()["acquired"] == 2
    assert not acq.errors
