"""pycro-manager scenarios, each run with a directory (NDTiff) and without one (RAM)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["disk", "ram"])
def directory(request, core, tmp_path):
    """Where a scenario's ``Acquisition`` saves: a folder, or None to keep images in RAM."""
    return tmp_path if request.param == "disk" else None


@pytest.fixture
def sequenceable(core):
    """Z steps and the LED's channels can be hardware-sequenced, as in pycro-manager's
    own test configuration (the same demo devices); set back afterwards."""
    core.setProperty("Z", "UseSequences", "Yes")
    core.setProperty("LED", "Sequence", "On")
    yield core
    core.setProperty("Z", "UseSequences", "No")
    core.setProperty("LED", "Sequence", "Off")
