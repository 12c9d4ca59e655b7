"""The acquisition's control flow: pending events, frames in flight, and when it ends.

An acquisition ends when it was told it is finished (``mark_finished``, the end of a
``with`` block, or ``event_queue.put(None)``), no event is pending, and no frame is
still on its way through processors, saving and image-saved callbacks. Counting the
frames in flight is what lets a processor inside a ``with`` block keep queueing
feedback events after the block has exited: its events arrive before its frame is
counted as done, so the engine cannot decide too early that nothing more is coming.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from app.acquisition.events import iter_events, normalize_event

logger = logging.getLogger(__name__)

_END = object()  # the marker event_queue.put(None) leaves in the queue


class AcquisitionFlow:
    """Thread-safe state shared by the caller, the engine and the worker threads."""

    def __init__(self, check: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._check = check
        self._cond = threading.Condition()
        self._pending: deque[Any] = deque()
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
        """Check and queue events; ``None`` among them ends the acquisition after them.

        Raises ``InvalidEventError`` before queueing anything if one event is invalid.
        """
        checked: list[Any] = []
        for event in iter_events(events):
            if event is None:
                checked.append(_END)
                continue
            normalized = normalize_event(event)
            if self._check is not None:
                self._check(normalized)
            checked.append(normalized)
        with self._cond:
            if self._end_reached or self.aborted.is_set():
                dropped = sum(1 for e in checked if e is not _END)
                if dropped:
                    self.discarded_events += dropped
                    logger.warning(
                        "%d event(s) submitted after the acquisition ended were ignored", dropped
                    )
                return []
            self._pending.extend(checked)
            self.submitted_events += sum(1 for e in checked if e is not _END)
            self._cond.notify_all()
        return [e for e in checked if e is not _END]

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
            self._pending.clear()
            self._cond.notify_all()

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
        return len(self._pending)

    # ---- the engine's side ----
    def next_batch(self, timeout: float | None = None) -> list[dict[str, Any]] | None:
        """Wait for the events queued so far; ``None`` once the acquisition is over.

        A batch is everything pending up to an end marker, so the events of one
        ``acquire`` call can be merged into hardware sequences.
        """
        with self._cond:
            while True:
                if self.aborted.is_set() or self._end_reached:
                    return None
                if self._pending:
                    batch: list[dict[str, Any]] = []
                    while self._pending:
                        event = self._pending.popleft()
                        if event is _END:
                            self._end_reached = True
                            self.discarded_events += len(self._pending)
                            self._pending.clear()
                            break
                        batch.append(event)
                    if batch:
                        return batch
                    continue
                if self._finish_requested and self._in_flight <= 0:
                    self._end_reached = True
                    return None
                if not self._cond.wait(timeout) and timeout is not None:
                    return []
