"""Before a configuration loads: does the installation have each adapter it needs, built
for the core's device interface?

MMCore finds out device by device while it initialises the microscope, and stops at the
first with its own words ("Incompatible device interface version (required = 75;
found = 74)"), after the devices before it were initialised. Checked first, the user
reads every adapter that does not fit at once, what each was built for, and which
Micro-Manager build has the right ones, and the microscope in use is not touched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.microscope.adapter_versions import interface_versions
from app.microscope.installations import Installation, adapter_files

#: ``Device,<label>,<library>,<adapter>``: the lines that name a library to load
_DEVICE_LINE = re.compile(r"^\s*Device\s*,\s*([^,]*?)\s*,\s*([^,]*?)\s*,", re.MULTILINE)


def configuration_libraries(config: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The adapter libraries a configuration loads devices from, each with the labels
    of its devices, in the file's order."""
    text = Path(config).read_bytes().decode("latin-1")
    libraries: dict[str, list[str]] = {}
    for match in _DEVICE_LINE.finditer(text):
        label, library = match.group(1), match.group(2)
        if library and library != "Core":
            libraries.setdefault(library, []).append(label)
    return libraries


@dataclass(frozen=True)
class AdapterProblem:
    """One library a configuration needs that this installation cannot give."""

    library: str
    devices: tuple[str, ...]
    #: the interface it was built for; None when it is not in the folder
    found_version: int | None = None
    #: why it could not be opened (MMCore may still load it: not blocking on its own)
    unreadable: str = ""

    @property
    def blocking(self) -> bool:
        return not self.unreadable

    def describe(self) -> str:
        shown = self.devices[:4]
        more = len(self.devices) - len(shown)
        used_by = ", ".join(shown) + (f" and {more} more" if more else "")
        if self.unreadable:
            return f"{self.library} ({used_by}): could not be opened ({self.unreadable})"
        if self.found_version is None:
            return f"{self.library} ({used_by}): not in that folder"
        return f"{self.library} ({used_by}): built for device interface {self.found_version}"


def adapter_problems(
    config: str | os.PathLike[str], folder: str | os.PathLike[str], interface: int
) -> list[AdapterProblem]:
    """Each library ``config`` needs that ``folder`` lacks, or has built for another
    interface than ``interface``, or cannot open; empty when every one fits."""
    files = adapter_files(folder)
    lowered = {name.lower(): path for name, path in files.items()}  # Windows ignores case
    labels = configuration_libraries(config)
    needed = {library: files.get(library) or lowered.get(library.lower()) for library in labels}
    versions = interface_versions([path for path in needed.values() if path is not None])
    problems = []
    for library, path in needed.items():
        devices = tuple(labels[library])
        if path is None:
            problems.append(AdapterProblem(library, devices))
            continue
        version = versions[path]
        if isinstance(version, str):
            problems.append(AdapterProblem(library, devices, unreadable=version))
        elif version != interface:
            problems.append(AdapterProblem(library, devices, found_version=version))
    return problems


def builds_for_interface(interface: int) -> str:
    """Which Micro-Manager builds have adapters for ``interface``, from pymmcore-plus's
    table of the dates each interface began (its ``mmcore install`` picks by it)."""
    try:
        from pymmcore_plus.install import INTERFACES
    except ImportError:  # its command line's dependencies are optional
        INTERFACES = {}
    start, end = INTERFACES.get(interface), INTERFACES.get(interface + 1)
    if start and end:
        return f"the nightly builds dated {_date(start)} to before {_date(end)}"
    if start:
        return f"the nightly builds dated {_date(start)} or later"
    newest = max(INTERFACES, default=None)
    if newest is not None and interface > newest:
        return (
            f"the newest nightly builds (interface {newest} began on "
            f"{_date(INTERFACES[newest])}; {interface} came after it)"
        )
    return "a build of the same date as this Scopeflow's pymmcore"


def _date(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def mismatch_message(
    config: str | os.PathLike[str],
    installation: Installation,
    interface: int,
    problems: list[AdapterProblem],
) -> str:
    """What the user reads: the adapters, their versions, the build to install, and how
    to choose another installation."""
    head = [
        f"{Path(config).name} needs device adapters that {installation.path} "
        f"({installation.found_by}) does not have for this Scopeflow, whose "
        f"Micro-Manager core is built for device interface {interface}:",
        *(f"  - {problem.describe()}" for problem in problems),
    ]
    if all(problem.found_version is None for problem in problems):  # missing, not stale
        return "\n".join([
            *head,
            "Install a Micro-Manager that includes them (for a camera or stage maker's "
            "adapter, copy its mmgr_dal file into that folder as its maker says), or "
            "choose an installation that has them: Devices > Micro-Manager installation, "
            "'scopeflow installations', or 'scopeflow --micromanager FOLDER'.",
        ])  # fmt: skip
    lines = [
        *head,
        f"Install a Micro-Manager build with device interface {interface}, one of "
        f"{builds_for_interface(interface)}: pymmcore-plus's 'mmcore install' installs "
        "the newest that fits, and the Windows builds are at "
        "https://download.micro-manager.org/nightly/2.0/Windows/. Or choose an "
        "installation that has them: Devices > Micro-Manager installation, "
        "'scopeflow installations', or 'scopeflow --micromanager FOLDER'.",
    ]
    if any((problem.found_version or 0) > interface for problem in problems):
        lines.append(
            "Adapters newer than the core: a newer Scopeflow (its pymmcore) may match "
            "this installation."
        )
    return "\n".join(lines)
