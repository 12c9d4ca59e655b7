"""Fresh memory from the faster kind of page (``storage/fresh_pages.py``)."""

from __future__ import annotations

import mmap

import numpy as np
import pytest

from app.storage import fresh_pages
from app.storage.fresh_pages import ALIGN, RETRY_EVERY, FreshPages, PageKind


@pytest.mark.parametrize("kind", list(PageKind))
def test_a_block_of_either_kind_is_aligned_writable_and_its_own(kind):
    block = fresh_pages._touched(3 * 4096 + 100, kind)
    assert block.dtype == np.uint8 and block.nbytes == 3 * 4096 + 100
    assert block.ctypes.data % ALIGN == 0 and block.flags.writeable
    block[:] = 7
    assert int(block.sum()) == 7 * block.nbytes


class _Clock:
    """Time that passes as blocks are touched, each kind at its own rate (GB/s)."""

    def __init__(self, rates: dict[PageKind, float]) -> None:
        self.now = 0.0
        self.rates = rates
        self.kinds: list[PageKind] = []

    def perf_counter(self) -> float:
        return self.now

    def touched(self, nbytes: int, kind: PageKind) -> np.ndarray:
        self.kinds.append(kind)
        self.now += nbytes / (self.rates[kind] * 1e9)
        return np.zeros(nbytes, np.uint8)


@pytest.fixture
def clock(monkeypatch):
    clock = _Clock({PageKind.ORDINARY: 2.3, PageKind.HUGE: 0.5})
    monkeypatch.setattr(fresh_pages, "_touched", clock.touched)
    monkeypatch.setattr(fresh_pages, "time", clock)
    monkeypatch.setattr(fresh_pages, "TWO_KINDS", True)
    return clock


def test_the_kind_faster_at_its_last_try_is_taken_and_the_other_tried_again(clock):
    """The toucher tries ordinary pages first (never slow), huge pages next; then takes
    the faster, and the other every ``RETRY_EVERY`` blocks: huge pages fast again are
    taken from their next try on."""
    pages = FreshPages()
    for _ in range(2 * RETRY_EVERY + 2):
        pages.block(64 * 1024**2, may_try=True)
    ordinary, huge = PageKind.ORDINARY, PageKind.HUGE
    assert clock.kinds[:3] == [ordinary, huge, ordinary]
    assert [i for i, kind in enumerate(clock.kinds) if kind is huge] == [
        1,
        RETRY_EVERY + 1,
        2 * RETRY_EVERY + 1,
    ]
    assert pages.rates[huge] == pytest.approx(0.5) and pages.rates[ordinary] == pytest.approx(2.3)

    clock.rates[huge] = 11.0  # huge pages come fast again
    clock.kinds.clear()
    for _ in range(RETRY_EVERY + 1):
        pages.block(64 * 1024**2, may_try=True)
    tried = clock.kinds.index(huge)  # at its next try...
    assert clock.kinds[tried:] == [huge] * (len(clock.kinds) - tried)  # ...and from then on


def test_a_writer_never_tries_a_kind_that_may_be_slow(clock):
    """A writer that found no warm block makes its own on the thread that reads the
    camera: ordinary pages until huge ones are known faster, and never a retry."""
    pages = FreshPages()
    for _ in range(2 * RETRY_EVERY):
        pages.block(64 * 1024**2)
    assert set(clock.kinds) == {PageKind.ORDINARY}
    assert pages.rates[PageKind.HUGE] is None

    clock.rates[PageKind.HUGE] = 11.0
    pages.block(64 * 1024**2, may_try=True)  # the toucher finds huge pages fast
    clock.kinds.clear()
    for _ in range(2 * RETRY_EVERY):
        pages.block(64 * 1024**2)
    assert set(clock.kinds) == {PageKind.HUGE}


def test_no_room_for_one_kind_takes_the_other(clock, monkeypatch):
    """Only when neither kind has room is it a ``MemoryError``."""
    refused = {PageKind.ORDINARY}

    def touched(nbytes, kind):
        if kind in refused:
            raise MemoryError("no room")
        return clock.touched(nbytes, kind)

    monkeypatch.setattr(fresh_pages, "_touched", touched)
    pages = FreshPages()
    assert pages.block(4096).nbytes == 4096
    assert clock.kinds == [PageKind.HUGE]
    refused.add(PageKind.HUGE)
    with pytest.raises(MemoryError):
        pages.block(4096)


def test_elsewhere_there_is_one_kind(clock, monkeypatch):
    """Where numpy asks for no huge pages (Windows, macOS) there is nothing to choose."""
    monkeypatch.setattr(fresh_pages, "TWO_KINDS", False)
    pages = FreshPages()
    for _ in range(2 * RETRY_EVERY):
        pages.block(1024, may_try=True)
    assert set(clock.kinds) == {PageKind.ORDINARY}


def test_no_room_for_a_mapping_is_a_memory_error(monkeypatch):
    """As numpy's memory says it: the RAM storage then says the computer is full."""

    def refused(*_args, **_kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(mmap, "mmap", refused)
    monkeypatch.setattr(fresh_pages, "TWO_KINDS", True)
    with pytest.raises(MemoryError, match="Cannot allocate memory"):
        fresh_pages._touched(4096, PageKind.ORDINARY)
