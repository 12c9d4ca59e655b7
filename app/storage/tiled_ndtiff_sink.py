"""TiledNDTiffSink: tiles saved as pycro-manager saves a tiled acquisition.

Each image (with ``row`` and ``column`` axes) goes to ``Full resolution`` as it
arrives; the downsampled levels (``Downsampled_x2``, ``x4``...) are brought up to date
at once (``tile_pyramid.PyramidBuilder``), their tiles written in place as they are
refined, so a map can be opened and zoomed out while it is acquired without reading
every full-resolution pixel. Recently used tiles are kept in a small cache, since each
new tile's neighbours are read again to compute the pixels they share.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ndtiff.ndtiff_index import NDTiffIndexEntry, read_ndtiff_index

from app.storage.axes import given_axes, name_string_axes
from app.storage.ndtiff_datasets import LiveNDTiffDataset
from app.storage.ndtiff_writer import (
    NDTiffWriter,
    UnsupportedImageError,
    check_storable,
    unique_dataset_dir,
)
from app.storage.tile_pyramid import PlaneKey, PyramidBuilder, plane_key
from app.storage.tiled_dataset import COLUMN, ROW, TiledDataset, level_folder, level_of_folder

CACHE_BYTES = 128 * 1024**2

TileKey = tuple[int, PlaneKey, int, int]  # level, plane, row, column


class _TileCache:
    """The most recently used tiles, up to a number of bytes (least recent dropped)."""

    def __init__(self, limit_bytes: int) -> None:
        self._tiles: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._limit = limit_bytes

    def get(self, key: TileKey) -> np.ndarray | None:
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
        return tile

    def put(self, key: TileKey, tile: np.ndarray) -> None:
        old = self._tiles.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._tiles[key] = tile
        self._bytes += tile.nbytes
        while self._bytes > self._limit and len(self._tiles) > 1:
            _, dropped = self._tiles.popitem(last=False)
            self._bytes -= dropped.nbytes


def _entry_with_key(key: frozenset[tuple[str, Any]], read: NDTiffIndexEntry) -> NDTiffIndexEntry:
    """An index entry as read from a file, with its axes (ndtiff 3.1's reader leaves
    them out of the entry, which its own live datasets then cannot take)."""
    return NDTiffIndexEntry(
        key,
        read.pixel_type,
        read.pix_offset,
        read.image_width,
        read.image_height,
        read.metadata_offset,
        read.metadata_length,
        read.filename,
    )


class _LiveLevel(LiveNDTiffDataset):
    """A downsampled level while it is written. Its tiles change in place, so their
    pixels are read from the file each time: ndtiff's reader reads through a buffer,
    which would give back bytes it held from before a tile was refined."""

    def __init__(
        self,
        path: Path,
        summary: dict[str, Any],
        name: str,
        writer: NDTiffWriter,
        string_values: Mapping[str, Sequence[str]],
    ):
        """``string_values``: each string axis's values in the order the map got them
        (a channel given by its index, ``channel=0``, is the first)."""
        super().__init__(str(path), summary, name)
        self._writer = writer
        self._string_values = string_values
        self._entries: dict[frozenset[tuple[str, Any]], NDTiffIndexEntry] = {}

    def add_tile(self, axes: dict[str, Any], entry: NDTiffIndexEntry) -> None:
        self._entries[frozenset(axes.items())] = entry
        self.add_index_entry(entry)

    def read_image(self, channel: Any = None, z: Any = None, time: Any = None,
                   position: Any = None, row: Any = None, column: Any = None,
                   **others: Any) -> np.ndarray:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        named = name_string_axes(axes, self._string_values) or axes
        entry = self._entries.get(frozenset(named.items()))
        if entry is not None:
            return self._writer.read_pixels(entry)
        image: np.ndarray = super().read_image(**axes)  # not there: ndtiff says so
        return image


class TiledNDTiffSink:
    """Saves tiles to a multi-resolution NDTiff dataset (an ``ImageSink``): a new one
    (``create``) or one saved before, to go on with (``resume``). ``overlap`` is
    ``(x, y)`` pixels; ``max_level`` caps the number of downsampled levels (None: as
    many as the map's size needs)."""

    description = "the tiled NDTiff writer"
    stores_images = True

    def __init__(
        self,
        path: Path,
        summary: dict[str, Any],
        max_level: int | None = None,
        cache_bytes: int = CACHE_BYTES,
        resume: bool = False,
    ) -> None:
        if max_level is not None and max_level < 0:
            raise ValueError(f"max_multi_res_index must be 0 or more, got {max_level}")
        self._path = path
        self._summary = summary
        self._overlap = (int(summary["GridPixelOverlapX"]), int(summary["GridPixelOverlapY"]))
        self._max_level = max_level
        self._writers: dict[int, NDTiffWriter] = {}
        self._entries: dict[int, dict[tuple[PlaneKey, int, int], NDTiffIndexEntry]] = {0: {}}
        self._plane_axes: dict[PlaneKey, dict[str, Any]] = {}
        self._string_values: dict[str, list[str]] = {}  # in the order tiles came
        self._live: dict[int, LiveNDTiffDataset | _LiveLevel] = {}
        self._levels: dict[int, _LiveLevel] = {}  # the downsampled ones
        full = path / level_folder(0)
        self._writers[0] = NDTiffWriter(full, summary, path.name, append=resume)
        self._live[0] = LiveNDTiffDataset(str(full), summary, path.name)
        self._dataset = TiledDataset(path, summary, {0: self._live[0]})
        self._cache = _TileCache(cache_bytes)
        self._builder: PyramidBuilder | None = None
        self._image_shape: tuple[int, int] | None = None
        self._bit_depth: int | None = summary.get("BitDepth")
        self._finished = False
        self.images_written = 0
        self.bytes_written = 0
        if resume:
            self._take_saved_tiles()

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        name: str,
        summary_metadata: dict[str, Any],
        overlap: tuple[int, int],
        max_level: int | None = None,
        cache_bytes: int = CACHE_BYTES,
    ) -> TiledNDTiffSink:
        """A new map in ``directory/name_N``."""
        path = unique_dataset_dir(directory, name)
        summary = {
            **summary_metadata,
            "Prefix": path.name,
            "Directory": str(directory),
            "GridPixelOverlapX": overlap[0],
            "GridPixelOverlapY": overlap[1],
        }
        return cls(path, summary, max_level, cache_bytes)

    @classmethod
    def resume(cls, path: str | os.PathLike[str], max_level: int | None = None) -> TiledNDTiffSink:
        """Go on with a map saved before (by Scopeflow or pycro-manager): new tiles
        are added to it, in new files; the tiles there stay and feed the levels."""
        saved = TiledDataset.open(Path(path))
        summary = saved.summary_metadata
        saved.close()
        return cls(Path(path), summary, max_level, resume=True)

    def _take_saved_tiles(self) -> None:
        """The index of every level saved, as if its tiles had just been written; then
        the last tile saved is brought into the levels again, since a writer that
        stopped (a crash, a full disk) may have stopped before its levels were."""
        folders = {level_of_folder(f.name): f for f in self._path.iterdir()}
        downsampled = 0
        last: tuple[PlaneKey, int, int] | None = None
        for level in sorted(k for k in folders if k is not None):
            index_file = folders[level] / "NDTiff.index"
            if not index_file.is_file():
                continue
            index = read_ndtiff_index(index_file.read_bytes(), verbose=False)
            for key, read in index.items():
                axes = dict(key)
                entry = _entry_with_key(key, read)
                plane = self._note_plane(axes)
                place = (plane, int(axes[ROW]), int(axes[COLUMN]))
                if level == 0:
                    self._entries[0][place] = entry
                    self._live[0].add_index_entry(entry)
                    self._image_shape = (entry.image_height, entry.image_width)
                    last = place
                else:
                    self._level_writer(level, (entry.image_height, entry.image_width), True)
                    self._entries.setdefault(level, {})[place] = entry
                    self._levels[level].add_tile(axes, entry)
                    downsampled = max(downsampled, level)
        if self._image_shape is None or last is None:
            return
        builder = self._make_builder(self._image_shape, self._image_dtype())
        for plane, row, column in self._entries[0]:
            builder.know(plane, row, column)
        builder.levels = downsampled
        builder.repair(*last)

    def _note_plane(self, axes: dict[str, Any]) -> PlaneKey:
        """The plane of an image's axes, remembered with its string values' order."""
        plane = plane_key(axes)
        if plane not in self._plane_axes:
            self._plane_axes[plane] = {k: v for k, v in axes.items() if k not in (ROW, COLUMN)}
            for axis, value in self._plane_axes[plane].items():
                if isinstance(value, str):
                    known = self._string_values.setdefault(axis, [])
                    if value not in known:
                        known.append(value)
        return plane

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dataset(self) -> TiledDataset:
        return self._dataset

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        """Write a tile and bring the downsampled levels up to date; when this returns
        it can be read back from ``dataset``, at every level."""
        row, column = axes.get(ROW), axes.get(COLUMN)
        if not isinstance(row, int) or not isinstance(column, int):
            raise UnsupportedImageError(
                f"A tiled dataset keeps tiles: each image needs int 'row' and 'column' axes; "
                f"got axes {axes}"
            )
        check_storable(image)
        self._check_shape(image)
        entry = self._writers[0].write(axes, image, metadata, bit_depth=metadata.get("BitDepth"))
        self._live[0].add_index_entry(entry)
        self.images_written += 1
        self.bytes_written += image.nbytes
        plane = self._note_plane(axes)
        self._entries[0][(plane, row, column)] = entry
        self._cache.put((0, plane, row, column), self._kept_part(image))
        if self._builder is None:
            self._bit_depth = metadata.get("BitDepth", self._bit_depth)
            self._builder = self._make_builder(image.shape, image.dtype)
        self._builder.add_tile(plane, row, column)

    def _make_builder(self, image_shape: tuple[int, ...], dtype: np.dtype[Any]) -> PyramidBuilder:
        height, width = image_shape
        tile_shape = (height - self._overlap[1], width - self._overlap[0])
        self._builder = PyramidBuilder(self, tile_shape, dtype, self._max_level)
        self._dataset.set_tile_shape(tile_shape)
        return self._builder

    def _check_shape(self, image: np.ndarray) -> None:
        height, width = image.shape
        if self._image_shape is None:
            if self._overlap[0] >= width or self._overlap[1] >= height:
                raise UnsupportedImageError(
                    f"The tile overlap (x={self._overlap[0]}, y={self._overlap[1]} px) must "
                    f"be smaller than the tiles ({width}x{height} px)"
                )
            self._image_shape = (height, width)
        elif image.shape != self._image_shape:
            raise UnsupportedImageError(
                f"All tiles of a map must have one size: this one is {width}x{height}, the "
                f"first was {self._image_shape[1]}x{self._image_shape[0]} px"
            )

    def _kept_part(self, image: np.ndarray) -> np.ndarray:
        """The part of a full-resolution tile the map shows (half the overlap off each side)."""
        x, y = self._overlap
        height, width = image.shape
        return image[y // 2 : height - (y - y // 2), x // 2 : width - (x - x // 2)]

    # ---- the LevelStore the pyramid builder works on ----
    def read_tile(self, level: int, plane: PlaneKey, row: int, column: int) -> np.ndarray | None:
        key = (level, plane, row, column)
        tile = self._cache.get(key)
        if tile is not None:
            return tile
        entry = self._entries.get(level, {}).get((plane, row, column))
        if entry is None:
            return None
        tile = self._writers[level].read_pixels(entry)
        if level == 0:
            tile = self._kept_part(tile)
        self._cache.put(key, tile)
        return tile

    def tile_to_update(self, level: int, plane: PlaneKey, row: int, column: int) -> np.ndarray:
        tile = self.read_tile(level, plane, row, column)
        if tile is None:
            assert self._builder is not None
            tile = np.zeros(self._builder.tile_shape, self._image_dtype())
            self._cache.put((level, plane, row, column), tile)
        return tile

    def _image_dtype(self) -> np.dtype[Any]:
        entry = next(iter(self._entries[0].values()))
        return np.dtype(np.uint8 if entry.pixel_type == NDTiffIndexEntry.EIGHT_BIT else np.uint16)

    def write_rows(
        self, level: int, plane: PlaneKey, row: int, column: int, tile: np.ndarray, y0: int, y1: int
    ) -> None:
        entries = self._entries.setdefault(level, {})
        entry = entries.get((plane, row, column))
        if entry is None:
            axes = {**self._plane_axes[plane], ROW: row, COLUMN: column}
            metadata = {
                "Axes": axes,
                "ScopeflowResolutionLevel": level,
                "DownsampleFactor": 2**level,
            }
            entry = self._level_writer(level, tile.shape).write(
                axes, tile, metadata, bit_depth=self._bit_depth
            )
            entries[(plane, row, column)] = entry
            self._levels[level].add_tile(axes, entry)
        else:
            self._writers[level].overwrite_rows(entry, tile, y0, y1)
        self._cache.put((level, plane, row, column), tile)

    def _level_writer(
        self, level: int, tile_shape: tuple[int, ...], append: bool = False
    ) -> NDTiffWriter:
        writer = self._writers.get(level)
        if writer is None:
            summary = {**self._summary, "Height": tile_shape[0], "Width": tile_shape[1]}
            folder = self._path / level_folder(level)
            writer = self._writers[level] = NDTiffWriter(folder, summary, self._path.name, append)
            live = self._levels[level] = _LiveLevel(
                folder, summary, self._path.name, writer, self._string_values
            )
            self._live[level] = live
            self._dataset.add_level(level, live)
        return writer

    def tiles(self, level: int, plane: PlaneKey) -> list[tuple[int, int]]:
        return [(r, c) for (p, r, c) in self._entries.get(level, {}) if p == plane]

    def finish(self) -> None:
        """Close every level's files; the dataset stays readable. Safe to call twice."""
        if self._finished:
            return
        self._finished = True
        try:
            for writer in self._writers.values():
                writer.close()
        finally:
            for live in self._live.values():
                live.mark_finished()
            self._dataset.mark_finished()
