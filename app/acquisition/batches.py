"""EventBatch: the events of one ``acquire`` call (or ``event_queue.put``), in order.

Only the events of one batch may be merged into a hardware sequence. A list (or a
dict, or a useq sequence) is checked whole when it is submitted, so an invalid event
fails in the caller's line and nothing of it is queued. A generator is read lazily,
as the engine reaches it, as pycro-manager reads it: an endless generator acquires
until the acquisition is stopped, and each event is checked when it is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from app.acquisition.events import iter_events, normalize_event

Event = dict[str, Any]
EventCheck = Callable[[Event], None]


class EventBatch:
    """Events to run in order; ``pull`` gives the next one, or None when none is left.

    ``on_pull`` is told of each event read from a generator before it runs (futures
    learn the axes to follow that way); ``on_exhausted`` when the generator is done.
    A generator that yields None ends the acquisition after its events
    (``ends_acquisition``).
    """

    def __init__(
        self,
        events: list[Event] | None = None,
        *,
        source: Iterator[Any] | None = None,
        check: EventCheck | None = None,
        ends_acquisition: bool = False,
    ) -> None:
        self._events: deque[Event] = deque(events or ())
        self._source = iter_events(source) if source is not None else None
        self._check = check
        self.ends_acquisition = ends_acquisition
        self.exhausted = source is None
        self.on_pull: Callable[[Event], None] | None = None
        self.on_exhausted: Callable[[], None] | None = None
        #: an invalid event read from the generator: the batch ends before it, and the
        #: engine raises this once the events before it have run
        self.error: Exception | None = None

    @property
    def lazy(self) -> bool:
        return self._source is not None

    def __len__(self) -> int:
        """Events known and not yet pulled (a generator's future ones are not known)."""
        return len(self._events)

    def pending_events(self) -> list[Event]:
        """The events known and not yet pulled (all of them, for a list)."""
        return list(self._events)

    def pull(self) -> Event | None:
        if self._events:
            return self._events.popleft()
        if self._source is None or self.exhausted:
            return None
        try:
            item = next(self._source)
        except StopIteration:
            self._exhaust()
            return None
        except Exception as exc:  # the user's generator raised
            self.error = exc
            self._exhaust()
            return None
        if item is None:
            self.ends_acquisition = True
            self._exhaust()
            return None
        try:
            event = normalize_event(item)
            if self._check is not None:
                self._check(event)
        except Exception as exc:
            self.error = exc
            self._exhaust()
            return None
        if self.on_pull is not None:
            self.on_pull(event)
        return event

    def unread(self) -> list[Event]:
        """The events known and not pulled: they will not run if the batch stops here."""
        events = list(self._events)
        self._events.clear()
        if not self.exhausted:
            self._exhaust()
        return events

    def _exhaust(self) -> None:
        self.exhausted = True
        if self.on_exhausted is not None:
            self.on_exhausted()
