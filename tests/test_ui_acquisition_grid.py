"""The Acquisition panel's Grid group, through the window: tiles, the estimate, settings
files, and a tiled acquisition whose tiles agree where they overlap.

The camera is 128 x 96 (not square) and the overlap differs in x and y, so a mix-up
of width and height, or of x and y, shows. The simulated beads sit in sample space:
tiles acquired at the panel's stage positions must show the same beads where they
overlap, which checks the positions on the pixels rather than in the metadata.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import useq
from PyQt6.QtCore import Qt

from app import Acquisition, TileLayout
from app.acquisition.grid_plan import GridCentre, GridMode

WIDTH, HEIGHT = 128, 96  # the conftest camera
OVERLAP_X, OVERLAP_Y = 10, 20
SHIFT = 8  # pixels: beyond the simulated beads' blur


def _set_grid(panel, rows=2, columns=3, overlap=(OVERLAP_X, OVERLAP_Y)) -> None:
    box = panel.grid_box
    box.setChecked(True)
    box.mode.setCurrentIndex(box.mode.findData(GridMode.ROWS_COLUMNS))
    box.rows.setValue(rows)
    box.columns.setValue(columns)
    box.overlap_x.setValue(overlap[0])
    box.overlap_y.setValue(overlap[1])


def _tiles(events) -> list[tuple[int, int]]:
    return [(e["axes"]["row"], e["axes"]["column"]) for e in events]


def _by_tile(events) -> dict[tuple[int, int], tuple[float, float]]:
    return {(e["axes"]["row"], e["axes"]["column"]): (e["x"], e["y"]) for e in events}


def test_a_grid_set_in_the_panel_gives_tiles_around_the_current_position(window, core):
    core.setXYPosition(100.0, 50.0)
    core.waitForSystem()
    panel = window.acquisition_panel
    _set_grid(panel)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True)
    panel.set_channel("FITC", True)
    events = panel.events()
    assert len(events) == 2 * 3 * 2  # tiles x channels
    assert all({"row", "column"} <= set(e["axes"]) for e in events)
    # a snake, each tile's channels together
    assert _tiles(events[::2]) == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]
    assert [e["axes"]["channel"] for e in events[:2]] == ["DAPI", "FITC"]
    pixel = core.getPixelSizeUm()
    places = _by_tile(events)
    for row in range(2):
        for column in range(2):
            step_x = places[row, column + 1][0] - places[row, column][0]
            assert step_x == pytest.approx((WIDTH - OVERLAP_X) * pixel)
            assert places[row, column + 1][1] == pytest.approx(places[row, column][1])
    for column in range(3):
        step_y = places[1, column][1] - places[0, column][1]
        assert step_y == pytest.approx((HEIGHT - OVERLAP_Y) * pixel)
    xs, ys = zip(*places.values(), strict=True)
    assert (np.mean(xs), np.mean(ys)) == pytest.approx((100.0, 50.0), abs=0.1)  # centred

    assert panel.show_estimate()
    assert panel.estimate_label.text().startswith("12 images (6 tiles), ")
    assert panel.grid_box.summary.text().startswith("6 tiles (2 × 3)")


def test_a_stage_moved_after_the_estimate_moves_the_grid_start_acquires(window, core, plans_made):
    """Start takes the events the estimate made only while they are the ones it would
    make: a grid around the current position follows the stage moved since, and the
    camera's field changed since (binning) makes its tiles anew too."""
    made = plans_made
    core.setXYPosition(100.0, 50.0)
    core.waitForSystem()
    panel = window.acquisition_panel
    _set_grid(panel)
    assert panel.show_estimate() and len(made) == 1
    core.setXYPosition(300.0, 250.0)
    core.waitForSystem()
    moved = _by_tile(panel.events())
    assert len(made) == 2  # made anew: the stage moved
    xs, ys = zip(*moved.values(), strict=True)
    assert (np.mean(xs), np.mean(ys)) == pytest.approx((300.0, 250.0), abs=0.1)
    # the estimate there: Start takes its events, the same tiles
    assert panel.show_estimate() and len(made) == 3
    assert _by_tile(panel.events()) == moved and len(made) == 3
    # a camera field changed after the estimate (binned: half the pixels): made anew
    assert panel.show_estimate() and len(made) == 4
    core.setProperty("Camera", "Binning", "2")
    try:
        binned = _by_tile(panel.events())
        assert len(made) == 5
        assert binned == _by_tile(panel.events())  # as made from the field now
    finally:
        core.setProperty("Camera", "Binning", "1")


def test_start_places_the_tiles_and_records_the_map_from_one_stage_reading(
    window, core, monkeypatch
):
    """A stage still moving when Start is pressed: the tiles acquired and the map's
    recorded tile (0, 0) come from the same reading of it, or the map's pixels would be
    found on the stage somewhere else than where they were acquired."""
    panel = window.acquisition_panel
    _set_grid(panel)
    readings = iter([(100.0, 50.0), (400.0, 350.0), (700.0, 650.0)])
    monkeypatch.setattr(core, "getXYPosition", lambda *args: next(readings))
    events, layout = panel.start_plan()
    first_tile = _by_tile(events)[0, 0]
    assert first_tile == pytest.approx((layout.origin_x_um, layout.origin_y_um), abs=1e-6)
    xs, ys = zip(*_by_tile(events).values(), strict=True)
    assert (np.mean(xs), np.mean(ys)) == pytest.approx((100.0, 50.0), abs=0.1)


def test_two_corners_set_with_the_buttons(window, core):
    panel = window.acquisition_panel
    box = panel.grid_box
    box.setChecked(True)
    box.mode.setCurrentIndex(box.mode.findData(GridMode.CORNERS))
    assert not box.rows.isVisible() and box.corner_buttons[0].isVisible()
    assert "Corner 1 here" in box.corner_buttons[0].text()
    assert box.corner_labels[0].text() == "not set"
    assert not panel.show_estimate()  # no corners yet: said, in red
    assert "Corner 1 here" in panel.estimate_label.text()
    box.overlap_x.setValue(OVERLAP_X)
    box.overlap_y.setValue(OVERLAP_Y)
    for which, (x, y) in ((1, (300.0, 200.0)), (2, (0.0, 0.0))):
        core.setXYPosition(x, y)
        core.waitForSystem()
        box.corner_buttons[which - 1].click()
    assert box.corner_labels[0].text() == "300.0, 200.0 µm"
    events = panel.events()
    places = _by_tile(events)
    # 300 µm over 118 µm steps: 4 columns; 200 over 76: 4 rows; from the smaller corner
    assert len(events) == 16 and sorted(places) == [(r, c) for r in range(4) for c in range(4)]
    assert places[0, 0] == pytest.approx((0.0, 0.0), abs=0.1)
    assert places[3, 3] == pytest.approx((3 * 118.0, 3 * 76.0), abs=0.1)
    panel.show_estimate()
    assert "(16 tiles)" in panel.estimate_label.text()


def test_a_grid_around_each_listed_position(qtbot, window, core):
    panel = window.acquisition_panel
    for x, y in ((0.0, 0.0), (1000.0, 500.0)):
        core.setXYPosition(x, y)
        core.waitForSystem()
        panel.position_list.add_current()
    _set_grid(panel, rows=1, columns=2)
    assert not panel.position_box.isChecked()
    # choosing "each listed position" ticks the list for the user
    box = panel.grid_box
    box.centre.setFocus()
    qtbot.keyClick(box.centre, Qt.Key.Key_Down)
    assert box.centre.currentData() is GridCentre.EACH_POSITION
    assert panel.position_box.isChecked()
    events = panel.events()
    got = [(e["axes"]["position"], e["axes"]["column"], round(e["x"], 1)) for e in events]
    half = (WIDTH - OVERLAP_X) * core.getPixelSizeUm() / 2
    assert got == [
        ("Pos0", 0, -half),
        ("Pos0", 1, half),
        ("Pos1", 0, 1000 - half),
        ("Pos1", 1, 1000 + half),
    ]
    panel.show_estimate()
    assert "(4 tiles)" in panel.estimate_label.text()
    # around the current position, a ticked list contradicts the grid: said before Start
    box.centre.setCurrentIndex(box.centre.findData(GridCentre.CURRENT))
    assert not panel.show_estimate()
    assert "untick XY positions" in panel.estimate_label.text()


@pytest.mark.parametrize("corners", [False, True], ids=["rows-columns", "corners"])
def test_the_grid_round_trips_through_a_settings_file(window, core, tmp_path, corners):
    panel = window.acquisition_panel
    _set_grid(panel)
    if corners:
        box = panel.grid_box
        box.mode.setCurrentIndex(box.mode.findData(GridMode.CORNERS))
        for which, (x, y) in ((1, (-40.0, 10.0)), (2, (200.0, 150.0))):
            core.setXYPosition(x, y)
            core.waitForSystem()
            box.corner_here(which)
    events_before = panel.events()
    path = tmp_path / "grid.json"
    assert panel.save_plan(str(path))
    plan = useq.MDASequence.from_file(path)  # useq-schema's own grid plan
    expected = useq.GridFromEdges if corners else useq.GridRowsColumns
    assert isinstance(plan.grid_plan, expected)
    assert plan.grid_plan.overlap == pytest.approx(
        (100 * OVERLAP_X / WIDTH, 100 * OVERLAP_Y / HEIGHT)
    )
    if not corners:
        assert (plan.grid_plan.rows, plan.grid_plan.columns) == (2, 3)

    panel.grid_box.setChecked(False)
    _set_grid(panel, rows=5, columns=1, overlap=(0, 0))
    panel.grid_box.setChecked(False)
    assert panel.load_plan(str(path))
    assert panel.grid_box.isChecked()
    assert (panel.grid_box.overlap_x.value(), panel.grid_box.overlap_y.value()) == (10, 20)
    events = panel.events()
    assert [e["axes"] for e in events] == [e["axes"] for e in events_before]
    # µm through a percentage and back
    assert [e[k] for e in events for k in "xy"] == pytest.approx(
        [e[k] for e in events_before for k in "xy"]
    )
    assert not window.statusBar().currentMessage()  # nothing the panel could not show


def test_a_grid_not_saved_as_ndtiff_is_said_before_start(window):
    panel = window.acquisition_panel
    _set_grid(panel)
    assert panel.show_estimate()
    panel.format.setCurrentIndex(panel.format.findData("ome-zarr"))
    assert not panel.show_estimate()
    assert "NDTiff" in panel.estimate_label.text()
    panel.format.setCurrentIndex(panel.format.findData("ndtiff"))
    panel.save_box.setChecked(False)
    assert not panel.show_estimate()
    assert "Save to disk" in panel.estimate_label.text()


def test_a_grid_the_panel_cannot_show_is_said(window, tmp_path):
    path = tmp_path / "polygon.json"
    plan = useq.MDASequence(grid_plan=useq.GridWidthHeight(width=500, height=300))
    path.write_text(plan.model_dump_json())
    panel = window.acquisition_panel
    assert panel.load_plan(str(path))
    assert not panel.grid_box.isChecked()
    assert "GridWidthHeight" in window.statusBar().currentMessage()


def test_the_last_grid_is_remembered(make_window, tmp_path):
    settings_path = str(tmp_path / "remember.json")

    def make():
        return make_window(settings_path)

    first = make()
    _set_grid(first.acquisition_panel, rows=3, columns=4, overlap=(7, 12))
    first.close()

    second = make()
    box = second.acquisition_panel.grid_box
    assert box.isChecked()
    assert (box.rows.value(), box.columns.value()) == (3, 4)
    assert (box.overlap_x.value(), box.overlap_y.value()) == (7, 12)
    second.close()


def _check_overlaps(read, rows: int, columns: int) -> None:
    """Neighbouring tiles show the same beads where they overlap: the strips they share
    correlate, and the strips ``SHIFT`` pixels off do not (the check can fail)."""
    shared, off = [], []
    for row in range(rows):
        for column in range(columns - 1):
            left, right = read(row, column), read(row, column + 1)
            assert left.shape == (HEIGHT, WIDTH)
            shared.append((left[:, WIDTH - OVERLAP_X :], right[:, :OVERLAP_X]))
            off.append((left[:, WIDTH - OVERLAP_X - SHIFT : WIDTH - SHIFT], right[:, :OVERLAP_X]))
    for row in range(rows - 1):
        for column in range(columns):
            top, bottom = read(row, column), read(row + 1, column)
            shared.append((top[HEIGHT - OVERLAP_Y :, :], bottom[:OVERLAP_Y, :]))
            off.append((top[HEIGHT - OVERLAP_Y - SHIFT : HEIGHT - SHIFT, :], bottom[:OVERLAP_Y, :]))

    def correlation(pairs) -> float:
        a = np.concatenate([a.astype(float).ravel() for a, _ in pairs])
        b = np.concatenate([b.astype(float).ravel() for _, b in pairs])
        assert a.max() > 0 and b.max() > 0  # beads in the strips: not zeros agreeing
        return float(np.corrcoef(a, b)[0, 1])

    assert correlation(shared) > 0.99
    assert correlation(off) < 0.5


def test_the_panels_tiles_agree_where_they_overlap(window, core):
    core.setXYPosition(40.0, -30.0)
    core.waitForSystem()
    panel = window.acquisition_panel
    _set_grid(panel)
    with Acquisition(core=core, storage="ram", show_display=False) as acq:
        acq.acquire(panel.events())
    dataset = acq.get_dataset()
    assert sorted(dataset.axes["row"]) == [0, 1]
    assert sorted(dataset.axes["column"]) == [0, 1, 2]
    _check_overlaps(lambda r, c: dataset.read_image(row=r, column=c), 2, 3)


def test_start_acquires_every_tile_as_a_tiled_dataset(qtbot, window, core):
    from ndtiff import Dataset

    from app.acquisition.tiled_acquisition import XYTiledAcquisition

    panel = window.acquisition_panel
    _set_grid(panel)
    panel.name.setText("tiles")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: not window.controller.running and panel.start_button.isEnabled(), timeout=30000
    )
    acq = window.controller.acquisition
    assert isinstance(acq, XYTiledAcquisition)  # a grid runs as a tiled acquisition
    assert acq.dataset_path is not None
    with contextlib.redirect_stdout(io.StringIO()):  # ndtiff prints its progress
        dataset = Dataset(str(acq.dataset_path))  # as a pycro-manager user reads it
    assert sorted(dataset.axes["row"]) == [0, 1]
    assert sorted(dataset.axes["column"]) == [0, 1, 2]
    _check_overlaps(lambda r, c: np.asarray(dataset.read_image(row=r, column=c)), 2, 3)
    stitched = np.asarray(dataset.as_array(stitched=True, res_level=0))
    assert stitched.shape[-2:] == (2 * (HEIGHT - OVERLAP_Y), 3 * (WIDTH - OVERLAP_X))
    # the map records where its tile (0, 0) was: the grid's, centred on the stage
    first = dataset.read_metadata(row=0, column=0)
    layout = TileLayout.from_summary_metadata(dataset.summary_metadata)
    assert layout.stage_position(0, 0) == pytest.approx(
        (first["XPosition_um_Intended"], first["YPosition_um_Intended"])
    )
