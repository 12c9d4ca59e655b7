"""Drawing part of a tiled map (no Qt): the level for the zoom, the region read, and the
same contrast and colours as frames get."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.processing.channel_display import ChannelDisplay
from app.processing.composite import ColourPlanes
from app.processing.contrast import robust_levels, to_uint8
from app.processing.display import DisplaySettings
from app.processing.map_render import (
    MapRequest,
    Placement,
    choose_level,
    map_bounds,
    render_map,
)
from app.storage.tiled_ndtiff_sink import TiledNDTiffSink

TILE = (32, 48)  # (h, w) each tile keeps in the map
OVERLAP = (4, 2)  # (x, y) pixels
ROWS, COLUMNS = range(-1, 2), range(3)  # rows -1..1: the map starts at y = -32


def _stitched(seed: int) -> np.ndarray:
    """The full-resolution map the tiles make: rows -32..64, columns 0..144."""
    rng = np.random.default_rng(seed)
    return rng.integers(100, 4000, (len(ROWS) * TILE[0], len(COLUMNS) * TILE[1]), np.uint16)


def _tile(stitched: np.ndarray, row: int, column: int) -> np.ndarray:
    """What a camera gave for a tile: its part of the map, and half the overlap on each
    side (other values: the map never shows them)."""
    height, width = TILE
    x, y = OVERLAP
    raw = np.full((height + y, width + x), 60000, np.uint16)
    top = (row - ROWS.start) * height
    left = column * width
    raw[y // 2 : y // 2 + height, x // 2 : x // 2 + width] = stitched[
        top : top + height, left : left + width
    ]
    return raw


@pytest.fixture
def mapped(tmp_path):
    """A 3 x 3 tiled map with two channels; tile (1, 2) of FITC is missing."""
    maps = {"DAPI": _stitched(1), "FITC": _stitched(2)}
    sink = TiledNDTiffSink.create(tmp_path, "map", {}, OVERLAP)
    for channel, stitched in maps.items():
        for row in ROWS:
            for column in COLUMNS:
                if (channel, row, column) == ("FITC", 1, 2):
                    continue
                axes = {"row": row, "column": column, "channel": channel}
                sink.put(axes, _tile(stitched, row, column), {"BitDepth": 16})
    sink.finish()
    maps["FITC"][64:, 96:] = 0  # no tile: zeros
    yield sink.dataset, maps
    sink.dataset.close()


def _means(image: np.ndarray, factor: int) -> np.ndarray:
    """Each factor x factor block's mean, rounded as the pyramid rounds (level by level)."""
    out = image
    while factor > 1:
        total = out.astype(np.uint32)
        total = total[0::2, 0::2] + total[1::2, 0::2] + total[0::2, 1::2] + total[1::2, 1::2]
        out = ((total + 2) // 4).astype(image.dtype)
        factor //= 2
    return out


def _one_channel() -> ChannelDisplay:
    channels = ChannelDisplay()
    channels.add_names(["DAPI", "FITC"])
    channels.composite = False
    return channels


@pytest.mark.parametrize(
    ("per_screen_pixel", "levels", "level"),
    [
        (0.25, 3, 0),  # zoomed in
        (1.0, 3, 0),
        (1.99, 3, 0),  # level 1's pixel would be bigger than a screen pixel
        (2.0, 3, 1),
        (3.99, 3, 1),
        (4.0, 3, 2),
        (100.0, 3, 2),  # as coarse as there is
        (100.0, 1, 0),
        (math.nan, 3, 0),
    ],
)
def test_the_coarsest_level_whose_pixels_are_no_bigger_than_a_screen_pixel(
    per_screen_pixel, levels, level
):
    assert choose_level(per_screen_pixel, levels) == level


def test_at_full_resolution_the_region_in_view_and_a_margin_is_read(mapped):
    dataset, maps = mapped
    assert dataset.levels == 3 and dataset.tile_shape == TILE
    bounds = map_bounds(dataset)
    assert (bounds.y0, bounds.y1, bounds.x0, bounds.x1) == (-32, 64, 0, 144)
    channels = _one_channel()
    # 40 x 20 map pixels on 80 x 40 screen pixels: full resolution
    request = MapRequest({"channel": "DAPI"}, (60, 0, 100, 20), (80, 40), number=7)
    frame = render_map(dataset, request, channels, DisplaySettings())
    assert frame.level == 0 and frame.stride == 1 and frame.number == 7
    # a quarter of the view on each side: x 50..110, y -5..25
    assert frame.placement == Placement(50, -5, 1)
    assert frame.rect == (50, -5, 60, 30)
    expected = maps["DAPI"][-5 + 32 : 25 + 32, 50:110]  # the map starts at y = -32
    assert np.array_equal(frame.image, expected)
    levels = robust_levels(expected)
    assert frame.levels == levels and frame.channel == "DAPI"
    assert np.array_equal(frame.display, to_uint8(expected, *levels))
    assert frame.shown["DAPI"].levels == levels


def test_zoomed_out_a_coarser_level_and_never_beyond_the_map(mapped):
    dataset, maps = mapped
    channels = _one_channel()
    # the whole map and more on a screen a quarter of its size: level 2
    request = MapRequest({"channel": "DAPI"}, (-20, -40, 160, 80), (45, 30))
    frame = render_map(dataset, request, channels, DisplaySettings())
    assert frame.level == 2 and frame.placement == Placement(0, -32, 4)
    assert frame.rect == (0, -32, 144, 96)  # the map's bounds, not the view's
    assert np.array_equal(frame.image, _means(maps["DAPI"], 4))

    # zoomed out further than the coarsest level reaches: one pixel in two is drawn
    request = MapRequest({"channel": "DAPI"}, (-200, -200, 600, 400), (100, 75))
    frame = render_map(dataset, request, channels, DisplaySettings())
    assert frame.level == 2 and frame.stride == 2
    assert np.array_equal(frame.display, to_uint8(frame.image[::2, ::2], *frame.levels))
    assert frame.rect == (0, -32, 144, 96)

    # off the map: nothing to draw
    off = MapRequest({"channel": "DAPI"}, (400, 400, 500, 450), (100, 50))
    assert render_map(dataset, off, channels, DisplaySettings()) is None


def test_a_missing_tile_reads_as_zeros_and_levels_hold_block_means(mapped):
    dataset, maps = mapped
    channels = _one_channel()
    channels.set_look("FITC", auto_levels=False, levels=(500.0, 3000.0))
    request = MapRequest({"channel": "FITC"}, (0, -32, 144, 64), (72, 48))  # 2 px a pixel
    frame = render_map(dataset, request, channels, DisplaySettings())
    assert frame.level == 1 and frame.levels == (500.0, 3000.0)
    expected = _means(maps["FITC"], 2)
    assert np.array_equal(frame.image, expected) and frame.image[40:, 60:].max() == 0
    assert np.array_equal(frame.display, to_uint8(expected, 500, 3000))


def test_the_composite_adds_the_channels_in_their_colours(mapped):
    dataset, maps = mapped
    channels = ChannelDisplay()
    channels.add_names(["DAPI", "FITC"])
    channels.set_look("FITC", auto_levels=False, levels=(0.0, 2000.0))
    assert channels.composite_active
    request = MapRequest({"channel": "FITC"}, (0, -32, 144, 64), (144, 96))
    frame = render_map(dataset, request, channels, DisplaySettings())
    dapi, fitc = maps["DAPI"], maps["FITC"]
    assert frame.display.shape == (*dapi.shape, 4) and frame.channel == "FITC"
    assert np.array_equal(frame.image, fitc)  # the current channel's raw pixels
    expected = ColourPlanes().rgba(
        [(dapi, robust_levels(dapi), "Blue"), (fitc, (0.0, 2000.0), "Green")], dapi.shape
    )
    assert np.array_equal(frame.display, expected)
    assert frame.levels == (0.0, 2000.0) and set(frame.shown) == {"DAPI", "FITC"}

    channels.set_look("DAPI", visible=False)
    frame = render_map(dataset, request, channels, DisplaySettings())
    assert frame.display[..., 2].max() == 0 and frame.display[..., 1].max() == 255


def test_without_a_channel_axis_the_viewer_settings_give_the_contrast(tmp_path):
    stitched = _stitched(3)[: TILE[0], :]  # one row of tiles, no channel
    sink = TiledNDTiffSink.create(tmp_path, "plain", {}, OVERLAP)
    for column in COLUMNS:
        sink.put({"row": 0, "column": column}, _tile(stitched, -1, column), {"BitDepth": 16})
    sink.finish()
    settings = DisplaySettings(levels=(1000.0, 2000.0), auto_levels=False)
    request = MapRequest({}, (0, 0, 144, 32), (144, 32))
    frame = render_map(sink.dataset, request, ChannelDisplay(), settings)
    assert frame.channel is None and frame.shown == {} and frame.levels == (1000.0, 2000.0)
    assert np.array_equal(frame.image, stitched)
    assert np.array_equal(frame.display, to_uint8(stitched, 1000, 2000))
    sink.dataset.close()


def test_a_placement_converts_both_ways():
    placement = Placement(100, -32, 4)
    assert placement.to_image(108, -24) == (2, 2)
    assert placement.to_map(2, 2) == (108, -24)
