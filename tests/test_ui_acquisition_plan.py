"""The Acquisition panel's plan: Z ranges, the position list, settings files."""

from __future__ import annotations

import json

import pytest
import useq
from PyQt6.QtCore import Qt

from app import open_dataset
from app.acquisition.plan_file import PlanFileError, ZMode, ZRange, read_plan, z_range_of


def _finished(window) -> bool:
    return not window.controller.running and window.acquisition_panel.start_button.isEnabled()


def _zs(events) -> list[float]:
    return [round(e["z"], 6) for e in events]


def test_z_ranges_relative_to_the_current_z_and_absolute(window, core):
    panel = window.acquisition_panel
    core.setPosition(10.0)
    core.waitForSystem()
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-1)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    assert _zs(panel.events()) == [9.0, 10.0, 11.0]
    assert not panel.z_here_buttons[0].isVisible()  # "Here" belongs to absolute ranges

    panel.z_mode.setCurrentIndex(panel.z_mode.findData(ZMode.ABSOLUTE))
    assert panel.z_here_buttons[0].isVisible()
    core.setPosition(5.0)
    core.waitForSystem()
    panel.z_here_buttons[0].click()  # start here, at 5
    panel.z_end.setValue(1)
    panel.z_step.setValue(2)
    assert _zs(panel.events()) == [5.0, 3.0, 1.0]  # downwards, whatever Z is now


def test_z_slices_never_pass_the_end_typed(window, core):
    """pycro-manager's rule takes a slice past the end when the range is not a whole
    number of steps (-1 to 1 by 5 went to +4): the panel stops at or before End, in
    both directions, relative or absolute, and still reaches it when the steps fit;
    Explore's tiles take the same slices (useq's plan rounded to whole steps)."""
    panel = window.acquisition_panel
    core.setPosition(10.0)
    core.waitForSystem()
    panel.z_box.setChecked(True)
    for mode, here in ((ZMode.RELATIVE, 10.0), (ZMode.ABSOLUTE, 0.0)):
        panel.z_mode.setCurrentIndex(panel.z_mode.findData(mode))
        for start, end, step, expected in (
            (-1, 1, 5, [-1.0]),
            (-2, 2, 1.5, [-2.0, -0.5, 1.0]),
            (2, -2, 1.5, [2.0, 0.5, -1.0]),
            (0, 1.1, 0.1, [round(0.1 * i, 6) for i in range(12)]),
        ):
            panel.z_start.setValue(start)
            panel.z_end.setValue(end)
            panel.z_step.setValue(step)
            at = [round(here + z, 6) for z in expected]
            assert _zs(panel.events()) == at, (mode, start, end, step)
            explored = [round(z, 6) for z in panel.explore_settings().z_positions]
            assert explored == at, (mode, start, end, step)


def test_position_list_add_rename_reorder_go_replace_remove(window, core):
    panel = window.acquisition_panel
    positions = panel.position_list
    core.setXYPosition(0.0, 0.0)
    core.waitForSystem()
    positions.add_current()
    core.setXYPosition(100.0, 50.0)
    core.setPosition(3.0)
    core.waitForSystem()
    positions.add_current()
    assert [p.name for p in positions.positions()] == ["Pos0", "Pos1"]
    positions.table.item(0, 0).setText("left")  # as a double-click edit does
    positions.table.item(1, 0).setText("left")  # a name taken: made unique
    assert [p.name for p in positions.positions()] == ["left", "left2"]

    positions.table.selectRow(1)
    positions.move_selected(-1)
    assert [p.name for p in positions.positions()] == ["left2", "left"]
    positions.table.selectRow(1)  # "left", at 0, 0
    positions.go_to_selected()
    assert core.getXYPosition() == pytest.approx((0.0, 0.0), abs=0.1)
    core.setXYPosition(7.0, 8.0)
    core.waitForSystem()
    positions.replace()
    replaced = positions.positions()[1]
    assert (replaced.name, replaced.x, replaced.y) == (
        "left",
        pytest.approx(7.0, abs=0.1),
        pytest.approx(8.0, abs=0.1),
    )
    positions.table.selectRow(0)
    positions.remove_selected()
    assert [p.name for p in positions.positions()] == ["left"]


def test_the_acquisition_visits_the_named_positions(qtbot, window, core):
    panel = window.acquisition_panel
    for x, y in ((0.0, 0.0), (30.0, -20.0)):
        core.setXYPosition(x, y)
        core.waitForSystem()
        panel.position_list.add_current()
    panel.position_list.table.item(1, 0).setText("edge")
    panel.position_box.setChecked(True)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-1)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    panel.name.setText("positions")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    dataset = open_dataset(window.controller.acquisition.dataset_path)
    assert sorted(dataset.axes["position"]) == ["Pos0", "edge"]
    metadata = dataset.read_metadata(position="edge", z=0)
    assert metadata["XPosition_um_Intended"] == pytest.approx(30.0, abs=0.1)
    assert metadata["YPosition_um_Intended"] == pytest.approx(-20.0, abs=0.1)


def test_positions_are_saved_and_loaded(window, core, tmp_path):
    positions = window.acquisition_panel.position_list
    core.setXYPosition(12.0, 34.0)
    core.waitForSystem()
    positions.add_current()
    path = tmp_path / "positions.yaml"
    assert positions.save(path)
    assert read_plan(path).stage_positions[0].x == pytest.approx(12.0)
    positions.remove_selected()
    assert positions.positions() == []
    assert positions.load(path)
    (loaded,) = positions.positions()
    assert loaded.name == "Pos0"
    assert (loaded.x, loaded.y) == pytest.approx((12.0, 34.0), abs=0.1)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_settings_saved_and_loaded_as_a_useq_sequence(window, tmp_path, suffix):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(4)
    panel.interval.setValue(2.5)
    panel.z_box.setChecked(True)
    panel.z_mode.setCurrentIndex(panel.z_mode.findData(ZMode.ABSOLUTE))
    panel.z_start.setValue(20)
    panel.z_end.setValue(10)
    panel.z_step.setValue(2)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", False)
    panel.set_channel("FITC", True, 7)
    panel.set_channel("Cy5", True, 3)
    path = tmp_path / f"plan{suffix}"
    assert panel.save_plan(str(path))
    plan = useq.MDASequence.from_file(path)  # the community's format, read by useq itself
    assert plan.time_plan.loops == 4
    assert sorted((c.config, c.exposure) for c in plan.channels) == [("Cy5", 3.0), ("FITC", 7.0)]
    events_before = panel.events()

    panel.time_box.setChecked(False)
    panel.z_box.setChecked(False)
    panel.set_channel("FITC", False)
    assert panel.load_plan(str(path))
    assert list(panel.events()) == list(events_before)  # made anew, or checked by the estimate
    assert panel.z_range() == ZRange(ZMode.ABSOLUTE, 20.0, 10.0, 2.0)


def test_a_plan_from_elsewhere_loads_and_what_does_not_fit_is_said(window, tmp_path):
    plan = useq.MDASequence(
        z_plan=useq.ZRangeAround(range=4, step=1),
        channels=[useq.Channel(config="DAPI", exposure=12), useq.Channel(config="GFP-long")],
        axis_order="tpgzc",
    )
    path = tmp_path / "from_pymmcore_widgets.json"
    path.write_text(plan.model_dump_json())
    panel = window.acquisition_panel
    assert panel.load_plan(str(path))
    assert panel.z_range() == ZRange(ZMode.RELATIVE, -2.0, 2.0, 1.0)
    assert {e["axes"]["channel"] for e in panel.events()} == {"DAPI"}
    said = window.statusBar().currentMessage()
    assert "'GFP-long'" in said and "'tpzc'" in said


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("broken.json", "{not json", "Invalid JSON"),
        ("wrong.json", json.dumps({"time_plan": {"loops": "many"}}), "not a valid acquisition"),
        ("plan.txt", "", "expected a .json or .yaml"),
    ],
)
def test_a_bad_settings_file_is_refused_and_changes_nothing(window, tmp_path, name, text, reason):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    path = tmp_path / name
    path.write_text(text)
    assert not panel.load_plan(str(path))
    assert reason in window.statusBar().currentMessage()
    assert panel.time_box.isChecked() and panel.time_points.value() == 3


def test_saving_settings_where_it_cannot_be_written_is_said(window, tmp_path):
    assert not window.acquisition_panel.save_plan(str(tmp_path / "missing" / "plan.json"))
    assert "Could not save the settings" in window.statusBar().currentMessage()


def test_the_last_settings_are_remembered(make_window, core, tmp_path):
    settings_path = str(tmp_path / "remember.json")

    def make():
        return make_window(settings_path)

    first = make()
    first.acquisition_panel.time_box.setChecked(True)
    first.acquisition_panel.time_points.setValue(42)
    core.setXYPosition(5.0, 6.0)
    core.waitForSystem()
    first.acquisition_panel.position_list.add_current()
    first.acquisition_panel.position_box.setChecked(True)
    first.acquisition_panel.format.setCurrentIndex(
        first.acquisition_panel.format.findData("ome-zarr")
    )
    first.close()

    second = make()
    panel = second.acquisition_panel
    assert panel.time_box.isChecked() and panel.time_points.value() == 42
    assert panel.storage_format == "ome-zarr"
    (remembered,) = panel.position_list.positions()
    assert (remembered.x, remembered.y) == pytest.approx((5.0, 6.0), abs=0.1)
    second.close()


def test_a_script_saves_in_the_folder_typed_or_chosen_while_the_window_is_open(
    qtbot, make_window, tmp_path, monkeypatch
):
    """``data_folder()``, which the example scripts save in, is the folder set in the
    Acquisition panel as soon as it is typed or chosen, not only once the window
    closed (a script run from the Scripts menu saved elsewhere)."""
    from PyQt6.QtWidgets import QFileDialog

    from app import data_folder
    from app.settings_store import SETTINGS_FILE, settings_folder

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this test's own
    monkeypatch.setenv("APPDATA", str(tmp_path / "config"))
    window = make_window(str(settings_folder() / SETTINGS_FILE))  # the app's own file
    panel = window.acquisition_panel
    typed = tmp_path / "typed here"
    panel.directory.setFocus()
    panel.directory.selectAll()
    qtbot.keyClicks(panel.directory, str(typed))
    qtbot.keyClick(panel.directory, Qt.Key.Key_Return)
    assert data_folder() == typed

    chosen = tmp_path / "chosen"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_: str(chosen))
    browse = next(b for b in panel.findChildren(type(panel.start_button)) if b.text() == "…")
    browse.click()
    assert data_folder() == chosen
    window.close()


def test_z_ranges_round_trip_through_useq():
    for z in (
        ZRange(ZMode.RELATIVE, -2, 3, 0.5),
        ZRange(ZMode.RELATIVE, 4, 1, 1),
        ZRange(ZMode.ABSOLUTE, 100, 90, 2.5),
    ):
        assert z_range_of(useq.MDASequence(z_plan=z.z_plan())) == z
    with pytest.raises(PlanFileError, match="does not exist"):
        read_plan("/nonexistent/plan.json")


def test_a_preset_defined_later_is_offered_and_ticks_are_kept(qtbot, window, core):
    panel = window.acquisition_panel
    panel.set_channel("DAPI", False)
    panel.set_channel("FITC", True, 33)
    settings = core.getConfigData("Channel", "FITC")
    try:
        for device, prop, value in settings:
            core.defineConfig("Channel", "FITC-long", device, prop, value)

        def offered() -> bool:
            names = [panel.channels.item(r, 0).text() for r in range(panel.channels.rowCount())]
            combo = [
                window.microscope_panel.channel.itemText(i)
                for i in range(window.microscope_panel.channel.count())
            ]
            return "FITC-long" in names and "FITC-long" in combo

        qtbot.waitUntil(offered, timeout=3000)
        chosen = [
            (panel.channels.item(r, 0).text(), panel.channels.cellWidget(r, 1).value())
            for r in range(panel.channels.rowCount())
            if panel.channels.item(r, 0).checkState() == Qt.CheckState.Checked
        ]
        assert chosen == [("FITC", 33.0)]
    finally:
        core.deleteConfig("Channel", "FITC-long")
