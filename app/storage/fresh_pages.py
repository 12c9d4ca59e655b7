"""Memory new from the system, every page faulted in, from whichever kind of page the
system has handed over faster lately.

On Linux numpy asks the kernel for transparent huge pages for every array of 4 MB or
more (``MADV_HUGEPAGE``). On the project's machine a 64 MB block of them was faulted in
at 10 to 12 GB/s at some times and at 0.5 GB/s at others of the same day: 0.5 for memory
the machine had not used lately (a fresh process's first 768 MB), 10 for memory just
freed (a virtual machine, whose host can take back memory it does not use). A first
acquisition kept in memory ran at 0.17 to 0.31 of the bare runner at the slow times, up
to 0.92 at others.
A private anonymous mapping advised against huge pages (``MADV_NOHUGEPAGE``) gets
ordinary pages: 2.3 GB/s throughout (a shared one, Python's ``mmap`` default, 1.5).
They are touched page by page: asking the kernel to fault a block in at once
(``MADV_POPULATE_WRITE``) was faster alone (3.1 GB/s) but made a first acquisition
slower (0.56 of the bare runner against 0.66, six of each in turn in one process).
Which kind is faster changes as the machine runs, so each block made is timed, and the
kind faster at its last try is taken. Only the thread that makes blocks ahead of need
tries a kind again (the other every ``RETRY_EVERY`` blocks, and each at its first
blocks): a writer that must make its own block, on the thread that reads the camera,
takes the kind known to be fast, ordinary pages until huge ones are known.

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
        #: GB/s at each kind's last block (None: not tried yet)
        self.rates: dict[PageKind, float | None] = {
            PageKind.ORDINARY: None,
            PageKind.HUGE: None,
        }
        self._until_retry = RETRY_EVERY

    def block(self, nbytes: int, *, may_try: bool = False) -> np.ndarray:
        """``nbytes`` (uint8, starting at a multiple of ``ALIGN``) with every page
        faulted in now. ``may_try``: the caller can wait for a kind that may be slow
        (the toucher, ahead of need). No room for one kind: the other is taken, and
        ``MemoryError`` raised only when neither has room."""
        kind = self._next_kind(may_try)
        start = time.perf_counter()
        try:
            memory = _touched(nbytes, kind)
        except MemoryError:
            kind = PageKind.HUGE if kind is PageKind.ORDINARY else PageKind.ORDINARY
            if not TWO_KINDS:
                raise
            start = time.perf_counter()
            memory = _touched(nbytes, kind)
        seconds = time.perf_counter() - start
        with self._lock:
            self.rates[kind] = nbytes / max(seconds, 1e-9) / 1e9
        return memory

    def _next_kind(self, may_try: bool) -> PageKind:
        if not TWO_KINDS:
            return PageKind.ORDINARY
        with self._lock:
            rates = self.rates
            known = {kind: rate for kind, rate in rates.items() if rate is not None}
            # ordinary pages until another kind is known faster (they are never slow)
            faster = max(known, key=known.__getitem__, default=PageKind.ORDINARY)
            if not may_try:
                self._until_retry -= 1
                return faster
            untried = [kind for kind, rate in rates.items() if rate is None]
            if untried:
                return untried[0]
            self._until_retry -= 1
            if self._until_retry <= 0:
                self._until_retry = RETRY_EVERY
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
    """A private anonymous mapping of ordinary pages (Linux), unmapped with the last
    array using it; no room raises ``MemoryError``, as numpy's memory does."""
    try:
        mapping = mmap.mmap(-1, max(nbytes, 1), flags=mmap.MAP_PRIVATE)
    except OSError as exc:
        raise MemoryError(f"no memory for {nbytes} bytes: {exc}") from exc
    mapping.madvise(mmap.MADV_NOHUGEPAGE)
    return mapping
