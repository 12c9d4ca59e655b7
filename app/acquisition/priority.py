"""Worker threads yield the CPU to the GUI thread when both want it, and only then.

On a small machine the camera, the engine, the saver and the kernel's disk writes can
keep every core busy; at equal priority the window then waits its turn and stutters.
A slightly lower priority for Scopeflow's worker threads lets the GUI thread run first
when both are ready. Without a window (a script, a notebook, a benchmark) there is
nothing to yield to, and a lower priority only loses: the camera adapter's own thread
runs at normal priority, and the engine that must keep up with it then waits for a
core behind it and behind every other program (#21: keeping frames in memory ran 15
to 25% slower with lowered workers, on 2 cores, measured side by side). So the window
asks for it (``AppState.workers_yield``, set by the window); headless, workers keep
their priority. Best effort: a platform that refuses is left as it is.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

WORKER_NICENESS = 5  # Linux/macOS: added to the thread's nice value

_workers_yield = False


def set_workers_yield(yield_to_window: bool) -> None:
    """Whether acquisition workers started from now on yield to a window's GUI thread."""
    global _workers_yield
    _workers_yield = yield_to_window


def lower_worker_priority() -> None:
    """An acquisition worker's start: yield to the window's GUI thread, if there is one."""
    if _workers_yield:
        lower_current_thread_priority()


def lower_current_thread_priority() -> None:
    """The calling thread runs after the GUI thread (and normal threads) when both are
    ready: for threads that serve the window only (preparing frames for display)."""
    try:
        if sys.platform == "win32":
            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            below_normal = -1
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), below_normal)
        elif hasattr(os, "setpriority"):
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(19, current + WORKER_NICENESS))
    except (OSError, AttributeError):
        pass
