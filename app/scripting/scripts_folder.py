"""The scripts folder: every ``.py`` file in it is loaded, and reloaded when it changes.

Changes are found by reading each file and comparing its content's hash, a few times
a second. File watchers miss too much here: after an atomic save (write elsewhere,
rename over) ``QFileSystemWatcher`` stops watching the file, and an edit that keeps
the size within the same second leaves mtime-based checks unchanged. A folder of
scripts is a few kilobytes, so reading it all is cheap.
"""

from __future__ import annotations

import hashlib
import logging
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

    ``scan`` is cheap and meant to be called on a timer (the app: every 200 ms, on the
    GUI thread, so scripts run where Qt objects may be made). ``changed`` fires when a
    file was loaded, failed, appeared or went away.
    """

    changed = Signal()

    def __init__(self, path: str | Path, registry: ProcessorRegistry) -> None:
        self.path = Path(path)
        self.registry = registry
        self.states: dict[Path, ScriptState] = {}

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
            state = self.states.get(path)
            if state is not None and state.digest == digest:
                continue
            state = state or ScriptState(path)
            state.digest = digest
            text = data.decode("utf-8", errors="replace")
            result = load_script(path, text, self.registry)
            state.processors, state.error = result.processors, result.error
            self.states[path] = state
            touched.append(path)
            if result.error is None:
                logger.info(
                    "Loaded %s: %s", path.name, ", ".join(result.processors) or "no processor"
                )
        for path in [p for p in self.states if p not in present]:
            removed = self.registry.remove_source(str(path))
            del self.states[path]
            touched.append(path)
            logger.info("Removed %s and its processors %s", path.name, removed)
        if touched:
            self.changed.emit()
        return touched

    def move_to(self, path: str | Path) -> None:
        """Use another folder: the old folder's processors go, the new folder's come."""
        for old in list(self.states):
            self.registry.remove_source(str(old))
        self.states.clear()
        self.path = Path(path)
        self.scan()
        self.changed.emit()
