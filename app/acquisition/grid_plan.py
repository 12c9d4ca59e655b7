"""The Acquisition panel's tile grid: which tiles, where the stage goes for each, and
the grid as useq-schema's grid plan in a settings file.

A grid is described the way a microscopist sets it up: a number of rows and columns
centred on a point (the current position, or each position of the list), or the area
between two stage positions ("Corner 1 here", "Corner 2 here"). Its overlap is in camera
pixels, as pycro-manager's ``tile_overlap`` is, because the stitched map is made of
pixels: tiles that overlap by whole pixels stitch without resampling.

The stage positions come from ``TileLayout``, so a tile's place in the stitched map and
the stage position it was acquired at come from the same transform (the pixel-size
affine included). Row 0 is at the smallest stage y in camera terms (the top of the
image), column 0 at the left; rows and columns count from 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import useq

from app.acquisition.tiles import COLUMN_AXIS, ROW_AXIS, TileLayout, TilingError, pixel_affine

Point = tuple[float, float]


class GridMode(Enum):
    ROWS_COLUMNS = "rows_columns"  # a number of rows and columns, centred on a point
    CORNERS = "corners"  # every tile needed to cover two stage positions' fields


class GridCentre(Enum):
    CURRENT = "current"  # around the stage position when the acquisition starts
    EACH_POSITION = "each_position"  # around each position of the position list


@dataclass(frozen=True)
class CameraField:
    """The camera's field: its size in pixels and the pixel-to-stage transform (a, b,
    c, d in µm per pixel, as ``TileLayout.affine``). Everything a grid needs to know of
    the microscope, so the grid itself is computed without one."""

    width: int
    height: int
    affine: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 1.0)

    @classmethod
    def from_core(cls, core: Any) -> CameraField:
        """The current camera and pixel size (``TilingError`` without a pixel size)."""
        return cls(int(core.getImageWidth()), int(core.getImageHeight()), pixel_affine(core))

    @property
    def size_um(self) -> Point:
        """The field's width and height on the stage, in µm (what useq calls the FOV)."""
        a, b, c, d = self.affine
        return self.width * math.hypot(a, c), self.height * math.hypot(b, d)


@dataclass(frozen=True)
class Tile:
    """One tile of a grid: its indices (the ``row``/``column`` axes) and stage position."""

    row: int
    column: int
    x: float
    y: float


@dataclass(frozen=True)
class GridPlan:
    """The panel's grid. ``overlap`` is (x, y) camera pixels; ``corner1``/``corner2``
    are stage positions (µm) used in ``GridMode.CORNERS``; ``centre`` says where a
    rows × columns grid is centred (a grid from corners is where its corners are)."""

    mode: GridMode = GridMode.ROWS_COLUMNS
    rows: int = 1
    columns: int = 1
    overlap: tuple[int, int] = (0, 0)
    corner1: Point | None = None
    corner2: Point | None = None
    centre: GridCentre = GridCentre.CURRENT

    def __post_init__(self) -> None:
        if self.rows < 1 or self.columns < 1:
            raise TilingError(
                f"a grid needs at least one row and one column, got {self.rows}x{self.columns}"
            )
        if self.overlap[0] < 0 or self.overlap[1] < 0:
            raise TilingError(f"the overlap must not be negative, got {self.overlap}")

    @property
    def around_each_position(self) -> bool:
        """Whether the grid repeats around each listed position (rows × columns only)."""
        return self.mode is GridMode.ROWS_COLUMNS and self.centre is GridCentre.EACH_POSITION

    def _corners(self) -> tuple[Point, Point]:
        if self.corner1 is None or self.corner2 is None:
            raise TilingError(
                "a grid from two corners needs both: move the stage to each corner and "
                "press 'Corner 1 here' and 'Corner 2 here'"
            )
        return self.corner1, self.corner2

    def _base(self, camera: CameraField, origin: Point) -> TileLayout:
        return TileLayout(
            origin_x_um=origin[0],
            origin_y_um=origin[1],
            width=camera.width,
            height=camera.height,
            overlap_x=self.overlap[0],
            overlap_y=self.overlap[1],
            affine=camera.affine,
        )

    def shape(self, camera: CameraField) -> tuple[int, int]:
        """(rows, columns): as set, or as many as cover both corners' fields."""
        if self.mode is GridMode.ROWS_COLUMNS:
            return self.rows, self.columns
        (dy, dx), layout = self._corner_span(camera)
        step_y, step_x = layout.step
        return _tiles_over(abs(dy), step_y), _tiles_over(abs(dx), step_x)

    def _corner_span(self, camera: CameraField) -> tuple[Point, TileLayout]:
        """Corner 2 from corner 1 in camera pixels (y, x), and a layout at corner 1."""
        first, second = self._corners()
        layout = self._base(camera, first)
        y0, x0 = layout.pixel_at_stage(*first)
        y1, x1 = layout.pixel_at_stage(*second)
        return (y1 - y0, x1 - x0), layout

    def count(self, camera: CameraField) -> int:
        """How many tiles the grid has (around one point)."""
        rows, columns = self.shape(camera)
        return rows * columns

    def layout(self, camera: CameraField, centre: Point | None = None) -> TileLayout:
        """The grid's ``TileLayout``: tile (0, 0)'s stage position as its origin.

        Rows × columns: the grid's centre is ``centre`` (required). From corners: tile
        (0, 0) is the corner nearest the image's top left, so the first tile is centred
        on a corner and the last covers the other (``centre`` is not used)."""
        if self.mode is GridMode.CORNERS:
            (dy, dx), at_first = self._corner_span(camera)
            # the grid starts at the smaller of the two corners along each camera axis
            origin = _displace(at_first, min(dx, 0.0), min(dy, 0.0))
            return self._base(camera, origin)
        if centre is None:
            raise TilingError("a rows x columns grid needs the position it is centred on")
        at_centre = self._base(camera, centre)
        step_y, step_x = at_centre.step
        origin = _displace(
            at_centre, -(self.columns - 1) * step_x / 2, -(self.rows - 1) * step_y / 2
        )
        return self._base(camera, origin)

    def tiles(self, camera: CameraField, centre: Point | None = None) -> list[Tile]:
        """Every tile and its stage position, in the order they are acquired: row by
        row, every other row backwards (a snake), so each move is one tile."""
        layout = self.layout(camera, centre)
        rows, columns = self.shape(camera)
        return [
            Tile(row, column, *layout.stage_position(row, column))
            for row, column in snake(rows, columns)
        ]


def snake(rows: int, columns: int) -> Iterator[tuple[int, int]]:
    """(row, column) row by row, odd rows right to left (useq's ``row_wise_snake``)."""
    for row in range(rows):
        order = range(columns) if row % 2 == 0 else range(columns - 1, -1, -1)
        for column in order:
            yield row, column


def _tiles_over(span_px: float, step_px: int) -> int:
    """Tiles whose centres, ``step_px`` apart, reach ``span_px`` from the first (a
    rounding error of a stage reading does not add a tile)."""
    return math.ceil(span_px / step_px - 1e-6) + 1 if span_px > 0 else 1


def _displace(layout: TileLayout, px: float, py: float) -> Point:
    """The stage position ``px``, ``py`` camera pixels from the layout's origin."""
    a, b, c, d = layout.affine
    return layout.origin_x_um + a * px + b * py, layout.origin_y_um + c * px + d * py


def tile_events(
    events: Sequence[dict[str, Any]], grid: GridPlan, camera: CameraField, here: Point | None
) -> list[dict[str, Any]]:
    """The events of an acquisition without a grid, repeated for each tile.

    Events that share a time point and a position (the channels and Z slices taken
    there) are repeated as a group for each tile, in the snake's order: the stage
    moves once per tile, and the channels and Z slices of a tile stay together. Each
    event gets the ``row`` and ``column`` axes and the tile's ``x``/``y``; around each
    listed position the centre is that position's ``x``/``y``, else ``here`` (the
    stage position now). ``TilingError`` if an event has no position to centre on."""
    cache: dict[Point | None, list[Tile]] = {}

    def tiles_around(centre: Point | None) -> list[Tile]:
        if centre not in cache:
            cache[centre] = grid.tiles(camera, centre)
        return cache[centre]

    out: list[dict[str, Any]] = []
    for group in _groups(events):
        centre = here
        if grid.around_each_position:
            first = group[0]
            if "x" not in first or "y" not in first:
                raise TilingError(
                    f"the grid is around each listed position, but {first!r} has none"
                )
            centre = (float(first["x"]), float(first["y"]))
        for tile in tiles_around(centre):
            for event in group:
                axes = {**event["axes"], ROW_AXIS: tile.row, COLUMN_AXIS: tile.column}
                out.append({**event, "axes": axes, "x": tile.x, "y": tile.y})
    return out


def _groups(events: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Runs of consecutive events at the same time point and position."""
    group: list[dict[str, Any]] = []
    key: tuple[Any, Any] | None = None
    for event in events:
        axes = event["axes"]
        here = (axes.get("time"), axes.get("position"))
        if group and here != key:
            yield group
            group = []
        key = here
        group.append(event)
    if group:
        yield group


# ------------------------------------------------------------ useq-schema's grid plans
UseqGrid = useq.GridRowsColumns | useq.GridFromEdges


def grid_to_useq(grid: GridPlan, camera: CameraField) -> UseqGrid:
    """The grid as useq-schema writes it: ``overlap`` as a percentage of the field of
    view, ``fov_width``/``fov_height`` in µm. A grid from corners becomes the area's
    outer edges (``GridFromEdges``: each corner's field of view, whole). useq numbers
    rows towards -y, the panel towards the image's bottom: a runner reading the file
    (pymmcore-plus) covers the same area, its tiles numbered and visited in another
    order."""
    width_um, height_um = camera.size_um
    overlap = (100 * grid.overlap[0] / camera.width, 100 * grid.overlap[1] / camera.height)
    common: dict[str, Any] = {
        "overlap": overlap,
        "fov_width": width_um,
        "fov_height": height_um,
        "mode": useq.OrderMode.row_wise_snake,
    }
    if grid.mode is GridMode.ROWS_COLUMNS:
        # centred on the position: useq's default ``relative_to``
        return useq.GridRowsColumns(rows=grid.rows, columns=grid.columns, **common)
    (x1, y1), (x2, y2) = grid._corners()
    return useq.GridFromEdges(
        left=min(x1, x2) - width_um / 2,
        right=max(x1, x2) + width_um / 2,
        top=min(y1, y2) - height_um / 2,  # the image's top is the smaller stage y
        bottom=max(y1, y2) + height_um / 2,
        **common,
    )


def grid_from_useq(
    plan: Any, camera: CameraField, centre: GridCentre = GridCentre.CURRENT
) -> tuple[GridPlan, list[str]]:
    """The panel's grid for a useq grid plan, and what of it the panel does not keep.

    useq's overlap is a percentage of the field of view: it is turned into whole pixels
    of the current camera, rounded, so a percentage saved elsewhere (or with another
    camera size) comes back as the nearest pixel overlap, not exactly. The panel
    acquires in a row-wise snake; another order is said. ``TilingError`` for a grid
    plan the panel cannot show (a polygon, random points, a width and height)."""
    if not isinstance(plan, useq.GridRowsColumns | useq.GridFromEdges):
        raise TilingError(f"the grid plan {type(plan).__name__} is not one the panel shows")
    problems: list[str] = []
    overlap = (
        min(round(plan.overlap[0] * camera.width / 100), camera.width - 1),
        min(round(plan.overlap[1] * camera.height / 100), camera.height - 1),
    )
    if plan.mode is not useq.OrderMode.row_wise_snake:
        problems.append(
            f"the grid's order {plan.mode.value!r} is acquired here as a row-wise snake"
        )
    if isinstance(plan, useq.GridRowsColumns):
        if plan.relative_to.value != "center":  # useq does not export its RelativeTo
            problems.append("a grid placed by its top-left tile is centred here")
        return GridPlan(
            GridMode.ROWS_COLUMNS, plan.rows, plan.columns, overlap, centre=centre
        ), problems
    width_um, height_um = camera.size_um
    width_um, height_um = plan.fov_width or width_um, plan.fov_height or height_um
    x_low, x_high = _centres_within(plan.left, plan.right, width_um)
    y_low, y_high = _centres_within(plan.top, plan.bottom, height_um)
    grid = GridPlan(
        GridMode.CORNERS, overlap=overlap, corner1=(x_low, y_low), corner2=(x_high, y_high)
    )
    return grid, problems


def _centres_within(edge: float, other: float, size: float) -> Point:
    """The first and last field centres inside two outer edges (one, if they are
    closer than a field)."""
    low, high = sorted((edge, other))
    first, last = low + size / 2, high - size / 2
    if last < first:
        first = last = (low + high) / 2
    return first, last
