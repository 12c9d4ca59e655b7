"""Memory for images kept in RAM, touched before it is needed.

An image kept in memory needs memory the process has not used before, and the
operating system hands fresh memory over page by page, zeroing each page when it is
first touched: on the project's machines 0.5 to 12 GB/s into fresh pages, by their kind
and the state of the machine (``fresh_pages``), against 6 to 28 GB/s into pages
touched before. A frame kept as the camera gave it made the
camera's own copy pay that price, on the thread that reads the camera, and keeping
every frame ran at a third of the speed of keeping none (#21).

So the RAM storage copies each image into ``WarmMemory``: while a RAM acquisition
runs (a ``Reservation``), a thread of its own touches blocks ahead of the writer; the
camera's buffer is let go at once (the allocator hands it, warm, to the next frame);
and a block whose images are all gone (a dataset dropped) comes back, warm, for the
next acquisition, up to ``retained_bytes``; beyond that it goes back to the system.
The first acquisition of a process finds none kept, and ran at half the bare runner's
speed where fresh memory comes slowly (a virtual machine: 0.5 to 2.3 GB/s against a
camera at 4.4). So memory can be made ready before it starts (``make_ready``): the
window does while a plan kept in memory is set, a script with ``prepare_memory``. It is
memory Start's acquisition would take anyway, taken earlier.
The engine reads each camera frame straight into it (``RAMSink.camera_frames``), on
the thread that reads the camera, as the least a keeper of frames does: a frame a
processor passes on is then kept where it already is (``filled_by``), not copied on
another thread while the camera's next frames are read (#21: one copy on the saving
thread cost 20% of the rate).

The rule this module keeps: taking memory never waits for the thread that touches
blocks; with no warm block ready, the writer makes one itself (and pays, as before).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

from app.current import Current
from app.storage.fresh_pages import ALIGN, FreshPages

logger = logging.getLogger(__name__)

#: one block: several frames of a usual camera, few enough blocks to track
BLOCK_BYTES = 64 * 1024**2
#: warm memory kept ready ahead of the writers while RAM acquisitions run
AHEAD_BYTES = 512 * 1024**2
#: the share of the memory available that images kept in memory may take by default
#: (``ram_limit_gb``), so that other programs and the system keep room and nothing swaps
RAM_SHARE = 0.5


def default_retained_bytes() -> int:
    """Free warm memory kept between acquisitions: an eighth of the machine's memory,
    at most 4 GiB (other programs need the rest)."""
    return int(min(4 * 1024**3, psutil.virtual_memory().total // 8))


@dataclass(eq=False)
class _Block:
    memory: np.ndarray  # uint8
    used: int = 0  # bytes handed out, from the start
    live: int = 0  # pieces cut from it still referenced
    cutting: bool = False  # the block pieces are cut from now

    def __post_init__(self) -> None:
        self.address: int = self.memory.__array_interface__["data"][0]

    @property
    def nbytes(self) -> int:
        return int(self.memory.nbytes)


class _Piece:
    """The owner of one piece of a block. numpy's views name the array that owns the
    memory as their base, so a slice of the block would keep only the block alive: an
    array made from this object (``__array_interface__``) names it instead, and so does
    every view of that array, so it lives exactly as long as the image's last view.
    It describes the image itself (dtype and shape), so one array is made per image
    (views of views cost a frame's time in the engine: #21)."""

    __slots__ = ("__array_interface__", "__weakref__", "_block_memory", "nbytes", "pool", "start")

    def __init__(
        self,
        pool: WarmMemory,
        block: _Block,
        start: int,
        nbytes: int,
        dtype: np.dtype[Any],
        shape: tuple[int, ...],
    ) -> None:
        self._block_memory = block.memory  # the block outlives its pieces
        self.pool = pool
        self.start = block.address + start  # the piece's address
        self.nbytes = nbytes
        self.__array_interface__ = {
            "data": (self.start, False),
            "shape": shape,
            "typestr": dtype.str,
            "descr": dtype.descr,
            "version": 3,
        }


class Reservation:
    """One RAM acquisition's claim: up to ``budget`` bytes, warm blocks made ahead of
    it until ``close``. Only its writer (one thread) takes from it."""

    def __init__(self, memory: WarmMemory, budget: int, coming: int | None = None) -> None:
        self._memory = memory
        self.remaining = max(0, budget)
        self._block: _Block | None = None
        #: bytes its writer said are still coming, or None: not known (the budget)
        self._coming = coming
        #: its writer said more may follow that it cannot count yet: a block ahead
        self._more_may_come = False
        #: the ``make_ready`` request standing when it started (0: none), which its
        #: end uses up
        self.ready_request = 0

    def expect(self, nbytes: int | None, more_may_come: bool = False) -> None:
        """Its writer knows ``nbytes`` more are coming (None: it cannot know), and
        whether more may follow that it does not know of yet (another ``acquire``
        call): warm memory is made ready for those bytes, and one block more for what
        may follow. Blocks touched for frames that never came cost a core's time while
        the frames that did were read (#21)."""
        coming = None if nbytes is None else max(0, nbytes)
        if (coming, more_may_come) != (self._coming, self._more_may_come):
            self._coming, self._more_may_come = coming, more_may_come
            self._memory.wanted_changed()

    def take(self, nbytes: int) -> np.ndarray:
        """``nbytes`` of warm memory (uint8) for one image: it returns to the pool when
        this array and every view of it are gone."""
        return self.take_array(np.dtype(np.uint8), (nbytes,))

    def take_array(self, dtype: np.dtype[Any], shape: tuple[int, ...]) -> np.ndarray:
        """Warm memory for one C-ordered image of ``dtype`` and ``shape``, as ``take``."""
        nbytes = dtype.itemsize * math.prod(shape)
        self.remaining = max(0, self.remaining - nbytes)
        if self._coming is not None:
            self._coming = max(0, self._coming - nbytes)
        size = -(-nbytes // ALIGN) * ALIGN  # every piece starts aligned for any dtype
        memory = self._memory
        if size > memory.block_bytes:  # a huge image: a block of its own
            return memory.cut(memory.block_for(size), size, dtype, shape)
        block = self._block
        if block is None or block.used + size > block.nbytes:
            if block is not None:
                memory.stop_cutting(block)
            block = self._block = memory.block_for(memory.block_bytes)
            block.cutting = True
        return memory.cut(block, size, dtype, shape)

    def copy_of(self, image: np.ndarray) -> np.ndarray:
        """``image`` copied into a piece of warm memory: its dtype and shape, C-ordered,
        writable."""
        kept = self.take_array(image.dtype, image.shape)
        np.copyto(kept, image, casting="no")
        return kept

    def still_wanted(self) -> int:
        """Bytes this acquisition may still keep beyond the block it cuts now: what
        the toucher makes ready for it (lock held)."""
        if self._coming is None:
            wanted = self.remaining
        else:
            ahead = self._memory.block_bytes if self._more_may_come else 0
            wanted = min(self.remaining, self._coming + ahead)
        block = self._block
        spare = block.nbytes - block.used if block is not None else 0
        return max(0, wanted - spare)

    def close(self) -> None:
        if self._block is not None:
            self._memory.stop_cutting(self._block)
            self._block = None
        self._memory.end(self)


class WarmMemory:
    """Blocks of memory already touched, cut into images; see the module's docstring."""

    def __init__(
        self,
        block_bytes: int = BLOCK_BYTES,
        retained_bytes: int | None = None,
        ahead_bytes: int = AHEAD_BYTES,
        pages: FreshPages | None = None,
    ) -> None:
        self.block_bytes = block_bytes
        #: where new blocks come from (each warm memory learns which pages come faster)
        self.pages = pages if pages is not None else FreshPages()
        self.ahead_bytes = ahead_bytes
        self.retained_bytes = default_retained_bytes() if retained_bytes is None else retained_bytes
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._free: list[_Block] = []  # warm, nothing cut from them
        self._reservations: set[Reservation] = set()
        #: blocks of images let go of, not yet settled (``_piece_gone``)
        self._returned: deque[_Block] = deque()
        #: the weak reference to each piece alive, and its block
        self._pieces: dict[weakref.ref[_Piece], _Block] = {}
        self._toucher: threading.Thread | None = None
        #: free warm bytes made ready for the next acquisition (``make_ready``), and
        #: which request that is (each ``make_ready`` counts one)
        self._ready_bytes = 0
        self._request = 0
        #: blocks a writer had to make itself (none was warm): for reports and tests
        self.cold_blocks = 0
        #: blocks the toucher made ahead of the writers: for reports and tests
        self.blocks_ahead = 0

    def reserve(self, budget: int, coming: int | None = None) -> Reservation:
        """A RAM acquisition starts that may keep up to ``budget`` bytes, ``coming`` of
        them known to come now (None: not known; see ``Reservation.expect``)."""
        reservation = Reservation(self, budget, coming)
        with self._lock:
            self._settle_returned()
            self._reservations.add(reservation)
            if self._ready_bytes:
                reservation.ready_request = self._request
            self._start_toucher()
            self._wake.notify_all()
        return reservation

    def make_ready(self, nbytes: int) -> int:
        """Make ``nbytes`` of free memory warm for the next acquisition kept in memory,
        touched by a thread of its own while none runs (blocks touched then would take
        a core from the one that does); 0: no more. Returns the bytes it will make: at
        most what such an acquisition may take by default (``RAM_SHARE`` of the memory
        available, this warm memory's free blocks counted). The request ends with the
        next acquisition kept in memory, so memory is held ahead of one Start, not for
        good. Never waits."""
        asked = max(0, int(nbytes))
        wanted = min(asked, self.default_budget()) if asked else 0
        with self._lock:
            self._settle_returned()
            self._request += 1
            self._ready_bytes = wanted
            if wanted:
                self._start_toucher()
            dropped = self._trim()  # less asked for: the rest goes, beyond what is retained
            self._wake.notify_all()
        if dropped:  # handing tens of GB back takes a while: not on the caller's thread
            threading.Thread(
                target=dropped.clear, name="scopeflow-memory-back", daemon=True
            ).start()
        return wanted

    @property
    def request(self) -> int:
        """Which ``make_ready`` request stands (each call counts one): the same number
        with ``ready_bytes`` at 0 means an acquisition used that request up."""
        with self._lock:
            return self._request

    @property
    def ready_bytes(self) -> int:
        """Bytes asked of ``make_ready`` for the next acquisition (0: none, or used)."""
        with self._lock:
            return self._ready_bytes

    def default_budget(self) -> int:
        """What images kept in memory may take by default (``ram_limit_gb``'s default):
        ``RAM_SHARE`` of ``available_bytes``."""
        return int(self.available_bytes() * RAM_SHARE)

    def available_bytes(self) -> int:
        """Memory images kept in memory may fill: what the system has available, and
        the free blocks here (touched ahead, or let go of), which are theirs already."""
        return int(psutil.virtual_memory().available) + self.free_bytes

    def wait_ready(self, timeout_s: float) -> bool:
        """Whether the memory asked for with ``make_ready`` is warm (or was used by the
        acquisition it was for), waiting at most ``timeout_s`` for it."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._lock:
            while True:
                self._settle_returned()
                if self._free_bytes() >= self._ready_bytes:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.1))

    @property
    def toucher_alive(self) -> bool:
        """Whether its thread that touches blocks runs (it ends when no acquisition
        runs and nothing is asked of ``make_ready``): for tests and reports."""
        with self._lock:
            return self._toucher is not None

    @property
    def free_bytes(self) -> int:
        with self._lock:
            self._settle_returned()
            return self._free_bytes()

    # ------------------------------------------------------------ for reservations
    def block_for(self, nbytes: int) -> _Block:
        with self._lock:
            self._settle_returned()
            for index, block in enumerate(self._free):
                if block.nbytes >= nbytes:
                    self._wake.notify_all()  # the toucher makes the next one
                    return self._free.pop(index)
            self.cold_blocks += 1
        return _Block(self.pages.block(nbytes))

    def cut(
        self, block: _Block, nbytes: int, dtype: np.dtype[Any], shape: tuple[int, ...]
    ) -> np.ndarray:
        """A piece of ``nbytes`` from ``block``, as an array of ``dtype`` and ``shape``
        (which fit in it)."""
        with self._lock:
            start = block.used
            block.used += nbytes
            block.live += 1
        described = _describable(dtype)
        owner = _Piece(
            self,
            block,
            start,
            nbytes,
            dtype if described else np.dtype(np.uint8),
            shape if described else (nbytes,),
        )
        # a plain weak reference, kept here until it fires (weakref.finalize, with its
        # registry and exit hooks, cost more than the rest of cutting a piece)
        self._pieces[weakref.ref(owner, self._piece_gone)] = block
        if described:
            return np.asarray(owner)
        used = dtype.itemsize * math.prod(shape)
        return np.asarray(owner)[:used].view(dtype).reshape(shape)

    def stop_cutting(self, block: _Block) -> None:
        with self._lock:
            self._settle_returned()
            block.cutting = False
            self._back_if_unused(block)

    def wanted_changed(self) -> None:
        """A reservation's wants changed: the toucher looks again."""
        with self._lock:
            self._wake.notify_all()

    def end(self, reservation: Reservation) -> None:
        with self._lock:
            self._settle_returned()
            self._reservations.discard(reservation)
            request = reservation.ready_request
            if request == self._request and not any(
                r.ready_request == request for r in self._reservations
            ):
                self._ready_bytes = 0  # the acquisition it was made for has run
            self._trim()
            self._wake.notify_all()

    # ------------------------------------------------------------ inside
    def _start_toucher(self) -> None:
        """The thread that touches blocks ahead, unless it runs (lock held)."""
        if self._toucher is None:
            self._toucher = threading.Thread(
                target=self._touch_ahead, name="scopeflow-warm-memory", daemon=True
            )
            self._toucher.start()

    def _piece_gone(self, ref: weakref.ref[_Piece]) -> None:
        """An image's memory is let go of (its piece's weak reference calls this).
        Such callbacks run wherever the garbage collector or a last reference happens
        to be, also on a thread inside one of this object's locked sections: waiting
        there for the lock hung the thread for ever (a collection while ``reserve``
        started the toucher thread). So the block is noted without waiting, and
        settled by whoever holds the lock (now, or the next locked section)."""
        block = self._pieces.pop(ref)  # atomic: no lock needed
        self._returned.append(block)  # atomic: no lock needed
        if self._lock.acquire(blocking=False):
            try:
                self._settle_returned()
            finally:
                self._lock.release()

    def _settle_returned(self) -> None:
        """The blocks of images let go of, back in the accounts (lock held)."""
        while self._returned:
            block = self._returned.popleft()
            block.live -= 1
            self._back_if_unused(block)

    def _back_if_unused(self, block: _Block) -> None:
        """A block no image uses and no writer cuts is free and warm again (lock held)."""
        if block.live or block.cutting:
            return
        block.used = 0
        if block.nbytes == self.block_bytes:
            self._free.append(block)
            self._trim()

    def _goal(self) -> int:
        """Warm bytes to touch now (lock held): ahead of the acquisitions that run,
        else what ``make_ready`` asked for."""
        if self._reservations:
            return min(self.ahead_bytes, self._still_wanted())
        return self._ready_bytes

    def _still_wanted(self) -> int:
        return sum(r.still_wanted() for r in self._reservations)

    def _free_bytes(self) -> int:
        return sum(block.nbytes for block in self._free)

    def _trim(self) -> list[_Block]:
        """Free blocks beyond what is retained, what was made ready and what the
        acquisitions running still want go (lock held): the blocks of a dataset let go
        of while the next acquisition runs are kept for it, not touched again."""
        keep = max(self.retained_bytes, self._ready_bytes, self._still_wanted())
        # in whole blocks: the toucher stops at the first block at or past what is
        # wanted, and a keep short of it gave that block back, to be touched again
        # without end (a hang found when 4.74 GB were asked for)
        keep = -(-keep // self.block_bytes) * self.block_bytes
        dropped, free = [], self._free_bytes()
        while self._free and free > keep:
            dropped.append(self._free.pop(0))
            free -= dropped[-1].nbytes
        return dropped  # gone with the last reference: the caller's, or the caller's thread

    def _touch_ahead(self) -> None:
        try:
            self._touch_until_unwanted()
        except Exception:  # a system refusing pages in a new way: writers make their own
            logger.exception("Memory is no longer touched ahead of images kept in memory")
            with self._lock:
                self._toucher = None  # the next reservation or request starts one again
                self._wake.notify_all()

    def _touch_until_unwanted(self) -> None:
        while True:
            with self._lock:
                # a block as soon as any byte wanted is not ready: the end of what is
                # coming (or an acquisition smaller than a block) is warm too
                while self._free_bytes() >= self._goal():
                    if not self._reservations and not self._ready_bytes:
                        self._toucher = None
                        return
                    self._wake.wait()
            try:
                block = _Block(self.pages.block(self.block_bytes, may_try=True))
            except MemoryError:  # no room: writers make their own, or say so
                with self._lock:
                    self._wake.wait(1.0)
                continue
            with self._lock:
                self.blocks_ahead += 1
                if self._reservations or self._ready_bytes:  # else no one wants it now
                    self._free.append(block)
                    self._trim()


@functools.cache
def _describable(dtype: np.dtype[Any]) -> bool:
    """Whether an array interface's ``descr`` gives ``dtype`` back (a record with
    padding or offsets does not: its piece is bytes, seen as the dtype)."""
    try:
        return np.dtype(dtype.descr) == dtype
    except (TypeError, ValueError):
        return False


def filled_by(image: np.ndarray) -> WarmMemory | None:
    """The warm memory whose piece ``image`` fills from its start (a piece taken for
    it, seen through any dtype or shape), or None: an array of any other memory, or a
    part of a piece (a slice, a crop) that would keep the whole piece alive."""
    owner: object = image
    while isinstance(owner, np.ndarray):
        owner = owner.base
    if not isinstance(owner, _Piece) or not image.flags.c_contiguous:
        return None
    if (
        image.__array_interface__["data"][0] != owner.start
        or not 0 <= owner.nbytes - image.nbytes < ALIGN
    ):
        return None
    return owner.pool


def prepare_memory(gigabytes: float, timeout_s: float = 0.0) -> float:
    """Make memory ready for the next acquisition kept in memory (without a
    ``directory``), so that it runs from its first frame as fast as the ones after it.

    Where memory comes new from the system more slowly than the camera fills it (a
    virtual machine), the first acquisition kept in memory in a process ran at half the
    speed of the ones after it. A thread touches ``gigabytes`` of memory for the next
    one that starts, at most what it may take by default (half the memory available);
    0 gives up the request, and that acquisition's end uses it up. Waits up to
    ``timeout_s`` for it (in the window's console, the window waits too), and returns
    the gigabytes of warm memory free now: what was made ready, and what earlier
    acquisitions left::

        prepare_memory(2, timeout_s=10)  # before Acquisition() without a directory

    The window shares the request: its Acquisition panel asks for its plan's memory
    while the plan is kept in memory (Save to disk unticked).
    """
    asked = {}
    for name, value in (("gigabytes", gigabytes), ("timeout_s", timeout_s)):
        try:
            number = float(value) if not isinstance(value, (bool, str, bytes)) else math.nan
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number * 1e9) or number < 0:
            raise ValueError(f"prepare_memory: {name} must be a number, 0 or more; got {value!r}")
        asked[name] = number
    memory = warm_memory()
    memory.make_ready(int(asked["gigabytes"] * 1e9))
    if asked["timeout_s"]:
        memory.wait_ready(asked["timeout_s"])
    return memory.free_bytes / 1e9


_current: Current[WarmMemory] = Current(WarmMemory)


def warm_memory() -> WarmMemory:
    """The process's warm memory (made on first use)."""
    return _current.get()


def set_warm_memory(memory: WarmMemory | None) -> None:
    """Use ``memory`` from now on (None: a new one on next use)."""
    _current.set(memory)
