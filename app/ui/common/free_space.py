"""The free space on the disk a folder is on: read on a thread of its own, since asking
a disk being written at 1 GB/s took up to 15 ms on the GUI thread (``bench gui``) and a
network share can take seconds. The status line shows it; the Acquisition panel's
estimate says from it whether a plan fits."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path


def free_disk_bytes(folder: str) -> int | None:
    """Free bytes on the disk of ``folder`` (None if unknown)."""
    path = Path(folder).expanduser()
    while not path.exists() and path != path.parent:
        path = path.parent  # the save folder may not exist until the first acquisition
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


class FreeSpaceWatch:
    """The free bytes of a folder's disk, read every ``interval_s`` on a thread of its
    own. On the GUI thread, asking the disk that an acquisition was writing to at
    1 GB/s took up to 15 ms (``bench gui``), and a network share can take seconds."""

    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._folder: str | None = None
        self._free: dict[str, int | None] = {}  # by folder: the last reading
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="scopeflow-free-space", daemon=True)
        self._thread.start()

    def free(self, folder: str) -> int | None:
        """The last reading for ``folder`` (None until one is made); ``folder`` is
        read from now on."""
        if folder != self._folder:
            self._folder = folder
            self._wake.set()
        return self._free.get(folder)

    def _run(self) -> None:
        while not self._stopped:
            folder = self._folder
            if folder is not None:
                self._free[folder] = free_disk_bytes(folder)
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def stop(self) -> None:
        """Ends the thread within a reading (a daemon: never waited for on quit)."""
        self._stopped = True
        self._wake.set()
