"""Where the scripts folder is by default."""

from __future__ import annotations

from pathlib import Path

import app


def default_scripts_folder() -> Path:
    """The checkout's ``scripts/`` when run from source; otherwise the user's
    Documents/Scopeflow/scripts (created when first needed)."""
    checkout = Path(app.__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "scripts").is_dir():
        return checkout / "scripts"
    documents = Path.home() / "Documents"
    return (documents if documents.is_dir() else Path.home()) / "Scopeflow" / "scripts"
