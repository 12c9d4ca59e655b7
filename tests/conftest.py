"""Shared fixtures: one simulated microscope for the whole run, reset before each test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.microscope import SimulatedCameraSettings, configure_simulated_camera, load_microscope
from app.microscope.session import set_current_core


@pytest.fixture(scope="session")
def _session_core():
    core = load_microscope()
    set_current_core(core)
    yield core
    set_current_core(None)


@pytest.fixture
def core(_session_core):
    """The simulated microscope with a small camera frame, as each test expects it."""
    core = _session_core
    if core.isSequenceRunning():
        core.stopSequenceAcquisition()
    configure_simulated_camera(core, SimulatedCameraSettings(width=128, height=96, exposure_ms=1))
    core.setConfig("Channel", "DAPI")
    core.setPosition(0.0)
    core.setXYPosition(0.0, 0.0)
    core.waitForSystem()
    return core
