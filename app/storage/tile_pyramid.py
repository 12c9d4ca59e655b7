"""The downsampled levels of a tiled map, kept up to date as full-resolution tiles arrive.

The rule this module keeps: pixel (i, j) of level L is the mean of pixels (2i..2i+1,
2j..2j+1) of level L-1, where level 0 is the stitched full-resolution map (each tile
without half the overlap on each side, as ``ndtiff``'s ``as_array(stitched=True)``
lays them out). Every level is cut into tiles of the size a full-resolution tile keeps
in the map, indexed by ``row`` and ``column`` (pycro-manager's pyramid, which
``ndtiff``'s ``NDTiffPyramidDataset`` reads). A region no tile covers reads as zeros.

When a tile arrives, each level recomputes only the pixels whose 2x2 blocks it touched,
reading the level below from the store: a pixel that straddles two tiles is right once
both have arrived. A map that grows gets new levels (until the whole of it fits in
about one tile) computed from the level below, unless the number of levels is capped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

#: the axes of an image other than row and column: one pyramid per plane
PlaneKey = frozenset[tuple[str, Any]]


@dataclass(frozen=True)
class Region:
    """Rows ``y0..y1`` and columns ``x0..x1`` (ends excluded) of one level's map, in
    that level's pixels (negative where tiles have negative rows or columns)."""

    y0: int
    y1: int
    x0: int
    x1: int

    def halved(self) -> Region:
        """The region of the next level whose pixels this region's pixels feed."""
        return Region(self.y0 // 2, -(-self.y1 // 2), self.x0 // 2, -(-self.x1 // 2))


class TileReader(Protocol):
    """``read_tile`` gives a tile as it is in the map (level 0: without the overlap's
    margins), or None when the tile does not exist; the caller does not change it."""

    def read_tile(
        self, level: int, plane: PlaneKey, row: int, column: int
    ) -> np.ndarray | None: ...


class LevelStore(TileReader, Protocol):
    """Where a pyramid's tiles are kept (the tiled NDTiff sink's files).

    ``tile_to_update`` gives a downsampled tile to change in place (zeros when new);
    ``write_rows`` then stores its rows ``y0..y1`` (all of it the first time).
    """

    def tile_to_update(self, level: int, plane: PlaneKey, row: int, column: int) -> np.ndarray: ...

    def write_rows(
        self, level: int, plane: PlaneKey, row: int, column: int, tile: np.ndarray, y0: int, y1: int
    ) -> None: ...

    def tiles(self, level: int, plane: PlaneKey) -> Iterable[tuple[int, int]]: ...


def levels_for_span(rows: int, columns: int) -> int:
    """Downsampled levels a map of ``rows`` x ``columns`` tiles gets: enough for the
    whole map to be about one tile at the lowest level."""
    span = max(rows, columns)
    return math.ceil(math.log2(span)) if span > 1 else 0


def downsample2(region: np.ndarray) -> np.ndarray:
    """Each 2x2 block's mean, rounded (the region's sides are even). Summed in place
    in one quarter-size buffer: the pyramid's cost is mostly this."""
    total = region[0::2, 0::2].astype(np.uint32)
    total += region[1::2, 0::2]
    total += region[0::2, 1::2]
    total += region[1::2, 1::2]
    total += 2
    total >>= 2
    return total.astype(region.dtype)


def plane_key(axes: dict[str, Any]) -> PlaneKey:
    """The plane an image's axes name: all of them but row and column."""
    return frozenset((k, v) for k, v in axes.items() if k not in ("row", "column"))


def tiles_of(region: Region, tile_shape: tuple[int, int]) -> Iterable[tuple[int, int]]:
    """(row, column) of each tile that holds part of ``region``."""
    height, width = tile_shape
    for row in range(region.y0 // height, (region.y1 - 1) // height + 1):
        for column in range(region.x0 // width, (region.x1 - 1) // width + 1):
            yield row, column


def read_region(
    store: TileReader,
    level: int,
    plane: PlaneKey,
    region: Region,
    tile_shape: tuple[int, int],
    dtype: np.dtype[Any],
) -> np.ndarray:
    """A level's pixels over ``region``, from the tiles that hold them (zeros where
    none); a region within one tile is a view of it (not to be changed)."""
    height, width = tile_shape
    row, column = region.y0 // height, region.x0 // width
    top, left = row * height, column * width
    if region.y1 <= top + height and region.x1 <= left + width:  # within one tile: a view
        tile = store.read_tile(level, plane, row, column)
        if tile is not None:
            return tile[region.y0 - top : region.y1 - top, region.x0 - left : region.x1 - left]
    out = np.zeros((region.y1 - region.y0, region.x1 - region.x0), dtype)
    for row, column in tiles_of(region, tile_shape):
        tile = store.read_tile(level, plane, row, column)
        if tile is None:
            continue
        top, left = row * height, column * width
        y0, y1 = max(region.y0, top), min(region.y1, top + height)
        x0, x1 = max(region.x0, left), min(region.x1, left + width)
        out[y0 - region.y0 : y1 - region.y0, x0 - region.x0 : x1 - region.x0] = tile[
            y0 - top : y1 - top, x0 - left : x1 - left
        ]
    return out


class PyramidBuilder:
    """Keeps a store's downsampled levels up to date, tile after tile (one thread)."""

    def __init__(
        self,
        store: LevelStore,
        tile_shape: tuple[int, int],
        dtype: np.dtype[Any],
        max_level: int | None = None,
    ) -> None:
        self._store = store
        self.tile_shape = tile_shape
        self._dtype = dtype
        self._max_level = max_level
        self.levels = 0  # downsampled levels made so far
        self._rows: tuple[int, int] | None = None
        self._columns: tuple[int, int] | None = None
        self._planes: list[PlaneKey] = []

    def know(self, plane: PlaneKey, row: int, column: int) -> None:
        """A tile saved before (a map gone on with): its place counts, nothing is
        recomputed."""
        if plane not in self._planes:
            self._planes.append(plane)
        self._rows = _widened(self._rows, row)
        self._columns = _widened(self._columns, column)

    def repair(self, plane: PlaneKey, row: int, column: int) -> None:
        """A map gone on with: the last tile its writer saved is brought into every
        level again, and the coarsest level is made again whole (a writer that stopped
        during ``add_tile`` or while filling a new level left them short)."""
        self.add_tile(plane, row, column)
        if self.levels:
            self._fill(self.levels)

    def add_tile(self, plane: PlaneKey, row: int, column: int) -> None:
        """Update every level for a full-resolution tile just stored."""
        if plane not in self._planes:
            self._planes.append(plane)
        self._grow(row, column)
        height, width = self.tile_shape
        region = Region(row * height, (row + 1) * height, column * width, (column + 1) * width)
        for level in range(1, self.levels + 1):
            region = self._update(level, plane, region)

    def _grow(self, row: int, column: int) -> None:
        self._rows = rows = _widened(self._rows, row)
        self._columns = columns = _widened(self._columns, column)
        wanted = levels_for_span(rows[1] - rows[0] + 1, columns[1] - columns[0] + 1)
        if self._max_level is not None:
            wanted = min(wanted, self._max_level)
        while self.levels < wanted:
            self.levels += 1
            self._fill(self.levels)

    def _fill(self, level: int) -> None:
        """A new level, from every tile of the level below (the tile just stored, at
        level 0, is among them)."""
        height, width = self.tile_shape
        for plane in self._planes:
            for row, column in list(self._store.tiles(level - 1, plane)):
                below = Region(
                    row * height, (row + 1) * height, column * width, (column + 1) * width
                )
                self._update(level, plane, below)

    def _update(self, level: int, plane: PlaneKey, below: Region) -> Region:
        """Recompute the pixels of ``level`` that ``below`` (of level - 1) feeds."""
        region = below.halved()
        source = Region(2 * region.y0, 2 * region.y1, 2 * region.x0, 2 * region.x1)
        pixels = downsample2(
            read_region(self._store, level - 1, plane, source, self.tile_shape, self._dtype)
        )
        self._write_region(level, plane, region, pixels)
        return region

    def _write_region(
        self, level: int, plane: PlaneKey, region: Region, pixels: np.ndarray
    ) -> None:
        height, width = self.tile_shape
        for row, column in tiles_of(region, self.tile_shape):
            top, left = row * height, column * width
            y0, y1 = max(region.y0, top), min(region.y1, top + height)
            x0, x1 = max(region.x0, left), min(region.x1, left + width)
            tile = self._store.tile_to_update(level, plane, row, column)
            tile[y0 - top : y1 - top, x0 - left : x1 - left] = pixels[
                y0 - region.y0 : y1 - region.y0, x0 - region.x0 : x1 - region.x0
            ]
            self._store.write_rows(level, plane, row, column, tile, y0 - top, y1 - top)


def _widened(span: tuple[int, int] | None, value: int) -> tuple[int, int]:
    return (value, value) if span is None else (min(span[0], value), max(span[1], value))
