"""Micro-Manager installations on this computer, and which one a configuration loads from.

A configuration names device adapters (``Device,Camera,DemoCamera,DCam``: the
``DemoCamera`` library); MMCore loads them from a folder of ``mmgr_dal_*`` libraries,
the Micro-Manager installation. A microscope PC may hold several (an old
``C:\\Program Files\\Micro-Manager-2.0.0``, a nightly build, the demo adapters that
come with Scopeflow), and only those built for the core's device interface version
load. The rule this module keeps: **the installation used is always one the user can
name and see why**, in this order:

1. the folder given for this load (``--micromanager``, ``micromanager_path=``);
2. the folder chosen in Scopeflow (Devices > Micro-Manager installation,
   ``scopeflow installations --use``), remembered in the settings;
3. the ``MICROMANAGER_PATH`` environment variable;
4. else the first installation found that has every adapter the configuration needs,
   built for the core's interface, looked for in this order: ``Micro-Manager*``
   folders where Windows installs programs (``C:\\Program Files``, ``Program Files
   (x86)``, the drive's root; the newest version first), pymmcore-plus's list
   (``mmcore install`` folders), and Micro-Manager's demo adapters
   (``mm-test-adapters``) last.

pymmcore-plus finds installations too (``find_micromanager``); the folders it documents
are part of ours (``pymmcore_plus_folders``), found without calling it (it loads an
adapter of each folder into the process), and its own choice is not used as is: it
takes the first folder whose first adapter has the right version, which on a microscope
PC is often the demo adapters (a dependency of Scopeflow), and a real configuration then
fails to find its camera.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from app.microscope.adapter_versions import interface_versions
from app.settings_store import SettingsStore

#: Where the folder chosen in Scopeflow is remembered (a path, or absent: automatic)
CHOSEN_KEY = "microscope/micromanager_folder"

#: Device adapter libraries: ``mmgr_dal_X.dll`` (Windows), ``libmmgr_dal_X.so.0``
#: (Linux), ``libmmgr_dal_X`` (macOS)
_ADAPTER_PREFIXES = ("mmgr_dal_", "libmmgr_dal_")
_ADAPTER_SUFFIXES = (".dll", ".so.0", ".so", ".dylib", "")

#: Adapters every Micro-Manager build has and that need no vendor driver: read first
#: for an installation's version
_PLAIN_ADAPTERS = ("Utilities", "DemoCamera")


@dataclass(frozen=True)
class Installation:
    """A folder of device adapters, and how it was found (said to the user)."""

    path: Path
    found_by: str

    def __str__(self) -> str:
        return f"{self.path} ({self.found_by})"


def adapter_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The device adapter libraries in ``folder``, by the name a configuration uses."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return found
    for entry in entries:
        name = entry.name
        prefix = next((p for p in _ADAPTER_PREFIXES if name.startswith(p)), None)
        if prefix is None or not entry.is_file():
            continue
        stem = name[len(prefix) :]
        suffix = next((s for s in _ADAPTER_SUFFIXES if s and stem.endswith(s)), "")
        library = stem[: len(stem) - len(suffix)] if suffix else stem
        if library and "." not in library:  # not a .pdb, .lib or .exp beside the .dll
            found.setdefault(library, entry)
    return found


class AdapterUnreadable(Exception):
    """A device adapter library that could not be opened to read its version."""


def adapter_interface_version(library: str | os.PathLike[str]) -> int:
    """The device interface version ``library`` was built for (what MMCore compares
    with its own before it loads a device from it), read in a process of its own
    (``adapter_versions.py``); ``AdapterUnreadable`` says why it could not be."""
    found = interface_versions([library])[Path(library)]
    if isinstance(found, str):
        raise AdapterUnreadable(found)
    return found


def installation_interface_version(folder: str | os.PathLike[str]) -> int | None:
    """The interface version of an installation (of its first adapter that needs no
    vendor driver, else any), None when it has no adapter that can be read."""
    files = adapter_files(folder)
    ordered = [files[name] for name in _PLAIN_ADAPTERS if name in files]
    ordered += [path for name, path in files.items() if name not in _PLAIN_ADAPTERS]
    for start in range(0, len(ordered), 3):  # a few at a time, in one reader each
        versions = interface_versions(ordered[start : start + 3])
        for library in ordered[start : start + 3]:
            if isinstance(versions[library], int):
                return int(versions[library])
    return None


def chosen_folder(settings: SettingsStore | None = None) -> Path | None:
    """The folder chosen in Scopeflow, None for automatic."""
    chosen = (settings or SettingsStore()).get(CHOSEN_KEY, str, "")
    return Path(chosen) if chosen else None


def automatic_or_chosen(settings: SettingsStore | None = None, html: bool = False) -> str:
    """Where configurations load from, as the user is told it: the folder chosen, or
    the automatic choice (``MICROMANAGER_PATH`` when it is set)."""
    chosen = chosen_folder(settings)
    bold = (lambda text: f"<b>{text}</b>") if html else (lambda text: text)
    if chosen is not None:
        return f"{bold(chosen)}, chosen in Scopeflow"
    variable = os.environ.get("MICROMANAGER_PATH")
    if variable:
        return (
            f"{bold('Automatic')}: the MICROMANAGER_PATH environment variable is set, so "
            f"configurations load from {variable}"
        )
    return (
        f"{bold('Automatic')}: each configuration loads from the first installation "
        "listed that has every adapter it needs"
    )


def choose_folder(
    folder: str | os.PathLike[str] | None, settings: SettingsStore | None = None
) -> None:
    """Remember ``folder`` as the installation to use (None: back to automatic)."""
    store = settings or SettingsStore()
    if folder is None:
        store.remove(CHOSEN_KEY)
    else:
        store.set(CHOSEN_KEY, str(Path(folder).expanduser().resolve()))
    store.save()


def windows_install_roots(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Where Micro-Manager's Windows installer puts it (``C:\\Program Files`` by
    default; some labs keep old versions at the drive's root)."""
    roots = [environ.get("PROGRAMFILES", r"C:\Program Files")]
    roots += [environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")]
    roots += [environ.get("SYSTEMDRIVE", "C:") + "\\"]
    return [Path(root) for root in roots]


def demo_adapters_folder() -> Path | None:
    """Micro-Manager's demo adapters, shipped with Scopeflow (``mm-test-adapters``)."""
    try:
        import mm_test_adapters
    except ImportError:
        return None
    return Path(mm_test_adapters.device_adapter_path())


def find_installations(
    *,
    settings: SettingsStore | None = None,
    environ: Mapping[str, str] = os.environ,
    search_roots: Iterable[Path] | None = None,
    include_pymmcore_plus: bool = True,
) -> list[Installation]:
    """Every installation found, in the order they are preferred (module docstring).

    ``search_roots`` are folders holding ``Micro-Manager*`` folders (the usual Windows
    ones on Windows); ``include_pymmcore_plus=False`` leaves out pymmcore-plus's search
    (tests give their own folders and nothing else)."""
    if search_roots is None:
        search_roots = windows_install_roots(environ) if sys.platform == "win32" else []
    demo = demo_adapters_folder()
    found: dict[Path, Installation] = {}

    def add(path: Path, found_by: str) -> None:
        try:
            key = path.expanduser().resolve()
        except OSError:
            key = path
        if key not in found and key.is_dir():
            found[key] = Installation(key, found_by)

    chosen = chosen_folder(settings)
    if chosen is not None:
        add(chosen, "chosen in Scopeflow")
    if environ.get("MICROMANAGER_PATH"):
        add(Path(environ["MICROMANAGER_PATH"]), "MICROMANAGER_PATH")
    for root in search_roots:
        for folder in _micromanager_folders(root):
            add(folder, f"installed in {root}")
    if include_pymmcore_plus:
        for folder, how in pymmcore_plus_folders():
            add(folder, how)
    if demo is not None:
        add(demo, "Micro-Manager's demo adapters, from mm-test-adapters")
    return list(found.values())


def pymmcore_plus_folders() -> list[tuple[Path, str]]:
    """The folders pymmcore-plus's ``find_micromanager`` documents, found without it:
    its discovery loads an adapter of every folder into the calling process to read its
    version, which is what ``adapter_versions`` keeps out of Scopeflow's.

    The folder chosen with ``mmcore use`` (written in its user data folder), then the
    ``Micro-Manager*`` folders ``mmcore install`` puts there, newest first."""
    data = Path(user_data_dir(appname="pymmcore-plus")) / "mm"
    found: list[tuple[Path, str]] = []
    try:
        current = (data / ".current_mm").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        current = ""
    if current:
        found.append((Path(current), "chosen with pymmcore-plus's 'mmcore use'"))
    found += [(folder, "installed by 'mmcore install'") for folder in _micromanager_folders(data)]
    return found


def _micromanager_folders(root: Path) -> Iterator[Path]:
    try:
        children = sorted(root.iterdir(), key=_version_key, reverse=True)  # newest first
    except OSError:
        return
    for child in children:
        if child.name.lower().startswith("micro-manager") and child.is_dir():
            yield child


@dataclass(frozen=True)
class InstallationInfo:
    """An installation as the user is shown it: its version and adapters counted."""

    installation: Installation
    interface: int | None
    adapters: int

    def fits(self, core_interface: int) -> bool:
        return self.interface == core_interface

    def describe(self, core_interface: int) -> str:
        version = (
            f"device interface {self.interface}"
            if self.interface is not None
            else "no adapter that can be read"
        )
        verdict = "" if self.fits(core_interface) else ": does not fit this Scopeflow"
        return f"{self.installation}: {version}, {self.adapters} adapters{verdict}"


def describe_installation(installation: Installation) -> InstallationInfo:
    return InstallationInfo(
        installation,
        installation_interface_version(installation.path),
        len(adapter_files(installation.path)),
    )


def installation_in_use(
    adapter_folders: list[str], settings: SettingsStore | None = None
) -> Installation | None:
    """The installation a core's adapters come from (its first adapter search path),
    named as it was found; None when the core has none."""
    if not adapter_folders:
        return None
    folder = Path(adapter_folders[0]).resolve()
    for installation in find_installations(settings=settings):
        if installation.path == folder:
            return installation
    return Installation(folder, "given for this load")


def _version_key(folder: Path) -> list[tuple[int, int | str]]:
    """A folder name's numbers compared as numbers: 2.0.10 after 2.0.3."""
    return [
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", folder.name.lower())
        if part
    ]


def microscope_name(core: Any) -> str:
    """The configuration a core was loaded from, by its file name ("the simulated
    microscope" for the demo adapters' own)."""
    try:
        path = core.systemConfigurationFile()
    except Exception:
        path = None
    if not path:
        return "no configuration"
    demo = demo_adapters_folder()
    if demo is not None and Path(path).parent.resolve() == demo.resolve():
        return "the simulated microscope"
    return Path(path).name
