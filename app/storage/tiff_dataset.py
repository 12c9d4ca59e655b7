"""TiffDataset: a TIFF or OME-TIFF file, read with the same API as an NDTiff dataset.

What Scopeflow writes as TIFF (File > Save image as TIFF, the OME-TIFF export) and
what Fiji or Micro-Manager write open in the window's viewer with the same sliders:

- an OME-TIFF's time, channel and Z become the axes ``time``, ``channel`` (its channel
  names) and ``z``; its series (Scopeflow writes one per position) the axis
  ``position``; the pixel size, each plane's time, exposure and stage position, and the
  series' names come back in ``read_metadata`` under Scopeflow's keys;
- an ImageJ hyperstack's T, Z and C the same (channels numbered);
- any other TIFF's pages an axis ``image``.

Images are read page by page when asked for; the file is never read whole. The file
stays open until ``close()``.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from app.storage.axes import given_axes
from app.storage.ram_dataset import ImageNotInDatasetError

#: TIFF axis letters (tifffile's) to the names of Scopeflow's axes
AXIS_NAMES = {
    "T": "time",
    "C": "channel",
    "Z": "z",
    "I": "image",
    "Q": "image",
    "R": "tile",
    "A": "angle",
    "P": "phase",
    "H": "lifetime",
    "E": "lambda",
}
_PAGE_AXES = frozenset("YXS")
_UNIT_TO_UM = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}
_UNIT_TO_MS = {"s": 1000.0, "ms": 1.0, "µs": 1e-3, "us": 1e-3, "min": 60000.0, "h": 3600000.0}


class TiffDatasetError(ValueError):
    """A file that is not a TIFF Scopeflow can show; the message says why."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _in_unit(value: Any, unit: Any, table: Mapping[str, float], default: str) -> float | None:
    number = _number(value)
    factor = table.get(str(unit or default))
    return None if number is None or factor is None else number * factor


class TiffDataset:
    """A TIFF file as a read-only dataset (``read_image``, ``read_metadata``,
    ``has_image``, ``axes``, ``get_channel_names``, ``get_image_coordinates_list``,
    ``close``). An axis with one value may be left out of a read; an ``int`` given for
    the channel axis is its index (``channel=0``), as for NDTiff datasets."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.name = Path(path).name
        self._lock = threading.Lock()
        try:
            self._tif = tifffile.TiffFile(self.path)
        except (OSError, tifffile.TiffFileError, ValueError) as exc:
            raise TiffDatasetError(f"{path} is not a readable TIFF file: {exc}") from exc
        try:
            self._open()
        except Exception:
            self._tif.close()
            raise

    # ------------------------------------------------------------ opening
    def _open(self) -> None:
        tif = self._tif
        if not tif.series:
            raise TiffDatasetError(f"{self.path} holds no image")
        first = tif.series[0]
        # series like the first (positions); others (thumbnails, labels) are left out
        self._series = [
            s
            for s in tif.series
            if s.get_shape(False) == first.get_shape(False)
            and s.get_axes(False) == first.get_axes(False)
            and s.dtype == first.dtype
        ]
        letters, sizes = self._outer_axes(first)
        ome = tifffile.xml2dict(tif.ome_metadata)["OME"] if tif.is_ome and tif.ome_metadata else {}
        self._ome_images = [
            image for image in _as_list(ome.get("Image")) if isinstance(image, dict)
        ][: len(tif.series)]
        self._letters = letters
        self._plane_index: dict[int, dict[tuple[int, int, int], dict[str, Any]]] = {}
        self._sizes = sizes
        self._axes: dict[str, list[Any]] = {}
        if len(self._series) > 1:
            self._axes["position"] = list(range(len(self._series)))
        for letter, size in zip(letters, sizes, strict=True):
            name = AXIS_NAMES.get(letter, letter.lower())
            if name in self._axes:
                raise TiffDatasetError(f"{self.path}: two axes would be called {name!r}")
            self._axes[name] = list(range(size))
        self._channel_names = self._read_channel_names()
        if "channel" in self._axes and self._channel_names:
            self._axes["channel"] = list(self._channel_names)
        if not self._axes:  # one image: an axis to browse it by, as the viewer expects
            self._axes["image"] = [0]
        self.summary_metadata = self._summary()

    def _outer_axes(self, series: Any) -> tuple[str, list[int]]:
        """The axes that index pages (outermost first) and their sizes. A file whose
        pages do not make up its axes (unusual writers) is read as a list of pages."""
        axes, shape = series.get_axes(False), series.get_shape(False)
        outer = ""
        for letter in axes:
            if letter in _PAGE_AXES:
                break
            outer += letter
        sizes = [int(n) for n in shape[: len(outer)]]
        if math.prod(sizes) != len(series.pages):
            return "I", [len(series.pages)]
        return outer, sizes

    def _read_channel_names(self) -> list[str]:
        if not self._ome_images or "channel" not in self._axes:
            return []
        channels = _as_list(self._ome_images[0].get("Pixels", {}).get("Channel"))
        names = [str(c.get("Name", "")) for c in channels if isinstance(c, dict)]
        if len(names) != len(self._axes["channel"]) or len(set(names)) != len(names):
            return []
        return names if all(names) else []

    def _summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"Source": self.path}
        size = self._pixel_size_um()
        if size is not None:
            summary["PixelSize_um"] = size
        return summary

    def _pixel_size_um(self) -> float | None:
        if self._ome_images:
            pixels = self._ome_images[0].get("Pixels", {})
            return _in_unit(
                pixels.get("PhysicalSizeX"), pixels.get("PhysicalSizeXUnit"), _UNIT_TO_UM, "µm"
            )
        page = self._tif.pages.first
        if self._tif.is_imagej and "XResolution" in page.tags:
            numerator, denominator = page.tags["XResolution"].value
            unit = str((self._tif.imagej_metadata or {}).get("unit", "")).replace("\\u00B5", "µ")
            if numerator and unit in _UNIT_TO_UM:
                return float(denominator / numerator * _UNIT_TO_UM[unit])
        return None

    # ------------------------------------------------------------ reading
    @property
    def axes(self) -> dict[str, list[Any]]:
        """Each axis and its values, outermost first (channels by name when the file names
        them, else numbered)."""
        return {name: list(values) for name, values in self._axes.items()}

    def get_channel_names(self) -> list[str]:
        return list(self._channel_names)

    def get_image_coordinates_list(self) -> list[dict[str, Any]]:
        names = list(self._axes)
        coordinates = []
        for values in np.ndindex(*(len(v) for v in self._axes.values())):
            axes = {n: self._axes[n][i] for n, i in zip(names, values, strict=True)}
            if self._page(axes) is not None:
                coordinates.append(axes)
        return coordinates

    def _indices(self, axes: Mapping[str, Any]) -> dict[str, int] | None:
        """Each axis's index for ``axes`` (an axis with one value may be left out);
        None if there is no such image."""
        unknown = set(axes) - set(self._axes)
        if unknown:
            return None
        indices = {}
        for name, values in self._axes.items():
            if name not in axes:
                if len(values) != 1:
                    return None
                indices[name] = 0
                continue
            value = axes[name]
            if isinstance(value, np.integer):
                value = int(value)
            if value in values:
                indices[name] = values.index(value)
            elif (
                isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(values)
            ):
                indices[name] = value  # channel=0: the first channel, as ndtiff reads it
            else:
                return None
        return indices

    def _page(self, axes: Mapping[str, Any]) -> Any:
        if self._tif.filehandle.closed:
            raise ValueError(f"{self.name} was closed: open it again to read it")
        indices = self._indices(axes)
        if indices is None:
            return None
        series = self._series[indices.get("position", 0)]
        names = [AXIS_NAMES.get(letter, letter.lower()) for letter in self._letters]
        flat = int(np.ravel_multi_index([indices[n] for n in names], self._sizes)) if names else 0
        pages = series.pages
        return pages[flat] if flat < len(pages) else None

    def has_image(self, channel: Any = None, z: Any = None, time: Any = None,
                  position: Any = None, row: Any = None, column: Any = None,
                  **others: Any) -> bool:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        with self._lock:
            return self._page(axes) is not None

    def read_image(self, channel: Any = None, z: Any = None, time: Any = None,
                   position: Any = None, row: Any = None, column: Any = None,
                   **others: Any) -> np.ndarray:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        with self._lock:
            page = self._page(axes)
            if page is None:
                raise ImageNotInDatasetError(
                    f"No image with axes {axes} in {self.name}; its axes are {self.axes}"
                )
            image: np.ndarray = page.asarray()
        if image.ndim == 3 and image.shape[0] in (3, 4) and image.shape[2] not in (3, 4):
            image = np.moveaxis(image, 0, -1)  # planar RGB as (Y, X, samples)
        return image

    def read_metadata(self, channel: Any = None, z: Any = None, time: Any = None,
                      position: Any = None, row: Any = None, column: Any = None,
                      **others: Any) -> dict[str, Any]:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        with self._lock:
            indices = self._indices(axes)
            page = self._page(axes)
        if indices is None or page is None:
            raise ImageNotInDatasetError(
                f"No image with axes {axes} in {self.name}; its axes are {self.axes}"
            )
        full = {name: self._axes[name][i] for name, i in indices.items()}
        metadata: dict[str, Any] = {}
        info = self._imagej_info()
        if info:
            metadata.update(info)
        metadata |= {
            "Axes": full,
            "Width": int(page.keyframe.imagewidth),
            "Height": int(page.keyframe.imagelength),
            "Source": self.path,
        }
        size = self.summary_metadata.get("PixelSize_um")
        if size is not None:
            metadata["PixelSize_um"] = size
        if self._channel_names and "channel" in indices:
            metadata["Channel"] = self._channel_names[indices["channel"]]
        metadata.update(self._ome_plane(indices))
        return metadata

    def _imagej_info(self) -> dict[str, Any]:
        """What Save image as TIFF put in the ImageJ ``Info`` (JSON), if anything."""
        info = (self._tif.imagej_metadata or {}).get("Info") if self._tif.is_imagej else None
        if not isinstance(info, str):
            return {}
        try:
            value = json.loads(info)
        except ValueError:
            return {"Info": info}
        return value if isinstance(value, dict) else {"Info": info}

    def _ome_plane(self, indices: Mapping[str, int]) -> dict[str, Any]:
        """Scopeflow's metadata keys from the OME Plane of ``indices``, and the series' name."""
        image_index = indices.get("position", 0)
        if image_index >= len(self._ome_images):
            return {}
        image = self._ome_images[image_index]
        found: dict[str, Any] = {}
        if len(self._series) > 1 and image.get("Name"):
            found["PositionName"] = str(image["Name"])
        key = (indices.get("time", 0), indices.get("channel", 0), indices.get("z", 0))
        plane = self._planes(image_index).get(key)
        if plane is None:
            return found
        delta = _in_unit(plane.get("DeltaT"), plane.get("DeltaTUnit"), _UNIT_TO_MS, "s")
        if delta is not None:
            found["ElapsedTime-ms"] = delta
        exposure = _in_unit(
            plane.get("ExposureTime"), plane.get("ExposureTimeUnit"), _UNIT_TO_MS, "s"
        )
        if exposure is not None:
            found["Exposure"] = exposure
        for axis in "XYZ":
            position = _in_unit(
                plane.get(f"Position{axis}"), plane.get(f"Position{axis}Unit"), _UNIT_TO_UM, "µm"
            )
            if position is not None:
                found[f"{axis}Position_um_Intended"] = position
        return found

    def _planes(self, image_index: int) -> dict[tuple[int, int, int], dict[str, Any]]:
        """The OME Planes of one image by (TheT, TheC, TheZ), indexed on first use."""
        with self._lock:
            if image_index not in self._plane_index:
                image = self._ome_images[image_index]
                planes = _as_list(image.get("Pixels", {}).get("Plane"))
                self._plane_index[image_index] = {
                    (int(p.get("TheT", 0)), int(p.get("TheC", 0)), int(p.get("TheZ", 0))): p
                    for p in planes
                    if isinstance(p, dict)
                }
            return self._plane_index[image_index]

    def close(self) -> None:
        with self._lock:
            self._tif.close()

    def __repr__(self) -> str:
        return f"TiffDataset({self.path!r}, axes={self.axes})"
