"""The device interface version of adapter libraries, read in a process of its own.

MMCore reads it by loading the library and calling its ``GetDeviceInterfaceVersion``
export; so does this module, but never in Scopeflow's process, because a library loaded
there stays loaded (ctypes does not unload), which:

- locks the file on Windows, so upgrading or uninstalling Micro-Manager (or
  ``mmcore install``) fails while Scopeflow runs;
- keeps the vendor DLLs it pulled in, and Windows then hands another installation's
  adapters that copy of a same-named DLL, perhaps of another version;
- runs a vendor DLL's start-up code in the window's process, where one that hangs
  would hang the window.

A reader process costs tens of milliseconds (45 ms for the four demo adapters here);
its answers are kept per file (path, size, modification time and file id), so listing
installations again reads nothing new.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

#: how long a reader may take before its libraries are said unreadable
READ_TIMEOUT_S = 20.0

_READER = """
import ctypes, json, sys
found = {}
for path in sys.argv[1:]:
    try:
        function = ctypes.CDLL(path).GetDeviceInterfaceVersion
        function.restype = ctypes.c_long
        found[path] = int(function())
    except Exception as exc:
        found[path] = f"{type(exc).__name__}: {exc}"
sys.stdout.write(json.dumps(found))
"""

_Key = tuple[str, int, int, int]
_known: dict[_Key, int | str] = {}
_known_lock = threading.Lock()


def interface_versions(libraries: Iterable[str | os.PathLike[str]]) -> dict[Path, int | str]:
    """Each library's device interface version, or why it could not be read (a str)."""
    paths = [Path(library) for library in libraries]
    keys = {path: _key(path) for path in paths}
    with _known_lock:
        answers: dict[Path, int | str] = {
            path: _known[key] for path, key in keys.items() if key is not None and key in _known
        }
    missing = [path for path in paths if path not in answers]
    for path in missing:
        if keys[path] is None:
            answers[path] = "the file cannot be read"
    to_read = [path for path in missing if keys[path] is not None]
    if to_read:
        read = _read(to_read)
        with _known_lock:
            for path in to_read:
                answers[path] = read[path]
                key = keys[path]
                if key is not None and isinstance(read[path], int):
                    _known[key] = read[path]
    return answers


def _key(path: Path) -> _Key | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino


def _read(paths: list[Path]) -> dict[Path, int | str]:
    flags = 0
    if sys.platform == "win32":  # no console window flashing up for the reader
        flags = subprocess.CREATE_NO_WINDOW
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _READER, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=READ_TIMEOUT_S,
            creationflags=flags,
            check=False,
        )
        found = json.loads(done.stdout) if done.stdout else {}
    except subprocess.TimeoutExpired:
        return {path: f"its reader did not answer in {READ_TIMEOUT_S:g} s" for path in paths}
    except (OSError, ValueError) as exc:
        return {path: f"its reader could not run ({exc})" for path in paths}
    why = (done.stderr.strip().splitlines() or [f"the reader ended with {done.returncode}"])[-1]
    answers: dict[Path, int | str] = {}
    for path in paths:
        value = found.get(str(path))
        answers[path] = value if isinstance(value, int | str) else why
    return answers
