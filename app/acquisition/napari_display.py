"""pycro-manager's ``napari_viewer=``: checked at construction, with a clear message."""

from __future__ import annotations

import importlib.util
from typing import Any


class NapariNotInstalledError(ImportError):
    """``napari_viewer=`` was given but napari is not installed."""


def raise_unless_napari(viewer: Any) -> None:
    """Fail at construction, in the user's line, when ``napari_viewer`` cannot work."""
    if importlib.util.find_spec("napari") is None:
        raise NapariNotInstalledError(
            "napari_viewer= needs napari, which is not installed (pip install napari). "
            "Without it, leave napari_viewer out: Scopeflow shows acquisitions in its "
            "own viewer (show_display=True)."
        )
    import napari

    if not isinstance(viewer, napari.Viewer):
        raise TypeError(f"napari_viewer must be a napari.Viewer, got {type(viewer).__name__}")
