"""The command line: ``scopeflow`` (the app), ``scopeflow run SCRIPT.py`` (headless)."""

from __future__ import annotations

import argparse
import logging
import runpy
import sys
from pathlib import Path


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
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a Python acquisition script headless")
    run.add_argument("script", type=Path)
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from app.microscope import MicroscopeConfigError, load_microscope, set_current_core

    try:
        core = load_microscope(args.config, micromanager_path=args.micromanager)
    except MicroscopeConfigError as exc:
        print(f"scopeflow: {exc}", file=sys.stderr)
        return 2
    set_current_core(core)
    if args.command == "run":
        return _run_script(args.script, args.args)
    from app.ui.main import run_app

    return run_app(core)


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
