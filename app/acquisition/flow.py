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
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from app.acquisition.batches import Event, EventBatch, EventCheck
from app.acquisition.events import (
    CheckedEvents,
    InvalidEventError,
    iter_events,
    normalize_event,
)
from app.acquisition.state import FinishReason, RunState

logger = logging.getLogger(__name__)

_END = object()  # the marker event_queue.put(None) leaves in the queue

DiscardListener = Callable[[list[Event], str], None]


def is_lazy(events: Any) -> bool:
    """A generator or iterator is read as the engine reaches it; anything else now."""
    return isinstance(events, Iterator) and not isinstance(events, Mapping)


class AcquisitionFlow:
    """Thread-safe state shared by the caller, the engine and the worker threads.

    ``check`` (optional) validates each event against the hardware when it is
    submitted; ``place`` (optional) completes it first (a tile's stage position from
    its row and column). ``on_discard(events, why)`` is told about events that will never run
    (aborted, or queued after the end marker), so that nobody waits for them.
    """

    def __init__(
        self,
        check: EventCheck | None = None,
        on_discard: DiscardListener | None = None,
        place: Callable[[Event], Event] | None = None,
    ) -> None:
        self._check = check
        self._place = place
        self._on_discard = on_discard
        self._cond = threading.Condition()
        self._pending: deque[Any] = deque()  # EventBatch and _END markers
        self._in_flight = 0
        self._state = RunState.RUNNING
        self._reason = "running"
        self._finish_reason: FinishReason | None = None
        self._finish_after_pause = False
        # the queue reached its end marker (or mark_finished with nothing left): the
        # engine takes no more batches
        self._queue_closed = False
        self.discarded_events = 0
        self.submitted_events = 0
        #: abort(discard_unprocessed=True): frames not yet processed are dropped, not
        #: saved unprocessed
        self.discard_unprocessed = False
        #: the engine's first event waits until then (``hold_start``); None: no hold
        self._start_deadline: float | None = None

    # ---- submitting events (any thread) ----
    def prepare(self, events: Any) -> EventBatch:
        """A batch of ``events``, checked now unless they come from a generator.

        ``None`` among them ends the acquisition after them. Raises
        ``InvalidEventError`` if one event is invalid, or if there is none.
        """
        if is_lazy(events):
            return EventBatch(source=events, prepare=self.prepare_event)
        if isinstance(events, CheckedEvents):  # each checked already: placed and checked here
            if not events:
                raise InvalidEventError("No acquisition events: the checked events are empty")
            return EventBatch([self.place_and_check(event) for event in events])
        batch: list[Event] = []
        after_end: list[Event] = []  # would never run: reported, not queued
        ends = False
        for event in iter_events(events):
            if event is None:
                ends = True
                continue
            (after_end if ends else batch).append(self.prepare_event(event))
        if not batch and not ends:
            raise InvalidEventError(
                f"No acquisition events in {events!r}: give an event dict with 'axes', "
                "or a non-empty list of them"
            )
        self._discard(after_end, "they came after None (the end of the acquisition)")
        return EventBatch(batch, ends_acquisition=ends)

    def prepare_event(self, event: Any) -> Event:
        """One event as the user gave it, normalized, placed and checked (raises
        ``InvalidEventError`` if it is invalid)."""
        return self.place_and_check(normalize_event(event))

    def place_and_check(self, event: Event) -> Event:
        """A normalized event placed (a tile's position) and checked against the
        hardware (raises ``InvalidEventError`` if it is invalid there)."""
        if self._place is not None:
            event = self._place(event)
        if self._check is not None:
            self._check(event)
        return event

    def enqueue(self, batch: EventBatch) -> None:
        """Queue a prepared batch for the engine (dropped, and reported, if it is over)."""
        with self._cond:
            if self._queue_closed or self._state.is_stopping:
                dropped = batch.unread("the acquisition had ended when it was submitted")
            else:
                dropped = []
                if len(batch) or batch.lazy:
                    self._pending.append(batch)
                    self.submitted_events += len(batch)
                if batch.ends_acquisition:
                    self._pending.append(_END)
                self._cond.notify_all()
        self._discard(dropped, "it was submitted after the acquisition ended")

    def submit(self, events: Any) -> None:
        self.enqueue(self.prepare(events))

    def count(self, events: int) -> None:
        """Events read from a generator: counted as submitted once they are known."""
        with self._cond:
            self.submitted_events += events

    # ---- the run state (any thread) ----
    @property
    def state(self) -> RunState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def finish_reason(self) -> FinishReason | None:
        return self._finish_reason

    @property
    def stopping(self) -> bool:
        """Aborted (by the user or an error): no event may start any more."""
        return self._state.is_stopping

    @property
    def finish_requested(self) -> bool:
        """``mark_finished`` was called, or the end marker was queued or reached."""
        live = self._state is RunState.RUNNING or (
            self._state is RunState.PAUSING and not self._finish_after_pause
        )
        return not live or self._queue_closed or _END in self._pending

    def _move(self, state: RunState, reason: str) -> None:
        """Change state (caller holds the lock) and wake every waiter."""
        self._state = state
        self._reason = reason
        self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            if self._state is RunState.RUNNING:
                self._move(RunState.PAUSING, "paused")
            elif self._state is RunState.FINISHING:
                self._finish_after_pause = True
                self._move(RunState.PAUSING, "paused")

    def resume(self) -> None:
        with self._cond:
            if self._state is RunState.PAUSING:
                if self._finish_after_pause:
                    self._move(RunState.FINISHING, "finishing: the pending events run")
                else:
                    self._move(RunState.RUNNING, "running")

    @property
    def paused(self) -> bool:
        return self._state is RunState.PAUSING

    def request_finish(self) -> None:
        with self._cond:
            if self._state is RunState.RUNNING:
                self._move(RunState.FINISHING, "finishing: the pending events run")
            elif self._state is RunState.PAUSING:
                self._finish_after_pause = True

    def wait_while_paused(self) -> float:
        """Called by the engine between events: returns when resumed or aborted, with
        the seconds it waited (the engine moves its schedule by them)."""
        started = time.perf_counter()
        with self._cond:
            self._cond.wait_for(lambda: self._state is not RunState.PAUSING)
        return time.perf_counter() - started

    # ---- the start, held for its caller (any thread) ----
    def hold_start(self, seconds: float) -> None:
        """The engine waits up to ``seconds`` for ``release_start`` before it takes
        the microscope: its caller (the window) has work to finish first, and the
        engine's threads running at full speed would take the cores it needs."""
        with self._cond:
            self._start_deadline = time.monotonic() + seconds

    def release_start(self) -> None:
        """The caller's work is done: the engine goes on (at once if it waits)."""
        with self._cond:
            self._start_deadline = None
            self._cond.notify_all()

    def wait_for_start(self) -> None:
        """Called by the engine before anything else: returns once the start is
        released, its hold has run out, or the acquisition is stopping."""
        with self._cond:
            while self._start_deadline is not None and not self._state.is_stopping:
                left = self._start_deadline - time.monotonic()
                if left <= 0:
                    self._start_deadline = None
                    break
                self._cond.wait(min(left, threading.TIMEOUT_MAX))

    def wait_for_stop(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True at once if the acquisition is stopping."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state.is_stopping, timeout)

    def abort(
        self,
        reason: FinishReason = FinishReason.ABORTED,
        why: str = "",
        discard_unprocessed: bool = False,
    ) -> None:
        """Stop: no event starts any more; frames acquired still drain (saved without
        processing, or dropped with ``discard_unprocessed``). The first reason given is
        kept (an error that then aborts stays the reason)."""
        with self._cond:
            self.discard_unprocessed = self.discard_unprocessed or discard_unprocessed
            if not self._state.is_stopping and not self._state.is_over:
                self._finish_reason = reason
                self._move(RunState.ABORTING, why or "aborting")
            dropped = self._take_pending("the acquisition was aborted")
        self._discard(dropped, "the acquisition was aborted")

    def close(self) -> RunState:
        """Everything is done (called once the workers have ended): the final state."""
        with self._cond:
            if self._state is RunState.ABORTING:
                failed = self._finish_reason is FinishReason.FAILED
                self._move(RunState.FAILED if failed else RunState.ABORTED, self._reason)
            elif not self._state.is_over:
                self._finish_reason = FinishReason.COMPLETED
                self._move(RunState.FINISHED, "completed")
            return self._state

    def end_now(self) -> None:
        """A generator yielded None: nothing queued after it runs."""
        with self._cond:
            self._queue_closed = True
            if self._state is RunState.RUNNING:
                self._move(RunState.FINISHING, "finishing: the pending events run")
            dropped = self._take_pending("it was queued after the end of the acquisition")
            self._cond.notify_all()
        self._discard(dropped, "they were queued after the end of the acquisition")

    def _take_pending(self, why: str) -> list[Event]:
        """Empty the queue (caller holds the lock); the events that were waiting."""
        dropped = [e for item in self._pending if item is not _END for e in item.unread(why)]
        self._pending.clear()
        return dropped

    def _discard(self, events: list[Event], why: str) -> None:
        if not events:
            return
        with self._cond:
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
        return sum(len(item) for item in list(self._pending) if item is not _END)

    # ---- the engine's side ----
    def next_batch(self, timeout: float | None = None) -> EventBatch | None:
        """Wait for the next batch (the events of one ``acquire`` call); ``None`` once
        the acquisition is over, an empty batch after ``timeout`` seconds without one."""
        with self._cond:
            while True:
                if self._state.is_stopping or self._queue_closed:
                    return None
                if self._pending:
                    item = self._pending.popleft()
                    if item is _END:
                        self._queue_closed = True
                        if self._state is RunState.RUNNING:
                            self._move(RunState.FINISHING, "finishing: the pending events run")
                        dropped = self._take_pending("it was queued after event_queue.put(None)")
                        break
                    batch: EventBatch = item
                    return batch
                finishing = self._state is RunState.FINISHING or (
                    self._state is RunState.PAUSING and self._finish_after_pause
                )
                if finishing and self._in_flight <= 0:
                    self._queue_closed = True
                    return None
                if not self._cond.wait(timeout) and timeout is not None:
                    return EventBatch()
        self._discard(dropped, "they were queued after event_queue.put(None)")
        return None
