"""The line profile and the rectangle's statistics on the main image, as a user uses them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.ui.display.measure_tools import MIN_INTERVAL_S, format_value

# 96 rows x 128 columns, as the test camera: value = 1000 + 3 * row + column, plus a
# bright square so that min, max and std are not those of a plane
KNOWN = (1000 + 3 * np.arange(96)[:, None] + np.arange(128)[None, :]).astype(np.uint16)
KNOWN[40:50, 60:70] = 5000


def _view_menu(window) -> dict:
    (bar_action,) = [a for a in window.menuBar().actions() if a.text() == "&View"]
    return {action.text(): action for action in bar_action.menu().actions()}


def _show(qtbot, window, image: np.ndarray) -> None:
    """A frame through the window's display path, as a snap arrives."""
    window.camera.snap_slot.put(image, {"Axes": {}})
    qtbot.waitUntil(lambda: window.viewer.image is image, timeout=5000)


@pytest.fixture
def snapped(qtbot, window):
    window.camera.snap()
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    _show(qtbot, window, KNOWN)
    return window


def _plotted(tool) -> tuple[np.ndarray, np.ndarray]:
    x, y = tool.panel.curve.getData()
    return (np.array([]) if x is None else x), (np.array([]) if y is None else y)


def _stats_equal_numpy(tool, region: np.ndarray) -> bool:
    stats = tool.stats
    return (
        stats is not None
        and stats.n == region.size
        and stats.mean == pytest.approx(region.mean(), rel=1e-12)
        and stats.std == pytest.approx(region.std(ddof=1), rel=1e-9)
        and (stats.min, stats.max) == (region.min(), region.max())
    )


def test_rectangle_statistics_follow_the_rectangle_and_new_frames(qtbot, snapped):
    window = snapped
    tool = window.measure
    _view_menu(window)["&Rectangle statistics"].trigger()
    assert tool.rectangle_on and window.docks["Profile"].isVisible()
    assert tool.rect.scene() is window.viewer.view.scene()
    # placed on the image, and measured without being touched
    qtbot.waitUntil(lambda: tool.stats is not None and tool.stats.n > 0, timeout=3000)

    tool.rect.setPos((55, 35))  # as a drag of the rectangle would
    tool.rect.setSize((30, 20))  # and of its corner handle
    region = KNOWN[35:55, 55:85]
    qtbot.waitUntil(lambda: _stats_equal_numpy(tool, region), timeout=3000)
    text = tool.panel.stats_label.text()
    for value in (region.mean(), region.std(ddof=1), region.min(), region.max()):
        assert format_value(float(value)) in text
    assert f"N {region.size}" in text and "30 × 20 px at (55, 35)" in text

    brighter = KNOWN + np.uint16(100)
    _show(qtbot, window, brighter)  # a new frame, the rectangle untouched
    qtbot.waitUntil(lambda: _stats_equal_numpy(tool, brighter[35:55, 55:85]), timeout=3000)
    assert format_value(float(brighter[35:55, 55:85].mean())) in tool.panel.stats_label.text()

    tool.rect.setPos((120, 90))  # partly off the image: only the pixels on it count
    qtbot.waitUntil(lambda: tool.stats.bounds == (120, 90, 128, 96), timeout=3000)
    assert _stats_equal_numpy(tool, brighter[90:, 120:])
    tool.rect.setPos((300, 300))
    qtbot.waitUntil(lambda: tool.stats.n == 0, timeout=3000)
    assert "no pixels (outside the image" in tool.panel.stats_label.text()
    tool.rect.setPos((10, 10))
    tool.rect.setSize((0, 5))
    qtbot.waitUntil(lambda: tool.stats.bounds == (10, 10, 10, 15), timeout=3000)
    assert tool.stats.n == 0 and "no pixels" in tool.panel.stats_label.text()


def test_the_line_profile_plots_the_raw_values_along_the_line(qtbot, snapped):
    window = snapped
    tool = window.measure
    _view_menu(window)["&Line profile"].trigger()
    assert tool.line_on and window.docks["Profile"].isVisible()
    assert tool.panel.plot.isVisible() and not tool.panel.stats_label.isVisible()
    window.viewer.set_pixel_size(0)  # unknown: distances in pixels
    first, second = tool.line.getHandles()
    tool.line.movePoint(first, (50.5, 45.5))  # as dragging each end would
    tool.line.movePoint(second, (80.5, 45.5))  # along row 45, pixel centre to centre
    expected = KNOWN[45, 50:81].astype(float)  # through the bright square: not 8 bits
    qtbot.waitUntil(lambda: len(_plotted(tool)[1]) == 31, timeout=3000)
    x, y = _plotted(tool)
    assert np.array_equal(y, expected)
    assert np.array_equal(x, np.arange(31.0))
    assert "(px)" in tool.panel.plot.getAxis("bottom").labelString()
    assert "Line 30.0 px" in tool.panel.line_label.text()

    window.viewer.set_pixel_size(0.5)
    tool.line.setPos((0, 1))  # the whole line dragged one row down
    expected = KNOWN[46, 50:81].astype(float)
    qtbot.waitUntil(lambda: np.array_equal(_plotted(tool)[1], expected), timeout=3000)
    x, _ = _plotted(tool)
    assert np.array_equal(x, np.arange(31.0) * 0.5)  # µm
    assert "(µm)" in tool.panel.plot.getAxis("bottom").labelString()
    assert "= 15 µm" in tool.panel.line_label.text()

    _show(qtbot, window, KNOWN * np.uint16(2))  # a new frame
    qtbot.waitUntil(lambda: np.array_equal(_plotted(tool)[1], 2 * expected), timeout=3000)


def test_switching_off_removes_the_items_and_they_come_back_where_they_were(qtbot, snapped):
    window = snapped
    tool = window.measure
    menu = _view_menu(window)
    menu["&Rectangle statistics"].trigger()
    menu["&Line profile"].trigger()
    view_items = window.viewer.view.childGroup.childItems()
    assert tool.rect in view_items and tool.line in view_items
    tool.rect.setPos((10, 10))
    qtbot.waitUntil(lambda: tool.stats is not None and tool.stats.bounds[:2] == (10, 10))

    menu["&Rectangle statistics"].trigger()
    assert not tool.rectangle_on and tool.stats is None
    assert tool.rect.scene() is None and tool.rect not in window.viewer.view.childGroup.childItems()
    assert not tool.panel.stats_label.isVisible() and tool.panel.plot.isVisible()
    menu["&Line profile"].trigger()
    assert tool.line.scene() is None and tool.line not in window.viewer.view.childGroup.childItems()
    assert not window.docks["Profile"].isVisible()  # both off: the panel goes too
    assert len(_plotted(tool)[0]) == 0
    updates = tool.updates
    _show(qtbot, window, KNOWN + np.uint16(1))  # nothing to measure: nothing measured
    qtbot.wait(150)
    assert tool.updates == updates

    menu["&Rectangle statistics"].trigger()
    assert tool.rect.pos().x() == 10 and tool.rect.pos().y() == 10
    qtbot.waitUntil(lambda: tool.stats is not None, timeout=3000)


def test_a_big_frame_drawn_strided_is_measured_at_full_resolution(qtbot, snapped):
    window = snapped
    big = np.random.default_rng(5).integers(0, 60000, (2048, 2048), dtype=np.uint16)
    _show(qtbot, window, big)
    qtbot.waitUntil(lambda: window.viewer.item.image.shape[0] < 2048, timeout=3000)  # zoomed out
    tool = window.measure
    tool.set_rectangle_on(True)
    tool.set_rectangle(1001, 1500, 37, 21)
    qtbot.waitUntil(lambda: _stats_equal_numpy(tool, big[1500:1521, 1001:1038]), timeout=3000)
    tool.set_line_on(True)
    tool.set_line((3.5, 2000.5), (13.5, 2000.5))
    qtbot.waitUntil(
        lambda: np.array_equal(_plotted(tool)[1], big[2000, 3:14].astype(float)), timeout=3000
    )


def test_fit_shows_the_image_not_the_rectangle(qtbot, snapped):
    window = snapped
    window.measure.set_rectangle_on(True)
    assert _view_menu(window)["&Rectangle statistics"].isChecked()  # the menu follows
    window.measure.rect.setPos((500, 500))
    window.viewer.fit()
    (x0, x1), (y0, y1) = window.viewer.view.viewRange()
    assert x0 > -100 and y0 > -100 and x1 < 200 and y1 < 200


def test_a_frame_swapped_without_a_redraw_is_measured_too(qtbot, snapped):
    window = snapped
    tool = window.measure
    tool.set_rectangle_on(True)
    tool.set_rectangle(0, 0, 10, 10)
    qtbot.waitUntil(lambda: _stats_equal_numpy(tool, KNOWN[:10, :10]), timeout=3000)
    window.viewer.image = KNOWN + np.uint16(7)  # no item.setImage: only the slow check sees it
    qtbot.waitUntil(lambda: tool.stats.mean == KNOWN[:10, :10].mean() + 7, timeout=3000)


def test_view_menu_shortcuts_are_unique(window):
    menu = _view_menu(window)
    assert menu["&Line profile"].shortcut().toString() == "Ctrl+Shift+L"
    assert menu["&Rectangle statistics"].shortcut().toString() == "Ctrl+Shift+R"
    assert menu["&Line profile"].isCheckable() and not menu["&Line profile"].isChecked()
    assert "Profile" in menu  # the dock reopens from the View menu too
    keys = [
        action.shortcut().toString()
        for bar_action in window.menuBar().actions()
        for action in bar_action.menu().actions()
        if not action.shortcut().isEmpty()
    ]
    assert len(keys) == len(set(keys)), keys


def test_a_colour_image_is_said_not_measured(qtbot, snapped):
    window = snapped
    window.measure.set_rectangle_on(True)
    window.viewer.set_image(np.zeros((20, 30, 3), np.uint8))
    qtbot.waitUntil(lambda: "colour" in window.measure.panel.stats_label.text(), timeout=3000)
    assert window.measure.stats is None


def test_live_updates_the_numbers_at_a_bounded_rate(qtbot, window):
    tool = window.measure
    tool.set_rectangle_on(True)
    tool.set_line_on(True)
    tool.set_rectangle(0, 0, 128, 96)
    updates = tool.updates
    start = time.perf_counter()
    window.camera.set_live(True)
    qtbot.waitUntil(lambda: window.display.displayed >= 30, timeout=10000)
    window.camera.set_live(False)
    elapsed = time.perf_counter() - start
    made = tool.updates - updates
    assert 1 <= made <= elapsed / MIN_INTERVAL_S + 3  # at most 20 a second, whatever the fps
    # the last frame shown is measured once the throttle lets it
    qtbot.waitUntil(lambda: _stats_equal_numpy(tool, window.viewer.image), timeout=3000)
    p0, p1 = tool.line_points()
    assert tool.profile is not None and tool.profile.length == pytest.approx(p1[0] - p0[0])


def test_slow_measurements_are_made_less_often(qtbot, snapped, monkeypatch):
    from app.ui.display import measure_tools

    real = measure_tools.region_statistics

    def slow(*args):
        time.sleep(0.03)  # as a big rectangle on a big frame on a slow machine
        return real(*args)

    monkeypatch.setattr(measure_tools, "region_statistics", slow)
    window = snapped
    tool = window.measure
    tool.set_rectangle_on(True)
    qtbot.waitUntil(lambda: tool.updates >= 1, timeout=3000)
    assert tool._interval >= measure_tools.BUDGET * 0.03
    updates = tool.updates
    start = time.perf_counter()
    for i in range(60):  # frames every 10 ms
        window.viewer.set_image(KNOWN + np.uint16(i))
        qtbot.wait(10)
    elapsed = time.perf_counter() - start
    made = tool.updates - updates
    assert made <= elapsed / (measure_tools.BUDGET * 0.03) + 2  # at most ~20% of the time
