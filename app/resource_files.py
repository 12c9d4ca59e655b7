"""The files the app loads that are not code: ``resources/`` (icon, simulated microscope,
default preferences).

The folder sits beside the ``app`` package in a checkout, an editable install and the
Windows bundle, and inside it (``app/resources``) in a wheel (pyproject's
``force-include``). Looking in both places keeps one copy of each file in the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


class MissingResourceError(FileNotFoundError):
    """A file of ``resources/`` is missing: the installation is incomplete."""


def resources_folder() -> Path:
    package = Path(__file__).resolve().parent  # the app package's folder
    for candidate in (package / "resources", package.parent / "resources"):
        if (candidate / "icon").is_dir():
            return candidate
    raise MissingResourceError(
        f"Scopeflow's resources folder is missing (looked in {package / 'resources'} and "
        f"{package.parent / 'resources'}): reinstall Scopeflow."
    )


def resource_path(relative: str) -> Path:
    path = resources_folder() / relative
    if not path.is_file():
        raise MissingResourceError(f"Missing resource {path}: reinstall Scopeflow.")
    return path


def load_json_resource(relative: str) -> dict[str, Any]:
    """A JSON object from ``resources/``; keys starting with ``_`` are comments."""
    path = resource_path(relative)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MissingResourceError(f"Resource {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MissingResourceError(f"Resource {path} must hold a JSON object")
    return {key: value for key, value in data.items() if not key.startswith("_")}


def icon_files() -> dict[int, Path]:
    """The application icon's PNGs by size, for the window and the taskbar."""
    return {size: resource_path(f"icon/scopeflow-{size}.png") for size in ICON_SIZES}
