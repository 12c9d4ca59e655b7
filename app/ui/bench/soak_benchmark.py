"""``scopeflow bench soak --minutes N``: the window acquiring for a long time, and what
it holds at each minute.

A twelve-hour time-lapse must not grow: memory, threads and open files stay flat, and
no frame is lost. The window (offscreen when there is no screen) runs acquisitions from
its Acquisition panel back to back, the simulated camera at full speed (2048x2048 uint16
by default, FastImage), a processor in the pipeline and saving to NDTiff; each dataset is
deleted once finished (a minute at full speed would be tens of gigabytes). At each
minute the row says: resident memory (and the frames waiting between threads then, up
to two queues of 256 MB: memory that comes and goes with the disk's pace), threads,
open files, the longest the GUI thread went without running in that minute, and frames
acquired and lost so far.
"""

from __future__ import annotations

import gc
import shutil
import sys
import tempfile
import threading
import time
from typing import Any

import psutil

from app.ui.bench.benchmarks import acquiring_window, bench_app, frame_size

#: frames per acquisition: some seconds at full speed, some gigabytes on disk at once
FRAMES_PER_RUN = 1000


def _open_handles(process: psutil.Process) -> int:
    if hasattr(process, "num_fds"):
        return int(process.num_fds())
    return int(process.num_handles())  # Windows


def _subtract_offset(image, metadata):
    """A light processor, as a real pipeline has one (a new array each frame)."""
    return image - min(int(image[0, 0]), 100), metadata


def bench_soak(
    minutes: float = 30, frames_per_run: int = FRAMES_PER_RUN, sample_s: float = 60
) -> list[dict[str, Any]]:
    """A row every ``sample_s`` seconds (a minute; the quick smoke test samples more
    often) for ``minutes``."""
    core, app = bench_app()
    from PyQt6.QtCore import QElapsedTimer, QTimer

    folder = tempfile.mkdtemp(prefix="scopeflow-soak-")
    window = acquiring_window(core, _subtract_offset, folder, frames_per_run, save=True)
    panel = window.acquisition_panel
    process = psutil.Process()
    totals = {"acquired": 0, "lost": 0, "runs": 0, "errors": 0}
    rows: list[dict[str, Any]] = []
    worst = {"ms": 0.0}
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(1)

    def tick() -> None:
        worst["ms"] = max(worst["ms"], clock.nsecsElapsed() / 1e6)
        clock.restart()

    ticker.timeout.connect(tick)
    started = time.perf_counter()

    def sample() -> None:
        """On a timer, mid-acquisition as a long run mostly is; counts include the
        acquisition running."""
        acq = window.controller.acquisition
        running = acq is not None and window.controller.running
        depths = acq.queue_depths() if running else {}
        now = acq.counts.snapshot() if running else {"acquired": 0, "lost": 0, "missing": 0}
        rows.append(
            {
                "minute": round((len(rows) + 1) * sample_s / 60, 2),
                "RSS MB": process.memory_info().rss / 1e6,
                # frames between threads: memory that comes and goes with the disk's pace
                "frames waiting": depths.get("processing", 0) + depths.get("saving", 0),
                "threads": threading.active_count(),
                "OS threads": process.num_threads(),
                # every descriptor or handle: a deleted file still open counts too (a
                # list of open files leaves those out, and they hold their disk space)
                "open files": _open_handles(process),
                "worst GUI block ms": worst["ms"],
                "acquisitions": totals["runs"] + running,
                "frames acquired": totals["acquired"] + now["acquired"],
                "lost": totals["lost"] + now["lost"] + now["missing"],
                "errors": totals["errors"],
            }
        )
        worst["ms"] = 0.0
        print(rows[-1], file=sys.stderr, flush=True)  # progress; the table at the end

    def finished(_error: str) -> None:
        acq = window.controller.acquisition
        if acq is not None:
            counts = acq.counts.snapshot()
            totals["acquired"] += counts["acquired"]
            totals["lost"] += counts["lost"] + counts["missing"]
            totals["errors"] += len(acq.errors)
            totals["runs"] += 1
            if acq.dataset_path:  # gigabytes: deleted off the GUI thread, whose blocks count
                threading.Thread(
                    target=shutil.rmtree, args=(acq.dataset_path, True), daemon=True
                ).start()
        if time.perf_counter() - started >= minutes * 60:
            app.quit()
            return
        QTimer.singleShot(50, panel.start_button.click)

    window.controller.finished.connect(finished)
    sampler = QTimer()
    sampler.setInterval(int(sample_s * 1000))
    sampler.timeout.connect(sample)
    sampler.start()
    gc.freeze()  # as the app does after start-up
    QTimer.singleShot(300, panel.start_button.click)
    clock.start()
    ticker.start()
    app.exec()
    ticker.stop()
    sampler.stop()
    window.close()
    shutil.rmtree(folder, ignore_errors=True)
    for row in rows:
        row["frame"] = f"{frame_size()}x{frame_size()} uint16"
    return rows
