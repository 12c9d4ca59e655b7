"""The microscope an Acquisition uses when it is not given a core.

The app and ``scopeflow run`` set it from ``--config``; a plain script that never
sets one gets the simulated microscope, created on first use.
"""

from __future__ import annotations

import threading

from pymmcore_plus import CMMCorePlus

from app.microscope.loading import load_microscope

_lock = threading.Lock()
_current: CMMCorePlus | None = None


def current_core() -> CMMCorePlus:
    """The session's core, loading the simulated microscope if none was set."""
    global _current
    with _lock:
        if _current is None:
            _current = load_microscope()
        return _current


def set_current_core(core: CMMCorePlus | None) -> None:
    global _current
    with _lock:
        _current = core
