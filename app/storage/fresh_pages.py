"""Memory new from the system, every page faulted in, from whichever kind of page the
system has handed over faster lately.

On Linux numpy asks the kernel for transparent huge pages for every array of 4 MB or
more (``MADV_HUGEPAGE``). On the project's machine a 64 MB block of them was faulted in
at 10 to 12 GB/s at some times and at 0.5 GB/s at others of the same day (the kernel
counted no compaction stall: the cause was not found), and a first acquisition kept in
memory ran at 0.17 to 0.31 of the bare runner at the slow times, up to 0.92 at others. An
anonymous mapping nobody advises gets ordinary pages (where the kernel gives huge pages
only when asked, its usual setting): 2.3 GB/s throughout. Which kind is faster changes
as the machine runs, so each block made is timed, the kind faster at its last try is
taken, and the other is tried again every ``RETRY_EVERY`` blocks.

Elsewhere (Windows, macOS) numpy asks for nothing: there is one kind.
"""

from __future__ import annotations

import enum
import mmap
import sys
import threading
import time

import numpy as np

#: pieces start at multiples of this (any dtype, and SIMD copies, stay aligned)
ALIGN = 64
#: the page size touching steps over (4 KiB where Scopeflow runs)
PAGE_BYTES = 4096
#: a block of the kind not taken comes every this many blocks: whether it became faster
RETRY_EVERY = 16
#: numpy asks for huge pages here (``madvise``), so there are two kinds to choose from
TWO_KINDS = sys.platform.startswith("linux")


class PageKind(enum.Enum):
    ORDINARY = "ordinary pages (an anonymous mapping)"
    HUGE = "huge pages, as numpy asks for them"


class FreshPages:
    """Makes blocks of fresh memory, touched; see the module's docstring. Any thread
    may make blocks (the warm memory's toucher, and a writer that found none warm)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: GB/s at each kind's last block (none yet: tried first, ordinary pages first,
        #: which are never slow, then huge pages)
        self.rates: dict[PageKind, float | None] = {
            PageKind.ORDINARY: None,
            PageKind.HUGE: None if TWO_KINDS else 0.0,
        }
        self._made = 0

    def block(self, nbytes: int) -> np.ndarray:
        """``nbytes`` (uint8, starting at a multiple of ``ALIGN``) with every page
        faulted in now."""
        kind = self._next_kind()
        start = time.perf_counter()
        memory = _touched(nbytes, kind)
        seconds = time.perf_counter() - start
        with self._lock:
            self.rates[kind] = nbytes / max(seconds, 1e-9) / 1e9
        return memory

    def _next_kind(self) -> PageKind:
        with self._lock:
            self._made += 1
            untried = [kind for kind, rate in self.rates.items() if rate is None]
            if untried:
                return untried[0]
            faster = max(self.rates, key=lambda kind: self.rates[kind] or 0.0)
            if TWO_KINDS and self._made % RETRY_EVERY == 0:
                return PageKind.HUGE if faster is PageKind.ORDINARY else PageKind.ORDINARY
            return faster


def _touched(nbytes: int, kind: PageKind) -> np.ndarray:
    if kind is PageKind.ORDINARY and TWO_KINDS:
        memory = np.frombuffer(_mapping(nbytes), np.uint8)[:nbytes]  # page-aligned
    else:  # numpy's (elsewhere, ordinary pages too)
        memory = np.empty(nbytes + ALIGN, np.uint8)
        start = -memory.ctypes.data % ALIGN
        memory = memory[start : start + nbytes]
    memory[::PAGE_BYTES] = 0
    return memory


def _mapping(nbytes: int) -> mmap.mmap:
    """An anonymous mapping, unmapped with the last array using it; no room raises
    ``MemoryError``, as numpy's memory does (callers say the computer is full)."""
    try:
        return mmap.mmap(-1, max(nbytes, 1))
    except OSError as exc:
        raise MemoryError(f"no memory for {nbytes} bytes: {exc}") from exc
