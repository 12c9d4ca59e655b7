"""Devices > Micro-Manager installation… and File > Open configuration with adapters that
do not fit: the user reads why, chooses another installation, and keeps the microscope."""

from __future__ import annotations

import logging

from app.microscope.installations import CHOSEN_KEY
from app.microscope.loading import core_interface_version
from tests.mm_folders import copy_installation, demo_configuration, demo_folder

CORE = core_interface_version()


def _menu_action(window, text: str):
    menu = window.devices.menu
    return next(action for action in menu.actions() if action.text() == text)


def test_the_dialog_lists_what_was_found_and_which_is_in_use(qtbot, window):
    _menu_action(window, "Micro-Manager &installation…").trigger()
    dialog = window.devices.dialogs["installation"]
    assert dialog.isVisible()
    table = dialog.table
    rows = {table.item(row, 0).text(): row for row in range(table.rowCount())}
    demo = rows[str(demo_folder().resolve())]
    assert "mm-test-adapters" in table.item(demo, 1).text()
    assert table.item(demo, 2).text() == str(CORE)
    assert table.item(demo, 4).text() == "in use"  # the simulated microscope's adapters
    assert "Automatic" in dialog.chosen_label.text()


def test_a_stale_installation_chosen_is_said_and_the_microscope_kept(
    qtbot, own_window, tmp_path, caplog
):
    window = own_window
    stale = copy_installation(tmp_path / "stale", interface=CORE - 1, core_interface=CORE)
    dialog = window.devices.show_installations()

    assert not dialog.use_folder(tmp_path / "scripts")  # no adapter in it: refused, said
    assert "holds no Micro-Manager device adapter" in dialog.message.text()
    assert window.settings.get(CHOSEN_KEY, str, "") == ""

    assert dialog.use_folder(stale)
    assert window.settings.get(CHOSEN_KEY, str, "") == str(stale.resolve())
    assert f"device interface {CORE - 1}, not {CORE}" in dialog.message.text()
    row = next(
        r
        for r in range(dialog.table.rowCount())
        if dialog.table.item(r, 0).text() == str(stale.resolve())
    )
    assert dialog.table.item(row, 1).text() == "chosen in Scopeflow"
    assert dialog.table.item(row, 2).text() == f"{CORE - 1}: does not fit"
    assert f"<b>{stale.resolve()}</b>" in dialog.chosen_label.text()

    old = window.core
    with caplog.at_level(logging.ERROR):
        assert window.configurations.load_configuration(str(demo_configuration())) is False
    assert window.core is old  # kept, and still working
    assert "Camera" in old.getLoadedDevices()
    said = window.statusBar().currentMessage()
    assert "Not loaded: 2 device adapter(s)" in said and "unchanged" in said
    assert f"built for device interface {CORE - 1}" in caplog.text
    assert "chosen in Scopeflow" in caplog.text

    dialog.use_automatic()  # the demo adapters fit again
    assert window.settings.get(CHOSEN_KEY, str, "") == ""
    assert window.configurations.load_configuration(str(demo_configuration())) is True
    assert window.core is not old
    said = window.statusBar().currentMessage()
    assert said.startswith("Loaded MMConfig_demo.cfg: device adapters from ")
    assert "mm-test-adapters" in said
    in_use = [
        dialog.table.item(r, 0).text()
        for r in range(dialog.table.rowCount())
        if dialog.table.item(r, 4).text()
    ]
    assert in_use == [str(demo_folder().resolve())]  # the dialog followed the new microscope


def test_the_choice_is_remembered_in_the_window_settings_file(qtbot, make_window, tmp_path):
    good = copy_installation(tmp_path / "good")
    settings_path = str(tmp_path / "settings.json")
    first = make_window(settings_path)
    first.devices.show_installations().use_folder(good)
    first.close()
    second = make_window(settings_path)
    dialog = second.devices.show_installations()
    assert f"<b>{good.resolve()}</b>" in dialog.chosen_label.text()
