"""The peer's figure for ``scopeflow bench open``: napari opening the same dataset.

Run in a process of its own (napari brings its own Qt and OpenGL set-up), which
prints one JSON line. The dataset is opened the way napari users open these formats:
an NDTiff dataset through the ``ndtiff`` package's lazy dask array (pycro-manager's
documented way to view its data in napari), an OME-Zarr one as the lazy dask array
of its zarr array (what the napari-ome-zarr reader hands napari); both with each
channel a layer. Only napari's public API is used: the time to the first image is
from opening to a first ``screenshot`` of the canvas (which draws it), and a step of
the time slider is ``dims.set_current_step`` then a screenshot, less the time of a
screenshot with nothing changed (read back from the graphics card, not napari's work).

    python -m app.bench.napari_peer ndtiff|ome-zarr DATASET STEPS
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil


def _lazy_array(storage: str, path: Path) -> Any:
    if storage == "ndtiff":
        from ndtiff import Dataset

        with contextlib.redirect_stdout(io.StringIO()):  # ndtiff prints its progress
            dataset = Dataset(str(path))
        return dataset.as_array(axes=["time", "channel", "z"])  # (t, c, z, y, x)
    import dask.array as da
    import zarr

    return da.from_zarr(zarr.open_array(str(path / "0" / "0"), mode="r"))  # (t, c, z, y, x)


def measure(storage: str, path: Path, steps: int) -> dict[str, float]:
    import napari

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1200, 900)
    viewer.screenshot(canvas_only=True)  # the empty canvas drawn once: GL set up
    process = psutil.Process()
    before = process.memory_info().rss
    start = time.perf_counter()
    data = _lazy_array(storage, path)
    viewer.add_image(data, channel_axis=1)
    viewer.screenshot(canvas_only=True)
    first = time.perf_counter() - start
    readback = []
    for _ in range(5):
        began = time.perf_counter()
        viewer.screenshot(canvas_only=True)
        readback.append(time.perf_counter() - began)
    stride = max(1, data.shape[0] // steps)
    step_ms = []
    for step in range(1, steps + 1):
        began = time.perf_counter()
        viewer.dims.set_current_step(0, step * stride)
        viewer.screenshot(canvas_only=True)
        step_ms.append(1000 * (time.perf_counter() - began - statistics.median(readback)))
    held = (process.memory_info().rss - before) / 1e6
    viewer.close()
    return {
        "first": first,
        "step median": statistics.median(step_ms),
        "step p95": sorted(step_ms)[min(len(step_ms) - 1, int(0.95 * len(step_ms)))],
        "readback ms": 1000 * statistics.median(readback),
        "memory": held,
    }


if __name__ == "__main__":
    storage, dataset, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(storage, dataset, count)))
