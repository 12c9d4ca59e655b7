"""Where the scripts folder is by default, and the examples it starts with.

A user's scripts live in the user's folder (Documents/Scopeflow/scripts), whatever the
install: a checkout or an editable install (the README's Quick Start) too, so that a
newcomer's first edits never change the shipped examples in ``scripts/``. The examples
are copied there the first time, as the Windows installer does, never over a file the
user has.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from app.preferences import default_preferences
from app.resource_files import example_scripts_folder

logger = logging.getLogger(__name__)


def default_scripts_folder() -> Path:
    """The default preferences' scripts folder (Documents/Scopeflow/scripts)."""
    return default_preferences().scripts_folder


def copy_examples(
    folder: Path, examples: Path | None = None, copied_before: bool = False
) -> list[Path]:
    """Copy the shipped example scripts into ``folder`` when it is new (missing, or
    without a single script) and they were not copied before (the caller remembers:
    a user who deleted them all does not get them back): the files copied. A folder
    that already holds a script is the user's, and is left as it is."""
    if copied_before or (folder.is_dir() and any(folder.glob("*.py"))):
        return []
    source = examples or example_scripts_folder()
    if source is None or source.resolve() == folder.resolve():
        return []
    copied = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for example in sorted(source.glob("*.py")):
            target = folder / example.name
            if not target.exists():
                shutil.copy2(example, target)
                copied.append(target)
    except OSError as exc:  # a read-only Documents: the app still starts
        logger.warning("Could not copy the example scripts to %s: %s", folder, exc)
    if copied:
        logger.info("Copied %d example scripts to %s", len(copied), folder)
    return copied
