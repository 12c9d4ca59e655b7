"""What the app remembers between runs, as plain JSON values in one file.

Not QSettings: its INI and registry formats store any Python object as a pickle
(``@Variant(PyQt_PyObject)``) and unpickle it when the file is read, so whoever can
write the settings file could run code in the microscope's process. Here only JSON
values go in and come out, each read is checked against the type the app expects,
and a file that cannot be read (cut short by a crash, edited by hand) is set aside
with a warning instead of stopping the app.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
T = TypeVar("T")
JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]
_REMOVED = object()  # a key this store removed


def settings_folder() -> Path:
    """%APPDATA%\\Scopeflow on Windows, else $XDG_CONFIG_HOME/scopeflow (~/.config)."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "Scopeflow"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "scopeflow"


class SettingsStore:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else settings_folder() / SETTINGS_FILE
        self.existed = self.path.exists()  # False the first time (earlier versions' to import)
        self._values: dict[str, Any] = self._load()
        #: what this store set or removed since it last read the file
        self._changed: dict[str, Any] = {}

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.warning("Could not read the settings %s (%s); using defaults", self.path, exc)
            return {}
        try:
            values = json.loads(text)
            if not isinstance(values, dict):
                raise ValueError("not a JSON object")
        except (ValueError, RecursionError) as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            logger.warning(
                "The settings file %s is unreadable (%s): set aside as %s; using defaults",
                self.path,
                exc,
                aside.name,
            )
            with contextlib.suppress(OSError):  # then it is simply overwritten at save
                os.replace(self.path, aside)
            return {}
        return values

    def get(self, key: str, kind: type[T], default: T) -> T:
        """The value saved under ``key`` if it is a ``kind``; else ``default`` (a value
        of another type is ignored with a warning: the file was edited or is old)."""
        if key not in self._values:
            return default
        value = self._values[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        logger.warning("Ignored the setting %r: expected %s, found %r", key, kind.__name__, value)
        return default

    def set(self, key: str, value: JSONValue) -> None:
        """Remember ``value`` (JSON values only: refused otherwise, here, not at save)."""
        json.dumps(value)  # raises TypeError for anything that is not plain data
        self._values[key] = value
        self._changed[key] = value

    def remove(self, key: str) -> None:
        self._values.pop(key, None)
        self._changed[key] = _REMOVED

    def save(self) -> None:
        """Write the file whole or not at all (a crash mid-write keeps the old one).

        What this store changed is written over the file as it is now, not over what it
        read at start: a setting another program wrote meanwhile (``scopeflow
        installations --use`` while the window is open) is kept."""
        values = self._load() if self.path.exists() else {}
        for key, value in self._changed.items():
            if value is _REMOVED:
                values.pop(key, None)
            else:
                values[key] = value
        self._values = values
        self._changed = {}
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(self._values, file, indent=2, sort_keys=True)
            os.replace(temporary, self.path)
            temporary = None
        except OSError as exc:
            logger.warning("Could not save the settings to %s: %s", self.path, exc)
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
