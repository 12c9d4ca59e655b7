"""Bringing the scripts folder and the data folder over from the settings of earlier
versions (QSettings), once, without reading anything else from them.

Earlier versions kept their settings with QSettings, whose files may hold pickled
objects that run code when QSettings reads them. Those files are never handed to
QSettings again: the two plain strings worth keeping are read as text (the INI file
on Linux and macOS, the registry on Windows), and a value in QSettings' typed form
(``@Variant(...)``, ``@ByteArray(...)``) is ignored.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from app.settings_store import SettingsStore

logger = logging.getLogger(__name__)

#: (QSettings group, key) -> SettingsStore key
CARRIED_OVER = {
    ("scripts", "folder"): "scripts/folder",
    ("acquisition", "directory"): "acquisition/directory",
}


def carry_over_old_settings(store: SettingsStore) -> list[str]:
    """Fill ``store`` (a new, empty one) with the earlier version's folders; returns
    the keys carried over."""
    found = _read_registry() if sys.platform == "win32" else _read_ini(_old_ini_path())
    carried = []
    for (group, key), new_key in CARRIED_OVER.items():
        value = found.get((group, key))
        if value and not value.startswith("@") and store.get(new_key, str, "") == "":
            store.set(new_key, value)
            carried.append(new_key)
    if carried:
        store.save()
        logger.info("Carried over from the earlier version's settings: %s", ", ".join(carried))
    return carried


def _old_ini_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "Scopeflow" / "Scopeflow.conf"


def _read_ini(path: Path) -> dict[tuple[str, str], str]:
    """The plain ``key=value`` lines of a QSettings INI file, by (group, key)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found: dict[tuple[str, str], str] = {}
    group = "General"
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif "=" in line:
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found[(group, key.strip())] = value.replace("\\\\", "\\")
    return found


def _read_registry() -> dict[tuple[str, str], str]:  # pragma: no cover - Windows only
    import winreg

    registry: Any = winreg  # its names exist on Windows only
    found: dict[tuple[str, str], str] = {}
    for group, key in CARRIED_OVER:
        where = rf"Software\Scopeflow\Scopeflow\{group}"
        try:
            with registry.OpenKey(registry.HKEY_CURRENT_USER, where) as handle:
                value, kind = registry.QueryValueEx(handle, key)
        except OSError:
            continue
        if kind == registry.REG_SZ and isinstance(value, str):
            found[(group, key)] = value
    return found
