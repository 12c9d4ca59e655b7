"""The benchmark runs (quick mode), so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest


def _bench_json(scenario: str, folder, *options: str) -> dict:
    """Run ``scopeflow bench SCENARIO --quick --json`` as a user would; its report."""
    command = [sys.executable, "-m", "app", "bench", scenario, "--quick", "--json", *options]
    result = subprocess.run(
        [*command, "--folder", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_pipeline_benchmark_quick_mode_reports_every_scenario(tmp_path):
    report = _bench_json("pipeline", tmp_path)
    scenarios = [row["scenario"] for row in report["results"]]
    default_buffer = scenarios[5]
    assert default_buffer.startswith("kept in memory (RAM), warm, the core's ")
    assert "camera buffer (bursts of " in default_buffer
    assert scenarios == [
        "passthrough",
        "passthrough",
        "kept in memory (RAM), warm",
        "kept in memory (RAM), warm",  # beside pymmcore-plus's writer in memory
        "kept in memory (RAM), warm",  # beside the least a keeper does
        default_buffer,  # bursts cut to the core's own camera buffer
        "kept in memory (RAM), first in the process",
        "kept in memory (RAM), first in the process",  # beside the peer keeping images
        "kept in memory (RAM), first in the process",  # beside numpy keeping copies
        "kept in memory (RAM), its memory made ready before (as the window does), first in"
        " the process",
        "real work (float32 background)",
        "processor reusing its output buffer (copied)",
        "saving (NDTiff)",
        "saving (OME-Zarr)",
        "full (processor + saving)",
        "saving (NDTiff)",  # beside pymmcore-plus's OME-TIFF writer
        "saving (NDTiff)",  # beside pymmcore-plus's OME-Zarr writer
        "saving (OME-Zarr), run in turn with the peer",  # ours beside theirs
        "saving (NDTiff)",  # beside acquire-zarr's stream
        "per-frame overhead, engine->processor->saver (no camera, no disk)",
    ]
    results = report["results"]
    references = [row["reference"] for row in results]
    assert "pymmcore-plus MDA + its OME-TIFF writer + fsync" in references
    assert "pymmcore-plus MDA + its tensorstore writer in memory (memory://)" in references
    assert "one loop popping each frame and copying it into warm memory (no pipeline)" in references
    # beside the first acquisition kept in memory: the peer keeping, then the machine
    assert references[6:9] == [
        "bare pymmcore-plus MDA",
        "pymmcore-plus MDA, a listener keeping each image (a list)",
        "numpy: the frames copied into memory new from the system (no camera)",
    ]
    ours = results[: scenarios.index("full (processor + saving)") + 1]
    for row in ours:
        assert row["lost"] == 0
        assert row["MB/s"] > 0 and row["ref MB/s"] > 0 and row["peak MB"] > 0
    # every saving contender wrote every frame's pixels (frames with content: nothing
    # a writer could skip or squeeze), ours too
    frame_mb = 256 * 256 * 2 / 1e6
    for row in results[len(ours) : len(ours) + 4]:
        assert row["ref MB/s"] > 0, row["reference"]
        assert row["ref on disk MB"] >= 40 * frame_mb, row["reference"]
    saving = {row["scenario"]: row for row in ours if row["scenario"].startswith("saving")}
    assert saving["saving (NDTiff)"]["on disk MB"] >= 40 * frame_mb
    assert saving["saving (OME-Zarr)"]["on disk MB"] >= 40 * frame_mb
    in_turn = results[scenarios.index("saving (OME-Zarr), run in turn with the peer")]
    assert in_turn["reference"] == "pymmcore-plus MDA + its OME-Zarr writer (tensorstore) + fsync"
    # its own runs' figures: what they wrote, their latencies (not the row above's)
    assert in_turn["on disk MB"] >= 40 * frame_mb and in_turn["lost"] == 0
    assert in_turn["to saved ms (p50/p99)"] != "-" and in_turn["peak MB"] > 0
    assert report["results"][-1]["frames/s"] > 0
    assert list(tmp_path.iterdir()) == []  # the benchmark cleans up after itself


def test_parallel_benchmark_quick_mode_scales_workers_in_order(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Figures\n<!-- bench:parallel -->\nold\n<!-- /bench:parallel -->\n")
    rows = _bench_json("parallel", tmp_path, "--readme", str(readme))["results"]
    written = readme.read_text()
    assert "\nold\n" not in written and "| workers | frames/s |" in written
    assert "scopeflow bench parallel --quick" in written and "cores" in written
    readme.unlink()
    assert rows[0]["workers"] == 1
    assert rows[0]["ratio to 1 worker"] == 1
    for row in rows:
        assert row["lost"] == 0 and row["in order"] is True and row["frames/s"] > 0


def test_dask_benchmark_quick_mode_keeps_order(tmp_path):
    rows = _bench_json("dask", tmp_path)["results"]
    assert [row["processor runs"].split(",")[0] for row in rows] == [
        "in-process",
        "in-process",
        "Dask LocalCluster",
    ]
    for row in rows:
        assert row["lost"] == 0 and row["in order"] is True and row["frames/s"] > 0


def test_memory_benchmark_quick_mode(tmp_path):
    row = _bench_json("memory", tmp_path)["results"][0]
    assert row["frames"] == 500 and row["RSS at end (MB)"] > 0
    assert list(tmp_path.iterdir()) == []


def test_map_benchmark_quick_mode_times_a_zoomed_out_redraw(tmp_path):
    rows = _bench_json("map", tmp_path)["results"]
    assert [row["redraw"] for row in rows] == [
        "whole map, zoomed out",
        "whole map, zoomed out",
        "whole map, zoomed out: its paint on the GUI thread",
        "zoomed in 1:1",
    ]
    assert rows[0]["level"] >= 1 and rows[-1]["level"] == 0  # a coarser level zoomed out
    for row in rows:
        assert row["median ms"] > 0 and row["first ms"] > 0
    for row in (rows[0], rows[1], rows[3]):
        assert row["MB read"] > 0 and row["ref ms"] > 0 and row["ratio"] > 0
    assert list(tmp_path.iterdir()) == []  # the map is removed


def test_tiles_benchmark_quick_mode_saves_the_map_beside_its_references(tmp_path):
    rows = _bench_json("tiles", tmp_path)["results"]
    assert [row["writer"] for row in rows] == [
        "tiled map (NDTiff + pyramid)",
        "plain NDTiff, no pyramid",
        "raw write() + fsync",
    ]
    tiled = rows[0]
    assert tiled["tiles"] == 16 and tiled["levels"] == 3  # 4x4 tiles: two coarser levels
    assert 0.25 < tiled["pyramid bytes / full resolution"] < 0.5  # about a third more
    for row in rows:
        assert row["MB/s"] > 0 and row["ratio"] > 0
    assert list(tmp_path.iterdir()) == []  # every writer's files are removed


def test_soak_benchmark_quick_mode_samples_the_window_as_it_runs(tmp_path):
    rows = _bench_json("soak", tmp_path)["results"]
    assert len(rows) >= 2  # a sample every 8 s for 18 s
    for row in rows:
        assert row["RSS MB"] > 0 and row["threads"] > 0 and row["open files"] >= 0
        assert row["frames waiting"] >= 0
        assert row["acquisitions"] >= 1 and row["frames acquired"] > 0
        assert row["lost"] == 0 and row["errors"] == 0


def test_gui_benchmark_quick_mode_measures_each_way_of_acquiring(tmp_path):
    rows = _bench_json("gui", tmp_path)["results"]
    reference = "the same, without a window (reference)"
    assert [row["scenario"] for row in rows] == [
        "a processor, keeping nothing",
        reference,
        "a processor, saving to NDTiff",
        reference,
        "3-channel composite, a processor, saving",
        reference,
    ]
    for row in rows:
        assert row["frames"] >= 59  # 60 frames (20 time points x 3 channels)
        assert row["lost"] == 0 and row["missing"] == 0
        assert row["worst GUI block ms"] >= row["p99 gap ms"] > 0
        assert row["Start's block ms"] > 0  # the click's own work, before the first frame
    for window_row, alone in zip(rows[::2], rows[1::2], strict=True):
        assert window_row["displayed fps"] > 0  # the viewer showed frames
        assert math.isnan(alone["displayed fps"])  # no viewer


def test_open_benchmark_quick_mode_makes_the_datasets_once_and_opens_them(tmp_path):
    rows = _bench_json("open", tmp_path)["results"]
    ours = [row for row in rows if row["viewer"].endswith("Scopeflow")]
    assert [row["viewer"] for row in ours] == ["ndtiff: Scopeflow", "ome-zarr: Scopeflow"]
    for row in ours:
        assert row["first image s"] > 0 and row["slider step median ms"] > 0
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["ndtiff-200-128", "ome-zarr-200-128"]
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    _bench_json("open", tmp_path)  # made once: the second run writes nothing
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps


def test_the_gui_benchmarks_reference_runs_the_windows_acquisition_as_under_a_window(
    qtbot, qapp, core, monkeypatch
):
    """The reference row is the same acquisition without a window: the panel's events
    and processors, and its workers yielding to the GUI thread as a window makes them
    (the window's state gives that back when it closes, before the reference starts)."""
    from PyQt6.QtCore import QThread

    from app.acquisition import priority
    from app.ui.bench import benchmarks

    monkeypatch.setenv("SCOPEFLOW_NO_DIALOGS", "1")
    monkeypatch.setenv("SCOPEFLOW_BENCH_SIZE", "128")
    yielded: list[str] = []
    monkeypatch.setattr(
        priority,
        "lower_current_thread_priority",
        lambda: yielded.append(QThread.currentThread().objectName()),
    )
    result = benchmarks._window_free_run(core, qapp, benchmarks.GUI_SCENARIOS[2], 12)
    assert result["frames"] == 12 and result["lost"] == 0 and result["missing"] == 0
    assert any("engine" in name for name in yielded)
    assert any("processing" in name for name in yielded)
    yielded.clear()
    priority.lower_worker_priority()  # a worker started after the run: as headless
    assert yielded == []


def test_the_gui_benchmarks_start_takes_the_events_the_window_estimated(
    qtbot, core, tmp_path, monkeypatch, plans_made
):
    """The benchmark presses Start ``START_AFTER_MS`` after its window opens, once the
    window has said what the plan takes, as a user does: the click takes the events its
    estimate made, and makes none (measured in "Start's block"). The benchmark's own
    window and wait, without its event loop run (which quits the application)."""
    from app.ui.bench import benchmarks

    monkeypatch.setenv("SCOPEFLOW_NO_DIALOGS", "1")
    window = benchmarks._scenario_window(core, benchmarks.GUI_SCENARIOS[2], str(tmp_path), 12)
    qtbot.addWidget(window)
    qtbot.wait(benchmarks.START_AFTER_MS)
    made_before = len(plans_made)
    window.acquisition_panel.start_button.click()
    made_in_click = len(plans_made) - made_before
    qtbot.waitUntil(lambda: not window.controller.running, timeout=30000)
    assert made_before > 0  # the window's estimate made them, before the click
    assert made_in_click == 0
    assert window.controller.acquisition.counts.snapshot()["acquired"] == 12


def test_a_bare_runner_run_short_of_a_frame_is_run_again(monkeypatch):
    """pymmcore-plus's runner now and then has one image fewer from the simulated
    camera's sequence (its own warning): that run is not the same work, so it is run
    again, and the benchmark stops only when every attempt fell short."""
    from app.bench import throughput

    runs = iter([(1.0, 9), (2.0, 10)])
    monkeypatch.setattr(throughput, "_bare_mda_run", lambda _core, _frames, _keep: next(runs))
    core = object()  # the runs are the fake's
    assert throughput._bare_mda(core, 10) == 2.0

    monkeypatch.setattr(throughput, "_bare_mda_run", lambda _core, _frames, _keep: (1.0, 9))
    with pytest.raises(RuntimeError, match="9 of 10 frames in each of 3 runs"):
        throughput._bare_mda(core, 10)
