"""The application icon, in the window's title bar and the taskbar."""

from __future__ import annotations

import logging
import sys

from PyQt6.QtGui import QIcon

from app.resource_files import MissingResourceError, icon_files

logger = logging.getLogger(__name__)

#: Windows groups taskbar buttons by this ID; without one, a pythonw.exe process shows
#: Python's icon on the taskbar instead of Scopeflow's
APP_USER_MODEL_ID = "Scopeflow.Scopeflow"


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


def set_taskbar_identity() -> None:
    """On Windows, show Scopeflow's icon and name on the taskbar, not Python's."""
    if sys.platform != "win32":
        return
    import ctypes

    try:
        shell32 = ctypes.windll.shell32
        shell32.SetCurrentProcessExplicitAppUserModelID(APP_USER_MODEL_ID)
    except (AttributeError, OSError) as exc:
        logger.warning("Could not set the taskbar identity: %s", exc)
