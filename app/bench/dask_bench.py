"""``scopeflow bench dask``: a heavy processor on a Dask LocalCluster, beside one worker.

The processor does a fixed amount of pure-Python work, sized to take about 100 ms per
frame on this computer, holding Python's lock the whole time (as much image analysis
written in Python does), so threads on this computer cannot run two frames at once; a
Dask cluster's worker processes can. The same acquisition (256x256 frames kept in
memory) runs with the processor in-process with one worker, in-process with as many
threads as cores, and on a ``LocalCluster`` of one process per core; each row reports
frames per second, the ratio to the first, frames lost, and whether they were saved in
acquisition order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from app.bench.parallel import timed_in_order
from app.bench.report import median

WORK_S = 0.1


def heavy_python(iterations: int) -> Callable[..., Any]:
    """A processor doing a fixed amount of pure-Python work on the frame (it holds
    Python's lock throughout): ``iterations`` sums of its first row."""

    def heavy(image, metadata):
        row = image[0].tolist()
        total = 0
        for _ in range(iterations):
            total += sum(row)
        metadata["HeavySum"] = total
        return image, metadata

    return heavy


def calibrated(target_s: float = WORK_S) -> Callable[..., Any]:
    """The work sized to take ``target_s`` on this computer, alone."""
    import numpy as np

    image = np.zeros((256, 256), np.uint16)
    probe = 200
    start = time.perf_counter()
    heavy_python(probe)(image, {})
    per_iteration = (time.perf_counter() - start) / probe
    return heavy_python(max(1, round(target_s / per_iteration)))


def bench_dask(frames: int = 40, runs: int = 3) -> list[dict[str, Any]]:
    from app import Processor
    from app.microscope import SimulatedCameraSettings, load_microscope
    from app.processing.dask_processor import DaskCluster, on_dask

    core = load_microscope(
        camera=SimulatedCameraSettings(width=256, height=256, fast_image=True, exposure_ms=1)
    )
    cores = os.cpu_count() or 1
    cluster = DaskCluster(local_workers=cores, processes=True)
    cluster.client()  # started before the clock: a cluster is started once per session
    heavy = calibrated()
    setups = [
        ("in-process, 1 worker", Processor(heavy)),
        (f"in-process, {cores} worker threads", Processor(heavy, workers=cores)),
        (
            f"Dask LocalCluster, {cores} worker processes",
            Processor(on_dask(heavy, cluster=cluster), workers=2 * cores),
        ),
    ]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in setups}
    try:
        for _ in range(runs):  # interleaved: a busy moment of the machine hits each setup
            for name, processor in setups:
                results[name].append(timed_in_order(core, frames, processor))
    finally:
        cluster.close()
    first = median([r["seconds"] for r in results[setups[0][0]]])
    rows = []
    for name, _ in setups:
        seconds = median([r["seconds"] for r in results[name]])
        rows.append(
            {
                "processor runs": name,
                "frames/s": frames / seconds,
                "ratio to 1 worker": first / seconds,
                "lost": sum(r["lost"] for r in results[name]),
                "in order": all(r["in order"] for r in results[name]),
            }
        )
    return rows
