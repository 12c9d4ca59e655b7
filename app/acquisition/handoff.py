"""HandoffQueue: a bounded queue between two threads that keeps the count of frames in
flight, the one place where it changes.

An acquisition may end only when no frame is on its way through processors, saving
and image-saved callbacks (see ``flow``): a processor or a callback may still queue
feedback events. A frame counts from the moment it is put on a queue until the thread
that took it calls ``done``; a processor's outputs are put on the next queue before
the frame they came from is done, so the count never drops to zero in between.
"""

from __future__ import annotations

import queue
from typing import Generic, TypeVar

from app.acquisition.flow import AcquisitionFlow
from app.acquisition.markers import Marker

T = TypeVar("T")


class HandoffQueue(Generic[T]):
    """``put`` (blocking, with an optional timeout) and ``put_nowait`` count the item in
    flight; ``get`` hands it over; the taker calls ``done`` once it has finished with
    it. Markers (``STOP``) travel uncounted."""

    def __init__(self, flow: AcquisitionFlow, maxsize: int) -> None:
        self._flow = flow
        self._queue: queue.Queue[T | Marker] = queue.Queue(maxsize=maxsize)
        self.maxsize = maxsize

    def put(self, item: T, timeout: float | None = None) -> None:
        """Raises ``queue.Full`` after ``timeout`` seconds without room."""
        self._flow.add_in_flight()
        try:
            self._queue.put(item, timeout=timeout)
        except queue.Full:
            self._flow.remove_in_flight()
            raise

    def put_nowait(self, item: T) -> None:
        """Raises ``queue.Full`` at once when there is no room."""
        self.put(item, timeout=0)

    def put_marker(self, marker: Marker) -> None:
        self._queue.put(marker)

    def offer_marker(self, marker: Marker) -> bool:
        """Put ``marker`` if there is room now (never blocks: pool threads call it);
        False when the queue is full (its items wake the taker anyway)."""
        try:
            self._queue.put_nowait(marker)
        except queue.Full:
            return False
        return True

    def get(self) -> T | Marker:
        return self._queue.get()

    def get_nowait(self) -> T | Marker:
        """Raises ``queue.Empty`` at once when there is nothing."""
        return self._queue.get_nowait()

    def done(self) -> None:
        self._flow.remove_in_flight()

    def qsize(self) -> int:
        return self._queue.qsize()
