"""Loading a Micro-Manager configuration from the window: off the GUI thread, all or nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pymmcore_plus import find_micromanager
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QProgressDialog, QPushButton

from app.microscope.loading import MicroscopeConfigError, load_microscope
from app.microscope.session import current_core
from app.ui.microscope.configuration_swap import ConfigurationSwap, LoadCancelled


def _demo_configuration() -> str:
    return str(Path(find_micromanager()) / "MMConfig_demo.cfg")


def test_loading_a_configuration_replaces_the_microscope_everywhere(qtbot, own_window):
    window = own_window
    old = window.core
    window.microscope_panel.live_button.setChecked(True)  # Live stops before the swap

    assert window.configurations.load_configuration(_demo_configuration()) is True

    new = window.core
    assert new is not old
    assert window.state.core is new
    assert current_core() is new  # Acquisition() and Core() in scripts
    assert window.controller.core is new
    assert window.microscope_panel.core is new
    assert window.acquisition_panel.core is new
    assert window.console.namespace["core"] is new
    assert window.console.namespace["mmc"] is new
    assert not window.microscope_panel.live_button.isChecked()
    assert list(old.getLoadedDevices()) == ["Core"]  # the old microscope was released
    qtbot.mouseClick(window.microscope_panel.snap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    assert window.viewer.image.shape == (new.getImageHeight(), new.getImageWidth())


def test_a_cancelled_load_keeps_the_microscope_in_use(qtbot, window, core):
    may_finish = threading.Event()
    loaded = []

    def slow_loader(path: str):
        may_finish.wait(10)
        loaded.append(load_microscope())
        return loaded[-1]

    def cancel() -> None:
        for dialog in window.findChildren(QProgressDialog):
            for button in dialog.findChildren(QPushButton):  # the user's click
                button.click()
        may_finish.set()

    swap = ConfigurationSwap(window, window.state, [window.microscope_panel], slow_loader)
    QTimer.singleShot(100, cancel)
    with pytest.raises(LoadCancelled, match="unchanged"):
        swap.load("slow.cfg")
    assert window.state.core is core
    assert window.microscope_panel.core is core
    assert list(loaded[0].getLoadedDevices()) == ["Core"]  # what loaded late was let go


def test_a_loader_that_raises_names_the_cause_and_changes_nothing(window, core):
    def broken(path: str):
        raise OSError("adapter DLL missing")

    swap = ConfigurationSwap(window, window.state, [window.microscope_panel], broken)
    with pytest.raises(MicroscopeConfigError, match=r"broken\.cfg.*adapter DLL missing"):
        swap.load("broken.cfg")
    assert window.state.core is core
    assert window.microscope_panel.core is core


def test_the_window_keeps_drawing_while_a_configuration_loads(qtbot, window, core):
    drawn = []
    timer = QTimer()
    timer.timeout.connect(lambda: drawn.append(1))
    timer.start(20)

    def slow_failure(path: str):
        threading.Event().wait(0.5)
        raise MicroscopeConfigError("no such hardware")

    swap = ConfigurationSwap(window, window.state, [], slow_failure)
    with pytest.raises(MicroscopeConfigError, match="no such hardware"):
        swap.load("x.cfg")
    timer.stop()
    assert len(drawn) >= 5  # the GUI thread's timers ran while the devices loaded


def test_a_configuration_never_swaps_under_a_running_acquisition(window, core):
    from app import Acquisition, multi_d_acquisition_events

    started = []
    loaded = []

    def loader_while_an_acquisition_starts(path: str):
        acq = Acquisition(core=core)  # as from the console, while the dialog shows
        acq.acquire(multi_d_acquisition_events(num_time_points=200, time_interval_s=0.05))
        started.append(acq)
        loaded.append(load_microscope())
        return loaded[-1]

    swap = ConfigurationSwap(
        window, window.state, [window.microscope_panel], loader_while_an_acquisition_starts
    )
    try:
        with pytest.raises(MicroscopeConfigError, match="an acquisition is running"):
            swap.load("lab.cfg")
    finally:
        started[0].abort()
        started[0].await_completion(timeout=30)
    assert window.state.core is core
    assert list(loaded[0].getLoadedDevices()) == ["Core"]  # the new one was let go


def test_a_part_that_cannot_follow_does_not_stop_the_others(own_window):
    window = own_window
    old = window.core

    class Broken:
        def set_core(self, core):
            raise RuntimeError("device does not answer")

    followed = []

    class Follows:
        def set_core(self, core):
            followed.append(core)

    new_core = load_microscope()
    swap = ConfigurationSwap(window, window.state, [Broken(), Follows()], lambda p: new_core)
    with pytest.raises(MicroscopeConfigError, match="device does not answer"):
        swap.use(new_core)
    assert followed == [new_core] and window.state.core is new_core
    assert list(old.getLoadedDevices()) == ["Core"]  # released: no one drives it


def test_back_to_the_simulated_microscope_from_the_file_menu(own_window):
    window = own_window
    assert window.configurations.load_configuration(_demo_configuration()) is True
    hardware = window.core
    assert hardware.getProperty("Camera", "Mode") != "Fluorescent Beads"
    actions = {a.text(): a for a in window.menuBar().actions()[0].menu().actions()}
    actions["Use the &simulated microscope"].trigger()
    assert window.core is not hardware
    assert window.core.getProperty("Camera", "Mode") == "Fluorescent Beads"
    assert list(hardware.getLoadedDevices()) == ["Core"]
