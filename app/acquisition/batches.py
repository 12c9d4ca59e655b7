"""EventBatch: the events of one ``acquire`` call (or ``event_queue.put``), in order.

Only the events of one batch may be merged into a hardware sequence. A list (or a
dict, or a useq sequence) is checked whole when it is submitted, so an invalid event
fails in the caller's line and nothing of it is queued. A generator is read lazily,
as pycro-manager reads it: an endless generator acquires until the acquisition is
stopped, and each event is checked when it is read.

A generator is read on a thread of its own into a short queue. The engine waits for
its next event in short steps, so an abort is seen even while the generator blocks
(waiting for a stage, for the user, or for an image it depends on), and when the next
event is not ready the events read so far run as they are instead of waiting to be
merged with it.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from app.acquisition.events import iter_events, normalize_event

Event = dict[str, Any]
EventCheck = Callable[[Event], None]
#: a raw event (as the user gave it) to a checked event dict; raises if it is invalid
EventPreparer = Callable[[Any], Event]

#: how far ahead of the engine a generator is read
READ_AHEAD = 16
_DONE = object()


class NotReady:
    """``pull`` found no event ready yet from a generator (it may still yield one)."""


NOT_READY = NotReady()


class EventBatch:
    """Events to run in order; ``pull`` gives the next one, None when none is left, or
    ``NOT_READY`` when a generator has not produced the next one yet.

    ``on_pull`` is told of each event read from a generator before it runs (futures
    learn the axes to follow that way); ``on_exhausted(why)`` when the generator is done
    (``why`` is None when it ended by itself, else the reason it was cut short). A
    generator that yields None ends the acquisition after its events
    (``ends_acquisition``).
    """

    def __init__(
        self,
        events: list[Event] | None = None,
        *,
        source: Iterator[Any] | None = None,
        prepare: EventPreparer = normalize_event,
        ends_acquisition: bool = False,
    ) -> None:
        self._events: deque[Event] = deque(events or ())
        self._source = iter_events(source) if source is not None else None
        self._prepare = prepare
        self.ends_acquisition = ends_acquisition
        self.exhausted = source is None
        self.on_pull: Callable[[Event], None] | None = None
        self.on_exhausted: Callable[[str | None], None] | None = None
        #: an invalid event read from the generator, or its exception: the batch ends
        #: before it, and the engine raises this once the events before it have run
        self.error: Exception | None = None
        self._read: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD)
        self._closed = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def lazy(self) -> bool:
        return self._source is not None

    def __len__(self) -> int:
        """Events known and not yet pulled (a generator's future ones are not known)."""
        return len(self._events)

    def pending_events(self) -> list[Event]:
        """The events known and not yet pulled (all of them, for a list)."""
        return list(self._events)

    def pull(self, wait_s: float = 0.05) -> Event | NotReady | None:
        if self._events:
            return self._events.popleft()
        if self._source is None or self.exhausted:
            return None
        if self._reader is None:
            self._reader = threading.Thread(
                target=self._read_source, name="scopeflow-event-generator", daemon=True
            )
            self._reader.start()
        try:
            item = self._read.get(timeout=wait_s)
        except queue.Empty:
            return NOT_READY
        if item is _DONE:
            self._exhaust(None)
            return None
        if isinstance(item, BaseException):
            self.error = item  # type: ignore[assignment]
            self._exhaust(None)
            return None
        if item is None:
            self.ends_acquisition = True
            self._exhaust(None)
            return None
        try:
            event = self._prepare(item)
        except Exception as exc:
            self.error = exc
            self._exhaust(None)
            return None
        if self.on_pull is not None:
            self.on_pull(event)
        return event

    def _read_source(self) -> None:
        """The reader thread: the generator's items into the queue, then ``_DONE``."""
        assert self._source is not None
        try:
            for item in self._source:
                if not self._put(item) or item is None:
                    return
        except Exception as exc:  # the user's generator raised: reported in order
            self._put(exc)
            return
        self._put(_DONE)

    def _put(self, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                self._read.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def unread(self, why: str = "the batch stopped") -> list[Event]:
        """The events known and not pulled: they will not run if the batch stops here.
        A generator is not read further."""
        events = list(self._events)
        self._events.clear()
        if not self.exhausted:
            self._exhaust(why)
        return events

    def _exhaust(self, why: str | None) -> None:
        self.exhausted = True
        self._closed.set()
        if self.on_exhausted is not None:
            self.on_exhausted(why)
