"""The frame path's speed, each scenario beside its reference, measured in one run.

``scopeflow bench pipeline``: acquisitions on the simulated camera in burst mode with
FastImage on (the camera then makes frames at several GB/s, so it is not what limits),
at a chosen frame size (default 2048x2048 uint16). Each scenario reports the median of
``--runs`` runs and its ratio to a reference measured in the same run:

- passthrough: camera -> a processor that returns the frame, no saving;
  vs pymmcore-plus's own MDA runner with a listener that does nothing (same frames),
  and vs a numpy copy of the same bytes (memory bandwidth).
- real work: background subtraction in float32 and back; vs the same numpy work alone.
- saving: camera -> NDTiff on disk, no processor; vs raw ``write()`` of the same bytes
  to the same folder.
- full: a processor and saving together; vs raw ``write()``.
Every scenario also reports frames lost, the latency from the camera to the processor
and to the image-saved callback (median and p99), and the peak resident memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil

from app.bench.report import median, percentile


class _PeakMemory:
    """Samples this process's resident memory on a thread; the peak, in MB."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, process.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6


def passthrough(image, metadata):
    return image, metadata


def subtract_background(image, metadata):
    background = getattr(subtract_background, "background", None)
    frame = image.astype(np.float32)
    if background is None or background.shape != frame.shape:
        background = frame.copy()
    background += 0.05 * (frame - background)
    subtract_background.background = background
    np.clip(frame - 0.5 * background, 0, 65535, out=frame)
    image[:] = frame.astype(image.dtype)
    return image, metadata


def _acquire(core, frames: int, processor: Callable | None, folder: str | None) -> dict[str, Any]:
    from app import Acquisition, multi_d_acquisition_events

    saved = []

    def on_saved(axes, dataset):
        saved.append(time.perf_counter_ns())

    kwargs: dict[str, Any] = {"core": core, "show_display": False}
    if processor is not None:
        kwargs["image_process_fn"] = processor
    if folder is not None:
        kwargs.update(directory=folder, name="bench")
    with _PeakMemory() as memory:
        start = time.perf_counter()
        with Acquisition(**kwargs) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=frames))
        seconds = time.perf_counter() - start
    counts = acq.counts.snapshot()
    to_processor = [n / 1e6 for n in acq.latency_to_processor_ns]
    to_saved = [n / 1e6 for n in acq.latency_to_saved_ns]
    return {
        "seconds": seconds,
        "lost": counts["lost"] + counts["missing"],
        "peak_mb": memory.peak_mb,
        "lat_proc_ms": (median(to_processor), percentile(to_processor, 99)),
        "lat_saved_ms": (median(to_saved), percentile(to_saved, 99)) if to_saved else None,
    }


def _bare_mda(core, frames: int) -> float:
    """pymmcore-plus's own runner and engine, a listener that does nothing."""
    import useq

    received = []
    core.mda.events.frameReady.connect(lambda *_: received.append(1))
    try:
        sequence = useq.MDASequence(time_plan={"interval": 0, "loops": frames})
        start = time.perf_counter()
        core.mda.run(sequence)
        seconds = time.perf_counter() - start
    finally:
        core.mda.events.frameReady.disconnect()
    if len(received) != frames:
        raise RuntimeError(f"the bare MDA runner delivered {len(received)} of {frames} frames")
    return seconds


def _numpy_copy(frame: np.ndarray, frames: int) -> float:
    start = time.perf_counter()
    for _ in range(frames):
        frame.copy()
    return time.perf_counter() - start


def _numpy_work(frame: np.ndarray, frames: int) -> float:
    image = frame.copy()
    start = time.perf_counter()
    for _ in range(frames):
        subtract_background(image, {})
    return time.perf_counter() - start


def _raw_write(folder: str, frame: np.ndarray, frames: int) -> float:
    path = os.path.join(folder, "raw.bin")
    start = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(frames):
            f.write(frame)
    seconds = time.perf_counter() - start
    os.remove(path)
    return seconds


def bench_pipeline(
    size: int = 2048, frames: int = 300, runs: int = 3, folder: str | None = None
) -> list[dict[str, Any]]:
    from app.microscope import SimulatedCameraSettings, load_microscope

    core = load_microscope(
        camera=SimulatedCameraSettings(width=size, height=size, fast_image=True, exposure_ms=1)
    )
    core.snapImage()
    frame = np.asarray(core.getImage()).copy()
    mb = frames * frame.nbytes / 1e6
    parent = folder or tempfile.gettempdir()
    rows = []

    def scenario(name, run_ours, reference_name, run_reference):
        ours, references = [], []
        for _ in range(runs):
            work = tempfile.mkdtemp(prefix="scopeflow-bench-", dir=parent)
            try:
                references.append(run_reference(work))
                ours.append(run_ours(work))
            finally:
                shutil.rmtree(work, ignore_errors=True)
        seconds = median([o["seconds"] for o in ours])
        reference = median(references)
        lat_saved = ours[len(ours) // 2]["lat_saved_ms"]
        rows.append(
            {
                "scenario": name,
                "MB/s": mb / seconds,
                "frames/s": frames / seconds,
                "reference": reference_name,
                "ref MB/s": mb / reference,
                "ratio": reference / seconds,
                "lost": sum(o["lost"] for o in ours),
                "to processor ms (p50/p99)": "{:.2f}/{:.2f}".format(
                    *ours[len(ours) // 2]["lat_proc_ms"]
                ),
                "to saved ms (p50/p99)": "{:.1f}/{:.1f}".format(*lat_saved) if lat_saved else "-",
                "peak MB": max(o["peak_mb"] for o in ours),
            }
        )

    scenario(
        "passthrough",
        lambda _w: _acquire(core, frames, passthrough, None),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    rows.append(
        {
            **rows[-1],
            "reference": "numpy copy",
            "ref MB/s": mb / median([_numpy_copy(frame, frames) for _ in range(runs)]),
        }
    )
    rows[-1]["ratio"] = rows[-1]["ref MB/s"] and rows[-1]["MB/s"] / rows[-1]["ref MB/s"]
    scenario(
        "real work (float32 background)",
        lambda _w: _acquire(core, frames, subtract_background, None),
        "the same numpy work alone",
        lambda _w: _numpy_work(frame, frames),
    )
    scenario(
        "saving (NDTiff)",
        lambda w: _acquire(core, frames, None, w),
        "raw write() of the same bytes",
        lambda w: _raw_write(w, frame, frames),
    )
    scenario(
        "full (processor + saving)",
        lambda w: _acquire(core, frames, subtract_background, w),
        "raw write() of the same bytes",
        lambda w: _raw_write(w, frame, frames),
    )
    return rows
