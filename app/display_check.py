"""Whether the window can open here, asked before Qt is started.

Without a display, or without the X libraries Qt's xcb platform plugin needs, Qt
aborts the process (a core dump, and a message a microscopist cannot act on). These
checks turn the common cases into a sentence that says what to do.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

#: Debian's packages for Qt 6's xcb platform plugin (what a fresh Debian lacks)
XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-xinerama0 "
    "libegl1 libgl1"
)
_XCB_LIBRARIES = ("xcb-cursor", "xcb-icccm", "xkbcommon-x11", "EGL")


def display_problem() -> str | None:
    """Why the window cannot open, or None. Only Linux (and other X11 systems) can
    lack a display; Windows and macOS always have one."""
    if sys.platform in ("win32", "darwin"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc...: the user chose
    if not os.environ.get("DISPLAY") and not (os.environ.get("WAYLAND_DISPLAY") and not platform):
        return (
            "Scopeflow's window needs a display, and none was found (DISPLAY is not "
            "set). Start it from a desktop session, or under a virtual display "
            "(xvfb-run scopeflow); to acquire without a window, run a script: "
            "scopeflow run script.py"
        )
    missing = [name for name in _XCB_LIBRARIES if ctypes.util.find_library(name) is None]
    if missing and not os.environ.get("WAYLAND_DISPLAY"):
        return (
            "Qt's X11 support needs system libraries that are missing here "
            f"({', '.join('lib' + m for m in missing)}). On Debian or Ubuntu: "
            f"sudo apt-get install {XCB_PACKAGES}"
        )
    return None
