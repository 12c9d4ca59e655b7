"""``scopeflow bench open``: a 20,000-image dataset opened in the window, and browsed,
beside napari opening the same dataset (``app/bench/napari_peer.py``).

The datasets (``app/bench/big_dataset.py``: NDTiff and OME-Zarr, made once and kept in
``--folder``) are opened the way File > Open dataset does (``MainWindow.open_dataset``)
in a window shown offscreen. Measured, medians of the runs: the seconds from asking to
the first image painted, the milliseconds per step of the time slider (moved as a user
drags it, to the image painted, the composite of both channels included), and the
memory the open dataset holds (resident memory after browsing, over before opening).
The files are in the system's cache (just written, or opened by the run before): a
first open after a reboot reads the index from disk as well.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from app.bench.big_dataset import BigDataset, made_dataset
from app.bench.report import median, percentile
from app.settings_store import SettingsStore

STEP_TIMEOUT_S = 10.0
PEER_TIMEOUT_S = 300.0


def bench_open(
    folder: str | None, shape: BigDataset, runs: int = 3, steps: int = 40
) -> list[dict[str, Any]]:
    from app.ui.bench.benchmarks import bench_app

    core, app = bench_app()
    home = Path(folder or Path(tempfile.gettempdir()) / "scopeflow-bench-datasets")
    rows = []
    for storage in ("ndtiff", "ome-zarr"):
        path = made_dataset(home, storage, shape)
        measured = [_open_once(core, app, path, shape, steps) for _ in range(runs)]
        rows.append(_row(f"{storage}: Scopeflow", measured, runs))
        peer, why_not = _napari(storage, path, steps, runs)
        if peer:
            name = f"{storage}: napari {_version('napari')} (lazy dask array)"
            rows.append(_row(name, peer, runs))
        else:
            rows.append({"viewer": f"{storage}: napari not measured ({why_not})"})
    return rows


def _row(viewer: str, measured: list[dict[str, float]], runs: int) -> dict[str, Any]:
    return {
        "viewer": viewer,
        "first image s": median([m["first"] for m in measured]),
        "first run s": measured[0]["first"],
        "slider step median ms": median([m["step median"] for m in measured]),
        "slider step p95 ms": median([m["step p95"] for m in measured]),
        "memory held MB": median([m["memory"] for m in measured]),
        "runs": runs,
    }


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _napari(storage: str, path: Path, steps: int, runs: int) -> tuple[list[dict[str, float]], str]:
    """napari on the same dataset, in processes of its own (``app.bench.napari_peer``):
    its runs, or why there are none."""
    if importlib.util.find_spec("napari") is None:
        return [], "napari is not installed"
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        return [], "it draws with OpenGL: run the benchmark on a display, or Xvfb"
    environment = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    measured = []
    for _ in range(runs):
        command = [sys.executable, "-m", "app.bench.napari_peer", storage, str(path), str(steps)]
        done = subprocess.run(
            command, capture_output=True, text=True, env=environment, timeout=PEER_TIMEOUT_S
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return [], f"it failed: {last}"
        measured.append(json.loads(lines[-1]))
    return measured, ""


def _open_once(core: Any, app: Any, path: Path, shape: BigDataset, steps: int) -> dict[str, float]:
    from app.appstate import AppState
    from app.processing.registry import ProcessorRegistry
    from app.ui.shell.main_window import MainWindow

    os.environ["SCOPEFLOW_NO_DIALOGS"] = "1"
    with tempfile.TemporaryDirectory(prefix="scopeflow-bench-") as settings_folder:
        settings = SettingsStore(os.path.join(settings_folder, "settings.json"))
        window = MainWindow(AppState(core, ProcessorRegistry()), settings, console=False)
        window.show()
        _settle(app)
        gc.collect()
        process = psutil.Process()
        before = process.memory_info().rss
        start = time.perf_counter()
        window.datasets.open_dataset(path)
        _until(app, lambda: window.viewer.image is not None)
        window.viewer.graphics.viewport().repaint()
        first = time.perf_counter() - start
        step_ms = _step_time(app, window, shape, steps)
        held = (process.memory_info().rss - before) / 1e6
        window.close()
        window.deleteLater()
        _settle(app)
    return {
        "first": first,
        "step median": median(step_ms),
        "step p95": percentile(step_ms, 95),
        "memory": held,
    }


def _step_time(app: Any, window: Any, shape: BigDataset, steps: int) -> list[float]:
    """Milliseconds per step of the time slider, to the new image painted (and, in
    composite mode, to the composite of the channels painted)."""
    slider = window.browser.sliders.slider("time")
    stride = max(1, shape.time_points // steps)
    times = []
    for step in range(1, steps + 1):
        shown_before = window.display.displayed
        start = time.perf_counter()
        slider.setValue(step * stride)
        if window.viewer.channels.composite_active:
            _until(app, lambda before=shown_before: window.display.displayed > before)
        else:
            app.processEvents()
        window.viewer.graphics.viewport().repaint()
        times.append(1000 * (time.perf_counter() - start))
        axes = window.browser.sliders.current_axes()
        expected = window.browser.dataset.read_image(**axes)[0, 0]
        if window.viewer.image[0, 0] != expected:
            raise RuntimeError(f"The viewer shows another image than the one at {axes}")
    return times


def _until(app: Any, condition: Any) -> None:
    deadline = time.perf_counter() + STEP_TIMEOUT_S
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("The window did not show the dataset's image in time")
        app.processEvents()
        time.sleep(0.0005)


def _settle(app: Any) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.01)
