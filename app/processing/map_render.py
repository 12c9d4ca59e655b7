"""Drawing part of a tiled map: the pyramid level for the zoom, that level's pixels over
the view, mapped to the screen's 8 bits. Plain numpy, no Qt: a worker thread runs it.

The rule this module keeps: a redraw reads about as many pixels as the screen shows,
whatever the size of the map. The level drawn is the coarsest whose pixels are still no
bigger than a screen pixel (level L's pixel is 2^L x 2^L pixels of the full-resolution
stitched map, each the mean of them), so between one and four level pixels fall on a
screen pixel; only the tiles under the view are read (``TiledDataset.read_region``).
Zoomed out further than the coarsest level reaches, one pixel in ``stride`` is drawn, as
the viewer draws a large frame.

Those pixels are mapped as the viewer maps a frame, by the same code: one channel with
its contrast (``contrast.py``, the channel's look from ``channel_display.py``, or the
viewer's ``DisplaySettings`` without a channel axis), several added in their colours
(``composite.compose_channels``). Automatic contrast is that of the region drawn.

Coordinates are full-resolution map pixels, as ``TiledDataset`` lays the map out: tile
(row, column) covers rows ``[row * h, (row + 1) * h)`` and columns ``[column * w,
(column + 1) * w)``, ``(h, w)`` being ``tile_shape`` (rows and columns may be negative).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.processing.channel_display import ChannelDisplay, ChannelShown
from app.processing.composite import ColourPlanes, compose_channels
from app.processing.contrast import robust_levels, to_uint8
from app.processing.display import DisplaySettings
from app.storage.tile_pyramid import Region
from app.storage.tiled_dataset import COLUMN, ROW, TiledDataset

#: drawn around the view on each side, as a fraction of its size: a short pan shows
#: pixels already drawn while the next redraw is on its way
MARGIN = 0.25


@dataclass(frozen=True)
class Placement:
    """Where an image lies in map pixels: its pixel (row i, column j) covers columns
    ``[x + j * scale, x + (j + 1) * scale)`` and rows ``[y + i * scale, ...)``. The
    identity for a frame (the viewer's coordinates are its pixels)."""

    x: float = 0.0
    y: float = 0.0
    scale: float = 1.0

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        """A point in map pixels, in the image's pixels."""
        return (x - self.x) / self.scale, (y - self.y) / self.scale

    def to_map(self, x: float, y: float) -> tuple[float, float]:
        """A point in the image's pixels, in map pixels."""
        return self.x + x * self.scale, self.y + y * self.scale


@dataclass(frozen=True)
class MapRequest:
    """What to draw: a plane of the map, the part of it in view, and on how many screen
    pixels it is drawn."""

    #: the axes of the tiles drawn other than row and column (channel, z, time...); its
    #: channel is the current one (the histogram's)
    plane: Mapping[str, Any]
    #: x0, y0, x1, y1 in full-resolution map pixels
    view: tuple[float, float, float, float]
    #: width and height, in screen pixels, of the area the view is drawn on
    screen: tuple[int, int]
    number: int = 0  # who asked (the newest request wins)


@dataclass(frozen=True)
class RenderedMap:
    """A part of the map ready to draw."""

    #: uint8 (h, w) for one channel, (h, w, 4) RGBA for a composite; one pixel of
    #: ``image`` in ``stride``
    display: np.ndarray
    #: the level's raw pixels (the current channel's, for a composite): what the
    #: histogram and the measuring tools read
    image: np.ndarray
    placement: Placement  # where ``image`` lies in map pixels (scale: 2 ** level)
    level: int
    stride: int
    levels: tuple[float, float]  # the current channel's (or the only image's) contrast
    channel: Any = None
    shown: dict[str, ChannelShown] = field(default_factory=dict)
    number: int = 0  # the request it answers

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """x, y, width, height in map pixels that ``display`` covers."""
        height, width = self.display.shape[:2]
        step = self.placement.scale * self.stride
        return self.placement.x, self.placement.y, width * step, height * step


def map_pixels_per_screen_pixel(
    view: tuple[float, float, float, float], screen: tuple[int, int]
) -> float:
    """How many full-resolution map pixels one screen pixel spans (the finer of x, y)."""
    x0, y0, x1, y1 = view
    width, height = screen
    return min((x1 - x0) / max(width, 1), (y1 - y0) / max(height, 1))


def choose_level(per_screen_pixel: float, levels: int) -> int:
    """The coarsest of ``levels`` levels whose pixel (2^L map pixels) is no bigger than
    a screen pixel spanning ``per_screen_pixel`` map pixels."""
    if levels <= 1 or not per_screen_pixel >= 2:  # NaN too: full resolution
        return 0
    return min(levels - 1, math.floor(math.log2(per_screen_pixel) + 1e-9))


def map_bounds(dataset: TiledDataset) -> Region | None:
    """The full-resolution map pixels the tiles saved so far span (every plane); None
    before the first tile."""
    axes = dataset.axes
    rows, columns = axes.get(ROW), axes.get(COLUMN)
    if not rows or not columns:
        return None
    height, width = dataset.tile_shape
    return Region(
        min(rows) * height,
        (max(rows) + 1) * height,
        min(columns) * width,
        (max(columns) + 1) * width,
    )


def level_region(
    view: tuple[float, float, float, float], level: int, bounds: Region, margin: float = MARGIN
) -> Region | None:
    """The pixels of ``level`` (its own coordinates) under ``view`` and ``margin`` of its
    size around it, within the map's ``bounds``; None when the view misses the map."""
    scale = 2**level
    x0, y0, x1, y1 = view
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    region = Region(
        max(math.floor((y0 - my) / scale), bounds.y0 // scale),
        min(math.ceil((y1 + my) / scale), -(-bounds.y1 // scale)),
        max(math.floor((x0 - mx) / scale), bounds.x0 // scale),
        min(math.ceil((x1 + mx) / scale), -(-bounds.x1 // scale)),
    )
    if region.y1 <= region.y0 or region.x1 <= region.x0:
        return None
    return region


def render_map(
    dataset: TiledDataset,
    request: MapRequest,
    channels: ChannelDisplay,
    settings: DisplaySettings,
    planes: ColourPlanes | None = None,
    margin: float = MARGIN,
) -> RenderedMap | None:
    """The part of the map ``request`` asks for, read at the level that suits its zoom and
    mapped with the channels' looks (``settings``' contrast without a channel axis);
    None when there is nothing there to draw (no tile yet, the view off the map).

    ``planes`` are the reused buffers of composites (one thread uses them)."""
    bounds = map_bounds(dataset)
    if bounds is None:
        return None
    per_screen_pixel = map_pixels_per_screen_pixel(request.view, request.screen)
    level = choose_level(per_screen_pixel, dataset.levels)
    region = level_region(request.view, level, bounds, margin)
    if region is None:
        return None
    scale = 2**level
    stride = max(1, math.floor(per_screen_pixel / scale))
    placement = Placement(region.x0 * scale, region.y0 * scale, scale)
    plane = dict(request.plane)
    current = plane.get("channel")

    def read(where: dict[str, Any]) -> np.ndarray:
        return dataset.read_region(level, where, region.y0, region.y1, region.x0, region.x1)

    if "channel" in plane and channels.composite_active:
        composite = compose_channels(
            planes if planes is not None else ColourPlanes(),
            channels,
            current,
            lambda name: read({**plane, "channel": name}),
            stride,
        )
        if composite is None:
            return None
        return RenderedMap(
            composite.display, composite.image, placement, level, stride, composite.levels,
            current, composite.shown, request.number,
        )  # fmt: skip
    image = read(plane)
    data_range = robust_levels(image)
    if current is not None:
        look = channels.look(current)
        auto, fixed = look.auto_levels, look.levels
    else:
        auto, fixed = settings.auto_levels, settings.levels
    levels = data_range if auto else fixed
    display = to_uint8(image[::stride, ::stride], *levels)
    shown = {str(current): ChannelShown(levels, data_range)} if current is not None else {}
    return RenderedMap(
        display, image, placement, level, stride, levels, current, shown, request.number
    )
