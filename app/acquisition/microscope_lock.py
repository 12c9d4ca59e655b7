"""One acquisition at a time on a microscope.

Two acquisitions driving the same core at once would move each other's stages and
start camera sequences over each other's. As pycro-manager runs them one after
another, an acquisition's engine holds its core's lock while it runs events; a second
one waits (its future events queue up meanwhile) until the first has run its last
event, or until it is aborted itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from pymmcore_plus import CMMCorePlus

_locks: weakref.WeakKeyDictionary[CMMCorePlus, threading.Lock] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def lock_for(core: CMMCorePlus) -> threading.Lock:
    with _guard:
        lock = _locks.get(core)
        if lock is None:
            lock = _locks[core] = threading.Lock()
        return lock


def acquire_microscope(
    core: CMMCorePlus, give_up: Callable[[], bool], on_wait: Callable[[], None]
) -> bool:
    """Take the core's lock; ``on_wait`` once if another acquisition holds it. Returns
    False (without the lock) if ``give_up()`` becomes true while waiting."""
    lock = lock_for(core)
    if lock.acquire(blocking=False):
        return True
    on_wait()
    while not lock.acquire(timeout=0.05):
        if give_up():
            return False
    return True
