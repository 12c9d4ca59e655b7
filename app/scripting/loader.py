"""Loading one script file: execute its text, then register what it defined.

The source is compiled from the text just read, never from cached bytecode:
``importlib.reload`` and ``.pyc`` checks compare mtime and size, and miss an edit
that keeps the size and lands within the same second.
"""

from __future__ import annotations

import logging
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from app.processing.registry import ProcessorRegistry
from app.scripting.decorator import Declaration, ScriptCollector, active_collector

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    processors: list[str]
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What running a script's module code gave: the processors it defined (function,
    name, position, enabled), or the error, with file and line."""

    items: list[Declaration]
    error: str | None = None


def load_script(path: Path, source_text: str, registry: ProcessorRegistry) -> LoadResult:
    """Run ``source_text`` (the content of ``path``) and register its processors."""
    return register_script(path, run_script(path, source_text), registry)


def run_script(path: Path, source_text: str) -> RunResult:
    """Run the module code of ``path``; the registry is not touched (a caller that gave
    up waiting for this code must be able to drop what it defined)."""
    source = str(path)
    collector = ScriptCollector(source)
    module = types.ModuleType(f"scopeflow_scripts.{path.stem}")
    module.__file__ = source
    token = active_collector.set(collector)
    try:
        code = compile(source_text, source, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        if not collector.items and callable(module.__dict__.get("process")):
            collector.add(Declaration(module.__dict__["process"], path.stem, None))
    except BaseException as exc:  # SystemExit too: a script must not end the app
        if isinstance(exc, KeyboardInterrupt):
            raise
        return RunResult([], _describe(exc, source))
    finally:
        active_collector.reset(token)
    return RunResult(list(collector.items))


def register_script(path: Path, run: RunResult, registry: ProcessorRegistry) -> LoadResult:
    """Apply a run to the registry. On success, the file's processors replace its
    previous ones (keeping their place and switches) and those it no longer defines are
    removed. On an error, the previous version stays registered and the error is
    returned."""
    source = str(path)
    if run.error is not None:
        for name in _names_from(registry, source):
            registry.set_error(name, run.error)
        logger.error("Could not load %s", run.error)  # the error begins with the path
        return LoadResult(_names_from(registry, source), run.error)
    names = []
    for fn, given_name, position, enabled, workers in run.items:
        wanted: str = given_name or str(getattr(fn, "__name__", path.stem))
        if wanted in registry and registry.get(wanted).source != source:
            wanted = f"{path.stem}.{wanted}"  # another file or the console owns that name
        first = wanted not in registry  # afterwards, the user's switch wins
        registry.register(
            fn,
            wanted,
            position=position,
            source=source,
            enabled=enabled if first else None,
            workers=workers,
        )
        names.append(wanted)
    registry.remove_source(source, keep=set(names))
    return LoadResult(names)


def _names_from(registry: ProcessorRegistry, source: str) -> list[str]:
    return [p.name for p in registry if p.source == source]


def _describe(exc: BaseException, source: str) -> str:
    if isinstance(exc, SyntaxError):
        return f"{source}, line {exc.lineno}: SyntaxError: {exc.msg}\n{(exc.text or '').rstrip()}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == source]
    where = f"{source}, line {frames[-1].lineno}" if frames else source
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{where}: {type(exc).__name__}: {exc}\n\n{text}"
