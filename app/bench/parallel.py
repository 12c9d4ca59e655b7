"""``scopeflow bench parallel``: a heavy processor on 1, 2 and all cores, side by side.

The processor is a Gaussian filter (scipy.ndimage, which releases the GIL while it
filters), the work a denoising step does. The same acquisition (the simulated camera,
frames kept in memory) runs with ``Processor(filter, workers=N)`` for each N; each row
reports frames per second, its ratio to one worker, frames lost, and whether the images
were saved in acquisition order (checked from the image-saved callbacks' order).
"""

from __future__ import annotations

import os
import time
from typing import Any

from app.bench.report import median


def _gaussian(image, metadata):
    from scipy import ndimage

    return ndimage.gaussian_filter(image, sigma=3), metadata


def _run(core, frames: int, workers: int) -> dict[str, Any]:
    from app import Processor

    return timed_in_order(core, frames, Processor(_gaussian, workers=workers))


def timed_in_order(core, frames: int, processor: Any) -> dict[str, Any]:
    """One acquisition of ``frames`` time points kept in memory through ``processor``:
    its seconds, frames lost, and whether the images were saved in acquisition order."""
    from app import Acquisition, multi_d_acquisition_events

    order: list[int] = []
    start = time.perf_counter()
    with Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_process_fn=processor,
        image_saved_fn=lambda axes, dataset: order.append(axes["time"]),
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=frames))
    seconds = time.perf_counter() - start
    counts = acq.counts.snapshot()
    return {
        "seconds": seconds,
        "lost": counts["lost"] + counts["missing"] + frames - len(order),
        "in order": order == sorted(order),
    }


def bench_parallel(size: int = 1024, frames: int = 120, runs: int = 3) -> list[dict[str, Any]]:
    from app.microscope import SimulatedCameraSettings, load_microscope

    camera = SimulatedCameraSettings(
        width=size, height=size, fast_image=True, exposure_ms=1, mode="Noise"
    )
    core = load_microscope(camera=camera)
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    for _ in range(runs):  # interleaved: a busy moment of the machine hits every count
        for workers in counts:
            results[workers].append(_run(core, frames, workers))
    one = median([r["seconds"] for r in results[1]])
    rows = []
    for workers in counts:
        seconds = median([r["seconds"] for r in results[workers]])
        rows.append(
            {
                "workers": workers,
                "frames/s": frames / seconds,
                "ratio to 1 worker": one / seconds,
                "lost": sum(r["lost"] for r in results[workers]),
                "in order": all(r["in order"] for r in results[workers]),
                "machine cores": cores,
            }
        )
    return rows
