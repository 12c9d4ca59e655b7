"""Where the tiles of a grid are: rows and columns of camera fields to stage positions.

The rule this module keeps: a tile's place in the stitched map and its stage position
come from one transform, so a map shows the sample where the stage saw it. Tile
(0, 0) is at an origin (the stage position when a tiled acquisition starts, as in
pycro-manager); each step of one column moves the camera's field by its width less
the x overlap, each row by its height less the y overlap, in camera pixels, and the
pixel-size affine transform (``getPixelSizeAffine``) turns camera pixels into stage
micrometres. A configuration without an affine transform gets the plain pixel size
(no rotation), as Micro-Manager assumes.

Stitched pixel coordinates are those of ``ndtiff``'s ``as_array(stitched=True)``:
tile (row, column) keeps its pixels from ``floor(overlap / 2)`` to
``size - ceil(overlap / 2)`` and is placed at ``(row * (height - overlap_y),
column * (width - overlap_x))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.acquisition.events import InvalidEventError

ROW_AXIS = "row"
COLUMN_AXIS = "column"


class TilingError(ValueError):
    """A grid cannot be laid out (no pixel size, an overlap as large as the camera...)."""


def parse_overlap(tile_overlap: Any) -> tuple[int, int]:
    """pycro-manager's ``tile_overlap`` as ``(x, y)`` pixels: an int for both, or a
    two-element ``(x, y)`` tuple (pycro-manager's order: ``(pixel_overlap_x,
    pixel_overlap_y)``)."""
    if isinstance(tile_overlap, bool):
        raise TilingError(f"tile_overlap must be pixels (an int or (x, y)), got {tile_overlap!r}")
    if isinstance(tile_overlap, int | float) and float(tile_overlap).is_integer():
        x = y = int(tile_overlap)
    elif (
        isinstance(tile_overlap, Sequence)
        and not isinstance(tile_overlap, str)
        and len(tile_overlap) == 2
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
            for v in tile_overlap
        )
    ):
        x, y = int(tile_overlap[0]), int(tile_overlap[1])
    else:
        raise TilingError(
            f"tile_overlap must be whole pixels: an int, or (x, y) as in pycro-manager; "
            f"got {tile_overlap!r}"
        )
    if x < 0 or y < 0:
        raise TilingError(f"tile_overlap must not be negative, got (x={x}, y={y})")
    return x, y


@dataclass(frozen=True)
class TileLayout:
    """A grid of camera fields: its origin, the camera's size, the overlap and the
    pixel-to-stage transform (``a, b, c, d``: stage x = a·px + b·py, stage y = c·px +
    d·py, in µm per pixel)."""

    origin_x_um: float
    origin_y_um: float
    width: int
    height: int
    overlap_x: int
    overlap_y: int
    affine: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise TilingError(
                f"the camera's image size must be positive: {self.width}x{self.height}"
            )
        if not 0 <= self.overlap_x < self.width or not 0 <= self.overlap_y < self.height:
            raise TilingError(
                f"the overlap (x={self.overlap_x}, y={self.overlap_y} px) must be smaller "
                f"than the camera's image ({self.width}x{self.height} px)"
            )
        a, b, c, d = self.affine
        if not all(math.isfinite(v) for v in self.affine) or a * d - b * c == 0:
            raise TilingError(
                f"the pixel-size transform {self.affine} cannot be inverted: calibrate the "
                "pixel size (Devices > Pixel sizes)"
            )

    @classmethod
    def from_core(
        cls, core: Any, overlap: tuple[int, int], origin: tuple[float, float] | None = None
    ) -> TileLayout:
        """The layout for the current camera and pixel size; tile (0, 0) at ``origin``
        (by default the XY stage's position now)."""
        if origin is None:
            if not core.getXYStageDevice():
                raise TilingError("tiles need an XY stage, and none is loaded")
            origin = (float(core.getXPosition()), float(core.getYPosition()))
        return cls(
            origin_x_um=float(origin[0]),
            origin_y_um=float(origin[1]),
            width=int(core.getImageWidth()),
            height=int(core.getImageHeight()),
            overlap_x=overlap[0],
            overlap_y=overlap[1],
            affine=pixel_affine(core),
        )

    @property
    def step(self) -> tuple[int, int]:
        """(y, x) pixels from one tile to the next: the size each keeps in the map."""
        return self.height - self.overlap_y, self.width - self.overlap_x

    def _to_stage(self, px: float, py: float) -> tuple[float, float]:
        a, b, c, d = self.affine
        return self.origin_x_um + a * px + b * py, self.origin_y_um + c * px + d * py

    def _to_pixels(self, x_um: float, y_um: float) -> tuple[float, float]:
        a, b, c, d = self.affine
        dx, dy = x_um - self.origin_x_um, y_um - self.origin_y_um
        det = a * d - b * c
        return (d * dx - b * dy) / det, (-c * dx + a * dy) / det

    def stage_position(self, row: int, column: int) -> tuple[float, float]:
        """The XY stage position (µm) at which tile (row, column) is acquired."""
        step_y, step_x = self.step
        return self._to_stage(column * step_x, row * step_y)

    def _centre_offset(self) -> tuple[float, float]:
        """Where tile (0, 0)'s centre is in stitched pixels (x, y)."""
        return self.width / 2 - self.overlap_x // 2, self.height / 2 - self.overlap_y // 2

    def stage_at_pixel(self, y: float, x: float) -> tuple[float, float]:
        """The stage position that centres the camera on stitched pixel (y, x)."""
        cx, cy = self._centre_offset()
        return self._to_stage(x - cx, y - cy)

    def pixel_at_stage(self, x_um: float, y_um: float) -> tuple[float, float]:
        """The stitched pixel (y, x) at the centre of the camera with the stage at
        (x_um, y_um): the inverse of ``stage_at_pixel``."""
        px, py = self._to_pixels(x_um, y_um)
        cx, cy = self._centre_offset()
        return py + cy, px + cx

    def tile_at_pixel(self, y: float, x: float) -> tuple[int, int]:
        """(row, column) of the tile whose kept area holds stitched pixel (y, x)."""
        step_y, step_x = self.step
        return math.floor(y / step_y), math.floor(x / step_x)

    def tile_at_stage(self, x_um: float, y_um: float) -> tuple[int, int]:
        """(row, column) of the tile whose kept area holds the camera's centre with the
        stage at (x_um, y_um)."""
        return self.tile_at_pixel(*self.pixel_at_stage(x_um, y_um))

    def place(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event with ``row`` and ``column`` axes and no ``x``/``y`` gets its
        tile's stage position (an event that sets them keeps its own)."""
        axes = event["axes"]
        has_row, has_column = ROW_AXIS in axes, COLUMN_AXIS in axes
        if not (has_row or has_column):
            return event
        if has_row != has_column:
            raise InvalidEventError(
                f"Invalid acquisition event {event!r}: a tile needs both 'row' and 'column' axes"
            )
        row, column = axes[ROW_AXIS], axes[COLUMN_AXIS]
        if not isinstance(row, int) or not isinstance(column, int):
            raise InvalidEventError(
                f"Invalid acquisition event {event!r}: 'row' and 'column' must be ints"
            )
        if "x" in event:
            return event
        x, y = self.stage_position(row, column)
        return {**event, "x": x, "y": y}

    def summary_metadata(self) -> dict[str, Any]:
        """What a tiled dataset records of its grid: pycro-manager's overlap keys (which
        ``ndtiff`` stitches with) and Scopeflow's origin and transform (which Explore
        needs to go on with a reopened map)."""
        return {
            "GridPixelOverlapX": self.overlap_x,
            "GridPixelOverlapY": self.overlap_y,
            "ScopeflowTileOrigin_um": [self.origin_x_um, self.origin_y_um],
            "ScopeflowPixelAffine": list(self.affine),
        }

    @classmethod
    def from_summary_metadata(cls, summary: dict[str, Any]) -> TileLayout:
        """The layout a tiled dataset was acquired with (see ``summary_metadata``)."""
        try:
            origin = summary.get("ScopeflowTileOrigin_um", [0.0, 0.0])
            pixel = float(summary.get("PixelSize_um") or 1.0)
            affine = summary.get("ScopeflowPixelAffine", [pixel, 0.0, 0.0, pixel])
            return cls(
                origin_x_um=float(origin[0]),
                origin_y_um=float(origin[1]),
                width=int(summary["Width"]),
                height=int(summary["Height"]),
                overlap_x=int(summary["GridPixelOverlapX"]),
                overlap_y=int(summary["GridPixelOverlapY"]),
                affine=(float(affine[0]), float(affine[1]), float(affine[2]), float(affine[3])),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise TilingError(
                f"this dataset's summary metadata has no tile grid ({exc!r})"
            ) from exc


def pixel_affine(core: Any) -> tuple[float, float, float, float]:
    """The pixel-size affine's linear part (a, b, c, d), or the plain pixel size when
    the configuration defines no transform; ``TilingError`` without a pixel size."""
    try:
        a, b, _, c, d, _ = (float(v) for v in core.getPixelSizeAffine())
    except Exception:  # no pixel configuration matches the hardware's state
        a = b = c = d = 0.0
    if math.isfinite(a * d - b * c) and a * d - b * c != 0:
        return a, b, c, d
    size = float(core.getPixelSizeUm())
    if not size > 0:
        raise TilingError(
            "tiles need the pixel size, and none is calibrated for the current objective: "
            "set one in Devices > Pixel sizes"
        )
    return size, 0.0, 0.0, size
