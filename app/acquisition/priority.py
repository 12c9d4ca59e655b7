"""Worker threads yield the CPU to the GUI thread when both want it.

On a small machine the camera, the engine, the saver and the kernel's disk writes can
keep every core busy; at equal priority the window then waits its turn and stutters.
A slightly lower priority for Scopeflow's worker threads lets the GUI thread run first
when both are ready, and costs nothing when cores are free. Best effort: a platform
that refuses is left as it is.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

WORKER_NICENESS = 5  # Linux/macOS: added to the thread's nice value


def lower_current_thread_priority() -> None:
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
