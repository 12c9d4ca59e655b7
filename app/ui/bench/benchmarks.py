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
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
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
    from app.ui.display.viewer import ImageViewer

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
    from app.ui.shell.main_window import MainWindow

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


@dataclass(frozen=True)
class GuiScenario:
    """One way of acquiring from the window while its responsiveness is measured."""

    name: str
    save: bool
    channels: tuple[str, ...] = ()  # ticked in the panel: a composite of them is shown


GUI_SCENARIOS = (
    GuiScenario("a processor, keeping nothing", save=False),
    GuiScenario("a processor, saving to NDTiff", save=True),
    GuiScenario(
        "3-channel composite, a processor, saving", save=True, channels=("DAPI", "FITC", "Cy5")
    ),
)


def bench_gui(frames: int = 1000, runs: int = 3, save: bool = True) -> list[dict[str, Any]]:
    """One row per scenario (without ``save``, only the one keeping nothing): medians of
    ``runs`` acquisitions of ``frames`` frames, each in a new window."""
    core, app = bench_app()
    scenarios = GUI_SCENARIOS if save else GUI_SCENARIOS[:1]
    rows = []
    for scenario in scenarios:
        measured = [_gui_run(core, app, scenario, frames) for _ in range(runs)]
        row: dict[str, Any] = {"scenario": scenario.name}
        for column in measured[0]:
            values = [m[column] for m in measured]
            row[column] = max(values) if column in ("lost", "missing") else median(values)
        row["worst of runs ms"] = max(m["worst GUI block ms"] for m in measured)
        row["runs"] = runs
        rows.append(row)
    return rows


#: the first frames set the viewer up for the acquisition (sliders, channel strip,
#: histogram): the worst gap after them is reported apart
SETTLED_S = 1.0


def _gui_run(core: Any, app: Any, scenario: GuiScenario, frames: int) -> dict[str, float]:
    """One acquisition started from the window's Start button: how long from the click
    to the first frame shown; then, from that frame to the acquisition's end, the gaps
    between the GUI thread's 1 ms ticks (a gap is the longest the window could not
    answer), the GUI thread's own CPU time in each gap (its work, apart from waiting
    for the other threads, the GIL or the cores), and the frames the viewer showed."""
    from PyQt6.QtCore import QElapsedTimer, Qt, QTimer

    folder = tempfile.mkdtemp(prefix="scopeflow-bench-")
    time_points = frames // max(1, len(scenario.channels))  # the same frames in every scenario
    window = acquiring_window(core, _passthrough, folder, time_points, scenario.save)
    panel = window.acquisition_panel
    if scenario.channels:
        panel.channel_box.setChecked(True)
        for preset in scenario.channels:
            panel.set_channel(preset, True, 1.0)
    gaps: list[float] = []  # wall-clock ms between ticks, from the first frame shown
    work: list[float] = []  # the GUI thread's own CPU ms in each of those gaps
    settled: list[float] = []  # the gaps once the viewer is set up for the acquisition
    shown: list[float] = []  # when the viewer's count of frames shown went up
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(1)
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    state = {"displayed": window.display.displayed, "cpu": 0.0, "clicked": 0.0, "ended": 0.0}

    def tick() -> None:
        gap, cpu = clock.nsecsElapsed() / 1e6, time.thread_time()
        clock.restart()
        if shown:
            gaps.append(gap)
            work.append(1000 * (cpu - state["cpu"]))
            if time.perf_counter() - shown[0] > SETTLED_S:
                settled.append(gap)
        state["cpu"] = cpu
        if window.display.displayed != state["displayed"]:
            shown.extend([time.perf_counter()] * (window.display.displayed - state["displayed"]))
            state["displayed"] = window.display.displayed

    ticker.timeout.connect(tick)

    def finished(_error: str) -> None:
        state["ended"] = time.perf_counter()
        ticker.stop()
        app.quit()

    def start() -> None:
        clock.start()
        ticker.start()
        state["clicked"] = time.perf_counter()
        panel.start_button.click()

    window.controller.finished.connect(finished)
    gc.collect()
    gc.freeze()  # as the app does after start-up
    QTimer.singleShot(300, start)
    from app.bench.throughput import PeakMemory

    with PeakMemory() as memory:
        app.exec()
    acq = window.controller.acquisition
    counts = acq.counts.snapshot()
    errors = list(acq.errors)
    window.close()
    window.deleteLater()
    shutil.rmtree(folder, ignore_errors=True)  # gigabytes of frames: never leave them behind
    gc.unfreeze()
    if errors:
        raise RuntimeError(f"The benchmark's acquisition failed: {errors[0]}")
    showing_s = state["ended"] - shown[0] if shown else float("nan")
    return {
        "frames": counts["acquired"],
        "Start to first frame ms": 1000 * (shown[0] - state["clicked"]) if shown else math.nan,
        "MB/s": counts["acquired"] * frame_size() ** 2 * 2 / 1e6 / showing_s,
        "camera fps": counts["acquired"] / showing_s,
        "displayed fps": (len(shown) - 1) / showing_s if shown else 0.0,
        "worst GUI block ms": max(gaps) if gaps else float("nan"),
        "worst after 1 s ms": max(settled) if settled else float("nan"),
        "p99 gap ms": percentile(gaps, 99),
        "longest GUI work ms": max(work) if work else float("nan"),
        "lost": counts["lost"],
        "missing": counts["missing"],
        "peak MB": memory.peak_mb,
    }


def bench_reload(saves: int = 20) -> list[dict[str, Any]]:
    """Milliseconds from saving a script to its new version being registered, in the app."""
    import hashlib
    from pathlib import Path

    _core, app = bench_app()
    from app.appstate import AppState
    from app.processing.registry import ProcessorRegistry
    from app.ui.shell.main_window import MainWindow

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
            "scan interval ms": round(1000 * window.processors.scripts_watcher.interval_s),
        }
    ]
