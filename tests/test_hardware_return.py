"""#12: after an acquisition the microscope returns to where the user left it (the
window's default, as Micro-Manager does); scripts keep pycro-manager's behaviour unless
they ask."""

from __future__ import annotations

import pytest

from app import Acquisition, multi_d_acquisition_events
from app.acquisition.hardware_state import HardwareState


def _plan():
    return multi_d_acquisition_events(
        z_start=-3, z_end=3, z_step=1.5, channel_group="Channel", channels=["FITC", "Cy5"],
        channel_exposures_ms=[7, 13], xy_positions=[[120.0, -40.0]],
    )  # fmt: skip


def test_restore_hardware_puts_every_device_back(core):
    core.setPosition(10.0)
    core.setXYPosition(5.0, 6.0)
    core.setExposure(4.0)
    core.waitForSystem()
    before = HardwareState.read(core)
    with Acquisition(core=core, restore_hardware=True) as acq:
        acq.acquire(_plan())
    after = HardwareState.read(core)
    assert after.z == pytest.approx(before.z)
    assert after.xy == pytest.approx(before.xy, abs=0.1)
    assert after.channel == ("Channel", "DAPI")
    assert after.exposure_ms == pytest.approx(4.0)


def test_scripts_keep_pycromanagers_behaviour_by_default(core):
    core.setPosition(10.0)
    with Acquisition(core=core) as acq:
        acq.acquire(_plan())
    assert core.getPosition() != pytest.approx(10.0)  # left at the last plane
    assert core.getCurrentConfig("Channel") == "Cy5"


def _run_z_stack_from_the_panel(qtbot, window, return_hardware: bool):
    panel = window.acquisition_panel
    panel.save_box.setChecked(False)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-2)
    panel.z_end.setValue(2)
    panel.z_step.setValue(1)
    panel.return_hardware.setChecked(return_hardware)
    panel.start_button.click()
    qtbot.waitUntil(
        lambda: not window.controller.running and panel.start_button.isEnabled(), timeout=30000
    )


def test_the_window_returns_z_so_a_second_relative_stack_does_not_drift(qtbot, window, core):
    core.setPosition(25.0)
    _run_z_stack_from_the_panel(qtbot, window, return_hardware=True)
    assert core.getPosition() == pytest.approx(25.0)
    _run_z_stack_from_the_panel(qtbot, window, return_hardware=True)
    assert core.getPosition() == pytest.approx(25.0)


def test_the_window_can_leave_the_microscope_where_the_acquisition_ended(
    qtbot, window, core, tmp_path
):
    core.setPosition(25.0)
    _run_z_stack_from_the_panel(qtbot, window, return_hardware=False)
    assert core.getPosition() == pytest.approx(27.0)  # the last plane
    window.close()
    from app.settings_store import SettingsStore

    assert SettingsStore(tmp_path / "settings.json").get(
        "acquisition/return_hardware", bool, True
    ) is False  # remembered  # fmt: skip
