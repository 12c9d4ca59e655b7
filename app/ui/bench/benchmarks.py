"""How the window keeps up: display cost per frame, and the worst GUI-thread block
while the simulated camera acquires as fast as it can.

``scopeflow bench display``: milliseconds to draw one frame in the viewer (set the
image with explicit levels, then paint), against copying the same frame in memory.
``scopeflow bench gui``: the longest the GUI event loop went without running, while
an acquisition started from the window runs the full path (camera, a processor,
saving) at full camera speed (a 1 ms timer measures the gaps between its own ticks),
beside the same acquisition started without a window, whose gaps are the machine's and
the acquisition's threads' share (what the window adds is above them).
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


#: the reference row's name, after the scenario's
WITHOUT_WINDOW = "the same, without a window (reference)"


def bench_gui(frames: int = 1000, runs: int = 3, save: bool = True) -> list[dict[str, Any]]:
    """Two rows per scenario (without ``save``, only the one keeping nothing): medians
    of ``runs`` acquisitions of ``frames`` frames, each in a new window, and of the same
    acquisitions without a window, run in turn with them."""
    core, app = bench_app()
    scenarios = GUI_SCENARIOS if save else GUI_SCENARIOS[:1]
    rows = []
    for scenario in scenarios:
        measured: list[dict[str, float]] = []
        reference: list[dict[str, float]] = []
        for _ in range(runs):
            measured.append(_gui_run(core, app, scenario, frames))
            reference.append(_window_free_run(core, app, scenario, frames))
        rows.append(_row(scenario.name, measured))
        rows.append(_row(WITHOUT_WINDOW, reference))
    return rows


def _row(name: str, measured: list[dict[str, float]]) -> dict[str, Any]:
    row: dict[str, Any] = {"scenario": name}
    for column in measured[0]:
        values = [m[column] for m in measured]
        row[column] = max(values) if column in ("lost", "missing") else median(values)
    row["worst of runs ms"] = max(m["worst GUI block ms"] for m in measured)
    row["runs"] = len(measured)
    return row


#: the first frames set the viewer up for the acquisition (sliders, channel strip,
#: histogram): the worst gap after them is reported apart
SETTLED_S = 1.0


def _gui_run(core: Any, app: Any, scenario: GuiScenario, frames: int) -> dict[str, float]:
    """One acquisition started from the window's Start button: how long from the click
    to the first frame shown; then, from that frame to the acquisition's end, the gaps
    between the GUI thread's 1 ms ticks (a gap is the longest the window could not
    answer), the GUI thread's own CPU time in each gap (its work, apart from waiting
    for the other threads, the GIL or the cores), and the frames the viewer showed."""
    folder = tempfile.mkdtemp(prefix="scopeflow-bench-")
    window = _scenario_window(core, scenario, folder, frames)
    panel = window.acquisition_panel
    ticks = _Ticks(lambda: window.display.displayed)
    ticks.run(app, panel.start_button.click, window.controller.finished)
    acq = window.controller.acquisition
    window.close()
    window.deleteLater()
    result = _results(acq, ticks, folder)
    result["displayed fps"] = ticks.rate()
    return result


def _window_free_run(core: Any, app: Any, scenario: GuiScenario, frames: int) -> dict[str, float]:
    """The reference for ``_gui_run``: the same acquisition (the events the panel
    makes, the same processor, saving or not) started without a window, the event loop
    running only the 1 ms ticks. Its gaps are what the machine, the acquisition's
    threads and the GIL leave the GUI thread when the window does nothing; what
    ``_gui_run`` measures above them is the window's."""
    from app.ui.acquiring.acquisition_controller import AcquisitionController

    folder = tempfile.mkdtemp(prefix="scopeflow-bench-")
    window = _scenario_window(core, scenario, folder, frames)
    events = window.acquisition_panel.events()
    registry = window.controller.registry  # the same processors, switched on or off
    window.close()
    window.deleteLater()
    app.processEvents()
    controller = AcquisitionController(core, registry)
    controller.unsaved_storage = "none"
    target = (os.path.join(folder, "data"), "bench") if scenario.save else None
    state: dict[str, Any] = {}

    def acquired() -> int:
        acq = state.get("acq")
        return acq.counts.acquired if acq is not None else 0  # no lock: a tick's only read

    def start() -> None:
        state["acq"] = controller.start(events, target)

    from app.acquisition.priority import set_workers_yield

    ticks = _Ticks(acquired)
    set_workers_yield(True)  # as under a window (its state gives it back when it closes)
    try:
        ticks.run(app, start, controller.finished)
    finally:
        set_workers_yield(False)
    return _results(controller.acquisition, ticks, folder)


def _scenario_window(core: Any, scenario: GuiScenario, folder: str, frames: int) -> Any:
    time_points = frames // max(1, len(scenario.channels))  # the same frames in every scenario
    window = acquiring_window(core, _passthrough, folder, time_points, scenario.save)
    panel = window.acquisition_panel
    if scenario.channels:
        panel.channel_box.setChecked(True)
        for preset in scenario.channels:
            panel.set_channel(preset, True, 1.0)
    return window


#: Start is pressed after the window has said what the plan takes, as a user presses
#: it: its status tick, twice a second, made the estimate (and, with it, the events)
START_AFTER_MS = 800


class _Ticks:
    """The GUI thread's 1 ms ticks while an acquisition runs: the gaps between them from
    the first frame (``progress()`` rising above 0) to the end, the GUI thread's own CPU
    time in each, and when ``progress()`` went up."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.gaps: list[float] = []  # wall-clock ms between ticks, from the first frame
        self.work: list[float] = []  # the GUI thread's own CPU ms in each of those gaps
        self.settled: list[float] = []  # the gaps once the window is set up for it
        self.seen: list[float] = []  # when ``progress()`` went up
        #: the gaps from Start to the first frame (Start's own work: the acquisition
        #: made, the viewer laid out for it)
        self.starting: list[float] = []
        self.clicked = self.ended = 0.0

    def run(self, app: Any, start: Any, finished: Any) -> None:
        """``start()`` ``START_AFTER_MS`` after the event loop starts; until
        ``finished`` is emitted."""
        from PyQt6.QtCore import QElapsedTimer, Qt, QTimer

        from app.bench.throughput import PeakMemory

        clock = QElapsedTimer()
        ticker = QTimer()
        ticker.setInterval(1)
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        state = {"count": self.progress(), "cpu": 0.0}

        def tick() -> None:
            gap, cpu = clock.nsecsElapsed() / 1e6, time.thread_time()
            clock.restart()
            if self.seen:
                self.gaps.append(gap)
                self.work.append(1000 * (cpu - state["cpu"]))
                if time.perf_counter() - self.seen[0] > SETTLED_S:
                    self.settled.append(gap)
            state["cpu"] = cpu
            count = self.progress()
            if not self.seen:
                self.starting.append(gap)  # up to the tick that sees the first frame
            if count != state["count"]:
                self.seen.extend([time.perf_counter()] * (count - state["count"]))
                state["count"] = count

        def ended(_error: str) -> None:
            self.ended = time.perf_counter()
            ticker.stop()
            app.quit()

        def begin() -> None:
            clock.start()
            ticker.start()
            self.clicked = time.perf_counter()
            start()

        ticker.timeout.connect(tick)
        finished.connect(ended)
        gc.collect()
        gc.freeze()  # as the app does after start-up
        QTimer.singleShot(START_AFTER_MS, begin)
        with PeakMemory() as memory:
            app.exec()
        gc.unfreeze()
        self.peak_mb = memory.peak_mb

    @property
    def span_s(self) -> float:
        return self.ended - self.seen[0] if self.seen else float("nan")

    def rate(self) -> float:
        return (len(self.seen) - 1) / self.span_s if self.seen else 0.0


def _results(acq: Any, ticks: _Ticks, folder: str) -> dict[str, float]:
    counts = acq.counts.snapshot()
    errors = list(acq.errors)
    shutil.rmtree(folder, ignore_errors=True)  # gigabytes of frames: never leave them behind
    if errors:
        raise RuntimeError(f"The benchmark's acquisition failed: {errors[0]}")
    seen, gaps = ticks.seen, ticks.gaps
    return {
        "frames": counts["acquired"],
        "Start to first frame ms": 1000 * (seen[0] - ticks.clicked) if seen else math.nan,
        "Start's block ms": max(ticks.starting) if ticks.starting else math.nan,
        "MB/s": counts["acquired"] * frame_size() ** 2 * 2 / 1e6 / ticks.span_s,
        "camera fps": counts["acquired"] / ticks.span_s,
        "displayed fps": math.nan,
        "worst GUI block ms": max(gaps) if gaps else float("nan"),
        "worst after 1 s ms": max(ticks.settled) if ticks.settled else float("nan"),
        "p99 gap ms": percentile(gaps, 99),
        "longest GUI work ms": max(ticks.work) if ticks.work else float("nan"),
        "lost": counts["lost"],
        "missing": counts["missing"],
        "peak MB": ticks.peak_mb,
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
