"""Loading a microscope: the simulated one by default, or a Micro-Manager configuration.

Every core this module creates is released at interpreter exit. pymmcore's C++ core
dispatches device callbacks from its own thread; if that thread is still delivering
a callback while Python finalises, the process aborts with ``FATAL: exception not
rethrown`` (status 134). Detaching the callback (which joins the dispatcher) and then
unloading the devices, before finalisation, prevents it (``release_microscope``).
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import weakref
from collections.abc import Sequence
from pathlib import Path

from pymmcore_plus import CMMCorePlus

from app.microscope.adapter_check import (
    AdapterProblem,
    adapter_problems,
    configuration_libraries,
    mismatch_message,
)
from app.microscope.installations import (
    Installation,
    adapter_files,
    chosen_folder,
    demo_adapters_folder,
    find_installations,
    installation_interface_version,
)
from app.microscope.simulated import (
    SimulatedCameraSettings,
    configure_simulated_camera,
    follow_exposure_and_channel,
    simulated_camera_from_resources,
)
from app.settings_store import SettingsStore

logger = logging.getLogger(__name__)

_cores_to_release: weakref.WeakSet[CMMCorePlus] = weakref.WeakSet()
_release_registered: list[bool] = []  # the atexit handler is registered on first use


class MicroscopeConfigError(RuntimeError):
    """A Micro-Manager configuration could not be loaded; the message says why."""


class AdaptersDoNotFitError(MicroscopeConfigError):
    """The installation lacks adapters the configuration needs, or has them built for
    another device interface; found before any device was loaded."""

    def __init__(
        self, message: str, installation: Installation, problems: list[AdapterProblem]
    ) -> None:
        super().__init__(message)
        self.installation = installation
        self.problems = problems


def load_microscope(
    config: str | os.PathLike[str] | None = None,
    *,
    micromanager_path: str | os.PathLike[str] | Installation | None = None,
    camera: SimulatedCameraSettings | None = None,
    settings: SettingsStore | None = None,
) -> CMMCorePlus:
    """Return a ready core: the simulated microscope, or the hardware of ``config``.

    ``config=None`` loads Micro-Manager's demo devices (shipped by the
    ``mm-test-adapters`` package) and sets the demo camera up as ``camera`` says, or
    as ``resources/simulated_microscope.json`` does (fluorescent beads that blur as the
    Z stage leaves focus). A path loads that Micro-Manager
    configuration with the device adapters of the Micro-Manager installation that
    ``micromanager_path`` names, or that pymmcore-plus finds (``mmcore install``
    or the ``MICROMANAGER_PATH`` environment variable).

    Micro-Manager skips the lines of a file it does not know, so any file would "load"
    a microscope with no device: a file that is not a configuration (empty, binary, an
    image, text without Micro-Manager's lines) or that loads no device is refused with
    ``MicroscopeConfigError``, which names the file and says what a configuration is.
    """
    if config is None:
        demo = demo_adapters_folder()
        # the demo adapters named, not searched for: pymmcore-plus's search loads an
        # adapter of every installation it finds into this process
        core = _new_core(adapter_paths=[str(demo)] if demo is not None else None)
        try:
            core.loadSystemConfiguration(
                str(demo / "MMConfig_demo.cfg") if demo is not None else "MMConfig_demo.cfg"
            )
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
    problem = configuration_problem(config_path)
    if problem is not None:
        raise MicroscopeConfigError(_not_a_configuration(config_path, problem))
    interface = core_interface_version()
    installation = installation_for(config_path, micromanager_path, interface, settings=settings)
    problems = [
        problem
        for problem in adapter_problems(config_path, installation.path, interface)
        if problem.blocking
    ]
    if problems:
        message = mismatch_message(config_path, installation, interface, problems)
        raise AdaptersDoNotFitError(message, installation, problems)
    mm_path = installation.path
    logger.info("Loading %s with the device adapters in %s", config_path, installation)
    core = _new_core(adapter_paths=[str(mm_path)])
    try:
        core.loadSystemConfiguration(str(config_path))
    except Exception as exc:
        release_microscope(core)
        raise MicroscopeConfigError(
            f"Could not load Micro-Manager configuration {config_path} "
            f"(device adapters from {mm_path}): {exc}"
        ) from exc
    if not [device for device in core.getLoadedDevices() if device != "Core"]:
        # Micro-Manager skips the lines it does not know: what is left loaded nothing
        release_microscope(core)
        raise MicroscopeConfigError(_not_a_configuration(config_path, "it loads no device"))
    return core


# What a configuration is: Micro-Manager's own commands, one a line, comma-separated
# (MMCore's loadSystemConfiguration); anything else in a file is skipped silently.
_COMMAND = re.compile(
    rb"^\s*(Device|Property|Parent|Label|Config|ConfigGroup|ConfigPixelSize|PixelSize\w*"
    rb"|Delay|FocusDirection|Equipment|ImageSynchro)\s*,",
    re.MULTILINE,
)
_SNIFF_BYTES = 64 * 1024
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"II+\x00", "a TIFF image (BigTIFF)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel document)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def configuration_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the file at ``path`` cannot be a Micro-Manager configuration, or None if it
    may be one (a text file with at least one Micro-Manager line). Reads the file only;
    whether its devices load is for ``load_microscope`` to find out."""
    try:
        with open(path, "rb") as file:
            head = file.read(_SNIFF_BYTES).removeprefix(b"\xef\xbb\xbf")  # UTF-8's BOM
            if not head.strip():
                return "the file is empty" if not head else "the file is empty (blank lines only)"
            if head.startswith(_UTF16_BOMS):
                return (
                    "it is saved as UTF-16 (Unicode) text, which Micro-Manager cannot read; "
                    "save it again as plain text (ANSI or UTF-8)"
                )
            kind = next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)
            if _looks_binary(head):
                return f"it is {kind}" if kind else "it holds binary data, not text"
            if _COMMAND.search(head):
                return None
            if kind:  # a signature that is also text ('%PDF', 'BM'): refused only now
                return f"it is {kind}"
            tail = head[head.rfind(b"\n") + 1 :]  # a line may straddle two chunks
            while chunk := file.read(_SNIFF_BYTES):
                if _COMMAND.search(tail + chunk):
                    return None
                tail = chunk[chunk.rfind(b"\n") + 1 :]
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    return "it is text with no Micro-Manager line in it"


def _looks_binary(head: bytes) -> bool:
    """NUL bytes, or many control characters: not a text file."""
    if b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return control > len(head) // 20


def _not_a_configuration(path: Path, why: str) -> str:
    return (
        f"{path} is not a Micro-Manager configuration: {why}. "
        "A configuration is a text file (.cfg) of Micro-Manager's lines, such as "
        "'Device,Camera,DemoCamera,DCam' and 'Property,Camera,Exposure,10'. "
        "Micro-Manager's Hardware Configuration Wizard (Devices > Hardware Configuration "
        "Wizard) makes one for your microscope; until then, the simulated microscope "
        "(File > Use the simulated microscope) needs none."
    )


@functools.cache
def core_interface_version() -> int:
    """The device interface version this Scopeflow's MMCore loads adapters of (asked of
    a core with no device, made for it: 4 ms)."""
    core = _new_core(adapter_paths=[str(Path(__file__).parent)])  # no adapter there
    try:
        info = core.getAPIVersionInfo()
    finally:
        release_microscope(core)
    match = re.search(r"Device API version (\d+)", info)
    if match is None:  # pragma: no cover - MMCore has said it this way since 2014
        raise MicroscopeConfigError(f"Cannot read the core's device interface from {info!r}")
    return int(match.group(1))


def installation_for(
    config: Path,
    micromanager_path: str | os.PathLike[str] | Installation | None,
    interface: int,
    found: Sequence[Installation] | None = None,
    settings: SettingsStore | None = None,
) -> Installation:
    """The installation ``config`` loads from, by the rule of ``installations.py``.

    The automatic choice reads each candidate's file names and the version of one of its
    adapters that needs no vendor driver (Utilities); every adapter the configuration
    names is read only in the installation chosen (``adapter_check``)."""
    if isinstance(micromanager_path, Installation):
        return _existing(micromanager_path.path, micromanager_path.found_by)
    if micromanager_path:
        return _existing(Path(micromanager_path), "given for this load")
    chosen = chosen_folder(settings)
    if chosen is not None:
        return _existing(chosen, "chosen in Scopeflow")
    if os.environ.get("MICROMANAGER_PATH"):
        return _existing(Path(os.environ["MICROMANAGER_PATH"]), "MICROMANAGER_PATH")
    found = find_installations(settings=settings) if found is None else found
    if not found:
        raise MicroscopeConfigError(
            "No Micro-Manager installation found, so the device adapters for this "
            "configuration cannot be loaded. Install Micro-Manager (or run "
            "'mmcore install'), or set MICROMANAGER_PATH to its folder."
        )
    needed = {library.lower() for library in configuration_libraries(config)}

    @functools.cache  # each folder listed and read once, whichever pass asks
    def has_all(installation: Installation) -> bool:
        return needed <= {name.lower() for name in adapter_files(installation.path)}

    @functools.cache
    def fits(installation: Installation) -> bool:
        return installation_interface_version(installation.path) == interface

    for test in (
        lambda i: has_all(i) and fits(i),
        has_all,
        fits,
    ):
        chosen_one = next((installation for installation in found if test(installation)), None)
        if chosen_one is not None:
            return chosen_one
    return found[0]


def _existing(folder: Path, found_by: str) -> Installation:
    folder = folder.expanduser()
    if not folder.is_dir():
        raise MicroscopeConfigError(
            f"The Micro-Manager installation {found_by}, {folder}, is not there (moved or "
            "uninstalled?). Choose another: Devices > Micro-Manager installation, "
            "'scopeflow installations', or 'scopeflow --micromanager FOLDER'."
        )
    return Installation(folder, found_by)


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
    """Stop the camera, detach the core's callback, then unload every device. Safe to
    call twice.

    The callback goes first: devices announce changes as they shut down, and MMCore
    delivers announcements on a thread of its own, which must not be busy with them
    (waiting for Python's lock at exit) while the devices it names are destroyed; the
    process aborted at exit now and then with the heap corrupted in a device's
    destructor, that thread in the middle of a delivery (seen in ``bench soak``)."""
    try:
        if core.isSequenceRunning():
            core.stopSequenceAcquisition()
    except Exception:
        logger.exception("Error while stopping the camera")
    try:
        # CMMCorePlus forbids registerCallback; its base class (the binding) has it
        super(CMMCorePlus, core).registerCallback(None)
    except Exception:
        logger.exception("Error while detaching the core callback")
    try:
        core.unloadAllDevices()
    except Exception:  # best effort at shutdown
        logger.exception("Error while unloading devices")
    _cores_to_release.discard(core)


def _release_all_at_exit() -> None:
    for core in list(_cores_to_release):
        release_microscope(core)
