"""The microscope an Acquisition uses when it is not given a core.

The app and ``scopeflow run`` set it from ``--config``; a plain script that never
sets one gets the simulated microscope, created on first use.
"""

from __future__ import annotations

from pymmcore_plus import CMMCorePlus

from app.current import Current
from app.microscope.loading import load_microscope

_current: Current[CMMCorePlus] = Current(load_microscope)


def current_core() -> CMMCorePlus:
    """The session's core, loading the simulated microscope if none was set."""
    return _current.get()


def set_current_core(core: CMMCorePlus | None) -> None:
    _current.set(core)
