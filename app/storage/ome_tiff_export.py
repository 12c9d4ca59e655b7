"""Writing a dataset, or one image, as one OME-TIFF file that Fiji opens as a hyperstack.

Fiji opens ``.ome.tif`` files with Bio-Formats, which reads the OME-XML in the first
page: the dimension order, the pixel size, the channel names and each plane's time,
exposure and stage position. Each image is written as ``TCZYX`` (time outermost, Z
innermost: OME's ``XYZCT``), the order of a Micro-Manager acquisition, which
Bio-Formats puts into the hyperstack's time, channel and Z sliders.

Positions (and any other axis outside time, channel and Z: ``row``, ``column``,
``duplicate``, a processor's own) become separate **series** of the same file, one OME
Image each, named after the position: one file to move and share, which Bio-Formats
lists series by series when it opens it (Micro-Manager's own OME-TIFF does the same).

The dataset is read through the ``ReadableDataset`` protocol (NDTiff on disk, RAM, a
TIFF file) and written plane by plane: only one image is in memory at a time. An image
the dataset lacks (an acquisition aborted before it) is written as zeros, counted and
named in the result. The file is written under a temporary name beside the target and
renamed when complete, so a failure or a cancel leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from app.storage.dataset_names import WINDOWS_MAX_PATH, dataset_name_problem
from app.storage.sink import ReadableDataset

#: the axes of one OME image (a series), outermost first; the plane is (Y, X) or (Y, X, S)
PLANE_AXES = ("time", "channel", "z")
#: axes that tell series apart, in this order before any other
SERIES_AXES = ("position", "row", "column")
SUFFIX = ".ome.tif"
#: BigTIFF beyond this (tifffile's own threshold for a classic TIFF)
_BIGTIFF_BYTES = 2**32 - 2**25

OnProgress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
AxisValue = Any


class ExportError(ValueError):
    """The export cannot be done as asked; the message says why and what would work."""


class ExportCancelled(Exception):
    """The user cancelled the export; nothing was written."""


@dataclass(frozen=True)
class Series:
    """One OME image: the values of the axes outside time, channel and Z."""

    key: tuple[tuple[str, AxisValue], ...]
    name: str

    @property
    def axes(self) -> dict[str, AxisValue]:
        return dict(self.key)


@dataclass
class ExportPlan:
    """What will be written: which series, which planes in each, of what size."""

    series: list[Series]
    times: list[AxisValue | None]  # [None]: the dataset has no such axis
    channels: list[AxisValue | None]
    zs: list[AxisValue | None]
    channel_names: list[str]
    plane_shape: tuple[int, ...]
    dtype: np.dtype[Any]

    @property
    def series_shape(self) -> tuple[int, ...]:
        return (len(self.times), len(self.channels), len(self.zs), *self.plane_shape)

    @property
    def planes_per_series(self) -> int:
        return len(self.times) * len(self.channels) * len(self.zs)

    @property
    def total_planes(self) -> int:
        return self.planes_per_series * len(self.series)

    @property
    def axes_letters(self) -> str:
        return "TCZYXS" if len(self.plane_shape) == 3 else "TCZYX"

    @property
    def total_bytes(self) -> int:
        return self.total_planes * int(np.prod(self.plane_shape)) * self.dtype.itemsize

    def plane_axes(self, series: Series) -> Iterator[dict[str, AxisValue]]:
        """The dataset axes of each plane of ``series``, in the order they are written."""
        for t, c, z in itertools.product(self.times, self.channels, self.zs):
            axes = dict(series.axes)
            for name, value in zip(PLANE_AXES, (t, c, z), strict=True):
                if value is not None:
                    axes[name] = value
            yield axes


@dataclass
class ExportResult:
    path: Path
    series: int
    planes: int
    #: the axes of each plane the dataset lacked, written as zeros
    missing: list[dict[str, AxisValue]] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence for the status bar."""
        text = f"Exported {self.planes} planes"
        if self.series > 1:
            text += f" in {self.series} series (one per position)"
        text += f" to {self.path}"
        if self.missing:
            first = ", ".join(f"{k}={v}" for k, v in self.missing[0].items())
            text += (
                f"; {len(self.missing)} image(s) were missing from the dataset (an aborted "
                f"acquisition?) and are written as zeros, the first at {first}"
            )
        return text


# ------------------------------------------------------------------ the target file


def ome_tiff_path(path: str | os.PathLike[str]) -> Path:
    """``path`` ending in ``.ome.tif`` (added if missing), which is how Fiji and
    Bio-Formats recognise an OME-TIFF."""
    path = Path(path)
    name = path.name
    lower = name.lower()
    if lower.endswith((".ome.tif", ".ome.tiff")):
        return path
    for plain in (".tiff", ".tif"):
        if lower.endswith(plain):
            name = name[: -len(plain)]
            break
    return path.with_name(name + SUFFIX)


def check_export_path(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    sources: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """The file to write (``.ome.tif`` added), or ``ExportError`` saying why it cannot
    be: a name Windows refuses, a folder that does not exist, a file that exists
    (unless ``overwrite``), or a place inside or over one of the ``sources`` being read."""
    target = ome_tiff_path(path)
    problem = dataset_name_problem(target.name)
    if problem is not None:
        raise ExportError(f"The file name {target.name!r} cannot be used: {problem}.")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist: choose an existing folder.")
    absolute = target.resolve()
    if len(str(absolute)) > WINDOWS_MAX_PATH:
        raise ExportError(
            f"The path {absolute} is {len(str(absolute))} characters long; Windows allows "
            f"{WINDOWS_MAX_PATH}. Choose a shorter name or a folder nearer the drive's root."
        )
    for source in sources:
        source_path = Path(source).resolve()
        if absolute == source_path:
            raise ExportError(
                f"{target} is the file being exported: write the OME-TIFF under another name."
            )
        if source_path.is_dir() and absolute.is_relative_to(source_path):
            raise ExportError(
                f"{target} is inside the dataset folder {source_path}: choose a folder "
                "outside it, so the dataset stays as it was acquired."
            )
    if target.is_dir():
        raise ExportError(f"{target} is a folder: choose a file name.")
    if target.exists() and not overwrite:
        raise ExportError(f"{target} already exists: choose another name (nothing was written).")
    return target


def dataset_sources(dataset: object) -> list[str]:
    """Where ``dataset`` reads from on disk (an NDTiff folder, a TIFF file), if anywhere."""
    path = getattr(dataset, "path", None)
    return [os.fspath(path)] if isinstance(path, str | os.PathLike) else []


# ------------------------------------------------------------------ planning


def _series_key(coordinates: Mapping[str, AxisValue]) -> tuple[tuple[str, AxisValue], ...]:
    outer = [(k, v) for k, v in coordinates.items() if k not in PLANE_AXES]
    order = {name: rank for rank, name in enumerate(SERIES_AXES)}
    return tuple(sorted(outer, key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _sort_key(key: tuple[tuple[str, AxisValue], ...]) -> tuple[Any, ...]:
    return tuple((name, isinstance(value, str), value) for name, value in key)


def _axis_values(dataset: ReadableDataset, axis: str) -> list[AxisValue | None]:
    values = list(dataset.axes.get(axis, []))
    if not values:
        return [None]
    if axis == "channel":
        names = list(dataset.get_channel_names())
        if names and set(values) <= set(names):
            return [v for v in names if v in values]  # acquisition order, not alphabetical
    return values


def _metadata(dataset: ReadableDataset, axes: Mapping[str, AxisValue]) -> dict[str, Any]:
    try:
        return dict(dataset.read_metadata(**axes))
    except Exception:  # metadata that cannot be read: the pixels still can
        return {}


def _series_name(
    key: tuple[tuple[str, AxisValue], ...], metadata: Mapping[str, Any], fallback: str
) -> str:
    position_name = metadata.get("PositionName")
    described = ", ".join(f"{k}={v}" for k, v in key if k != "position" or not position_name)
    if position_name:
        return f"{position_name} ({described})" if described else str(position_name)
    return described or fallback


def plan_export(dataset: ReadableDataset, name: str = "") -> ExportPlan:
    """What ``export_dataset`` will write; ``ExportError`` if the dataset is empty or its
    images differ in size or type (one OME image holds planes of one size)."""
    coordinates = dataset.get_image_coordinates_list()
    if not coordinates:
        raise ExportError("The dataset holds no image: there is nothing to export.")
    first = coordinates[0]
    image = np.asarray(dataset.read_image(**first))
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ExportError(
            f"Its images have shape {image.shape}: only 2-D images (and RGB) can be exported."
        )
    keys = sorted({_series_key(c) for c in coordinates}, key=_sort_key)
    series = []
    for key in keys:
        example = next(c for c in coordinates if _series_key(c) == key)
        series.append(Series(key, _series_name(key, _metadata(dataset, example), name)))
    channels = _axis_values(dataset, "channel")
    if channels == [None]:
        channel = _metadata(dataset, first).get("Channel")
        channel_names = [str(channel) if channel else "Channel 0"]
    else:
        channel_names = [str(c) for c in channels]
    return ExportPlan(
        series=series,
        times=_axis_values(dataset, "time"),
        channels=channels,
        zs=_axis_values(dataset, "z"),
        channel_names=channel_names,
        plane_shape=tuple(image.shape),
        dtype=image.dtype,
    )


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _plane_attributes(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """OME Plane attributes from an image's metadata (what of it is known)."""
    attributes: dict[str, Any] = {}
    elapsed = _float(metadata.get("ElapsedTime-ms"))
    if elapsed is not None:
        attributes |= {"DeltaT": elapsed / 1000, "DeltaTUnit": "s"}
    exposure = _float(metadata.get("Exposure", metadata.get("Exposure-ms")))
    if exposure is not None:
        attributes |= {"ExposureTime": exposure, "ExposureTimeUnit": "ms"}
    for axis in "XYZ":
        position = _float(
            metadata.get(f"{axis}Position_um_Intended", metadata.get(f"{axis}Position_um"))
        )
        if position is not None:
            attributes |= {f"Position{axis}": position, f"Position{axis}Unit": "µm"}
    return attributes


def _pixel_size_um(dataset: ReadableDataset, metadata: Mapping[str, Any]) -> float | None:
    summary = getattr(dataset, "summary_metadata", None)
    for source in (metadata, summary if isinstance(summary, Mapping) else {}):
        size = _float(source.get("PixelSize_um"))
        if size is not None and size > 0:
            return size
    return None


def _z_step_um(plane_metadata: Sequence[Mapping[str, Any]], plan: ExportPlan) -> float | None:
    """The distance between the first two Z planes of the first series, if both are known."""
    if len(plan.zs) < 2:
        return None
    first = _float(plane_metadata[0].get("PositionZ"))
    second = _float(plane_metadata[1].get("PositionZ"))
    if first is None or second is None or first == second:
        return None
    return abs(second - first)


# ------------------------------------------------------------------ writing


def export_dataset(
    dataset: ReadableDataset,
    path: str | os.PathLike[str],
    *,
    name: str = "",
    overwrite: bool = False,
    on_progress: OnProgress | None = None,
    should_stop: ShouldStop | None = None,
) -> ExportResult:
    """Write ``dataset`` to one OME-TIFF at ``path`` (``.ome.tif`` added if missing).

    ``on_progress(done, total)`` is called after each plane; ``should_stop()`` returning
    True cancels (``ExportCancelled``, and no file is left). ``name`` names the series of
    a dataset without positions (by default the file's name)."""
    target = check_export_path(path, overwrite=overwrite, sources=dataset_sources(dataset))
    name = name or target.name[: -len(SUFFIX)]
    plan = plan_export(dataset, name)
    stop = should_stop or (lambda: False)
    missing: list[dict[str, AxisValue]] = []
    reference = _metadata(dataset, dataset.get_image_coordinates_list()[0])
    pixel_um = _pixel_size_um(dataset, reference)

    # each plane's metadata, read before its series is written (OME-XML describes the
    # planes up front); a few numbers per plane, not pixels
    planes: list[list[dict[str, Any]]] = []
    present: list[list[bool]] = []
    for series in plan.series:
        attributes, exists = [], []
        for axes in plan.plane_axes(series):
            if stop():
                raise ExportCancelled("Export cancelled; nothing was written.")
            has = bool(dataset.has_image(**axes))
            exists.append(has)
            attributes.append(_plane_attributes(_metadata(dataset, axes)) if has else {})
            if not has:
                missing.append(axes)
        planes.append(attributes)
        present.append(exists)

    done = 0
    total = plan.total_planes

    def pixels(series: Series, exists: list[bool]) -> Iterator[np.ndarray]:
        nonlocal done
        zeros = np.zeros(plan.plane_shape, plan.dtype)
        for axes, has in zip(plan.plane_axes(series), exists, strict=True):
            if stop():
                raise ExportCancelled("Export cancelled; nothing was written.")
            image = np.asarray(dataset.read_image(**axes)) if has else zeros
            if image.shape != plan.plane_shape or image.dtype != plan.dtype:
                raise ExportError(
                    f"The image at {axes} is {image.shape} {image.dtype}, the first one "
                    f"{plan.plane_shape} {plan.dtype}: one OME-TIFF series holds images of "
                    "one size and type."
                )
            yield image
            done += 1
            if on_progress is not None:
                on_progress(done, total)

    partial = target.with_name(f".{target.name}.partial")
    try:
        with tifffile.TiffWriter(
            partial, bigtiff=plan.total_bytes > _BIGTIFF_BYTES, ome=True
        ) as writer:
            for series, attributes, exists in zip(plan.series, planes, present, strict=True):
                metadata: dict[str, Any] = {
                    "axes": plan.axes_letters,
                    "Name": series.name,
                    "Channel": {"Name": plan.channel_names},
                    "Plane": attributes,
                }
                if pixel_um is not None:
                    metadata |= {
                        "PhysicalSizeX": pixel_um,
                        "PhysicalSizeXUnit": "µm",
                        "PhysicalSizeY": pixel_um,
                        "PhysicalSizeYUnit": "µm",
                    }
                z_step = _z_step_um(attributes, plan)
                if z_step is not None:
                    metadata |= {"PhysicalSizeZ": z_step, "PhysicalSizeZUnit": "µm"}
                absent = exists.count(False)
                if absent:
                    metadata["Description"] = (
                        f"{absent} plane(s) missing from the dataset, written as zeros"
                    )
                writer.write(
                    pixels(series, exists),
                    shape=plan.series_shape,
                    dtype=plan.dtype,
                    photometric="rgb" if len(plan.plane_shape) == 3 else "minisblack",
                    metadata=metadata,
                )
        os.replace(partial, target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return ExportResult(target, len(plan.series), total, missing)


def export_image(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    pixel_size_um: float | None = None,
    channel: str | None = None,
    name: str = "",
    overwrite: bool = False,
) -> Path:
    """Write one 2-D image (or RGB) as an OME-TIFF, pixels as they are."""
    target = check_export_path(path, overwrite=overwrite)
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ExportError(f"An image of shape {image.shape} is not a 2-D image.")
    metadata: dict[str, Any] = {
        "axes": "YXS" if image.ndim == 3 else "YX",
        "Name": name or target.name[: -len(SUFFIX)],
    }
    if channel:
        metadata["Channel"] = {"Name": [channel]}
    size = _float(pixel_size_um)
    if size is not None and size > 0:
        metadata |= {
            "PhysicalSizeX": size,
            "PhysicalSizeXUnit": "µm",
            "PhysicalSizeY": size,
            "PhysicalSizeYUnit": "µm",
        }
    partial = target.with_name(f".{target.name}.partial")
    try:
        tifffile.imwrite(
            partial,
            image,
            ome=True,
            photometric="rgb" if image.ndim == 3 else "minisblack",
            metadata=metadata,
        )
        os.replace(partial, target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return target
