"""Current: one process-wide value that the scripting API's ambient calls reach.

``Acquisition()`` without a core, ``@processor``, ``show_image`` and the window's list
of shown acquisitions each need "the current one". The app's ``AppState`` sets them
at start; a plain script gets each made on first use. Nothing is made at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Current(Generic[T]):
    """The current value, made by ``make`` on first use if none was set."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

    def set(self, value: T | None) -> None:
        """Replace it (None: the next ``get`` makes a new one)."""
        with self._lock:
            self._value = value
