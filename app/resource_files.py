"""The files the app loads that are not code: ``resources/`` (icon, simulated microscope,
default preferences), the guides of the Help menu (``docs/*.md``) and the example
scripts (``scripts/*.py``, copied to the user's scripts folder).

The folder sits beside the ``app`` package in a checkout and an editable install, and
inside it (``app/resources``, ``app/docs``) in a wheel (pyproject's ``force-include``);
the Windows bundle has ``resources/`` beside ``app`` and the guides in ``app/docs``
(installer/build.py). Looking in both places keeps one copy of each file in the
repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: the guides the Help menu opens, in ``docs/`` of the repository
HELP_DOCS = ("user-guide.md", "scripting-api.md")


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


def example_scripts_folder(package: Path | None = None) -> Path | None:
    """The example scripts shipped with Scopeflow: ``scripts/`` inside the package (a
    wheel) or beside it (a checkout, an editable install, the Windows bundle); None
    when this installation has none."""
    package = package or Path(__file__).resolve().parent
    for candidate in (package / "scripts", package.parent / "scripts"):
        if any(candidate.glob("*.py")):
            return candidate
    return None


def doc_path(name: str, package: Path | None = None) -> Path:
    """A guide of the Help menu (``HELP_DOCS``): ``docs/<name>`` inside the package (a
    wheel, the Windows bundle) or beside it (a checkout, an editable install)."""
    package = package or Path(__file__).resolve().parent
    candidates = (package / "docs" / name, package.parent / "docs" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingResourceError(
        f"The guide {name} is missing (looked in {candidates[0].parent} and "
        f"{candidates[1].parent}): reinstall Scopeflow."
    )
