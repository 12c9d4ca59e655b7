"""The main window driven as a user drives it: snap, live on and off."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

from app.ui.main_window import MainWindow


def test_snap_shows_the_camera_image(qtbot, core):
    window = MainWindow(core)
    qtbot.addWidget(window)
    qtbot.mouseClick(window.snap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    assert window.viewer.image.shape == (96, 128)
    assert np.asarray(window.viewer.image).max() > 0
    low, high = window.viewer.item.getLevels()
    assert high > low


def test_live_streams_frames_and_stops_the_camera(qtbot, core):
    window = MainWindow(core)
    qtbot.addWidget(window)
    window.live_button.setChecked(True)
    qtbot.waitUntil(lambda: window._displayed >= 5, timeout=10000)
    assert core.isSequenceRunning()
    assert not window.snap_button.isEnabled()
    window.live_button.setChecked(False)
    assert not core.isSequenceRunning()
    assert window.snap_button.isEnabled()


def test_channel_and_exposure_controls_drive_the_core(qtbot, core):
    window = MainWindow(core)
    qtbot.addWidget(window)
    window.channel.setCurrentText("FITC")
    assert core.getCurrentConfig("Channel") == "FITC"
    window.exposure.setValue(12.5)
    assert core.getExposure() == 12.5
