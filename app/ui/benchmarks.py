"""How the window keeps up: display cost per frame, and the worst GUI-thread block
while the simulated camera acquires as fast as it can.

``scopeflow bench display``: milliseconds to draw one frame in the viewer (set the
image with explicit levels, then paint), against copying the same frame in memory.
``scopeflow bench gui``: the longest the GUI event loop went without running, while
an acquisition started from the window runs the full path (camera, a processor,
saving) at full camera speed (a 1 ms timer measures the gaps between its own ticks).
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np

from app.bench.report import median, percentile
from app.settings_store import SettingsStore


def bench_app():
    """The simulated microscope with a fast camera of ``frame_size()``, and the Qt app."""
    from app.microscope import SimulatedCameraSettings, load_microscope

    camera = SimulatedCameraSettings(
        width=frame_size(), height=frame_size(), fast_image=True, exposure_ms=1
    )
    core = load_microscope(camera=camera)
    from PyQt6.QtWidgets import QApplication

    return core, QApplication.instance() or QApplication(sys.argv)


def frame_size() -> int:
    """The benchmarks' frame side (``scopeflow bench --size``)."""
    return int(os.environ.get("SCOPEFLOW_BENCH_SIZE", "2048"))


def bench_display(frames: int = 200, runs: int = 3) -> list[dict[str, Any]]:
    _core, app = bench_app()
    from app.ui.viewer import ImageViewer

    viewer = ImageViewer()
    viewer.resize(1000, 900)
    viewer.show()
    app.processEvents()
    size = frame_size()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 4096, (size, size), dtype=np.uint16) for _ in range(2)]
    rows = []
    for run in range(runs):
        draw_ms, copy_ms = [], []
        for i in range(frames):
            image = images[i % 2]
            start = time.perf_counter()
            viewer.set_image(image)
            viewer.graphics.viewport().repaint()
            draw_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            image.copy()
            copy_ms.append(1000 * (time.perf_counter() - start))
        rows.append(
            {
                "run": run + 1,
                "frame": f"{size}x{size} uint16",
                "display median ms": median(draw_ms),
                "display p99 ms": percentile(draw_ms, 99),
                "memcpy median ms": median(copy_ms),
                "display / memcpy": median(draw_ms) / median(copy_ms),
            }
        )
    viewer.close()
    return rows


def acquiring_window(core: Any, processor: Any, folder: str, frames: int, save: bool) -> Any:
    """The main window, shown, with ``processor`` in its pipeline and its Acquisition
    panel set for ``frames`` time points at full speed, saved in ``folder`` (or kept
    nowhere: no memory growth) when Start is pressed."""
    from app.appstate import AppState
    from app.processing.registry import ProcessorRegistry
    from app.ui.main_window import MainWindow

    os.environ["SCOPEFLOW_NO_DIALOGS"] = "1"
    registry = ProcessorRegistry()
    registry.register(processor, processor.__name__, source="bench")
    settings = SettingsStore(os.path.join(folder, "settings.json"))
    window = MainWindow(AppState(core, registry), settings)
    window.show()
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(frames)
    panel.interval.setValue(0)
    panel.save_box.setChecked(save)
    window.controller.unsaved_storage = "none"
    panel.directory.setText(os.path.join(folder, "data"))
    return window


def _passthrough(image, metadata):
    return image, metadata


def bench_gui(frames: int = 1000, save: bool = True) -> list[dict[str, Any]]:
    core, app = bench_app()
    from PyQt6.QtCore import QElapsedTimer, QTimer

    folder = tempfile.mkdtemp(prefix="scopeflow-bench-")
    window = acquiring_window(core, _passthrough, folder, frames, save)
    panel = window.acquisition_panel

    gaps: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(1)

    def tick() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    ticker.timeout.connect(tick)
    done = {"t": 0.0}

    def finished(_error: str) -> None:
        done["t"] = time.perf_counter()
        app.quit()

    window.controller.finished.connect(finished)
    gc.freeze()  # as the app does after start-up
    QTimer.singleShot(300, panel.start_button.click)

    def start_clock() -> None:
        clock.start()
        ticker.start()

    QTimer.singleShot(300, start_clock)
    start = time.perf_counter()
    displayed_before = window.displayed
    from app.bench.throughput import PeakMemory

    with PeakMemory() as memory:
        app.exec()
    ticker.stop()
    acq = window.controller.acquisition
    elapsed = done["t"] - start - 0.3
    counts = acq.counts.snapshot()
    window.close()
    shutil.rmtree(folder, ignore_errors=True)  # gigabytes of frames: never leave them behind
    gaps = gaps[1:]  # the first tick measures from start()
    return [
        {
            "frames": counts["acquired"],
            "saving": save,
            "camera fps": counts["acquired"] / elapsed,
            "MB/s": counts["acquired"] * frame_size() ** 2 * 2 / 1e6 / elapsed,
            "displayed fps": (window.displayed - displayed_before) / elapsed,
            "worst GUI block ms": max(gaps) if gaps else float("nan"),
            "p99 gap ms": percentile(gaps, 99),
            "lost": counts["lost"],
            "missing": counts["missing"],
            "peak MB": memory.peak_mb,
            "errors": "; ".join(str(e) for e in acq.errors) or "none",
        }
    ]


def bench_reload(saves: int = 20) -> list[dict[str, Any]]:
    """Milliseconds from saving a script to its new version being registered, in the app."""
    import hashlib
    from pathlib import Path

    _core, app = bench_app()
    from app.appstate import AppState
    from app.processing.registry import ProcessorRegistry
    from app.ui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp(prefix="scopeflow-bench-"))
    scripts = folder / "scripts"
    scripts.mkdir()
    settings = SettingsStore(str(folder / "settings.json"))
    window = MainWindow(
        AppState(_core, ProcessorRegistry()), settings, scripts_folder=scripts, console=False
    )
    window.show()
    path = scripts / "bench_processor.py"
    latencies = []
    for i in range(saves):
        text = f"from app import processor\n\n@processor\ndef p(image, metadata):  # {i:04d}\n"
        text += "    return image, metadata\n"
        digest = hashlib.sha1(text.encode()).hexdigest()
        start = time.perf_counter()
        path.write_text(text, encoding="utf-8")
        while True:
            app.processEvents()
            state = window.scripts.state_of(path)
            if state is not None and state.digest == digest and state.processors:
                break
            time.sleep(0.001)
        latencies.append(1000 * (time.perf_counter() - start))
        time.sleep(0.03)
    window.close()
    shutil.rmtree(folder, ignore_errors=True)
    return [
        {
            "saves": saves,
            "median ms": median(latencies),
            "max ms": max(latencies),
            "scan interval ms": round(1000 * window.scripts_watcher.interval_s),
        }
    ]
