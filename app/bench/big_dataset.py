"""The big datasets of ``scopeflow bench open``: 20,000 images, written once and kept.

A long multi-channel time-lapse with Z (2,000 time points x 2 channels x 5 planes by
default), saved with Scopeflow's own writers (NDTiff, OME-Zarr) through their sinks,
the path an acquisition's saving thread takes. Each image differs (a shifted noise
pattern and its index), so a viewer that showed the wrong one is seen. Making them is
slow (some gigabytes); a folder that already holds a complete one of the same shape
is used as it is (a marker file says it is complete).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

MARKER = "scopeflow-bench-complete.json"


@dataclass(frozen=True)
class BigDataset:
    time_points: int = 2000
    channels: tuple[str, ...] = ("DAPI", "FITC")
    z_planes: int = 5
    size: int = 512

    @property
    def images(self) -> int:
        return self.time_points * len(self.channels) * self.z_planes

    def axes(self):
        """Each image's axes, in acquisition order (time, then channel, then z)."""
        for t in range(self.time_points):
            for channel in self.channels:
                for z in range(self.z_planes):
                    yield {"time": t, "channel": channel, "z": z}

    def image(self, index: int, pattern: np.ndarray) -> np.ndarray:
        """The ``index``-th image: the pattern rolled by it, with the index in its first
        pixel (so each image is told apart)."""
        image = np.roll(pattern, index % self.size, axis=1)
        image[0, 0] = index % 65536
        return image


def pattern_for(size: int) -> np.ndarray:
    return np.random.default_rng(0).integers(100, 4000, (size, size), dtype=np.uint16)


def made_dataset(folder: str | Path, storage: str, shape: BigDataset) -> Path:
    """The dataset of ``shape`` in ``storage`` ("ndtiff" or "ome-zarr") under ``folder``,
    written now unless a complete one is there already."""
    home = Path(folder) / f"{storage}-{shape.images}-{shape.size}"
    marker = home / MARKER
    if marker.is_file():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("shape") == _recorded(shape):
            return home / recorded["dataset"]
    if home.exists():
        shutil.rmtree(home)  # an earlier one cut short, or of another shape
    home.mkdir(parents=True)
    sink = _sink(home, storage, shape)
    pattern = pattern_for(shape.size)
    for index, axes in enumerate(shape.axes()):
        metadata = {
            "Axes": axes,
            "Channel": axes["channel"],
            "ElapsedTime-ms": 1000.0 * axes["time"],
            "ZPosition_um_Intended": 0.5 * axes["z"],
            "BitDepth": 16,
            "PixelSizeUm": 0.65,
        }
        sink.put(axes, shape.image(index, pattern), metadata)
    sink.finish()
    marker.write_text(
        json.dumps({"shape": _recorded(shape), "dataset": sink.path.name}), encoding="utf-8"
    )
    return sink.path


def _recorded(shape: BigDataset) -> dict[str, Any]:
    return {**asdict(shape), "channels": list(shape.channels)}


def _sink(home: Path, storage: str, shape: BigDataset) -> Any:
    summary = {
        "Software": "Scopeflow bench",
        "Width": shape.size,
        "Height": shape.size,
        "PixelType": "GRAY16",
        "BitDepth": 16,
        "PixelSize_um": 0.65,
        "ChannelGroup": "Channel",
    }
    if storage == "ome-zarr":
        from app.storage.ome_zarr_sink import OMEZarrSink

        return OMEZarrSink(home, "big", summary)
    if storage == "ndtiff":
        from app.storage.ndtiff_sink import NDTiffSink

        return NDTiffSink(home, "big", summary)
    raise ValueError(f"storage must be 'ndtiff' or 'ome-zarr', got {storage!r}")
