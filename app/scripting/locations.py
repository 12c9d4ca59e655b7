"""Where the scripts folder is by default."""

from __future__ import annotations

from pathlib import Path

import app
from app.preferences import default_preferences


def default_scripts_folder() -> Path:
    """The checkout's ``scripts/`` when run from source; otherwise the default
    preferences' (Documents/Scopeflow/scripts, where the installer copies the examples;
    created when first needed)."""
    checkout = Path(app.__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "scripts").is_dir():
        return checkout / "scripts"
    return default_preferences().scripts_folder
