"""Loading a microscope: the simulated one by default, or a Micro-Manager configuration.

Every core this module creates is released at interpreter exit. pymmcore's C++ core
dispatches device callbacks from its own thread; if that thread is still delivering
a callback while Python finalises, the process aborts with ``FATAL: exception not
rethrown`` (status 134). Unloading the devices and then detaching the callback (which
joins the dispatcher) before finalisation prevents it.
"""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from pathlib import Path

from pymmcore_plus import CMMCorePlus, find_micromanager

from app.microscope.simulated import (
    SimulatedCameraSettings,
    configure_simulated_camera,
    follow_exposure_and_channel,
    simulated_camera_from_resources,
)

logger = logging.getLogger(__name__)

_cores_to_release: weakref.WeakSet[CMMCorePlus] = weakref.WeakSet()
_release_registered: list[bool] = []  # the atexit handler is registered on first use


class MicroscopeConfigError(RuntimeError):
    """A Micro-Manager configuration could not be loaded; the message says why."""


def load_microscope(
    config: str | os.PathLike[str] | None = None,
    *,
    micromanager_path: str | os.PathLike[str] | None = None,
    camera: SimulatedCameraSettings | None = None,
) -> CMMCorePlus:
    """Return a ready core: the simulated microscope, or the hardware of ``config``.

    ``config=None`` loads Micro-Manager's demo devices (shipped by the
    ``mm-test-adapters`` package) and sets the demo camera up as ``camera`` says, or
    as ``resources/simulated_microscope.json`` does (fluorescent beads that blur as the
    Z stage leaves focus). A path loads that Micro-Manager
    configuration with the device adapters of the Micro-Manager installation that
    ``micromanager_path`` names, or that pymmcore-plus finds (``mmcore install``
    or the ``MICROMANAGER_PATH`` environment variable).
    """
    if config is None:
        core = _new_core(adapter_paths=None)
        try:
            core.loadSystemConfiguration()
        except Exception as exc:  # the demo adapters are a dependency: say so
            release_microscope(core)
            raise MicroscopeConfigError(
                "Could not load the simulated microscope (Micro-Manager's demo devices "
                f"from the 'mm-test-adapters' package): {exc}"
            ) from exc
        configure_simulated_camera(core, camera or simulated_camera_from_resources())
        follow_exposure_and_channel(core)
        return core

    config_path = Path(config).expanduser()
    if not config_path.is_file():
        raise MicroscopeConfigError(f"Micro-Manager configuration file not found: {config_path}")
    mm_path = Path(micromanager_path) if micromanager_path else _find_micromanager()
    core = _new_core(adapter_paths=[str(mm_path)])
    try:
        core.loadSystemConfiguration(str(config_path))
    except Exception as exc:
        release_microscope(core)
        raise MicroscopeConfigError(
            f"Could not load Micro-Manager configuration {config_path} "
            f"(device adapters from {mm_path}): {exc}"
        ) from exc
    return core


def _find_micromanager() -> Path:
    found = find_micromanager()
    if not found:
        raise MicroscopeConfigError(
            "No Micro-Manager installation found, so the device adapters for this "
            "configuration cannot be loaded. Install Micro-Manager (or run "
            "'mmcore install'), or set MICROMANAGER_PATH to its folder."
        )
    return Path(found)


def _new_core(adapter_paths: list[str] | None) -> CMMCorePlus:
    # The engine is Qt-free: core events must be psygnal callbacks, even when a
    # QApplication exists (pymmcore-plus would otherwise make them Qt signals delivered
    # on the GUI thread, and tied to the QApplication's lifetime). The UI bridges them.
    os.environ.setdefault("PYMM_SIGNALS_BACKEND", "psygnal")
    core = CMMCorePlus(adapter_paths=adapter_paths) if adapter_paths else CMMCorePlus()
    if not _cores_to_release and not _release_registered:
        atexit.register(_release_all_at_exit)  # once, when the first core is made
        _release_registered.append(True)
    _cores_to_release.add(core)
    return core


def release_microscope(core: CMMCorePlus) -> None:
    """Unload every device and detach the core's callback thread. Safe to call twice."""
    try:
        if core.isSequenceRunning():
            core.stopSequenceAcquisition()
        core.unloadAllDevices()
    except Exception:  # best effort at shutdown; the next step matters more
        logger.exception("Error while unloading devices")
    try:
        # CMMCorePlus forbids registerCallback; its base class (the binding) has it
        super(CMMCorePlus, core).registerCallback(None)
    except Exception:
        logger.exception("Error while detaching the core callback")
    _cores_to_release.discard(core)


def _release_all_at_exit() -> None:
    for core in list(_cores_to_release):
        release_microscope(core)
