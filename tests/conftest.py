"""Shared fixtures: one simulated microscope for the whole run, reset before each test."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Settings read where no window gives its own (the Micro-Manager installation chosen,
# the data folder) come from a folder of the run's own, never the developer's.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="scopeflow-test-config-")
os.environ["APPDATA"] = os.environ["XDG_CONFIG_HOME"]  # where Windows keeps them
os.environ["SCOPEFLOW_NO_DIALOGS"] = "1"  # errors go to the status bar and log, not a modal box

import pytest

from app.microscope import SimulatedCameraSettings, configure_simulated_camera, load_microscope
from app.microscope.session import set_current_core
from tests.windows import new_window


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


@pytest.fixture
def window(qtbot, core, tmp_path):
    """The main window on the simulated microscope, with settings in a temporary file."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    win = new_window(qtbot, core, tmp_path / "settings.json", scripts, console=True)
    win.acquisition_panel.directory.setText(str(tmp_path / "data"))
    win.show()
    yield win
    win.close()


@pytest.fixture
def make_window(qtbot, core, tmp_path):
    """``make_window(settings_path)``: a main window (no console) whose settings are in
    that file, as the app makes one at each start: for what a window remembers."""
    return lambda settings_path: new_window(qtbot, core, settings_path, tmp_path)


@pytest.fixture
def acquire_in_memory(core):
    """Run ``frames`` time points in memory through ``processors``; (acquisition, the
    time points in the order their image-saved callbacks came)."""
    from app import Acquisition, multi_d_acquisition_events

    def run(processors, frames=30, **kwargs):
        saved = []
        with Acquisition(
            core=core,
            storage="ram",
            show_display=False,
            image_process_fn=processors,
            image_saved_fn=lambda axes, dataset: saved.append(axes["time"]),
            **kwargs,
        ) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=frames))
        return acq, saved

    return run


@pytest.fixture
def own_window(qtbot, core, tmp_path):
    """A window on a microscope of its own: loading a configuration releases it."""
    (tmp_path / "scripts").mkdir()
    settings = tmp_path / "settings.json"
    win = new_window(qtbot, load_microscope(), settings, tmp_path / "scripts", console=True)
    win.show()
    yield win
    win.close()
    set_current_core(core)  # the tests after this one use the shared microscope


@pytest.fixture
def plans_made(monkeypatch):
    """The arguments of every plan's events the Acquisition panel makes, as it makes
    them (a list that grows): what its estimate and Start cost the window's thread."""
    from app.ui.acquiring import acquisition_panel

    made = []
    real = acquisition_panel.multi_d_acquisition_events

    def counted(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(acquisition_panel, "multi_d_acquisition_events", counted)
    return made
