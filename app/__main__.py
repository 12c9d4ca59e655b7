"""The command line: ``scopeflow`` (the app), ``scopeflow run SCRIPT.py`` (headless),
``scopeflow installations`` (the Micro-Manager installations found, and the one chosen)."""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymmcore_plus import CMMCorePlus

BENCH_SCENARIOS = (
    "pipeline", "parallel", "dask", "memory", "display", "gui", "reload", "map", "tiles", "open",
    "soak",
)  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scopeflow",
        description="Microscope acquisition with Python image processors. "
        "Without --config it runs on a simulated microscope.",
    )
    parser.add_argument(
        "--config", metavar="PATH.cfg", help="a Micro-Manager configuration file (hardware)"
    )
    parser.add_argument(
        "--micromanager",
        metavar="DIR",
        help="the Micro-Manager installation with the device adapters",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument(
        "--self-test",
        metavar="REPORT.txt",
        type=Path,
        help="check the app through its window (snap, acquire, save, read back), "
        "write the report there, exit 0 if all passed",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a Python acquisition script headless")
    run.add_argument("script", type=Path)
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    installations = sub.add_parser(
        "installations",
        help="list the Micro-Manager installations found, and choose the one to use",
    )
    choice = installations.add_mutually_exclusive_group()
    choice.add_argument(
        "--use", metavar="DIR", type=Path, help="remember DIR as the installation to use"
    )
    choice.add_argument(
        "--automatic",
        action="store_true",
        help="forget the chosen one: use the first that has the configuration's adapters",
    )
    bench = sub.add_parser("bench", help="measure speed (see README, Performance)")
    bench.add_argument(
        "scenario",
        nargs="?",
        default="all",
        choices=["all", *BENCH_SCENARIOS],
        help="all (default) runs pipeline, parallel, memory, display, gui, map and tiles "
        "(not dask, reload, open or soak: a cluster, the scripts folder, 20 GB of datasets, "
        "half an hour)",
    )
    bench.add_argument("--size", type=int, default=2048, help="frame width and height")
    bench.add_argument("--frames", type=int, default=None)
    bench.add_argument("--no-save", action="store_true", help="gui: acquire without saving")
    bench.add_argument("--runs", type=int, default=3, help="runs per scenario (medians shown)")
    bench.add_argument(
        "--folder",
        help="where to save (default: the temp folder); open: where its datasets are kept",
    )
    bench.add_argument(
        "--tiles", type=int, default=20, help="map: tiles per side of the map (tiles: half)"
    )
    bench.add_argument("--minutes", type=float, default=30, help="soak: how long")
    bench.add_argument("--quick", action="store_true", help="small frames, few: a smoke test")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument(
        "--readme",
        metavar="PATH",
        help="pipeline, parallel, dask: also write the table into PATH's marked section "
        "(<!-- bench:SCENARIO --> ... <!-- /bench:SCENARIO -->)",
    )
    return parser


PIPELINE_README_COLUMNS = [
    "scenario",
    "MB/s",
    "reference",
    "ref MB/s",
    "ratio",
    "lost",
    "on disk MB",
    "ref on disk MB",
]


def _write_readme(
    args: argparse.Namespace, title: str, rows: list[dict], columns: list[str] | None
) -> None:
    """The table, the command and the machine, into the README's marked section."""
    if not args.readme:
        return
    from app.bench.report import describe_machine, markdown_table, update_marked_section

    given = sys.argv[sys.argv.index(args.scenario) :] if args.scenario in sys.argv else []
    command = " ".join(["scopeflow bench", *(given or [args.scenario])])
    text = f"`{command}` ({title}; {describe_machine()}):\n\n{markdown_table(rows, columns)}"
    update_marked_section(args.readme, f"bench:{args.scenario}", text)
    print(f"Written into {args.readme}", file=sys.stderr)


def _bench(args: argparse.Namespace) -> int:
    import os

    os.environ["SCOPEFLOW_BENCH_SIZE"] = str(args.size)
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the window scenarios need no screen
    if args.scenario == "all":
        for scenario in ("pipeline", "parallel", "memory", "display", "gui", "map", "tiles"):
            args.scenario = scenario
            _bench(args)
        return 0
    from app.bench.report import print_table
    from app.ui.bench import benchmarks as gui

    if args.scenario == "pipeline":
        from app.bench.throughput import bench_pipeline

        size, frames, runs = (
            (256, 40, 1) if args.quick else (args.size, args.frames or 300, args.runs)
        )
        rows = bench_pipeline(size=size, frames=frames, runs=runs, folder=args.folder)
        title = f"Frame path, {size}x{size} uint16, {frames} frames, median of {runs} run(s)"
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, PIPELINE_README_COLUMNS)
    elif args.scenario == "parallel":
        from app.bench.parallel import bench_parallel

        size, frames, runs = (
            (256, 30, 1) if args.quick else (min(args.size, 1024), args.frames or 120, args.runs)
        )
        rows = bench_parallel(size=size, frames=frames, runs=runs)
        title = (
            f"A Gaussian filter (scipy.ndimage, sigma 3) on {size}x{size} frames, "
            f"{frames} frames, median of {runs} run(s)"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    elif args.scenario == "dask":
        from app.bench.dask_bench import bench_dask

        frames, runs = (8, 1) if args.quick else (args.frames or 40, args.runs)
        rows = bench_dask(frames=frames, runs=runs)
        title = (
            f"A ~100 ms pure-Python processor (holding the GIL), 256x256 frames, "
            f"{frames} frames, median of {runs} run(s)"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    elif args.scenario == "memory":
        from app.bench.throughput import bench_memory

        frames = 500 if args.quick else (args.frames or 10000)
        size = 128 if args.quick else (args.size if args.size != 2048 else 512)
        rows = bench_memory(frames=frames, size=size, folder=args.folder)
        print_table("Resident memory along a long acquisition with saving", rows, args.json)
    elif args.scenario == "map":
        from app.bench.map_bench import bench_map
        from app.ui.bench.map_benchmark import paint_ms

        tiles, size, runs = (10, 256, 3) if args.quick else (
            args.tiles, args.size if args.size != 2048 else 512, 11,
        )  # fmt: skip
        rows = bench_map(tiles=tiles, size=size, runs=runs, folder=args.folder, paint=paint_ms)
        title = (
            f"A tiled map of {tiles}x{tiles} tiles ({size}x{size} uint16, 32 px overlap) opened "
            f"from disk, drawn on 1200x900 screen pixels; median of {runs} redraws"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    elif args.scenario == "tiles":
        from app.bench.tiles_bench import bench_tiles

        size, side, runs = (256, 4, 1) if args.quick else (args.size, args.tiles // 2, args.runs)
        rows = bench_tiles(size=size, side=side, runs=runs, folder=args.folder)
        title = (
            f"Saving a map: {side}x{side} tiles of {size}x{size} uint16 (10% overlap), "
            f"median of {runs} run(s), each writer's files fsynced"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    elif args.scenario == "open":
        from app.bench.big_dataset import BigDataset
        from app.ui.bench.open_benchmark import bench_open

        shape = BigDataset(time_points=20, size=128) if args.quick else BigDataset()
        runs = 1 if args.quick else args.runs
        rows = bench_open(args.folder, shape, runs=runs, steps=10 if args.quick else 40)
        title = (
            f"A dataset of {shape.images} images ({shape.time_points} time points x "
            f"{len(shape.channels)} channels x {shape.z_planes} z) opened in the window "
            f"(File > Open dataset), median of {runs} run(s)"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    elif args.scenario == "soak":
        from app.ui.bench.soak_benchmark import bench_soak

        if args.quick:
            os.environ["SCOPEFLOW_BENCH_SIZE"] = "256"
        minutes, frames, every = (
            (0.3, 200, 8.0) if args.quick else (args.minutes, args.frames or 1000, 60.0)
        )
        rows = bench_soak(minutes=minutes, frames_per_run=frames, sample_s=every)
        title = (
            f"Soak: the window acquiring {rows[0]['frame'] if rows else ''} back to back "
            f"for {minutes:g} min (a processor, saving to NDTiff), at each minute"
        )
        print_table(title, rows, args.json)
    elif args.scenario == "display":
        rows = gui.bench_display(frames=args.frames or 200)
        print_table("Viewer: time to display one frame", rows, args.json)
    elif args.scenario == "reload":
        rows = gui.bench_reload()
        print_table(
            "Scripts folder: from saving a file to its processors registered", rows, args.json
        )
    else:
        if args.quick:
            os.environ["SCOPEFLOW_BENCH_SIZE"] = "256"
        frames, runs = (60, 1) if args.quick else (args.frames or 1000, args.runs)
        side = gui.frame_size()
        rows = gui.bench_gui(frames=frames, runs=runs, save=not args.no_save)
        title = (
            f"The window acquiring {side}x{side} 16-bit at full camera speed, "
            f"{frames} frames, median of {runs} run(s)"
        )
        print_table(title, rows, args.json)
        _write_readme(args, title, rows, None)
    return 0


def main(argv: list[str] | None = None) -> int:
    from app.app_logging import configure_logging, ensure_standard_streams

    ensure_standard_streams()  # pythonw.exe has none; parse errors must land somewhere
    args = _parser().parse_args(argv)
    configure_logging(args.verbose, to_file=args.command is None)
    if args.command == "bench":
        return _bench(args)
    if args.command == "installations":
        return _installations(args.use, args.automatic)
    if args.command is None:  # the window: is there a display to open it on?
        from app.display_check import display_problem

        problem = display_problem()
        if problem is not None:
            logging.getLogger("scopeflow").error("%s", problem)
            return 1
    from app.microscope import MicroscopeConfigError, load_microscope, set_current_core

    try:
        core = load_microscope(args.config, micromanager_path=args.micromanager)
    except MicroscopeConfigError as exc:
        logging.getLogger("scopeflow").error("%s", exc)  # the terminal and the log file
        if args.command is None:
            from app.ui.shell.main import show_startup_error

            show_startup_error(str(exc))
        return 2
    set_current_core(core)
    if args.config:
        _say_installation(core)
    if args.command == "run":
        return _run_script(args.script, args.args)
    from app.ui.shell.main import run_app

    return run_app(core, self_test_report=args.self_test)


def _installations(use: Path | None, automatic: bool) -> int:
    """``scopeflow installations``: what was found, which fits, which is chosen."""
    from app.microscope.installations import (
        Installation,
        adapter_files,
        automatic_or_chosen,
        choose_folder,
        chosen_folder,
        describe_installation,
        find_installations,
    )
    from app.microscope.loading import core_interface_version

    interface = core_interface_version()
    if use is not None:
        folder = use.expanduser()
        if not folder.is_dir():
            print(f"scopeflow: {folder} does not exist: not remembered.", file=sys.stderr)
            return 2
        if not adapter_files(folder):
            print(
                f"scopeflow: {folder} holds no Micro-Manager device adapter "
                "(mmgr_dal_*.dll): not remembered. Give the folder Micro-Manager is "
                "installed in.",
                file=sys.stderr,
            )
            return 2
        choose_folder(folder)
        info = describe_installation(Installation(folder.resolve(), "chosen in Scopeflow"))
        print(f"Remembered: {info.describe(interface)}")
        return 0 if info.fits(interface) else 1
    if automatic:
        choose_folder(None)
        print("Forgot the chosen installation: each configuration loads from the first")
        print("installation below that has every adapter it needs.")
    print(f"This Scopeflow loads device adapters built for device interface {interface}.")
    found = find_installations()
    if not found:
        print("No Micro-Manager installation found: install one, or run 'mmcore install'.")
        return 1
    print("Micro-Manager installations found, in the order they are preferred:")
    for installation in found:
        print(f"  {describe_installation(installation).describe(interface)}")
    print(f"Chosen: {automatic_or_chosen()}.")
    if chosen_folder() is None:
        print("('scopeflow installations --use DIR' chooses one.)")
    return 0


def _say_installation(core: CMMCorePlus) -> None:
    """One line on the terminal: where the configuration's adapters came from."""
    from app.microscope.installations import describe_installation, installation_in_use
    from app.microscope.loading import core_interface_version

    installation = installation_in_use(core.getDeviceAdapterSearchPaths())
    if installation is not None:
        info = describe_installation(installation)
        print(
            f"scopeflow: device adapters from {info.describe(core_interface_version())}",
            file=sys.stderr,
        )


def _run_script(script: Path, script_args: list[str]) -> int:
    if not script.is_file():
        print(f"scopeflow: script not found: {script}", file=sys.stderr)
        return 2
    sys.argv = [str(script), *script_args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return _report_acquisitions()


def _report_acquisitions() -> int:
    """One line per acquisition the script ran, from its status; 1 if one failed."""
    from app.acquisition.acquisition import finish_all_and_report
    from app.acquisition.state import RunState

    failed = False
    for acquisition, status in finish_all_and_report():
        counts = status.counts
        where = acquisition.dataset_path or (
            "in memory" if acquisition.sink.stores_images else "not kept"
        )
        print(
            f"scopeflow: acquisition {acquisition.name!r}: {status.state.value} "
            f"({status.reason}), {counts.get('saved', 0)} images saved, "
            f"{counts.get('lost', 0)} lost, {counts.get('missing', 0)} missing"
            + (
                f", {counts['unprocessed']} saved without processing (stopped first)"
                if counts.get("unprocessed")
                else ""
            )
            + (
                f", {counts['duplicates']} with repeated axes kept under 'duplicate'"
                if counts.get("duplicates")
                else ""
            )
            + f"; {where}",
            file=sys.stderr,
        )
        failed = failed or status.state is RunState.FAILED
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
