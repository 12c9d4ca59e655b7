"""The Devices menu: property browser, configuration groups, pixel size, camera ROI and
binning, and the way to a configuration file; all following the microscope."""

from __future__ import annotations

import pytest
from PyQt6 import sip
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QDoubleSpinBox

from app.ui.microscope.hardware_wizard import DOWNLOAD_URL


@pytest.fixture
def restored(core):
    """The shared microscope as the next tests expect it, whatever a test changed."""
    yield core
    if core.isSequenceRunning():
        core.stopSequenceAcquisition()
    core.setProperty("Camera", "Binning", "1")
    core.clearROI()
    core.setPixelSizeUm("Res10x", 1.0)
    core.setPixelSizeUm("Res20x", 0.5)
    core.setConfig("Objective", "10X")
    core.setProperty("Camera", "PixelType", "16bit")
    core.waitForSystem()


def _enter(qtbot, editor) -> None:
    """Commit an editor as the user does: Return (the view commits it a moment later)."""
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sip.isdeleted(editor) or not editor.isVisible())


# ------------------------------------------------------------------ the property browser
def test_the_devices_menu_sits_between_acquire_and_view(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Devices") == titles.index("&Acquire") + 1
    assert titles.index("&View") == titles.index("&Devices") + 1
    assert len(window.devices.menu.actions()) == 7  # six dialogs and a separator


def test_the_browser_lists_every_property_of_the_camera(window, core):
    browser = window.devices.show_properties().browser
    for name in core.getDevicePropertyNames("Camera"):
        assert browser.value_shown("Camera", name) == core.getProperty("Camera", name)
    assert browser.value_shown("Z", "Position") is not None  # the other devices too


def test_editing_the_exposure_in_the_browser_sets_it_on_the_core(qtbot, window, core):
    browser = window.devices.show_properties().browser
    editor = browser.edit("Camera", "Exposure")
    assert isinstance(editor, QDoubleSpinBox)
    assert (editor.minimum(), editor.maximum()) == (0.0, 10000.0)  # the property's limits
    editor.setValue(25.0)
    _enter(qtbot, editor)
    assert core.getExposure() == pytest.approx(25.0)
    assert float(browser.value_shown("Camera", "Exposure")) == pytest.approx(25.0)
    # the Microscope panel follows the change made in the browser
    qtbot.waitUntil(lambda: window.microscope_panel.exposure.value() == pytest.approx(25.0))


def test_a_property_with_allowed_values_is_edited_with_a_combo(qtbot, window, restored):
    core = restored
    browser = window.devices.show_properties().browser
    editor = browser.edit("Camera", "PixelType")
    assert isinstance(editor, QComboBox)
    assert [editor.itemText(i) for i in range(editor.count())] == list(
        core.getAllowedPropertyValues("Camera", "PixelType")
    )
    editor.setCurrentText("8bit")
    _enter(qtbot, editor)
    assert core.getProperty("Camera", "PixelType") == "8bit"
    assert browser.value_shown("Camera", "PixelType") == "8bit"


def test_a_read_only_property_cannot_be_edited(window, core):
    browser = window.devices.show_properties().browser
    assert core.isPropertyReadOnly("Camera", "CameraName")
    assert not browser.is_editable("Camera", "CameraName")
    assert browser.edit("Camera", "CameraName") is None
    assert browser.is_editable("Camera", "Exposure")


def test_a_change_made_from_the_console_shows_in_the_browser(qtbot, window, restored):
    core = restored
    browser = window.devices.show_properties().browser
    core.setProperty("Camera", "Binning", "2")  # as typed in the console
    qtbot.waitUntil(lambda: browser.value_shown("Camera", "Binning") == "2")
    # a preset whose filter wheels the core does not announce: read back by the browser
    core.setConfig("Channel", "FITC")
    for device in ("Dichroic", "Emission", "Excitation"):
        label = core.getProperty(device, "Label")
        qtbot.waitUntil(lambda d=device, v=label: browser.value_shown(d, "Label") == v)


def test_a_refused_value_is_reported_not_raised(window, core):
    browser = window.devices.show_properties().browser
    assert browser.apply("Camera", "Binning", "3") is False  # not an allowed binning
    assert core.getProperty("Camera", "Binning") == "1"
    assert "refused" in browser.message.text() and browser.message.isVisible()
    assert browser.apply("Camera", "Exposure", "fast") is False  # the core would set 0
    assert core.getExposure() == pytest.approx(1.0)
    assert "not a number" in browser.message.text()


def test_the_filter_keeps_the_matching_properties(window):
    browser = window.devices.show_properties().browser
    browser.filter_edit.setText("exposure")
    assert browser.index_of("Camera", "Exposure").isValid()
    assert not browser.index_of("Camera", "Binning").isValid()
    browser.filter_edit.setText("")
    browser.type_combo.setCurrentIndex(browser.type_combo.findData("Stage"))
    assert browser.index_of("Z", "Position").isValid()
    assert not browser.index_of("Camera", "Exposure").isValid()


# ------------------------------------------------------------------ groups and presets
def test_choosing_a_preset_sets_it_and_a_console_preset_shows(qtbot, window, restored):
    core = restored
    combos = window.devices.show_groups().combos
    objective = combos.combos["Objective"]
    objective.setCurrentText("40X")
    objective.activated.emit(objective.currentIndex())  # what a click in the list sends
    assert core.getCurrentConfig("Objective") == "40X"
    core.setConfig("Objective", "20X")  # from the console
    qtbot.waitUntil(lambda: objective.currentText() == "20X")
    # the Microscope panel's presets follow as well (its Channel has a combo of its own)
    panel = window.microscope_panel.presets.combos
    qtbot.waitUntil(lambda: panel["Objective"].currentText() == "20X")
    assert core.getChannelGroup() not in panel


def test_a_preset_tooltip_lists_its_settings(window, core):
    combo = window.devices.show_groups().combos.combos["Channel"]
    tip = combo.itemData(combo.findText("DAPI"), Qt.ItemDataRole.ToolTipRole)
    for device, prop, value in core.getConfigData("Channel", "DAPI"):
        assert f"{device} · {prop} = {value}" in tip


def test_the_current_values_saved_as_a_new_preset(qtbot, own_window):
    window = own_window
    core = window.core
    dialog = window.devices.show_groups()
    core.setConfig("Objective", "40X")
    assert dialog.save_current_as("Objective", "40X again") is True
    assert "40X again" in core.getAvailableConfigs("Objective")
    saved = {(d, p): v for d, p, v in core.getConfigData("Objective", "40X again")}
    assert saved == {(d, p): v for d, p, v in core.getConfigData("Objective", "40X")}
    qtbot.waitUntil(lambda: dialog.combos.combos["Objective"].findText("40X again") >= 0)
    assert dialog.save_current_as("Objective", "40X") is False  # the name is taken
    assert "already" in dialog.message.text()


# ------------------------------------------------------------------ pixel size
def test_editing_the_pixel_size_changes_the_core_and_the_scale_bar(qtbot, window, restored):
    core = restored
    dialog = window.devices.show_pixel_size()
    assert core.getCurrentPixelSizeConfig() == "Res10x"
    dialog.spins["Res10x"].setValue(0.65)
    assert core.getPixelSizeUm() == pytest.approx(0.65)
    qtbot.waitUntil(lambda: window.viewer.scale_bar.pixel_size_um == pytest.approx(0.65))
    # another objective's size: the one in use (and the scale bar) stays
    dialog.spins["Res20x"].setValue(0.3)
    assert core.getPixelSizeUmByID("Res20x") == pytest.approx(0.3)
    qtbot.waitUntil(lambda: window.viewer.scale_bar.pixel_size_um == pytest.approx(0.65))
    assert "Res10x" in dialog.in_use.text()


def test_the_scale_bar_follows_the_binning(qtbot, window, restored):
    core = restored
    core.setProperty("Camera", "Binning", "2")
    qtbot.waitUntil(lambda: window.viewer.scale_bar.pixel_size_um == pytest.approx(2.0))


# ------------------------------------------------------------------ camera ROI and binning
def test_an_roi_gives_frames_of_its_size_and_full_frame_restores(qtbot, window, restored):
    core = restored
    dialog = window.devices.show_camera()
    assert dialog.roi_width.maximum() == 128 and dialog.roi_height.maximum() == 96  # the sensor
    dialog.roi_x.setValue(8)
    dialog.roi_y.setValue(4)
    dialog.roi_width.setValue(64)
    dialog.roi_height.setValue(32)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert tuple(core.getROI()) == (8, 4, 64, 32)
    window.camera.snap()
    qtbot.waitUntil(lambda: window.viewer.image is not None)
    assert window.viewer.image.shape == (32, 64)
    qtbot.mouseClick(dialog.full_button, Qt.MouseButton.LeftButton)
    assert tuple(core.getROI()) == (0, 0, 128, 96)
    assert "full frame" in dialog.now.text()


def test_an_roi_outside_the_sensor_is_refused(window, restored):
    core = restored
    dialog = window.devices.show_camera()
    dialog.roi_x.setValue(100)
    dialog.roi_width.setValue(64)
    assert dialog.apply_roi() is False
    assert tuple(core.getROI()) == (0, 0, 128, 96)
    assert "inside the full frame" in dialog.message.text()


def test_the_roi_and_binning_are_refused_during_live(qtbot, window, restored):
    core = restored
    dialog = window.devices.show_camera()
    window.camera.set_live(True)
    try:
        dialog.roi_width.setValue(32)
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
        assert "Live" in dialog.message.text()
        assert dialog.set_binning("2") is False
    finally:
        window.camera.set_live(False)
    assert tuple(core.getROI()) == (0, 0, 128, 96)
    assert core.getProperty("Camera", "Binning") == "1"


def test_binning_from_the_dialog(qtbot, window, restored):
    core = restored
    dialog = window.devices.show_camera()
    assert [dialog.binning.itemText(i) for i in range(dialog.binning.count())] == list(
        core.getAllowedPropertyValues("Camera", "Binning")
    )
    assert dialog.set_binning("2") is True
    assert core.getProperty("Camera", "Binning") == "2"
    assert tuple(core.getROI()) == (0, 0, 64, 48)
    window.camera.snap()
    qtbot.waitUntil(lambda: window.viewer.image is not None)
    assert window.viewer.image.shape == (48, 64)


def test_during_an_acquisition_nothing_is_changed_under_it(qtbot, window, restored):
    core = restored
    devices = window.devices
    browser = devices.show_properties().browser
    groups = devices.show_groups()
    camera = devices.show_camera()
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(10000)
    panel.interval.setValue(0.05)
    panel.start_button.click()
    try:
        qtbot.waitUntil(lambda: window.controller.acquisition.counts.saved >= 1, timeout=10000)
        assert browser.apply("Camera", "Gain", "2") is False
        assert "acquisition is running" in browser.message.text()
        assert groups.combos.choose("Objective", "40X") is False
        assert "acquisition is running" in groups.message.text()
        camera.roi_width.setValue(32)
        assert camera.apply_roi() is False
        assert "acquisition is running" in camera.message.text()
    finally:
        panel.abort_button.click()
        qtbot.waitUntil(lambda: not window.controller.running, timeout=10000)
    assert core.getProperty("Camera", "Gain") == "0"
    assert core.getCurrentConfig("Objective") == "10X"
    assert tuple(core.getROI()) == (0, 0, 128, 96)


# ------------------------------------------------------------------ the wizard
def test_the_wizard_dialog_opens_the_download_page_and_the_file_dialog(window, monkeypatch):
    opened = []
    window.devices.opener = lambda url: opened.append(url.toString()) or True
    chosen = []
    monkeypatch.setattr(window.configurations, "choose_configuration", lambda: chosen.append(True))
    dialog = window.devices.show_wizard()
    dialog.download_button.click()
    assert opened == [DOWNLOAD_URL]
    dialog.open_button.click()
    assert chosen == [True]
    assert not dialog.isVisible()


# ------------------------------------------------------------------ a configuration swap
def test_the_dialogs_follow_a_newly_loaded_configuration(qtbot, own_window):
    window = own_window
    devices = window.devices
    browser = devices.show_properties().browser
    groups = devices.show_groups()
    pixel = devices.show_pixel_size()
    camera = devices.show_camera()
    old = window.core
    assert window.configurations.load_configuration(None) is True
    new = window.core
    assert new is not old
    assert devices.core is new and browser.core is new and camera.core is new
    assert groups.core is new and pixel.core is new
    new.setProperty("Camera", "Binning", "4")  # the new microscope's changes are followed
    qtbot.waitUntil(lambda: browser.value_shown("Camera", "Binning") == "4")
    assert set(groups.combos.combos) == {
        g for g in new.getAvailableConfigGroups() if new.getAvailableConfigs(g)
    }
    new.setConfig("Objective", "20X")
    qtbot.waitUntil(lambda: groups.combos.combos["Objective"].currentText() == "20X")
    assert set(pixel.spins) == set(new.getAvailablePixelSizeConfigs())
    camera.refresh()
    assert camera.now.text().startswith(f"Now: {new.getImageWidth()} × {new.getImageHeight()}")
