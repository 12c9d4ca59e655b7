"""OME-Zarr as a second format: ``Acquisition(directory, name, storage="ome-zarr")``.

Written with tensorstore (Google's array storage library, also what pymmcore-plus's
OME-Zarr writer uses): one OME-NGFF 0.5 image (Zarr v3) per position, ``(t, c, z, y,
x)``, one chunk per plane. Scopeflow's acquisitions take events as they come (feedback
adds some), so an array's extent is not known when its first plane arrives: it grows as
planes come (with one chunk per plane, growing rewrites the array's metadata, never
its data). acquire-zarr, measured beside it, can grow only its first dimension.

Each image's metadata goes to ``scopeflow_metadata.jsonl`` beside the arrays, one line
per image with its axes, as NDTiff keeps metadata with each image; it is also the index
a reader uses to know which planes exist. Planes never written read as zeros (the
arrays' fill value), as in any Zarr array.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from app.storage.ndtiff_writer import check_storable, json_default, unique_dataset_dir
from app.storage.sink import check_not_deleted

METADATA_FILE = "scopeflow_metadata.jsonl"
OME_VERSION = "0.5"
DIMENSIONS = ("t", "c", "z", "y", "x")
#: the acquisition axes an OME-Zarr image has a dimension for (position: one image each)
AXIS_DIMENSION = {"time": 0, "channel": 1, "z": 2}
SUPPORTED_AXES = frozenset({*AXIS_DIMENSION, "position"})
#: planes on their way to disk at most (each held in memory until it is there)
PENDING_WRITES = 16


class UnsupportedAxesError(ValueError):
    """An image whose axes OME-Zarr has no dimension for."""


def _tensorstore() -> Any:
    import tensorstore  # imported when a dataset is written or read, not with the app

    return tensorstore


class OMEZarrDataset:
    """What users read back (the ``ReadableDataset`` protocol), while it is written
    (from the sink) and afterwards (``open_dataset`` on the folder)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offsets: dict[frozenset[tuple[str, Any]], tuple[int, int]] = {}
        self._axes: dict[str, list[Any]] = {}
        self._channels: list[str] = []
        self._positions: list[Any] = []
        self._arrays: dict[int, Any] = {}
        #: planes written but not yet committed to disk, served from memory meanwhile
        self._held: dict[frozenset[tuple[str, Any]], np.ndarray] = {}
        # the saving thread records while the viewer, composites and futures read
        self._lock = threading.RLock()
        self.summary_metadata: dict[str, Any] = {}
        root = self.path / "zarr.json"
        if root.is_file():
            attributes = json.loads(root.read_text(encoding="utf-8")).get("attributes", {})
            self.summary_metadata = dict(attributes.get("scopeflow", {}).get("summary", {}))
        index = self.path / METADATA_FILE
        if index.is_file():
            with open(index, "rb") as file:
                offset = 0
                for line in file:
                    self.record(json.loads(line)["axes"], offset, len(line))
                    offset += len(line)

    # ------------------------------------------------------------ the sink's side
    def record(self, axes: Mapping[str, Any], offset: int, length: int) -> None:
        """An image written: its axes and where its metadata line is. From here on it
        can be read (its plane is on disk or held, its metadata line written)."""
        with self._lock:
            self._offsets[frozenset(axes.items())] = (offset, length)
            for name, value in axes.items():
                values = self._axes.setdefault(name, [])
                if value not in values:
                    values.append(value)
            channel = axes.get("channel")
            if channel is not None and channel not in self._channels:
                self._channels.append(channel)
            position = axes.get("position", 0)
            if position not in self._positions:
                self._positions.append(position)

    @property
    def positions(self) -> list[Any]:
        """The position axis's values, in the order of their images (0: no positions)."""
        with self._lock:
            return list(self._positions)

    def plane_of(self, axes: Mapping[str, Any]) -> tuple[int, tuple[int, int, int]]:
        """The image (position) and the (t, c, z) plane of an image's axes; for axes
        not recorded yet, where they will go (the next position or channel)."""
        with self._lock:
            where = axes.get("position", 0)
            position = (
                self._positions.index(where) if where in self._positions else len(self._positions)
            )
            channel = 0
            if "channel" in axes:
                name = axes["channel"]
                channel = (
                    self._channels.index(name) if name in self._channels else len(self._channels)
                )
            return position, (int(axes.get("time", 0)), channel, int(axes.get("z", 0)))

    def _array(self, position: int, reopen: bool = False) -> Any:
        with self._lock:
            array = None if reopen else self._arrays.get(position)
            if array is None:
                spec = {"driver": "zarr3", "kvstore": _file(self.path / str(position) / "0")}
                array = self._arrays[position] = _tensorstore().open(spec).result()
            return array

    # ------------------------------------------------------------ ReadableDataset
    @property
    def axes(self) -> dict[str, Any]:
        with self._lock:
            return {name: set(values) for name, values in self._axes.items()}

    def has_image(self, **axes: Any) -> bool:
        with self._lock:
            return frozenset(axes.items()) in self._offsets

    def hold(self, axes: Mapping[str, Any], image: np.ndarray) -> None:
        """A plane whose write is on its way to disk: read from memory until it is."""
        with self._lock:
            self._held[frozenset(axes.items())] = image

    def release(self, axes: Mapping[str, Any]) -> None:
        with self._lock:
            self._held.pop(frozenset(axes.items()), None)

    def read_image(self, **axes: Any) -> np.ndarray:
        key = frozenset(axes.items())
        with self._lock:
            if key not in self._offsets:
                raise KeyError(f"no image with axes {axes} in {self.path}")
            held = self._held.get(key)
            if held is not None:
                return held.copy()
        position, (t, c, z) = self.plane_of(axes)
        array = self._array(position)
        if t >= array.shape[0] or c >= array.shape[1] or z >= array.shape[2]:
            array = self._array(position, reopen=True)  # grown since it was opened
        return np.asarray(array[t, c, z].read().result())

    def read_metadata(self, **axes: Any) -> dict[str, Any]:
        with self._lock:
            found = self._offsets.get(frozenset(axes.items()))
        if found is None:
            raise KeyError(f"no image with axes {axes} in {self.path}")
        offset, length = found
        with open(self.path / METADATA_FILE, "rb") as file:
            file.seek(offset)
            return dict(json.loads(file.read(length))["metadata"])

    def get_channel_names(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    def get_image_coordinates_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(key) for key in self._offsets]

    def close(self) -> None:
        self._arrays.clear()


class OMEZarrSink:
    """Saves images into a new ``directory/name_N`` OME-Zarr dataset (an ``ImageSink``).
    One saving thread calls ``put``; each plane is on disk (written, not only queued)
    when ``put`` returns, so it can be read back at once."""

    description = "the OME-Zarr writer"
    stores_images = True

    def __init__(
        self,
        directory: str | os.PathLike[str],
        name: str,
        summary_metadata: dict[str, Any],
        channel_colour: Callable[[str, int], str] | None = None,
    ) -> None:
        self._path: Path = unique_dataset_dir(directory, name)
        #: a channel's display colour as RRGGBB hex, from its name and place
        self._channel_colour = channel_colour or (lambda name, index: "FFFFFF")
        self._path.mkdir(parents=True, exist_ok=True)
        self._summary = {**summary_metadata, "Prefix": self._path.name}
        self._dataset = OMEZarrDataset(self._path)
        self._metadata_file = open(self._path / METADATA_FILE, "ab")  # noqa: SIM115
        self._offset = 0
        self._writers: dict[int, Any] = {}
        self._shapes: dict[int, list[int]] = {}
        self._labels: dict[int, Any] = {}  # each image's position axis value
        self._pixel_size_um: float | None = None
        self._z_steps: dict[int, float] = {}
        self._images = 0
        self._bytes = 0
        self._pending: deque[tuple[dict[str, Any], Any]] = deque()
        self._finished = False
        self._write_root()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dataset(self) -> OMEZarrDataset:
        return self._dataset

    @property
    def images_written(self) -> int:
        return self._images

    @property
    def bytes_written(self) -> int:
        return self._bytes

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        try:
            self._put(axes, image, metadata)
        except Exception:
            self._check_not_deleted()  # the likeliest cause of a failed write: said so
            raise

    def _put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        check_storable(image)
        unsupported = sorted(set(axes) - SUPPORTED_AXES)
        if unsupported:
            raise UnsupportedAxesError(
                f"OME-Zarr has dimensions for time, channel, z and one image per position; "
                f"this image also has the axes {unsupported} (save as NDTiff for those)"
            )
        record = {"axes": axes, "metadata": metadata}
        line = json.dumps(record, default=json_default).encode() + b"\n"
        # everything that can fail first; the image is recorded (readable) last
        position, plane = self._dataset.plane_of(axes)
        writer = self._writer_for(position, image, axes.get("position", 0))
        writer = self._grown(position, writer, plane)
        # the write goes on in tensorstore's threads; the plane is read from memory until
        # it is on disk, so put returns with the image readable
        self._dataset.hold(axes, image)
        try:
            commit = writer[plane].write(image).commit
            self._metadata_file.write(line)
            self._metadata_file.flush()
            self._check_not_deleted()
        except BaseException:
            self._dataset.release(axes)
            raise
        self._pending.append((axes, commit))
        self._dataset.record(axes, self._offset, len(line))
        self._offset += len(line)
        self._images += 1
        self._bytes += image.nbytes
        self._remember_scale(metadata, plane[2])
        self._settle(PENDING_WRITES)

    def finish(self) -> None:
        """The OME metadata (channels, scale) written; the files on disk."""
        if self._finished:
            return
        self._finished = True
        try:
            self._settle(0)
        finally:  # the OME metadata and the index, whatever a write did
            try:
                for position in self._writers:
                    self._write_image_metadata(position)
                self._write_root()
                self._metadata_file.flush()
                os.fsync(self._metadata_file.fileno())
            finally:
                self._metadata_file.close()
                self._writers.clear()

    # ------------------------------------------------------------ inside
    def _check_not_deleted(self) -> None:
        check_not_deleted([self._metadata_file], self._path, self._images)

    def _settle(self, most: int) -> None:
        """Forget the writes that reached the disk; wait for the oldest while more than
        ``most`` are on their way (memory stays bounded). A failed write (a full disk)
        raises here."""
        while self._pending and (len(self._pending) > most or self._pending[0][1].done()):
            axes, commit = self._pending.popleft()
            try:
                commit.result()
            except Exception as exc:
                self._check_not_deleted()  # the likeliest cause of a failed write: said so
                raise OSError(f"writing the image {axes} into {self._path} failed: {exc}") from exc
            finally:
                self._dataset.release(axes)

    def _writer_for(self, position: int, image: np.ndarray, label: Any) -> Any:
        writer = self._writers.get(position)
        if writer is not None:
            if writer.shape[3:] != image.shape or writer.dtype.numpy_dtype != image.dtype:
                raise ValueError(
                    f"this OME-Zarr image holds {writer.shape[3:]} {writer.dtype.numpy_dtype} "
                    f"planes; got {image.shape} {image.dtype}"
                )
            return writer
        height, width = image.shape
        group = self._path / str(position)
        group.mkdir(parents=True, exist_ok=True)
        (group / "zarr.json").write_text(
            json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}),
            encoding="utf-8",
        )
        spec = {
            "driver": "zarr3",
            "kvstore": _file(group / "0"),
            "metadata": {
                "shape": [1, 1, 1, height, width],
                "chunk_grid": {
                    "name": "regular",
                    "configuration": {"chunk_shape": [1, 1, 1, height, width]},
                },
                "data_type": image.dtype.name,
                "dimension_names": list(DIMENSIONS),
                "fill_value": 0,
            },
            "create": True,
        }
        writer = self._writers[position] = _tensorstore().open(spec).result()
        self._shapes[position] = [1, 1, 1, height, width]
        self._labels[position] = label
        self._write_image_metadata(position)
        return writer

    def _grown(self, position: int, writer: Any, plane: tuple[int, int, int]) -> Any:
        shape = self._shapes[position]
        wanted = [max(shape[i], plane[i] + 1) for i in range(3)] + shape[3:]
        if wanted == shape:
            return writer
        writer = writer.resize(exclusive_max=wanted, resize_metadata_only=True).result()
        self._writers[position] = writer
        self._shapes[position] = wanted
        return writer

    def _remember_scale(self, metadata: dict[str, Any], z: int) -> None:
        size = metadata.get("PixelSizeUm", metadata.get("PixelSize_um"))
        if self._pixel_size_um is None and isinstance(size, int | float) and size > 0:
            self._pixel_size_um = float(size)
        position = metadata.get("ZPosition_um_Intended", metadata.get("ZPosition_um"))
        if isinstance(position, int | float):
            self._z_steps.setdefault(z, float(position))

    def _z_step(self) -> float:
        if len(self._z_steps) < 2:
            return 1.0
        ordered = sorted(self._z_steps.items())
        (z0, p0), (z1, p1) = ordered[0], ordered[1]
        return abs(p1 - p0) / (z1 - z0) or 1.0

    def _write_image_metadata(self, position: int) -> None:
        pixel = self._pixel_size_um or 1.0
        unit = "micrometer"
        axes = [
            {"name": "t", "type": "time", "unit": "second"},
            {"name": "c", "type": "channel"},
            {"name": "z", "type": "space", "unit": unit},
            {"name": "y", "type": "space", "unit": unit},
            {"name": "x", "type": "space", "unit": unit},
        ]
        channels = self._dataset.get_channel_names() or ["0"]
        dtype = self._writers[position].dtype.numpy_dtype
        top = int(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1
        ome = {
            "version": OME_VERSION,
            "multiscales": [
                {
                    "name": f"position {self._labels[position]}",
                    "axes": axes,
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [1.0, 1.0, self._z_step(), pixel, pixel]}
                            ],
                        }
                    ],
                }
            ],
            "omero": {
                "channels": [
                    {
                        "label": str(name),
                        "active": True,
                        "color": self._channel_colour(str(name), index),
                        "window": {"min": 0, "max": top, "start": 0, "end": top},
                    }
                    for index, name in enumerate(channels)
                ],
            },
        }
        group = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
        _write_json(self._path / str(position) / "zarr.json", group)

    def _write_root(self) -> None:
        """The root: a collection of one image per position (bioformats2raw's layout)."""
        attributes = {
            "ome": {"version": OME_VERSION, "bioformats2raw.layout": 3},
            "scopeflow": {"summary": self._summary},
        }
        root = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
        _write_json(self._path / "zarr.json", root)


def is_ome_zarr(path: str | os.PathLike[str]) -> bool:
    """A folder Scopeflow wrote as OME-Zarr (its root and image index are there)."""
    folder = Path(path)
    return (folder / "zarr.json").is_file() and (folder / METADATA_FILE).is_file()


def _file(path: Path) -> dict[str, str]:
    return {"driver": "file", "path": str(path)}


def _write_json(path: Path, value: Any) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, default=json_default, indent=1), encoding="utf-8")
    os.replace(temporary, path)
