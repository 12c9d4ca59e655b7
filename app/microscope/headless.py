"""pycro-manager's ``start_headless`` / ``stop_headless``: load a microscope for a script.

pycro-manager starts Micro-Manager's core without its GUI this way (the Java one, or
with ``python_backend=True`` a Python one). Scopeflow's core is always in this Python
process, so ``start_headless`` loads the configuration with the device adapters of
the Micro-Manager installation given and makes it the core that ``Core()`` and every
``Acquisition`` use; ``stop_headless`` releases it.
"""

from __future__ import annotations

import os
from typing import Any

from pymmcore_plus import CMMCorePlus

from app.microscope.loading import load_microscope, release_microscope
from app.microscope.session import current_core, set_current_core


def start_headless(
    mm_app_path: str | os.PathLike[str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    java_loc: Any = None,
    python_backend: bool = True,
    core_log_path: str | os.PathLike[str] | None = None,
    buffer_size_mb: int = 1024,
    max_memory_mb: Any = None,
    port: Any = None,
    debug: bool = False,
    timeout: Any = None,
) -> CMMCorePlus:
    """Load ``config_file`` with the adapters of ``mm_app_path`` and make it the current
    microscope; without ``config_file``, the simulated microscope. Returns the core.

    ``java_loc``, ``python_backend``, ``max_memory_mb``, ``port`` and ``timeout`` are
    pycro-manager's Java settings: accepted, with no effect. ``core_log_path`` sets the core's log
    file; ``buffer_size_mb`` the camera's circular buffer.
    """
    if config_file is None:
        core = load_microscope()
    else:
        core = load_microscope(config_file, micromanager_path=mm_app_path)
    core.setCircularBufferMemoryFootprint(int(buffer_size_mb))
    if core_log_path:
        core.setPrimaryLogFile(str(core_log_path))
        core.enableDebugLog(bool(debug))
    set_current_core(core)
    return core


def stop_headless(debug: bool = False) -> None:
    """Release the current microscope (its devices are unloaded)."""
    core = current_core()
    set_current_core(None)
    release_microscope(core)
