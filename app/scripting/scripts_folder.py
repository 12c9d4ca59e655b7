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

from app.processing.registry import ProcessorRegistry
from app.scripting.loader import load_script

logger = logging.getLogger(__name__)


@dataclass
class ScriptState:
    """What the app knows of one file."""

    path: Path
    digest: str = ""
    processors: list[str] = field(default_factory=list)
    error: str | None = None

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
        #: the file whose module code runs now, and since when (time.monotonic())
        self.loading: tuple[Path, float] | None = None
        self._loading_digest = ""
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

    def give_up(self, path: Path, message: str) -> None:
        """The version of ``path`` being loaded never finished: show ``message`` as its
        error and do not load that version again (a saved change is loaded)."""
        with self._lock:
            state = self.states.get(path) or ScriptState(path)
            loading_it = self.loading is not None and self.loading[0] == path
            self._given_up[path] = self._loading_digest if loading_it else state.digest
            state.error = message
            self.states[path] = state
            if self.loading is not None and self.loading[0] == path:
                self.loading = None
        logger.error("%s", message)
        self.changed.emit()

    def files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(
            p for p in self.path.glob("*.py") if p.is_file() and not p.name.startswith(("_", "."))
        )

    def scan(self) -> list[Path]:
        """Load new and changed files, unload deleted ones; returns the files (re)loaded."""
        touched: list[Path] = []
        present = set()
        for path in self.files():
            present.add(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue  # being replaced right now: the next scan sees the new file
            digest = hashlib.sha1(data).hexdigest()
            with self._lock:
                state = self.states.get(path)
                if state is not None and state.digest == digest:
                    continue
                if self._given_up.get(path) == digest:
                    continue  # this version never finished loading: wait for a change
                self._given_up.pop(path, None)
                state = dataclasses.replace(state) if state else ScriptState(path)
                state.digest = digest
                self.loading = (path, time.monotonic())
                self._loading_digest = digest
            text = data.decode("utf-8", errors="replace")
            result = load_script(path, text, self.registry)  # the user's code runs here
            with self._lock:
                if self.loading is None or self.loading[0] != path:
                    return touched  # given up meanwhile: this thread's scan is over
                self.loading = None
                state.processors, state.error = result.processors, result.error
                self.states[path] = state
            touched.append(path)
            if result.error is None:
                logger.info(
                    "Loaded %s: %s", path.name, ", ".join(result.processors) or "no processor"
                )
        with self._lock:
            gone = [p for p in self.states if p not in present]
        for path in gone:
            removed = self.registry.remove_source(str(path))
            with self._lock:
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
            old = list(self.states)
            self.states.clear()
            self._given_up.clear()
        for file in old:
            self.registry.remove_source(str(file))
        self.path = Path(path)
        self.changed.emit()
