"""The application icon, in the window's title bar and the taskbar."""

from __future__ import annotations

import logging

from PyQt6.QtGui import QIcon

from app.resource_files import MissingResourceError, icon_files

logger = logging.getLogger(__name__)


def application_icon() -> QIcon:
    """Scopeflow's icon at every size drawn; an empty icon if the files are missing
    (said in the log: a missing icon must not stop a microscope)."""
    icon = QIcon()
    try:
        for path in icon_files().values():
            icon.addFile(str(path))
    except MissingResourceError as exc:
        logger.warning("%s", exc)
    return icon
