"""Micro-Manager installations made to disagree with the core, from the demo adapters.

A copy whose adapters report another device interface: each library's
``GetDeviceInterfaceVersion`` is ``mov eax, <version>; ret``, and the copy returns
another number. MMCore itself refuses such a copy (a test shows it), so the check is
tried on what a stale installation really looks like to the core.
"""

from __future__ import annotations

import platform
import shutil
import struct
from pathlib import Path

import mm_test_adapters
import pytest

from app.microscope.installations import adapter_files


def demo_folder() -> Path:
    return Path(mm_test_adapters.device_adapter_path())


def demo_configuration() -> Path:
    return demo_folder() / "MMConfig_demo.cfg"


def copy_installation(
    dest: Path,
    *,
    interface: int | None = None,
    core_interface: int = 0,
    without: tuple[str, ...] = (),
) -> Path:
    """A copy of the demo adapters at ``dest``, without the libraries ``without``, each
    library built for ``interface`` instead of ``core_interface`` when given."""
    dest.mkdir(parents=True)
    for library, path in adapter_files(demo_folder()).items():
        if library in without:
            continue
        copy = dest / path.name
        shutil.copy2(path, copy)
        if interface is not None:
            _set_interface(copy, core_interface, interface)
    return dest


def _set_interface(library: Path, old: int, new: int) -> None:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the interface version is patched in x86-64 code")
    code = library.read_bytes()
    returns = b"\xb8" + struct.pack("<i", old) + b"\xc3"  # mov eax, old; ret
    assert code.count(returns) == 1, f"{library.name}: cannot find its interface version"
    library.write_bytes(code.replace(returns, b"\xb8" + struct.pack("<i", new) + b"\xc3"))
