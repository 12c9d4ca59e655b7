"""The acquisition's control flow: pending events, frames in flight, and when it ends.

An acquisition ends when it was told it is finished (``mark_finished``, the end of a
``with`` block, or ``event_queue.put(None)``), no event is pending, and no frame is
still on its way through processors, saving and image-saved callbacks. Counting the
frames in flight is what lets a processor inside a ``with`` block keep queueing
feedback events after the block has exited: its events arrive before its frame is
counted as done, so the engine cannot decide too early that nothing more is coming.

Events wait in batches, one per ``acquire`` call (or ``event_queue.put``): as in
pycro-manager, only the events of one call may be merged into a hardware sequence.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from app.acquisition.events import InvalidEventError, iter_events, normalize_event

logger = logging.getLogger(__name__)

_END = object()  # the marker event_queue.put(None) leaves in the queue

EventCheck = Callable[[dict[str, Any]], None]
DiscardListener = Callable[[list[dict[str, Any]], str], None]


class AcquisitionFlow:
    """Thread-safe state shared by the caller, the engine and the worker threads.

    ``check`` (optional) validates each event against the hardware when it is
    submitted. ``on_discard(events, why)`` is told about events that will never run
    (aborted, or queued after the end marker), so that nobody waits for them.
    """

    def __init__(
        self, check: EventCheck | None = None, on_discard: DiscardListener | None = None
    ) -> None:
        self._check = check
        self._on_discard = on_discard
        self._cond = threading.Condition()
        self._pending: deque[Any] = deque()  # batches (lists of events) and _END markers
        self._pending_events = 0
        self._in_flight = 0
        self._finish_requested = False
        self._end_reached = False
        self.aborted = threading.Event()
        self.running = threading.Event()  # cleared while paused
        self.running.set()
        self.discarded_events = 0
        self.submitted_events = 0

    # ---- submitting events (any thread) ----
    def submit(self, events: Any) -> list[dict[str, Any]]:
        """Check and queue one batch of events; ``None`` among them ends the acquisition
        after them. Returns the events accepted.

        Raises ``InvalidEventError`` before queueing anything if one event is invalid.
        """
        batch: list[dict[str, Any]] = []
        after_end: list[dict[str, Any]] = []  # would never run: reported, not queued
        ends = False
        for event in iter_events(events):
            if event is None:
                ends = True
                continue
            normalized = normalize_event(event)
            if self._check is not None:
                self._check(normalized)
            (after_end if ends else batch).append(normalized)
        if not batch and not ends:
            raise InvalidEventError(
                f"No acquisition events in {events!r}: give an event dict with 'axes', "
                "or a non-empty list of them"
            )
        self._discard(after_end, "they came after None (the end of the acquisition)")
        discarded: list[dict[str, Any]] = []
        with self._cond:
            if self._end_reached or self.aborted.is_set():
                discarded = batch
                batch = []
            else:
                if batch:
                    self._pending.append(batch)
                    self._pending_events += len(batch)
                    self.submitted_events += len(batch)
                if ends:
                    self._pending.append(_END)
                self._cond.notify_all()
        if discarded:
            self._discard(discarded, "it was submitted after the acquisition ended")
        return batch

    @property
    def finish_requested(self) -> bool:
        """``mark_finished`` was called or the end marker was queued."""
        return self._finish_requested or self._end_reached or _END in self._pending

    def request_finish(self) -> None:
        with self._cond:
            self._finish_requested = True
            self._cond.notify_all()

    def wait_while_paused(self) -> None:
        """Called by the engine between events: returns when resumed or aborted."""
        while not self.running.wait(0.05):
            if self.aborted.is_set():
                return

    def abort(self) -> None:
        with self._cond:
            self.aborted.set()
            self.running.set()
            dropped = self._take_pending()
            self._cond.notify_all()
        self._discard(dropped, "the acquisition was aborted")

    def _take_pending(self) -> list[dict[str, Any]]:
        """Empty the queue (caller holds the lock); the events that were waiting."""
        dropped = [e for item in self._pending if item is not _END for e in item]
        self._pending.clear()
        self._pending_events = 0
        return dropped

    def _discard(self, events: list[dict[str, Any]], why: str) -> None:
        if not events:
            return
        self.discarded_events += len(events)
        logger.warning("%d event(s) will not run: %s", len(events), why)
        if self._on_discard is not None:
            self._on_discard(events, why)

    # ---- frames in flight (engine and workers) ----
    def add_in_flight(self, count: int = 1) -> None:
        with self._cond:
            self._in_flight += count

    def remove_in_flight(self, count: int = 1) -> None:
        with self._cond:
            self._in_flight -= count
            if self._in_flight <= 0:
                self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def pending(self) -> int:
        return self._pending_events

    # ---- the engine's side ----
    def next_batch(self, timeout: float | None = None) -> list[dict[str, Any]] | None:
        """Wait for the next batch (the events of one ``acquire`` call); ``None`` once
        the acquisition is over, ``[]`` after ``timeout`` seconds without one."""
        with self._cond:
            while True:
                if self.aborted.is_set() or self._end_reached:
                    return None
                if self._pending:
                    item = self._pending.popleft()
                    if item is _END:
                        self._end_reached = True
                        dropped = self._take_pending()
                        break
                    self._pending_events -= len(item)
                    return item
                if self._finish_requested and self._in_flight <= 0:
                    self._end_reached = True
                    return None
                if not self._cond.wait(timeout) and timeout is not None:
                    return []
        self._discard(dropped, "they were queued after event_queue.put(None)")
        return None
