"""RAMDataset: images kept in memory, read with the same API as an NDTiff dataset.

pycro-manager keeps the images of an ``Acquisition`` without a directory in memory
(its ``NDRAMDataset``). ndtiff ships one too, but it learns no channel names and its
``as_array`` fails (it never records the image size), so Scopeflow has its own with
the reading API of ``ndtiff.NDTiffDataset``: ``read_image``, ``read_metadata``,
``has_image``, ``axes``, ``get_channel_names``, ``as_array``, ``close``. It can be
read from any thread while the acquisition adds images, and written to NDTiff after.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
from sortedcontainers import SortedSet

from app.storage.axes import given_axes, name_string_axes

AxisValue = int | str
ImageKey = frozenset[tuple[str, AxisValue]]

# The conventional order of axes (outermost first), as NDTiff datasets present them;
# other axes sit next to the channel axis.
_AXIS_RANK = {"row": 0, "column": 1, "position": 2, "time": 3, "channel": 4, "z": 6}
_OTHER_AXIS_RANK = 5


class ImageNotInDatasetError(KeyError):
    """``read_image``/``read_metadata`` asked for axes no image has; says which exist."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


@dataclass
class _Before:
    """A RAM dataset's state before an image was added (see ``RAMDataset.add_image``)."""

    image: np.ndarray | None
    metadata: dict[str, Any] | None
    #: the image's (axis, value) pairs the dataset had already
    values: set[tuple[str, AxisValue]]
    #: the axes it had, and how many names each string axis had
    axes: set[str]
    strings: dict[str, int]


class RAMDataset:
    """Images and their metadata in memory, keyed by their axes.

    Arrays are stored as given (the acquisition hands over ownership, so nothing is
    copied) and returned read-only, so a reader cannot change what was acquired.
    """

    def __init__(
        self, name: str = "default_acq_name", summary_metadata: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.summary_metadata: dict[str, Any] = dict(summary_metadata or {})
        self._lock = threading.RLock()
        self._images: dict[ImageKey, np.ndarray] = {}
        self._metadata: dict[ImageKey, dict[str, Any]] = {}
        self._axes: dict[str, SortedSet] = {}
        self._axis_types: dict[str, type] = {}
        self._string_values: dict[str, list[str]] = {}  # in order of first appearance
        self._new_image = threading.Event()
        self._finished = threading.Event()
        self._closed = False
        self.image_width: int | None = None
        self.image_height: int | None = None
        self.dtype: np.dtype | None = None
        self.bytes = 0

    # ------------------------------------------------------------ writing
    def add_image(
        self, axes: dict[str, AxisValue], image: np.ndarray, metadata: dict[str, Any]
    ) -> int:
        """Store one image; returns the bytes it adds (less any image it replaces).

        All or nothing: an error part way (a ``MemoryError`` when the computer is out
        of memory: every step allocates) undoes the steps before it, so the dataset
        never lists an axis value, an image or metadata that is not whole."""
        key = frozenset(axes.items())
        with self._lock:
            if self._closed:
                raise RuntimeError(f"The RAM dataset {self.name!r} was closed")
            before = self._snapshot(key)
            try:
                for axis, value in axes.items():
                    self._add_axis_value(axis, value)
                self._images[key] = image
                self._metadata[key] = metadata
            except BaseException:
                self._restore(key, before)
                raise
            if self.dtype is None:
                self.image_height, self.image_width = image.shape[:2]
                self.dtype = image.dtype
            replaced = before.image
            added = image.nbytes - (replaced.nbytes if replaced is not None else 0)
            self.bytes += added
        self._new_image.set()
        return added

    def _snapshot(self, key: ImageKey) -> _Before:
        """What ``add_image`` may change, to put back if it fails part way: only what
        this image's axes touch (copying every axis would cost as much as the dataset)."""
        return _Before(
            image=self._images.get(key),
            metadata=self._metadata.get(key),
            values={(axis, value) for axis, value in key if value in self._axes.get(axis, ())},
            axes=set(self._axes),
            strings={axis: len(values) for axis, values in self._string_values.items()},
        )

    def _restore(self, key: ImageKey, before: _Before) -> None:
        _put_back(self._images, key, before.image)
        _put_back(self._metadata, key, before.metadata)
        for axis, value in key:
            if axis not in before.axes:
                self._axes.pop(axis, None)
                self._axis_types.pop(axis, None)
            elif (axis, value) not in before.values:
                self._axes[axis].discard(value)
        for axis in list(self._string_values):
            if axis in before.strings:
                del self._string_values[axis][before.strings[axis] :]
            else:
                del self._string_values[axis]

    def _add_axis_value(self, axis: str, value: AxisValue) -> None:
        kind = str if isinstance(value, str) else int
        known = self._axis_types.setdefault(axis, kind)
        if known is not kind:
            raise TypeError(
                f"Axis {axis!r} has {known.__name__} values; cannot add {value!r} to it"
            )
        if axis not in self._axes:
            self._axes[axis] = SortedSet()
            self._axes = dict(sorted(self._axes.items(), key=lambda item: _rank(item[0])))
        if value not in self._axes[axis] and kind is str:
            self._string_values.setdefault(axis, []).append(value)  # type: ignore[arg-type]
        self._axes[axis].add(value)

    def finish(self) -> None:
        self._finished.set()

    # ------------------------------------------------------------ reading
    @property
    def axes(self) -> dict[str, SortedSet]:
        """Each axis and its values, outermost axis first (as ndtiff's ``axes``)."""
        with self._lock:
            # copies, not re-sorted: the viewer asks at each new time point while it
            # follows an acquisition (100,000 values: 1.8 ms, against 9.5 ms sorted anew)
            return {name: values.copy() for name, values in self._axes.items()}

    @property
    def axes_types(self) -> dict[str, type]:
        with self._lock:
            return dict(self._axis_types)

    @property
    def index(self) -> dict[ImageKey, dict[str, Any]]:
        """Every image's axes (frozen) and metadata, in the order they were added."""
        with self._lock:
            return dict(self._metadata)

    def __len__(self) -> int:
        return len(self._images)

    def get_channel_names(self) -> list[str]:
        with self._lock:
            return list(self._string_values.get("channel", []))

    def get_image_coordinates_list(self) -> list[dict[str, AxisValue]]:
        with self._lock:
            return [dict(key) for key in self._images]

    def has_image(
        self,
        channel: AxisValue | None = None,
        z: int | None = None,
        time: int | None = None,
        position: AxisValue | None = None,
        row: int | None = None,
        column: int | None = None,
        **kwargs: AxisValue,
    ) -> bool:
        axes = self._consolidate(channel, z, time, position, row, column, kwargs)
        with self._lock:
            return axes is not None and frozenset(axes.items()) in self._images

    def read_image(
        self,
        channel: AxisValue | None = None,
        z: int | None = None,
        time: int | None = None,
        position: AxisValue | None = None,
        row: int | None = None,
        column: int | None = None,
        **kwargs: AxisValue,
    ) -> np.ndarray:
        key = self._key(channel, z, time, position, row, column, kwargs)
        with self._lock:
            view = self._images[key].view()
        view.flags.writeable = False
        return view

    def read_metadata(
        self,
        channel: AxisValue | None = None,
        z: int | None = None,
        time: int | None = None,
        position: AxisValue | None = None,
        row: int | None = None,
        column: int | None = None,
        **kwargs: AxisValue,
    ) -> dict[str, Any]:
        key = self._key(channel, z, time, position, row, column, kwargs)
        with self._lock:
            return self._metadata[key]

    def _key(self, *args: Any) -> ImageKey:
        axes = self._consolidate(*args)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"The RAM dataset {self.name!r} was closed")
            key = frozenset(axes.items()) if axes is not None else None
            if key is None or key not in self._images:
                raise ImageNotInDatasetError(
                    f"No image with axes {axes} in the RAM dataset {self.name!r}; "
                    f"its axes are { ({k: list(v) for k, v in self._axes.items()}) }"
                )
            return key

    def _consolidate(
        self,
        channel: Any,
        z: Any,
        time: Any,
        position: Any,
        row: Any,
        column: Any,
        kwargs: dict[str, Any],
    ) -> dict[str, AxisValue] | None:
        """The axes asked for, without the Nones; an int for a string axis is its index
        (``channel=0`` is the first channel), as ndtiff reads it. None: no such index."""
        given = given_axes(channel, z, time, position, row, column, kwargs)
        axes = {k: int(v) if isinstance(v, np.integer) else v for k, v in given.items()}
        with self._lock:
            return name_string_axes(axes, self._string_values)

    def as_array(
        self, axes: Iterable[str] | None = None, stitched: bool = False, **kwargs: Any
    ) -> da.Array:
        """One dask array over the images: the stacked axes first, then (y, x).

        ``axes`` names the axes to stack (all, outermost first, by default); keyword
        arguments fix the others (``as_array(channel="DAPI")``). Missing images read as
        zeros, as in an NDTiff dataset. Nothing is copied until the array is computed.
        """
        if stitched:
            raise ValueError("A RAM dataset holds no tiled (row, column) layout to stitch")
        with self._lock:
            if self.dtype is None or self.image_height is None or self.image_width is None:
                raise ValueError(f"The RAM dataset {self.name!r} has no image yet")
            names = list(axes) if axes is not None else list(self._axes)
            fixed = {k: v for k, v in kwargs.items() if v is not None}
            stacked = [(n, list(self._axes[n])) for n in names if n not in fixed]
            shape = (self.image_height, self.image_width)
            dtype = self.dtype
            images = dict(self._images)

        def block(position: dict[str, AxisValue]) -> da.Array:
            key = frozenset({**position, **fixed}.items())
            image = images.get(key)
            if image is None:
                return da.zeros(shape, dtype=dtype, chunks=shape)
            return da.from_array(image, chunks=shape)

        def stack(level: int, position: dict[str, AxisValue]) -> da.Array:
            if level == len(stacked):
                return block(position)
            name, values = stacked[level]
            return da.stack([stack(level + 1, {**position, name: v}) for v in values])

        return stack(0, {})

    # ------------------------------------------------------------ lifecycle
    def await_new_image(self, timeout: float | None = None) -> bool:
        if self._new_image.wait(timeout):
            self._new_image.clear()
            return True
        return False

    def is_finished(self) -> bool:
        return self._finished.is_set()

    def block_until_finished(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def close(self) -> None:
        """Release the images' memory; reading afterwards raises."""
        with self._lock:
            self._closed = True
            self._images.clear()
            self._metadata.clear()
            self.bytes = 0

    def save_as_ndtiff(
        self,
        directory: str | os.PathLike[str],
        name: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Path:
        """Write every image, in the order acquired, to a new NDTiff dataset
        ``directory/name_N``; returns its folder (open it with ``open_dataset``).
        ``on_progress(done, total)`` is called after each image."""
        from app.storage.ndtiff_sink import NDTiffSink

        with self._lock:
            items = [(dict(key), self._images[key], self._metadata[key]) for key in self._images]
        sink = NDTiffSink(directory, name or self.name, self.summary_metadata)
        try:
            for done, (axes, image, metadata) in enumerate(items, start=1):
                sink.put(axes, image, metadata)
                if on_progress is not None:
                    on_progress(done, len(items))
        finally:
            sink.finish()
        return sink.path

    def __repr__(self) -> str:
        return (
            f"RAMDataset({self.name!r}, {len(self._images)} images, "
            f"{self.bytes / 1e6:.1f} MB, axes={ {k: list(v) for k, v in self._axes.items()} })"
        )


def _put_back(store: dict[ImageKey, Any], key: ImageKey, old: Any) -> None:
    """``store[key]`` as it was: ``old``, or absent when ``old`` is None."""
    if old is None:
        store.pop(key, None)
    else:
        store[key] = old


def _rank(axis: str) -> int:
    return _AXIS_RANK.get(axis, _OTHER_AXIS_RANK)


def conventional_axis_order(names: Iterable[str]) -> list[str]:
    """Axis names outermost first (row, column, position, time, channel, others, z)."""
    return sorted(names, key=_rank)
