"""A tiled dataset shown stitched in the window, as a user sees it: acquired tile by tile,
zoomed out, reopened from disk, with the channel strip, the contrast and the profile."""

from __future__ import annotations

import numpy as np
import pytest

from app.processing.contrast import to_uint8
from app.processing.map_render import Placement
from app.processing.region_stats import line_profile

OVERLAP = (20, 12)  # (x, y) pixels, as pycro-manager takes it
ROWS, COLUMNS = 3, 4
TILE = (96 - 12, 128 - 20)  # what each 128 x 96 camera image keeps in the map
MAP = (ROWS * TILE[0], COLUMNS * TILE[1])  # 252 x 432
EXPOSURE_MS = 20  # beads bright enough to tell apart


def _events(rows, channels=(None,)):
    events = []
    for row in rows:
        for column in range(COLUMNS):
            for channel in channels:
                axes = {"row": row, "column": column}
                event = {"axes": axes}
                if channel is not None:
                    axes["channel"] = channel
                    event["config_group"] = ["Channel", channel]
                events.append(event)
    return events


def _acquire(core, tmp_path, channels=(None,)):
    """A finished 3 x 4 tiled acquisition followed by the window (shown as a script's)."""
    from app import XYTiledAcquisition

    core.setExposure(EXPOSURE_MS)
    with XYTiledAcquisition(OVERLAP, tmp_path, "map", core=core, show_display=True) as acq:
        acq.acquire(_events(range(ROWS), channels))
    return acq


@pytest.fixture
def roomy(qtbot, window):
    """The window with the viewer large enough for the whole map at full resolution."""
    for title in ("Microscope", "Acquisition", "Processors", "Scripts"):
        window.docks[title].hide()
    view = window.viewer.view
    qtbot.waitUntil(lambda: view.width() > MAP[1] and view.height() > MAP[0], timeout=5000)
    return window


def _zoom_to(viewer, per_screen_pixel: float) -> None:
    """Zoom about the middle of the view to ``per_screen_pixel`` map pixels a screen
    pixel, as the mouse wheel does."""
    (x0, x1), _ = viewer.view.viewRange()
    factor = per_screen_pixel / ((x1 - x0) / viewer.view.width())
    viewer.view.scaleBy((factor, factor))


def _stitched(dataset, plane=None) -> np.ndarray:
    return dataset.read_region(0, plane or {}, 0, MAP[0], 0, MAP[1])


def _drawn_rect(viewer) -> tuple[float, float, float, float]:
    item = viewer.item
    rect = item.mapRectToParent(item.boundingRect())
    return rect.x(), rect.y(), rect.width(), rect.height()


def _shows_whole_map(viewer, dataset, plane=None) -> bool:
    image = viewer.image
    return (
        image is not None
        and image.shape == MAP
        and viewer.placement == Placement(0, 0, 1)
        and np.array_equal(image, _stitched(dataset, plane))
    )


def test_tiles_appear_stitched_as_they_are_acquired(qtbot, roomy, core, tmp_path):
    window = roomy
    from app import XYTiledAcquisition

    viewer = window.viewer
    core.setExposure(EXPOSURE_MS)
    acq = XYTiledAcquisition(OVERLAP, tmp_path, "map", core=core, show_display=True)
    acq.acquire(_events([0]))  # the first row of tiles
    qtbot.waitUntil(
        lambda: viewer.image is not None and viewer.image.shape == (TILE[0], MAP[1]), timeout=10000
    )
    assert window.browser.map.active and not window.sliders.isVisible()  # no row/column
    first_row = viewer.image.copy()

    acq.acquire(_events([1, 2]))  # two more rows: the map grows, and the view with it
    acq.mark_finished()
    acq.await_completion(timeout=30)
    dataset = acq.get_dataset()
    qtbot.waitUntil(lambda: _shows_whole_map(viewer, dataset), timeout=10000)
    assert np.array_equal(viewer.image[: TILE[0]], first_row)
    # one image the size of the map, drawn where the map is
    assert _drawn_rect(viewer) == (0, 0, MAP[1], MAP[0])
    (x0, x1), (y0, y1) = viewer.view.viewRange()
    assert x0 <= 0.5 and y0 <= 0.5 and x1 >= MAP[1] - 0.5 and y1 >= MAP[0] - 0.5  # all of it

    # where tiles overlap, the camera saw the same beads: the map is seamless there
    top, left = OVERLAP[1] // 2, OVERLAP[0] // 2
    right_neighbour = dataset.read_image(row=0, column=1)  # the whole camera image
    assert right_neighbour[top : top + TILE[0], :left].max() > 0  # beads, not black
    assert np.array_equal(
        viewer.image[: TILE[0], TILE[1] - left : TILE[1]],
        right_neighbour[top : top + TILE[0], :left],
    )
    below = dataset.read_image(row=1, column=0)
    assert np.array_equal(
        viewer.image[TILE[0] - top : TILE[0], : TILE[1]], below[:top, left : left + TILE[1]]
    )


def test_zooming_out_draws_a_coarser_level_and_back(qtbot, roomy, core, tmp_path):
    window = roomy
    acq = _acquire(core, tmp_path)
    dataset, viewer = acq.get_dataset(), window.viewer
    qtbot.waitUntil(lambda: _shows_whole_map(viewer, dataset), timeout=10000)
    assert dataset.levels == 3

    def level() -> float:
        return viewer.placement.scale

    _zoom_to(viewer, 3)  # 3 map pixels a screen pixel: level 1's are 2
    qtbot.waitUntil(lambda: level() == 2, timeout=5000)
    assert np.array_equal(viewer.image, dataset.read_region(1, {}, 0, MAP[0] // 2, 0, MAP[1] // 2))
    assert _drawn_rect(viewer) == (0, 0, MAP[1], MAP[0])  # the same place, coarser pixels

    _zoom_to(viewer, 6)
    qtbot.waitUntil(lambda: level() == 4, timeout=5000)
    assert viewer.image.shape == (-(-MAP[0] // 4), MAP[1] // 4)
    # the status bar gives the map's size, and the resolution shown
    qtbot.waitUntil(
        lambda: f"map {MAP[1]}×{MAP[0]} px uint16, shown at 1/4" in window.status_line.text.text(),
        timeout=5000,
    )

    viewer.fit()  # View > Fit: the whole map, at full resolution in this window
    qtbot.waitUntil(lambda: _shows_whole_map(viewer, dataset), timeout=5000)

    _zoom_to(viewer, 0.1)  # zoomed in: only what is in view, and a margin
    qtbot.waitUntil(lambda: viewer.image.shape[1] < MAP[1], timeout=5000)
    x, y, scale = viewer.placement.x, viewer.placement.y, viewer.placement.scale
    assert scale == 1
    height, width = viewer.image.shape
    assert np.array_equal(viewer.image, _stitched(dataset)[y : y + height, x : x + width])


def test_a_saved_map_opens_stitched(qtbot, roomy, core, tmp_path):
    window = roomy
    acq = _acquire(core, tmp_path)
    path = acq.dataset_path
    window.camera.snap()  # something else on screen first
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.viewer.image.shape == (96, 128), timeout=5000)
    assert not window.browser.map.active

    window.datasets.open_dataset(path)  # File > Open dataset...
    dataset = window.browser.dataset
    assert type(dataset).__name__ == "TiledDataset" and window.browser.map.active
    qtbot.waitUntil(lambda: _shows_whole_map(window.viewer, dataset), timeout=10000)
    assert np.array_equal(window.viewer.image, _stitched(acq.get_dataset()))

    window.camera.snap()  # and back to frames: placed as frames are
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.viewer.image.shape == (96, 128), timeout=5000)
    assert not window.browser.map.active and window.viewer.placement == Placement()
    assert _drawn_rect(window.viewer) == (0, 0, 128, 96)


def test_contrast_and_the_channel_strip_change_the_map_drawn(qtbot, roomy, core, tmp_path):
    window = roomy
    acq = _acquire(core, tmp_path, channels=("DAPI", "FITC"))
    dataset, viewer, strip = acq.get_dataset(), window.viewer, window.channel_strip
    channels = viewer.channels
    qtbot.waitUntil(lambda: set(channels.names) == {"DAPI", "FITC"}, timeout=10000)
    assert strip.isVisible() and channels.composite_active
    assert "channel" in window.sliders.current_axes() and "row" not in window.sliders.current_axes()

    def composite_drawn(check=lambda rgba: True) -> bool:
        drawn = viewer.item.image
        return drawn is not None and drawn.ndim == 3 and drawn.shape[:2] == MAP and check(drawn)

    qtbot.waitUntil(
        lambda: composite_drawn(lambda rgba: rgba[..., 1].max() > 0 and rgba[..., 2].max() > 0),
        timeout=10000,
    )
    fitc = _stitched(dataset, {"channel": "FITC"})

    # FITC on fixed levels, DAPI hidden: exactly FITC's green on those levels
    both = viewer.item.image.copy()
    strip.rows["FITC"].levels.setValue((10, 200))
    strip.rows["DAPI"].visible.setChecked(False)

    def fitc_alone(rgba) -> bool:
        return rgba[..., 2].max() == 0 and np.array_equal(rgba[..., 1], to_uint8(fitc, 10, 200))

    qtbot.waitUntil(lambda: composite_drawn(fitc_alone), timeout=5000)
    assert not np.array_equal(viewer.item.image, both)

    # one channel at a time: the slider's channel, with the histogram's contrast
    strip.one_channel_button.click()
    sliders = window.sliders
    # on the last tile's channel (a move of the sliders may be owed for 0.1 s; a slider
    # set to where it already is does not move)
    qtbot.waitUntil(lambda: sliders.current_axes().get("channel") == "FITC", timeout=5000)
    sliders.slider("channel").setValue(list(dataset.axes["channel"]).index("DAPI"))
    dapi = _stitched(dataset, {"channel": "DAPI"})
    qtbot.waitUntil(lambda: np.array_equal(viewer.image, dapi), timeout=5000)
    viewer.set_levels(20, 300)  # as dragging the histogram's levels

    def dapi_on(low, high) -> bool:
        drawn = viewer.item.image
        return drawn is not None and np.array_equal(drawn, to_uint8(dapi, low, high))

    qtbot.waitUntil(lambda: dapi_on(20, 300), timeout=5000)
    assert channels.look("DAPI").levels == (20, 300)
    before = viewer.item.image.copy()
    viewer.set_levels(0, 100)
    qtbot.waitUntil(lambda: dapi_on(0, 100), timeout=5000)
    assert not np.array_equal(viewer.item.image, before)


def test_the_profile_and_the_rectangle_read_the_map(qtbot, roomy, core, tmp_path):
    window = roomy
    acq = _acquire(core, tmp_path)
    dataset, viewer, tool = acq.get_dataset(), window.viewer, window.measure
    qtbot.waitUntil(lambda: _shows_whole_map(viewer, dataset), timeout=10000)
    stitched = _stitched(dataset)
    tool.set_line_on(True)
    # across three tiles and two seams, through pixel centres, in map pixels
    row = 100
    tool.set_line((50.5, row + 0.5), (350.5, row + 0.5))
    qtbot.waitUntil(
        lambda: tool.profile is not None and len(tool.profile.values) == 301, timeout=5000
    )
    # values between pixel centres are interpolated: at the centres, the pixels' own
    assert np.allclose(tool.profile.values, stitched[row, 50:351], rtol=0, atol=1e-9)
    assert tool.profile.length == pytest.approx(300)

    tool.set_rectangle_on(True)
    tool.set_rectangle(100, 60, 200, 100)  # over four tiles
    region = stitched[60:160, 100:300]
    qtbot.waitUntil(lambda: tool.stats is not None and tool.stats.n == region.size, timeout=5000)
    assert tool.stats.mean == pytest.approx(region.mean())
    assert "200 × 100 px at (100, 60)" in tool.panel.stats_label.text()

    _zoom_to(viewer, 3)  # zoomed out: measured on the level drawn, and said so
    qtbot.waitUntil(lambda: viewer.placement.scale == 2, timeout=5000)
    coarse = dataset.read_region(1, {}, 0, MAP[0] // 2, 0, MAP[1] // 2)
    qtbot.waitUntil(lambda: tool.stats.n == coarse[30:80, 50:150].size, timeout=5000)
    assert tool.stats.mean == pytest.approx(coarse[30:80, 50:150].mean())
    assert "200 × 100 px at (100, 60)" in tool.panel.stats_label.text()
    assert "1/2 resolution" in tool.panel.stats_label.text()
    qtbot.waitUntil(lambda: len(tool.profile.values) == 151, timeout=5000)
    assert tool.profile.length == pytest.approx(300)
    # the same line on level 1's pixels: (50.5, 100.5) in the map is (25.25, 50.25) there
    expected = line_profile(coarse, (25.25, 50.25), (175.25, 50.25))
    assert np.array_equal(tool.profile.values, expected.values)
    assert "1/2 resolution" in tool.panel.line_label.text()
