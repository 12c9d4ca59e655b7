"""A tiled map as users read it: pycro-manager's multi-resolution NDTiff pyramid.

The folder holds ``Full resolution`` and ``Downsampled_x2``, ``Downsampled_x4``...,
each an NDTiff dataset whose images have ``row`` and ``column`` axes (what
``ndtiff.Dataset`` opens as an ``NDTiffPyramidDataset``). ``TiledDataset`` has that
class's reading API (``read_image(..., resolution_level=N)``, ``res_levels``,
``as_array(stitched=True, res_level=N)``), works while the map is being written, and
adds what a viewer needs: one level's pixels over a region of the map, reading only
the tiles that hold them.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
from ndtiff import NDTiffDataset

from app.storage.axes import given_axes
from app.storage.ndtiff_datasets import SavedNDTiffDataset
from app.storage.tile_pyramid import PlaneKey, Region, read_region

FULL_RESOLUTION = "Full resolution"
ROW, COLUMN = "row", "column"


def level_folder(level: int) -> str:
    """The folder of a pyramid level, as pycro-manager names it."""
    return FULL_RESOLUTION if level == 0 else f"Downsampled_x{2**level}"


def level_of_folder(name: str) -> int | None:
    """The pyramid level a folder holds (None: not a level's folder)."""
    if name == FULL_RESOLUTION:
        return 0
    factor = name.removeprefix("Downsampled_x")
    if factor != name and factor.isdigit() and int(factor) > 1:
        return int(factor).bit_length() - 1
    return None


def is_tiled_dataset(path: str | Path) -> bool:
    return (Path(path) / FULL_RESOLUTION).is_dir()


class TiledDataset:
    """The levels of a tiled map (``res_levels``: level -> ndtiff dataset) and its grid.

    ``overlap`` is ``(y, x)`` pixels, as ``ndtiff`` gives it; ``tile_shape`` is the
    ``(height, width)`` each tile keeps in the map, at every level.
    """

    def __init__(
        self,
        path: Path,
        summary_metadata: dict[str, Any],
        levels: dict[int, NDTiffDataset],
        tile_shape: tuple[int, int] | None = None,
    ) -> None:
        self.path = str(path)
        self.summary_metadata = summary_metadata
        self.overlap = np.array(
            [int(summary_metadata["GridPixelOverlapY"]), int(summary_metadata["GridPixelOverlapX"])]
        )
        self.res_levels: dict[int, NDTiffDataset] = dict(levels)
        self._tile_shape = tile_shape
        self._levels_lock = threading.Lock()
        self._finished = threading.Event()

    @classmethod
    def open(cls, path: str | Path) -> TiledDataset:
        """A tiled map saved on disk (by Scopeflow or pycro-manager)."""
        root = Path(path)
        levels: dict[int, NDTiffDataset] = {}
        with contextlib.redirect_stdout(io.StringIO()):  # ndtiff prints its progress
            for folder in root.iterdir():
                level = level_of_folder(folder.name)
                if level is not None and (folder / "NDTiff.index").is_file():
                    levels[level] = SavedNDTiffDataset(str(folder))
        if 0 not in levels:
            raise FileNotFoundError(f"{root} has no '{FULL_RESOLUTION}' folder: not a tiled map")
        full = levels[0]
        if not full.get_index_keys():
            raise FileNotFoundError(
                f"{root}: no tile was saved in this map (it was closed before its first "
                "tile), so there is nothing to open"
            )
        if "GridPixelOverlapX" not in full.summary_metadata:
            raise FileNotFoundError(f"{root}: its summary metadata has no tile overlap")
        dataset = cls(root, full.summary_metadata, levels)
        dataset.mark_finished()
        return dataset

    # ---- the writer's side (a live map) ----
    def add_level(self, level: int, dataset: NDTiffDataset) -> None:
        with self._levels_lock:
            self.res_levels = {**self.res_levels, level: dataset}

    def set_tile_shape(self, shape: tuple[int, int]) -> None:
        self._tile_shape = shape

    def mark_finished(self) -> None:
        self._finished.set()

    def is_finished(self) -> bool:
        return self._finished.is_set()

    def block_until_finished(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def image_count(self) -> int:
        """Full-resolution images saved so far, without listing them (a viewer asks
        often whether tiles arrived)."""
        return len(self.res_levels[0].index)

    def await_new_image(self, timeout: float | None = None) -> bool:
        """Wait until a tile arrives (True) or ``timeout`` passes (False)."""
        return bool(self.res_levels[0].await_new_image(timeout=timeout))

    # ---- ndtiff's reading API ----
    @property
    def axes(self) -> dict[str, Any]:
        axes: dict[str, Any] = self.res_levels[0].axes
        return axes

    @property
    def levels(self) -> int:
        """How many resolution levels there are now (1: full resolution only)."""
        return len(self.res_levels)

    @property
    def tile_shape(self) -> tuple[int, int]:
        if self._tile_shape is None:
            full = self.res_levels[0]
            if full.image_height is None:
                raise ValueError("no tile has been saved yet")
            self._tile_shape = (
                int(full.image_height) - int(self.overlap[0]),
                int(full.image_width) - int(self.overlap[1]),
            )
        return self._tile_shape

    def has_image(self, channel: Any = None, z: Any = None, time: Any = None,
                  position: Any = None, row: Any = None, column: Any = None,
                  resolution_level: int = 0, **others: Any) -> bool:  # fmt: skip
        level = self.res_levels.get(resolution_level)
        if level is None:
            return False
        return bool(level.has_image(**given_axes(channel, z, time, position, row, column, others)))

    def read_image(self, channel: Any = None, z: Any = None, time: Any = None,
                   position: Any = None, row: Any = None, column: Any = None,
                   resolution_level: int = 0, **others: Any) -> np.ndarray:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        image: np.ndarray = self._level(resolution_level).read_image(**axes)
        return image

    def read_metadata(self, channel: Any = None, z: Any = None, time: Any = None,
                      position: Any = None, row: Any = None, column: Any = None,
                      resolution_level: int = 0, **others: Any) -> dict[str, Any]:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        metadata: dict[str, Any] = self._level(resolution_level).read_metadata(**axes)
        return metadata

    def _level(self, level: int) -> NDTiffDataset:
        dataset = self.res_levels.get(level)
        if dataset is None:
            raise KeyError(
                f"this map has no resolution level {level} (it has {sorted(self.res_levels)}): "
                "a map gets its downsampled levels as it grows past one tile"
            )
        return dataset

    def get_channel_names(self) -> list[str]:
        """The channel axis's names, in the order their first tiles were saved (read
        from the tiles' axes: ndtiff's live datasets keep no channel list)."""
        names: list[str] = []
        for coordinates in self.res_levels[0].get_image_coordinates_list():
            name = coordinates.get("channel")
            if isinstance(name, str) and name not in names:
                names.append(name)
        return names

    def get_image_coordinates_list(self) -> list[dict[str, Any]]:
        return list(self.res_levels[0].get_image_coordinates_list())

    def get_index_keys(self, res_level: int = 0) -> list[Any]:
        return list(self.res_levels[res_level].get_index_keys())

    def close(self) -> None:
        for level in self.res_levels.values():
            level.close()

    # ---- the map ----
    def tiles(self, level: int, plane: dict[str, Any]) -> list[tuple[int, int]]:
        """(row, column) of each tile of ``plane`` (its axes but row and column) that
        ``level`` holds now."""
        key = frozenset(plane.items())
        found = []
        for coordinates in self.res_levels[level].get_image_coordinates_list():
            row, column = coordinates.get(ROW), coordinates.get(COLUMN)
            if row is None or column is None:
                continue
            rest = {k: v for k, v in coordinates.items() if k not in (ROW, COLUMN)}
            if frozenset(rest.items()) == key:
                found.append((int(row), int(column)))
        return found

    def read_tile(self, level: int, plane: PlaneKey, row: int, column: int) -> np.ndarray | None:
        """A tile as it sits in the map (full resolution: without the overlap's
        margins), or None where no tile was saved."""
        dataset = self.res_levels.get(level)
        axes = {**dict(plane), ROW: row, COLUMN: column}
        if dataset is None or not dataset.has_image(**axes):
            return None
        tile: np.ndarray = dataset.read_image(**axes)
        if level == 0:
            top, left = int(self.overlap[0]) // 2, int(self.overlap[1]) // 2
            height, width = self.tile_shape
            tile = tile[top : top + height, left : left + width]
        return tile

    def read_region(
        self, level: int, plane: dict[str, Any], y0: int, y1: int, x0: int, x1: int
    ) -> np.ndarray:
        """Level ``level``'s pixels over rows ``y0..y1``, columns ``x0..x1`` of the map
        (that level's pixels), zeros where no tile is; only the tiles there are read."""
        return read_region(
            self, level, frozenset(plane.items()), Region(y0, y1, x0, x1), self.tile_shape,
            self.dtype,
        )  # fmt: skip

    @property
    def dtype(self) -> np.dtype[Any]:
        full = self.res_levels[0]
        return np.dtype(full.dtype if full.dtype is not None else np.uint16)

    def as_array(
        self,
        axes: list[str] | None = None,
        stitched: bool = False,
        res_level: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """As ``ndtiff``'s pyramid: one level's dask array (``res_level``), or a list
        with every level's. ``stitched=True`` lays the tiles out as one image (full
        resolution without half the overlap on each side of each tile)."""
        if res_level is None:
            return [
                self.as_array(axes, stitched, level, **kwargs) for level in sorted(self.res_levels)
            ]
        dataset = self.res_levels[res_level]
        if not stitched:
            return dataset.as_array(axes=axes, **kwargs)
        names = list(axes) if axes is not None else list(dataset.axes)
        stack = {
            name: list(dataset.axes[name])
            for name in names
            if name not in kwargs and name not in (ROW, COLUMN)
        }
        rows, columns = list(dataset.axes[ROW]), list(dataset.axes[COLUMN])
        first_row, first_column = min(rows), min(columns)
        height, width = self.tile_shape
        chunks = (
            *((1,) * len(values) for values in stack.values()),
            (height,) * (max(rows) - first_row + 1),
            (width,) * (max(columns) - first_column + 1),
        )
        dtype = self.dtype

        def block(block_id: tuple[int, ...]) -> np.ndarray:
            plane = {name: stack[name][block_id[i]] for i, name in enumerate(stack)} | kwargs
            tile = self.read_tile(
                res_level, frozenset(plane.items()), first_row + block_id[-2],
                first_column + block_id[-1],
            )  # fmt: skip
            if tile is None:
                tile = np.zeros((height, width), dtype)
            return tile.reshape((1,) * len(stack) + tile.shape)

        return da.map_blocks(block, chunks=chunks, dtype=dtype, meta=np.empty((0, 0), dtype))
