"""Preferences before the user changes them, from ``resources/default_preferences.json``.

Paths in that file start with ``documents/`` (the user's Documents folder, as Windows
names it, so the installer and the app agree on where the scripts folder is) or ``~/``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from app.resource_files import MissingResourceError, load_json_resource

PREFERENCES_FILE = "default_preferences.json"


@dataclass(frozen=True)
class Preferences:
    data_directory: Path
    scripts_folder: Path
    window_size: tuple[int, int]


def documents_folder() -> Path:
    """The user's Documents folder (on Windows the one the shell names, which may have
    moved to OneDrive); the home folder when there is none."""
    if sys.platform == "win32":
        found = _windows_documents()
        if found is not None:
            return found
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()


def _windows_documents() -> Path | None:
    import ctypes
    from ctypes import wintypes

    buffer = ctypes.create_unicode_buffer(wintypes.MAX_PATH)
    personal, current = 5, 0  # CSIDL_PERSONAL, SHGFP_TYPE_CURRENT: NSIS's $DOCUMENTS
    windll = ctypes.windll  # type: ignore[attr-defined]
    if windll.shell32.SHGetFolderPathW(None, personal, None, current, buffer) != 0:
        return None
    return Path(buffer.value) if buffer.value else None


def expand_path(value: str) -> Path:
    """``documents/…`` and ``~/…`` made absolute; other paths as written."""
    normalised = value.replace("\\", "/")
    if normalised == "documents" or normalised.startswith("documents/"):
        return documents_folder().joinpath(*normalised.split("/")[1:])
    return Path(os.path.expanduser(value))


def default_preferences() -> Preferences:
    values = load_json_resource(PREFERENCES_FILE)
    try:
        window = values["window"]
        return Preferences(
            data_directory=expand_path(str(values["data_directory"])),
            scripts_folder=expand_path(str(values["scripts_folder"])),
            window_size=(int(window["width"]), int(window["height"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MissingResourceError(
            f"resources/{PREFERENCES_FILE} lacks or garbles {exc}: reinstall Scopeflow."
        ) from exc


def data_folder() -> Path:
    """Where acquisitions are saved: the folder chosen in the window (remembered in the
    settings), else the default (Documents/Scopeflow/data). Scripts use it instead of
    a path relative to wherever they were started from."""
    from app.settings_store import SettingsStore

    chosen = SettingsStore().get("acquisition/directory", str, "")
    return Path(chosen).expanduser() if chosen else default_preferences().data_directory
