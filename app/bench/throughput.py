"""The frame path's speed, each scenario beside its reference, measured in one run.

``scopeflow bench pipeline``: acquisitions on the simulated camera in burst mode with
FastImage on (the camera then makes frames at several GB/s, so it is not what limits),
at a chosen frame size (default 2048x2048 uint16). Each scenario reports the median of
``--runs`` runs and its ratio to a reference measured in the same run:

- passthrough: camera -> a processor that returns the frame, no saving;
  vs pymmcore-plus's own MDA runner with a listener that does nothing (same frames),
  and vs a numpy copy of the same bytes (memory bandwidth).
- kept in memory: the same, every image kept (RAM storage); vs the bare runner, vs
  pymmcore-plus's tensorstore writer in memory, and vs the least any keeper does (one
  loop popping each frame and copying it into warm memory: the ceiling here). One row
  keeps more frames than the warm memory kept between acquisitions holds, so that the
  rest land in memory new from the system; vs the bare runner and a numpy copy of the
  same frames into new memory (the rate the system hands memory over). The first
  acquisition kept in memory of a process is measured as a script runs it, and with
  its memory made ready before it (``prepare_memory``, untimed), as the window does.
- real work: background subtraction in float32 and back; vs the same numpy work alone.
- saving: camera -> NDTiff on disk, no processor; vs a raw ``write()`` of the same bytes
  to the same folder, and vs the peers' writers on the same frames: pymmcore-plus's MDA
  with its OME-TIFF and OME-Zarr writers, and acquire-zarr's stream.
- saving OME-Zarr (``storage="ome-zarr"``): vs raw ``write()`` and pymmcore-plus's
  OME-Zarr writer.
- full: a processor and saving together; vs raw ``write()``.
Every camera run, ours and the references', has a camera buffer that holds every frame
(the bare runner needs it: it has no back-pressure, and a camera faster than its
consumer overflows a smaller one); one row keeps frames in memory with the core's own
buffer, where Scopeflow cuts bursts to what the buffer holds and restarts the camera
between them.
Every contender that saves stops its clock once its files are on disk (an fsync of each
file: dirty pages in the page cache are not data yet), and reports its bytes on disk.
The camera makes frames with content (the demo camera's "Noise" mode: an offset and
noise in every pixel), so writers that compress or skip empty chunks are not flattered.
Every scenario also reports frames lost, the latency from the camera to the processor
and to the image-saved callback (median and p99), and the peak resident memory.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import mmap
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psutil

from app.bench.report import median, percentile
from app.storage.warm_memory import (
    WarmMemory,
    default_retained_bytes,
    prepare_memory,
    set_warm_memory,
    warm_memory,
)

logger = logging.getLogger(__name__)


class PeakMemory:
    """Samples this process's resident memory on a thread; the peak, in MB."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
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


_BACKGROUND: dict[str, np.ndarray] = {}  # the running estimate of subtract_background


def subtract_background(image, metadata):
    background = _BACKGROUND.get("estimate")
    frame = image.astype(np.float32)
    if background is None or background.shape != frame.shape:
        background = frame.copy()
    background += 0.05 * (frame - background)
    _BACKGROUND["estimate"] = background
    np.clip(frame - 0.5 * background, 0, 65535, out=frame)
    image[:] = frame.astype(image.dtype)
    return image, metadata


def _acquire(
    core,
    frames: int,
    processor: Callable | None,
    folder: str | None,
    storage: str = "ndtiff",
    default_buffer: bool = False,
) -> dict[str, Any]:
    """One acquisition of ``frames`` time points. The camera buffer holds every frame,
    as the references' runs have it (``_buffer_for_every_frame``), unless
    ``default_buffer``: the core's own, where Scopeflow cuts bursts to its size."""
    with contextlib.nullcontext() if default_buffer else _buffer_for_every_frame(core, frames):
        return _acquire_timed(core, frames, processor, folder, storage)


def _acquire_timed(
    core, frames: int, processor: Callable | None, folder: str | None, storage: str
) -> dict[str, Any]:
    from app import Acquisition, multi_d_acquisition_events

    saved = []

    def on_saved(axes, dataset):
        saved.append(time.perf_counter_ns())

    kwargs: dict[str, Any] = {"core": core, "show_display": False}
    if processor is not None:
        kwargs["image_process_fn"] = processor
    if folder is not None:
        kwargs.update(directory=folder, name="bench", storage=storage)
    else:
        kwargs.update(storage="ram" if storage == "ram" else "none")
    with PeakMemory() as memory:
        start = time.perf_counter()
        with Acquisition(**kwargs) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=frames))
        if folder is not None:
            sync_folder(folder)  # every contender's clock stops with its data on disk
        seconds = time.perf_counter() - start
    counts = acq.counts.snapshot()
    to_processor = [n / 1e6 for n in acq.latency_to_processor_ns]
    to_saved = [n / 1e6 for n in acq.latency_to_saved_ns]
    return {
        "seconds": seconds,
        "on_disk": folder_bytes(folder) if folder is not None else float("nan"),
        "lost": counts["lost"] + counts["missing"],
        "peak_mb": memory.peak_mb,
        "lat_proc_ms": (median(to_processor), percentile(to_processor, 99)),
        "lat_saved_ms": (median(to_saved), percentile(to_saved, 99)) if to_saved else None,
    }


#: pymmcore-plus's runner now and then has one image fewer from the simulated camera's
#: sequence than it asked for (its own warning: "Unexpected number of images returned
#: from sequence"): that run is not the same work as ours, and is run again
BARE_MDA_ATTEMPTS = 3


def _bare_mda(core, frames: int, keep: bool = False) -> float:
    """pymmcore-plus's own runner and engine, a listener that does nothing (``keep``:
    that keeps each image, in a list): the seconds of its first run (of
    ``BARE_MDA_ATTEMPTS``) that delivered every frame."""
    delivered = 0
    for _ in range(BARE_MDA_ATTEMPTS):
        seconds, delivered = _bare_mda_run(core, frames, keep)
        if delivered == frames:
            return seconds
        logger.warning(
            "The bare MDA runner delivered %d of %d frames: run again", delivered, frames
        )
    raise RuntimeError(
        f"the bare MDA runner delivered {delivered} of {frames} frames "
        f"in each of {BARE_MDA_ATTEMPTS} runs"
    )


def _bare_mda_run(core, frames: int, keep: bool = False) -> tuple[float, int]:
    import useq

    received: list[Any] = []
    core.mda.events.frameReady.connect(
        (lambda image, *_: received.append(image)) if keep else (lambda *_: received.append(1))
    )
    try:
        with _buffer_for_every_frame(core, frames):
            sequence = useq.MDASequence(
                time_plan=useq.TIntervalLoops(interval=datetime.timedelta(0), loops=frames)
            )
            start = time.perf_counter()
            core.mda.run(sequence)
            seconds = time.perf_counter() - start
    finally:
        core.mda.events.frameReady.disconnect()
    return seconds, len(received)


def _numpy_copy(frame: np.ndarray, frames: int) -> float:
    start = time.perf_counter()
    for _ in range(frames):
        frame.copy()
    return time.perf_counter() - start


def _numpy_keep(frame: np.ndarray, frames: int) -> float:
    """Each frame copied into memory new from the system, its pages faulted in as they
    are written, as anything keeping frames must when no memory was touched before:
    the machine's rate for that, in the faster of its two kinds of new memory this time
    (a private anonymous mapping of ordinary pages, and numpy's own array, huge pages
    on Linux). On the project's virtual machine huge pages came at 0.35 to 15 GB/s
    within one hour, fast from memory freed lately (``app.storage.fresh_pages``): this
    runs after the rows before it let their memory go, so it is the rate at its best in
    the run. No camera: a limit, not a peer."""
    kinds = (True, False) if hasattr(mmap, "MAP_PRIVATE") else (False,)  # Windows: one
    return min(_numpy_keep_in(frame, frames, mapped) for mapped in kinds)


def _numpy_keep_in(frame: np.ndarray, frames: int, mapped: bool) -> float:
    nbytes = frame.nbytes * frames
    if mapped:
        fresh: Any = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
        if hasattr(mmap, "MADV_NOHUGEPAGE"):  # ordinary pages whatever the system's default
            fresh.madvise(mmap.MADV_NOHUGEPAGE)
    else:
        fresh = np.empty(nbytes, np.uint8)
    kept = np.frombuffer(fresh, dtype=frame.dtype).reshape(frames, *frame.shape)
    start = time.perf_counter()
    for i in range(frames):
        kept[i] = frame
    seconds = time.perf_counter() - start
    del kept
    if mapped:
        fresh.close()
    return seconds


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
            f.write(frame.data)
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - start
    os.remove(path)
    return seconds


def _peer_writer(core, frames: int, folder: str, suffix: str) -> tuple[float, int]:
    """pymmcore-plus's MDA runner with its own ``output=`` writer; (seconds, bytes on disk).

    Its runner has no back-pressure: a camera faster than the writer overflows the
    circular buffer and the run fails. The buffer is enlarged to hold every frame,
    so what is measured is the writer's own speed.
    """
    import useq

    with _buffer_for_every_frame(core, frames):
        sequence = useq.MDASequence(
            time_plan=useq.TIntervalLoops(interval=datetime.timedelta(0), loops=frames)
        )
        start = time.perf_counter()
        core.mda.run(sequence, output=os.path.join(folder, "peer" + suffix))
        sync_folder(folder)
        seconds = time.perf_counter() - start
    return seconds, folder_bytes(folder)


def _pop_and_keep(core, frames: int, memory: WarmMemory) -> float:
    """The least any program keeping frames does with pymmcore's API: one loop pops
    each frame of a burst (``popNextImage`` makes a new array, it cannot fill one given
    to it) and copies it into warm memory. No pipeline, no threads, no dataset: the
    ceiling for keeping frames on this machine, beside the bare runner keeping none."""
    reservation = memory.reserve(frames * core.getImageBufferSize())
    kept: list[np.ndarray] = []
    try:
        with _buffer_for_every_frame(core, frames):
            start = time.perf_counter()
            core.startSequenceAcquisition(frames, 0, True)
            deadline = start + 60 + frames
            while len(kept) < frames:
                if core.getRemainingImageCount():
                    kept.append(reservation.copy_of(core.popNextImage()))
                elif time.perf_counter() > deadline:
                    raise RuntimeError(f"the camera gave {len(kept)} of {frames} frames")
            seconds = time.perf_counter() - start
    finally:
        core.stopSequenceAcquisition()
        reservation.close()
    return seconds


def _beyond_warm_memory(frame_bytes: int) -> int:
    """Frames of ``frame_bytes`` that make half as much again as the warm memory an
    acquisition finds kept from the ones before (``default_retained_bytes``)."""
    return math.ceil(1.5 * default_retained_bytes() / frame_bytes)


def _in_fresh_memory(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run`` with warm memory of its own, empty: as the first acquisition kept in
    memory in a process."""
    set_warm_memory(WarmMemory())
    try:
        return run()
    finally:
        set_warm_memory(None)


#: the peer's own runner keeping every frame, as the simplest script with it does
PEER_KEEPS = "pymmcore-plus MDA, a listener keeping each image (a list)"
#: the machine's limit for frames kept in memory new from the system
NEW_MEMORY = "numpy: the frames copied into memory new from the system (no camera)"


#: the rows whose memory ``prepare_memory`` made ready before they ran
MADE_READY = "kept in memory (RAM), its memory made ready before (as the window does)"


def _first_made_ready(core, frames: int, default_buffer: bool = False) -> dict[str, Any]:
    """The first acquisition kept in memory of a process, its memory made ready before
    it by ``prepare_memory`` (untimed), as the window does while its plan is set."""
    nbytes = frames * core.getImageBufferSize()
    try:
        prepare_memory(nbytes / 1e9, timeout_s=120)
        if warm_memory().free_bytes < nbytes:
            raise RuntimeError(f"{nbytes / 1e9:.2f} GB of memory not made ready in 2 minutes")
        return _acquire(core, frames, passthrough, None, "ram", default_buffer=default_buffer)
    finally:
        prepare_memory(0)


def _peer_in_memory(core, frames: int) -> float:
    """pymmcore-plus's runner with its tensorstore writer kept in memory (memory://),
    its in-memory store."""
    import warnings

    import useq

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # its handlers module moves
        from pymmcore_plus.mda.handlers import TensorStoreHandler

    with _buffer_for_every_frame(core, frames):
        sequence = useq.MDASequence(
            time_plan=useq.TIntervalLoops(interval=datetime.timedelta(0), loops=frames)
        )
        handler = TensorStoreHandler(kvstore="memory://")
        start = time.perf_counter()
        core.mda.run(sequence, output=handler)
        seconds = time.perf_counter() - start
    del handler
    return seconds


@contextlib.contextmanager
def _buffer_for_every_frame(core, frames: int) -> Iterator[None]:
    """pymmcore-plus's runner has no back-pressure: a camera faster than its consumer
    overflows the circular buffer and the run fails, so it is made to hold every frame
    (what is measured is then the consumer's own speed)."""
    footprint = core.getCircularBufferMemoryFootprint()
    needed_mb = frames * core.getImageBufferSize() // 1024**2 + 64
    core.setCircularBufferMemoryFootprint(max(footprint, needed_mb))
    try:
        yield
    finally:
        core.setCircularBufferMemoryFootprint(footprint)


def _acquire_zarr(folder: str, frame: np.ndarray, frames: int) -> tuple[float, int]:
    """acquire-zarr's streaming writer (OME-Zarr v3, uncompressed as NDTiff is), the same
    frames appended along time; (seconds, bytes on disk)."""
    import acquire_zarr as az

    height, width = frame.shape
    dimensions = [
        az.Dimension(name="t", kind=az.DimensionType.TIME, array_size_px=0, chunk_size_px=1),
        az.Dimension(
            name="y", kind=az.DimensionType.SPACE, array_size_px=height, chunk_size_px=height
        ),
        az.Dimension(
            name="x", kind=az.DimensionType.SPACE, array_size_px=width, chunk_size_px=width
        ),
    ]
    for dimension in dimensions:
        dimension.shard_size_chunks = 64 if dimension.name == "t" else 1
    settings = az.StreamSettings(
        store_path=os.path.join(folder, "peer.ome.zarr"),
        arrays=[az.ArraySettings(dimensions=dimensions, data_type=frame.dtype)],
    )
    start = time.perf_counter()
    stream = az.ZarrStream(settings)
    for _ in range(frames):
        stream.append(frame)
    stream.close()
    sync_folder(folder)
    seconds = time.perf_counter() - start
    return seconds, folder_bytes(folder)


def sync_folder(folder: str) -> None:
    """Put every file under ``folder`` on disk (the time that matters for a microscope:
    dirty pages in the page cache are not yet data)."""
    flags = os.O_RDONLY if os.name != "nt" else os.O_RDWR | getattr(os, "O_BINARY", 0)
    for root, _dirs, names in os.walk(folder):
        for name in names:
            descriptor = os.open(os.path.join(root, name), flags)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def folder_bytes(folder: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _dirs, names in os.walk(folder)
        for name in names
    )


def _overhead(frames: int) -> dict[str, Any]:
    """Per-frame cost of the path engine -> processing thread -> saving thread, with the
    camera and the disk taken out: tiny frames are handed over as the engine does
    (metadata built, counted, queued) and pass a processor and a saver that keeps none."""
    from app.acquisition.context import WorkerContext
    from app.acquisition.counts import FrameCounts
    from app.acquisition.event_queue import EventQueue
    from app.acquisition.flow import AcquisitionFlow
    from app.acquisition.frames import Frame
    from app.acquisition.handoff import HandoffQueue
    from app.acquisition.markers import STOP
    from app.acquisition.threads import PythonThreads
    from app.acquisition.workers import ProcessingWorker, SavingWorker
    from app.processing.display import LatestFrameSlot
    from app.processing.pipeline import ProcessorPipeline
    from app.storage.discard_sink import DiscardSink

    flow, counts = AcquisitionFlow(), FrameCounts()
    context = WorkerContext(flow, counts, lambda note: None, lambda *args: False, EventQueue(flow))
    to_process: HandoffQueue[Any] = HandoffQueue(flow, 64)
    to_save: HandoffQueue[Any] = HandoffQueue(flow, 64)
    processing = ProcessingWorker(
        context, to_process, to_save, ProcessorPipeline([passthrough]), LatestFrameSlot(), []
    )
    # the saving worker's own cost, with a sink that keeps nothing instead of the disk
    saving = SavingWorker(context, to_save, DiscardSink(), None, [])
    image = np.zeros((16, 16), np.uint16)
    threads = PythonThreads()
    processing_thread = threads.start(processing)
    saving_thread = threads.start(saving)
    start = time.perf_counter()
    for i in range(frames):
        metadata = {"Axes": {"time": i}, "Channel": "DAPI", "ImageNumber": i}
        counts.add(acquired=1)
        to_process.put(Frame(image, metadata, time.perf_counter_ns()))
    to_process.put_marker(STOP)
    saving_thread.join()
    seconds = time.perf_counter() - start
    processing_thread.join()
    if counts.saved != frames:
        raise RuntimeError(f"overhead harness saved {counts.saved} of {frames}")
    return {"us_per_frame": 1e6 * seconds / frames}


def _memory_over(core, frames: int, folder: str) -> list[float]:
    """Resident memory (MB) sampled along one long acquisition with saving."""
    from app import Acquisition, multi_d_acquisition_events

    samples: list[float] = []
    process = psutil.Process()

    def sample(image, metadata):
        if metadata["ImageNumber"] % max(1, frames // 10) == 0:
            samples.append(process.memory_info().rss / 1e6)
        return image, metadata

    with Acquisition(
        folder, "memory", image_process_fn=sample, core=core, show_display=False
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=frames))
    return samples


def add_one_into_new_array(image, metadata):
    return np.add(image, 1), metadata


_REUSED: dict[str, np.ndarray] = {}  # the one output buffer of add_one_into_reused_buffer


def add_one_into_reused_buffer(image, metadata):
    """The speed idiom that would corrupt queued frames: Scopeflow copies its output."""
    out = _REUSED.get("out")
    if out is None or out.shape != image.shape or out.dtype != image.dtype:
        out = _REUSED["out"] = np.empty_like(image)
    np.add(image, 1, out=out)
    return out, metadata


def bench_pipeline(
    size: int = 2048, frames: int = 300, runs: int = 3, folder: str | None = None
) -> list[dict[str, Any]]:
    from app.microscope import SimulatedCameraSettings, load_microscope

    # "Noise": a camera's offset and noise in every pixel, as real frames have (the
    # beads' frame is 99% zeros, which writers that compress or skip chunks flatter)
    camera = SimulatedCameraSettings(
        width=size, height=size, fast_image=True, exposure_ms=1, mode="Noise"
    )
    core = load_microscope(camera=camera)
    core.snapImage()
    frame = np.asarray(core.getImage()).copy()
    if not frame.any():
        raise RuntimeError("the simulated camera gives empty frames: the figures would lie")
    parent = folder or tempfile.gettempdir()
    rows = []

    def megabytes(count: int) -> float:
        return count * frame.nbytes / 1e6

    def scenario(name, run_ours, reference_name, run_reference, count=frames):
        mb = megabytes(count)
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
                "frames/s": count / seconds,
                "reference": reference_name,
                "ref MB/s": mb / reference,
                "ratio": reference / seconds,
                "lost": sum(o["lost"] for o in ours),
                "to processor ms (p50/p99)": "{:.2f}/{:.2f}".format(
                    *ours[len(ours) // 2]["lat_proc_ms"]
                ),
                "to saved ms (p50/p99)": "{:.1f}/{:.1f}".format(*lat_saved) if lat_saved else "-",
                "peak MB": max(o["peak_mb"] for o in ours),
                "on disk MB": min(o.get("on_disk", 0) for o in ours) / 1e6,
                "ref on disk MB": float("nan"),
            }
        )

    def beside(
        row: dict[str, Any], reference: str, seconds: Callable[[], float], count: int = frames
    ) -> None:
        """``row``'s figures again, beside another reference (timed ``runs`` times)."""
        ref = megabytes(count) / median([seconds() for _ in range(runs)])
        rows.append({**row, "reference": reference, "ref MB/s": ref})
        rows[-1]["ratio"] = ref and row["MB/s"] / ref

    scenario(
        "passthrough",
        lambda _w: _acquire(core, frames, passthrough, None),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    beside(rows[-1], "numpy copy", lambda: _numpy_copy(frame, frames))
    # warm: memory an earlier acquisition kept and let go of, so one untimed first
    # (else the first of its runs would be the first in the process: the row after)
    _acquire(core, frames, passthrough, None, storage="ram")
    scenario(
        "kept in memory (RAM), warm",
        lambda _w: _acquire(core, frames, passthrough, None, storage="ram"),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    beside(
        rows[-1],
        "pymmcore-plus MDA + its tensorstore writer in memory (memory://)",
        lambda: _peer_in_memory(core, frames),
    )
    # its own warm memory, warmed by one untimed loop as the row above's is
    keeper_memory = WarmMemory()
    _pop_and_keep(core, frames, keeper_memory)
    beside(
        rows[-1],
        "one loop popping each frame and copying it into warm memory (no pipeline)",
        lambda: _pop_and_keep(core, frames, keeper_memory),
    )
    # with the core's own camera buffer (250 MB unless set), bursts are cut to what it
    # holds (a slow pipeline must not overflow it): the cost of the restarts
    burst = core.getCircularBufferMemoryFootprint() * 1024**2 // core.getImageBufferSize() - 1
    scenario(
        f"kept in memory (RAM), warm, the core's {core.getCircularBufferMemoryFootprint()} MB "
        f"camera buffer (bursts of {burst})",
        lambda _w: _acquire(core, frames, passthrough, None, "ram", default_buffer=True),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    # the first acquisition kept in memory of a process has no warm memory to reuse:
    # its memory comes fresh from the system, touched ahead by a thread of its own
    scenario(
        "kept in memory (RAM), first in the process",
        lambda _w: _in_fresh_memory(lambda: _acquire(core, frames, passthrough, None, "ram")),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    beside(rows[-1], PEER_KEEPS, lambda: _bare_mda(core, frames, keep=True))
    beside(rows[-1], NEW_MEMORY, lambda: _numpy_keep(frame, frames))
    # the window makes that memory ready while a plan kept in memory is set (a script
    # with prepare_memory): its first acquisition then finds it warm
    scenario(
        f"{MADE_READY}, first in the process",
        lambda _w: _in_fresh_memory(lambda: _first_made_ready(core, frames)),
        "bare pymmcore-plus MDA",
        lambda _w: _bare_mda(core, frames),
    )
    # longer than the warm memory kept between acquisitions: its frames past that land
    # in memory new from the system, at the rate the system hands it over
    long_frames = _beyond_warm_memory(frame.nbytes)
    # not in a quick run of tiny frames, nor where the bare runner's camera buffer for
    # every frame and the frames kept would not fit in half the memory available
    long_bytes = long_frames * frame.nbytes
    if (
        frames >= 100
        and long_frames <= 20 * frames
        and 2 * long_bytes < psutil.virtual_memory().available / 2
    ):
        # one untimed first, so that each timed run finds the warm memory it leaves
        _acquire(core, long_frames, passthrough, None, "ram", default_buffer=True)
        scenario(
            f"kept in memory (RAM), {long_frames} frames ({long_bytes / 1e9:.1f} GB: past the"
            " warm memory kept), the core's camera buffer",
            lambda _w: _acquire(core, long_frames, passthrough, None, "ram", default_buffer=True),
            "bare pymmcore-plus MDA",
            lambda _w: _bare_mda(core, long_frames),
            count=long_frames,
        )
        beside(
            rows[-1],
            PEER_KEEPS,
            lambda: _bare_mda(core, long_frames, keep=True),
            count=long_frames,
        )
        beside(rows[-1], NEW_MEMORY, lambda: _numpy_keep(frame, long_frames), count=long_frames)
        scenario(
            f"{MADE_READY}, {long_frames} frames ({long_bytes / 1e9:.1f} GB), the core's "
            "camera buffer",
            lambda _w: _in_fresh_memory(
                lambda: _first_made_ready(core, long_frames, default_buffer=True)
            ),
            "bare pymmcore-plus MDA",
            lambda _w: _bare_mda(core, long_frames),
            count=long_frames,
        )
    scenario(
        "real work (float32 background)",
        lambda _w: _acquire(core, frames, subtract_background, None),
        "the same numpy work alone",
        lambda _w: _numpy_work(frame, frames),
    )
    scenario(
        "processor reusing its output buffer (copied)",
        lambda _w: _acquire(core, frames, add_one_into_reused_buffer, None),
        "the same processor returning a new array",
        lambda _w: _acquire(core, frames, add_one_into_new_array, None)["seconds"],
    )
    scenario(
        "saving (NDTiff)",
        lambda w: _acquire(core, frames, None, w),
        "raw write() + fsync of the same bytes",
        lambda w: _raw_write(w, frame, frames),
    )
    scenario(
        "saving (OME-Zarr)",
        lambda w: _acquire(core, frames, None, w, storage="ome-zarr"),
        "raw write() + fsync of the same bytes",
        lambda w: _raw_write(w, frame, frames),
    )
    scenario(
        "full (processor + saving)",
        lambda w: _acquire(core, frames, subtract_background, w),
        "raw write() + fsync of the same bytes",
        lambda w: _raw_write(w, frame, frames),
    )
    peers: list[tuple[str, Callable[[str], tuple[float, int]]]] = [
        (
            "pymmcore-plus MDA + its OME-TIFF writer",
            lambda w: _peer_writer(core, frames, w, ".ome.tiff"),
        ),
        (
            "pymmcore-plus MDA + its OME-Zarr writer (tensorstore)",
            lambda w: _peer_writer(core, frames, w, ".ome.zarr"),
        ),
        (
            "acquire-zarr stream, the same frames (no camera)",
            lambda w: _acquire_zarr(w, frame, frames),
        ),
    ]
    ours = next(r for r in rows if r["scenario"] == "saving (NDTiff)")
    ours_zarr = next(r for r in rows if r["scenario"] == "saving (OME-Zarr)")
    for label, run_peer in peers:
        results = []
        # Scopeflow's OME-Zarr runs in turn with the peer's OME-Zarr writer: the disk's
        # rate moved by up to twice between one row's runs and the next's
        zarr_runs: list[dict[str, Any]] = []

        def run_ours_zarr(into: list[dict[str, Any]]) -> None:
            work = tempfile.mkdtemp(prefix="scopeflow-bench-", dir=parent)
            try:
                into.append(_acquire(core, frames, None, work, storage="ome-zarr"))
            finally:
                shutil.rmtree(work, ignore_errors=True)

        in_turn = "OME-Zarr" in label
        for number in range(runs):
            if in_turn and number % 2:  # first every other run: neither always follows
                run_ours_zarr(zarr_runs)
            work = tempfile.mkdtemp(prefix="scopeflow-bench-", dir=parent)
            try:
                results.append(run_peer(work))
            except Exception as exc:  # a peer that fails is reported, not fatal
                results.append((float("nan"), 0))
                print(f"{label} failed: {exc!r}")
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if in_turn and not number % 2:
                run_ours_zarr(zarr_runs)
        seconds = median([r[0] for r in results])
        written = min(r[1] for r in results)
        compared = [ours]
        if zarr_runs:
            zarr_seconds = median([r["seconds"] for r in zarr_runs])
            middle = sorted(zarr_runs, key=lambda r: r["seconds"])[len(zarr_runs) // 2]
            compared.append(
                {
                    **ours_zarr,
                    "scenario": "saving (OME-Zarr), run in turn with the peer",
                    "MB/s": megabytes(frames) / zarr_seconds,
                    "frames/s": frames / zarr_seconds,
                    "lost": sum(r["lost"] for r in zarr_runs),
                    "to processor ms (p50/p99)": "{:.2f}/{:.2f}".format(*middle["lat_proc_ms"]),
                    "to saved ms (p50/p99)": (
                        "{:.1f}/{:.1f}".format(*middle["lat_saved_ms"])
                        if middle["lat_saved_ms"]
                        else "-"
                    ),
                    "peak MB": max(r["peak_mb"] for r in zarr_runs),
                    "on disk MB": min(r.get("on_disk", 0) for r in zarr_runs) / 1e6,
                }
            )
        ref = megabytes(frames) / seconds
        for mine in compared:
            rows.append(
                {
                    **mine,
                    "reference": f"{label} + fsync",
                    "ref MB/s": ref,
                    "ratio": ref and mine["MB/s"] / ref,
                    "ref on disk MB": written / 1e6,
                }
            )
    overhead = median(
        [_overhead(20000 if frames >= 100 else 2000)["us_per_frame"] for _ in range(runs)]
    )
    rows.append(
        {
            "scenario": "per-frame overhead, engine->processor->saver (no camera, no disk)",
            "MB/s": float("nan"),
            "frames/s": 1e6 / overhead,
            "reference": "target: 100 us per frame",
            "ref MB/s": float("nan"),
            "ratio": 100 / overhead,
            "lost": 0,
            "to processor ms (p50/p99)": f"{overhead:.1f} us per frame",
            "to saved ms (p50/p99)": "-",
            "peak MB": float("nan"),
            "on disk MB": float("nan"),
            "ref on disk MB": float("nan"),
        }
    )
    return rows


def bench_memory(
    frames: int = 10000, size: int = 512, folder: str | None = None
) -> list[dict[str, Any]]:
    """Resident memory along a long acquisition with saving: it must stay flat."""
    from app.microscope import SimulatedCameraSettings, load_microscope

    core = load_microscope(
        camera=SimulatedCameraSettings(width=size, height=size, fast_image=True, exposure_ms=1)
    )
    work = tempfile.mkdtemp(prefix="scopeflow-bench-", dir=folder or tempfile.gettempdir())
    try:
        samples = _memory_over(core, frames, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        {
            "frames": frames,
            "frame": f"{size}x{size} uint16",
            "RSS at 10% (MB)": samples[1] if len(samples) > 1 else float("nan"),
            "RSS at end (MB)": samples[-1],
            "growth 10%->end (MB)": samples[-1] - samples[1] if len(samples) > 1 else float("nan"),
            "samples (MB)": " ".join(f"{s:.0f}" for s in samples),
        }
    ]
