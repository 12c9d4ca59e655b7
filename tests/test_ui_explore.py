"""The Explore window with the mouse: a click acquires the tile under it, a drag the
tiles under a rectangle, a double-click moves the stage (and acquires nothing); the
tiles stitch into the map as they come; closing drops what is queued, at once."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from PyQt6.QtCore import QEvent, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication

from app.acquisition.explore import Exploration, ExploreSettings
from app.microscope import SimulatedCameraSettings, configure_simulated_camera
from app.ui.acquiring.explore_window import ExploreWindow
from app.ui.common.qt_threads import QtThreads

WIDTH, HEIGHT = 96, 64
OVERLAP = (16, 8)
STEP_Y, STEP_X = HEIGHT - OVERLAP[1], WIDTH - OVERLAP[0]


@pytest.fixture
def explore(qtbot, core, tmp_path):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=WIDTH, height=HEIGHT, exposure_ms=1)
    )
    core.setXYPosition(0.0, 0.0)
    core.waitForDevice(core.getXYStageDevice())
    settings = ExploreSettings(overlap=OVERLAP, z_positions=(0.0, 3.0))
    exploration = Exploration.start(
        core, tmp_path, "explore", settings, show_display=False, threads=QtThreads()
    )
    window = ExploreWindow(exploration)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()
    with contextlib.suppress(RuntimeError):  # a test that fails the exploration on purpose
        exploration.acquisition.await_completion(timeout=30)


def _viewport_point(window, y, x):
    scene = window.viewer.view.mapViewToScene(QPointF(x, y))
    return window.viewer.graphics.mapFromScene(scene)


def click(window, y, x, double=False):
    """A click (or a double-click) as the mouse makes it: press, release (press,
    double-click, release)."""
    kinds = [QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease]
    if double:
        kinds += [QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease]
    for kind in kinds:
        _send(window, kind, (y, x), Qt.MouseButton.LeftButton)


def _send(window, kind, point, button):
    viewport = window.viewer.graphics.viewport()
    local = QPointF(_viewport_point(window, *point))
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(
        kind, local, viewport.mapToGlobal(local),
        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button,
        held, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(viewport, event)


def drag(window, start, end, steps=6):
    left = Qt.MouseButton.LeftButton
    _send(window, QEvent.Type.MouseButtonPress, start, left)
    for i in range(1, steps + 1):
        y = start[0] + (end[0] - start[0]) * i / steps
        x = start[1] + (end[1] - start[1]) * i / steps
        _send(window, QEvent.Type.MouseMove, (y, x), left)
    _send(window, QEvent.Type.MouseButtonRelease, end, left)


def saved_tiles(window):
    return set(window.exploration.dataset.tiles(0, {"z": 0}))


def test_a_click_acquires_the_tile_under_it_and_the_map_draws_it(qtbot, explore):
    click(explore, STEP_Y * 0.5, STEP_X * 1.5)  # in tile (0, 1)
    qtbot.waitUntil(lambda: saved_tiles(explore) == {(0, 1)}, timeout=10000)
    assert explore.exploration.asked((0, 1)) and not explore.exploration.asked((0, 0))
    # both planes of the tile are acquired
    qtbot.waitUntil(lambda: explore.exploration.pending() == set(), timeout=10000)
    assert set(explore.exploration.dataset.tiles(0, {"z": 1})) == {(0, 1)}
    qtbot.waitUntil(lambda: explore.map_view.drawn > 0, timeout=10000)
    shown = explore.viewer.image
    assert shown is not None and np.asarray(shown).max() > 0  # beads, drawn
    qtbot.waitUntil(lambda: "1 tile(s) acquired, 0 queued" in explore.status.text())


def test_a_drag_acquires_the_tiles_under_the_rectangle(qtbot, explore):
    drag(explore, (STEP_Y * 0.4, STEP_X * 0.3), (STEP_Y * 1.6, STEP_X * 1.2))
    expected = {(0, 0), (0, 1), (1, 0), (1, 1)}
    qtbot.waitUntil(lambda: saved_tiles(explore) == expected, timeout=20000)
    qtbot.waitUntil(lambda: explore.exploration.pending() == set(), timeout=10000)


def test_a_double_click_moves_the_stage_and_acquires_nothing(qtbot, explore, core):
    target_y, target_x = STEP_Y * 1.5, STEP_X * -0.8  # in view, off the first tile
    click(explore, target_y, target_x, double=True)
    expected = explore.exploration.layout.stage_at_pixel(target_y, target_x)
    qtbot.waitUntil(lambda: np.allclose(core.getXYPosition(), expected, atol=1.0), timeout=5000)
    qtbot.wait(QApplication.doubleClickInterval() + 100)
    assert not explore.exploration.asked(
        explore.exploration.layout.tile_at_pixel(target_y, target_x)
    )
    assert saved_tiles(explore) == set()
    assert "Stage moved" in explore.status.text()


def test_the_z_slider_shows_the_other_plane(qtbot, explore):
    explore.exploration.acquire([(0, 0)])
    qtbot.waitUntil(lambda: saved_tiles(explore) == {(0, 0)}, timeout=10000)
    explore.z_slider.setValue(1)
    assert explore.map_view.plane == {"z": 1}
    assert "3.00 µm" in explore.z_label.text()


def test_closing_drops_queued_tiles_at_once_and_keeps_the_acquired(qtbot, explore):
    exploration = explore.exploration
    exploration.acquire([(0, 0)])
    qtbot.waitUntil(lambda: saved_tiles(explore) == {(0, 0)}, timeout=10000)
    exploration.acquire([(r, c) for r in range(5, 25) for c in range(5, 25)])
    explore.close()  # returns at once: the acquisition ends on its own threads
    exploration.acquisition.await_completion(timeout=30)
    assert exploration.acquisition.status.state.value == "aborted"
    reopened = exploration.dataset
    assert (0, 0) in set(reopened.tiles(0, {"z": 0}))
    assert len(reopened.tiles(0, {"z": 0})) < 401


def test_explore_from_the_window_and_go_on_with_the_saved_map(qtbot, window, core):
    """Acquire > Explore uses the Acquisition panel's settings and the window's
    processors; the map, reopened with File > Open dataset, is explored further."""
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=WIDTH, height=HEIGHT, exposure_ms=1)
    )
    seen = []

    def note_tile(image, metadata):
        seen.append((metadata["Axes"]["row"], metadata["Axes"]["column"]))
        return image, metadata

    window.registry.register(note_tile, source="console")
    panel = window.acquisition_panel
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 5.0)
    panel.set_channel("FITC", True, 7.0)
    window.explore.explore_action.trigger()
    explore = window.explore.window
    assert explore is not None
    qtbot.addWidget(explore)
    assert [c.preset for c in explore.exploration.settings.channels] == ["DAPI", "FITC"]
    assert explore.exploration.settings.overlap == (WIDTH // 10, HEIGHT // 10)
    # the main viewer shows the map too, and says so (it kept the last dataset's title)
    assert window.viewer.title.text() == f"explore: {explore.exploration.dataset.path}"
    explore.ask_tiles(0, 0, 0, 0)
    qtbot.waitUntil(lambda: explore.exploration.pending() == set() and bool(seen), timeout=10000)
    assert sorted(set(seen)) == [(0, 0)] and len(seen) == 2  # both channels, processed
    path = explore.exploration.dataset.path
    explore.close()
    qtbot.waitUntil(lambda: explore.exploration.acquisition.is_finished(), timeout=10000)
    assert window.explore.window is None

    window.datasets.open_dataset(path)
    acquire = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Acquire")
    acquire.aboutToShow.emit()  # the menu enables the entry as it opens
    assert window.explore.resume_action.isEnabled()
    window.explore.resume_action.trigger()
    again = window.explore.window
    assert again is not None
    qtbot.addWidget(again)
    assert again.exploration.asked((0, 0))  # acquired last time
    again.ask_tiles(0, again.exploration.layout.step[1] * 1.5, 0, 0)  # drag to tile (0, 1)
    qtbot.waitUntil(lambda: again.exploration.pending() == set(), timeout=10000)
    again.close()
    qtbot.waitUntil(lambda: again.exploration.acquisition.is_finished(), timeout=10000)
    from app import open_dataset

    assert sorted(open_dataset(path).tiles(0, {"channel": "FITC"})) == [(0, 0), (0, 1)]


def test_the_view_stays_where_the_user_points_as_tiles_arrive(qtbot, explore):
    before = explore.viewer.view.viewRange()
    click(explore, STEP_Y * 0.5, STEP_X * 0.5)
    qtbot.waitUntil(lambda: explore.map_view.drawn > 0, timeout=10000)
    qtbot.wait(400)  # a poll of the map after the tile
    # no jump to the tile (a few pixels: the window's status line settling)
    assert np.allclose(explore.viewer.view.viewRange(), before, atol=5)


def test_a_failed_exploration_says_why_and_what_to_do(qtbot, explore):
    explore.exploration.acquisition.abort(RuntimeError("the XY stage reports a limit switch"))
    qtbot.waitUntil(lambda: "limit switch" in explore.status.text(), timeout=10000)
    assert "Go on exploring" in explore.status.text()
    assert not explore.pick_action.isEnabled() and not explore.picker.picking


def test_live_stops_for_tiles_and_start_waits_for_explore_to_close(qtbot, window, core):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=WIDTH, height=HEIGHT, exposure_ms=1)
    )
    explore = window.explore.start()
    qtbot.addWidget(explore)
    assert window.browser.map.dataset is explore.exploration.dataset  # the map there too
    window.camera.set_live(True)
    qtbot.waitUntil(lambda: core.isSequenceRunning(), timeout=5000)
    explore.ask_tiles(0, 0, 0, 0)  # Live would refuse the tile's snap: it stops first
    qtbot.waitUntil(lambda: explore.exploration.pending() == set(), timeout=10000)
    assert explore.exploration.acquisition.status.state.value == "running"
    assert not core.isSequenceRunning()
    window.acquisitions.start_acquisition()
    assert window.controller.acquisition is None  # refused, and said
    assert "Explore is open" in window.statusBar().currentMessage()
    explore.close()
    qtbot.waitUntil(lambda: explore.exploration.acquisition.is_finished(), timeout=10000)


def test_the_first_tile_is_clicked_through_the_window_where_the_hint_lies(qtbot, explore):
    """Before the first tile the viewer's hint lies over the map: a click the window
    receives (Qt picks the widget under it, as for the mouse) reaches the map."""
    from PyQt6.QtTest import QTest

    assert explore.viewer.hint.isVisible()
    point = explore.viewer.graphics.viewport().mapTo(
        explore, _viewport_point(explore, STEP_Y * 0.5, STEP_X * 1.5)
    )
    assert explore.viewer.hint.geometry().contains(explore.viewer.mapFrom(explore, point))
    QTest.mouseClick(explore.windowHandle(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: explore.exploration.asked((0, 1)), timeout=10000)
