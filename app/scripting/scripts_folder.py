"""The scripts folder: every ``.py`` file in it is loaded, and reloaded when it changes.

Changes are found by reading each file and comparing its content's hash, a few times
a second. File watchers miss too much here: after an atomic save (write elsewhere,
rename over) ``QFileSystemWatcher`` stops watching the file, and an edit that keeps
the size within the same second leaves mtime-based checks unchanged. A folder of
scripts is a few kilobytes, so reading it all is cheap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from psygnal import Signal

from app.app_logging import FOR_THE_USER
from app.processing.registry import ProcessorRegistry
from app.scripting.loader import register_script, run_script

logger = logging.getLogger(__name__)


@dataclass
class ScriptState:
    """What the app knows of one file."""

    path: Path
    digest: str = ""
    processors: list[str] = field(default_factory=list)
    error: str | None = None
    #: when this version was loaded (``time.time()``), None before the first try
    loaded_at: float | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "loaded" if self.processors else "script"


class ScriptsFolder:
    """Keeps the registry in step with the files of one folder.

    ``scan`` is cheap and meant to be called a few times a second from one thread at
    a time (the app: a ``ScriptsWatcher`` thread, never the GUI thread, since a script
    runs its module code when loaded and may never return). ``changed`` fires, on the
    scanning thread, when a file was loaded, failed, appeared or went away.
    ``snapshot()`` and ``state_of()`` may be called from any thread.
    """

    changed = Signal()

    def __init__(self, path: str | Path, registry: ProcessorRegistry) -> None:
        self.path = Path(path)
        self.registry = registry
        self.states: dict[Path, ScriptState] = {}
        #: the load running now: (file, since when (time.monotonic()), its digest); a
        #: new tuple for each load, so that a load is told apart by identity
        self.loading: tuple[Path, float, str] | None = None
        self._generation = 0  # moves on with move_to: a scan of the old folder stops
        self._given_up: dict[Path, str] = {}  # file -> digest of the version given up
        self._lock = threading.Lock()

    def snapshot(self) -> list[ScriptState]:
        """Copies of every file's state, by file name."""
        with self._lock:
            states = [
                dataclasses.replace(s, processors=list(s.processors)) for s in self.states.values()
            ]
        return sorted(states, key=lambda state: state.path.name)

    def state_of(self, path: Path) -> ScriptState | None:
        with self._lock:
            state = self.states.get(path)
            return dataclasses.replace(state) if state is not None else None

    def give_up(self, load: tuple[Path, float, str], message: str) -> bool:
        """The load ``load`` (a value of ``loading``) never finished: show ``message``
        as its file's error and do not run that version again (a saved change runs).
        What that load defines, if it ever returns, is dropped. False if the load had
        finished meanwhile (nothing is given up)."""
        path, _since, digest = load
        with self._lock:
            if self.loading is not load:
                return False
            self.loading = None
            self._given_up[path] = digest
            state = self.states.get(path) or ScriptState(path)
            state = dataclasses.replace(state, error=message)
            self.states[path] = state
        logger.error("%s", message)
        self.changed.emit()
        return True

    def files(self) -> list[Path]:
        return self.files_in(self.path)

    @staticmethod
    def files_in(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.glob("*.py") if p.is_file() and not p.name.startswith(("_", "."))
        )

    def scan(self) -> list[Path]:
        """Load new and changed files, unload deleted ones; returns the files (re)loaded."""
        touched: list[Path] = []
        present = set()
        with self._lock:
            generation, folder = self._generation, self.path
        for path in self.files_in(folder):
            present.add(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # being replaced right now: the next scan sees the new file
            digest = hashlib.sha1(data).hexdigest()
            with self._lock:
                if generation != self._generation:
                    return touched  # another folder was chosen meanwhile
                state = self.states.get(path)
                if state is not None and state.digest == digest:
                    continue
                if self._given_up.get(path) == digest:
                    continue  # this version never finished loading: wait for a change
                self._given_up.pop(path, None)
                load = (path, time.monotonic(), digest)
                self.loading = load
            text = data.decode("utf-8", errors="replace")
            run = run_script(path, text)  # the user's module code runs here
            with self._lock:
                if self.loading is not load or generation != self._generation:
                    return touched  # given up meanwhile: this thread's scan is over
                self.loading = None
                # registered under the lock: a give-up cannot come in between
                result = register_script(path, run, self.registry)
                had_error = state is not None and state.error is not None
                state = dataclasses.replace(state) if state else ScriptState(path)
                state.digest = digest
                state.loaded_at = time.time()
                state.processors, state.error = result.processors, result.error
                self.states[path] = state
            touched.append(path)
            if result.error is None:
                loaded = ", ".join(result.processors) or "no processor"
                if had_error:  # the user fixed it: say so where the error was shown
                    logger.info("%s loaded again, its error fixed: %s", path.name, loaded,
                                extra=FOR_THE_USER)  # fmt: skip
                else:
                    logger.info("Loaded %s: %s", path.name, loaded)
        with self._lock:
            if generation != self._generation:
                return touched
            gone = [p for p in self.states if p not in present]
            for path in gone:
                removed = self.registry.remove_source(str(path))
                self.states.pop(path, None)
                self._given_up.pop(path, None)
                touched.append(path)
                logger.info("Removed %s and its processors %s", path.name, removed)
        if touched:
            self.changed.emit()
        return touched

    def move_to(self, path: str | Path) -> None:
        """Use another folder: the old folder's processors go now, the new folder's come
        with the next scan (on the scanning thread: loading runs the scripts' code)."""
        with self._lock:
            self._generation += 1
            old = list(self.states)
            self.states.clear()
            self._given_up.clear()
            self.loading = None
            self.path = Path(path)
            for file in old:
                self.registry.remove_source(str(file))
        self.changed.emit()
