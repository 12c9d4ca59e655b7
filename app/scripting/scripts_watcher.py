"""Loading the scripts folder off the GUI thread, with a limit on each script's start.

A script runs its module code when it is loaded; one with an endless loop (or a
``time.sleep(3600)``, or a blocking network call) at import would freeze whatever
thread loads it. The window's thread must never be that thread. A ``ScriptsWatcher``
scans the folder on a thread of its own, a few times a second; a supervisor thread
that runs no user code watches it, and when one file has been loading for longer
than ``load_timeout_s`` it marks that version of the file as failed (the Scripts
panel shows why), leaves the stuck thread to finish on its own (Python cannot stop
a thread), and starts a fresh scanning thread for the other files and later saves.
"""

from __future__ import annotations

import logging
import threading
import time

from psygnal import Signal

from app.scripting.scripts_folder import ScriptsFolder

logger = logging.getLogger(__name__)

SCAN_INTERVAL_S = 0.2  # a saved script is live again within half a second
LOAD_TIMEOUT_S = 10.0


class ScriptsWatcher:
    #: the first scan of the folder has finished (every file loaded, failed or given up)
    first_scan_done = Signal()

    def __init__(
        self,
        folder: ScriptsFolder,
        interval_s: float = SCAN_INTERVAL_S,
        load_timeout_s: float = LOAD_TIMEOUT_S,
    ) -> None:
        self.folder = folder
        self.interval_s = interval_s
        self.load_timeout_s = load_timeout_s
        self._stop = threading.Event()
        self._first_done = threading.Event()
        self._scanner: threading.Thread | None = None
        self._abandoned: set[threading.Thread] = set()
        self._supervisor = threading.Thread(
            target=self._supervise, name="scopeflow-scripts-supervisor", daemon=True
        )

    def start(self) -> None:
        self._supervisor.start()

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor.is_alive():
            self._supervisor.join(timeout=2)

    def wait_first_scan(self, timeout: float | None = None) -> bool:
        return self._first_done.wait(timeout)

    @property
    def stuck_threads(self) -> int:
        """Scanning threads given up and still running a script's module code."""
        return sum(1 for thread in self._abandoned if thread.is_alive())

    def _supervise(self) -> None:
        self._scanner = self._start_scanner()
        while not self._stop.wait(self.interval_s / 2):
            load = self.folder.loading
            if load is None:
                continue
            path, since, _digest = load
            seconds = time.monotonic() - since
            if seconds > self.load_timeout_s and self.folder.give_up(
                load,
                f"{path.name} was still running its module code after {seconds:.0f} s "
                "(an endless loop or a blocking call at import?): it is not loaded. "
                "Move slow work into a function; saving the file loads it again.",
            ):
                if self._scanner is not None:
                    self._abandoned.add(self._scanner)
                self._scanner = self._start_scanner()

    def _start_scanner(self) -> threading.Thread:
        thread = threading.Thread(target=self._scan_forever, name="scopeflow-scripts", daemon=True)
        thread.start()
        return thread

    def _scan_forever(self) -> None:
        me = threading.current_thread()
        while not self._stop.is_set() and me not in self._abandoned:
            try:
                self.folder.scan()
            except Exception:  # a bug of ours must not end the watching
                logger.exception("Scanning the scripts folder failed")
            if me in self._abandoned:
                return
            if not self._first_done.is_set():
                self._first_done.set()
                self.first_scan_done.emit()
            self._stop.wait(self.interval_s)
