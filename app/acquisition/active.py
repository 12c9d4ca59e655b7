"""The acquisitions running now that asked to be shown (``show_display=True``).

The app's viewer shows the newest of them, whoever started it: the acquisition panel,
the console or a script. The list lives in a ``ShownAcquisitions`` that the app state
owns; the functions below reach the current one (made on first use, headless).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from app.current import Current

ViewerProvider = Callable[[Any], Any]


class ShownAcquisitions:
    """The running acquisitions to show, newest last, and which viewer shows them.

    A viewer polls ``newest()`` on a timer, so an acquisition may start and end between
    two looks (three frames at full speed): ``last_added()`` is there for it to find
    such a one and show what it saved.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[Any] = []
        self._viewer_for: ViewerProvider | None = None
        self._last_added: weakref.ref[Any] | None = None  # not kept alive by this list
        self._on_added: Callable[[Any], None] | None = None

    def add(self, acquisition: Any) -> None:
        """Called as an acquisition starts, before its first event moves anything."""
        with self._lock:
            self._running.append(acquisition)
            self._last_added = weakref.ref(acquisition)
            on_added = self._on_added
        if on_added is not None:
            on_added(acquisition)

    def set_on_added(self, callback: Callable[[Any], None] | None) -> None:
        """``callback(acquisition)`` on the starting thread, as each one is added (the
        window reads where the microscope is before a script's acquisition moves it)."""
        with self._lock:
            self._on_added = callback

    def last_added(self) -> Any | None:
        """The acquisition added last, running or ended (None once it is gone)."""
        with self._lock:
            return self._last_added() if self._last_added is not None else None

    def remove(self, acquisition: Any) -> None:
        with self._lock:
            if acquisition in self._running:
                self._running.remove(acquisition)

    def newest(self) -> Any | None:
        with self._lock:
            return self._running[-1] if self._running else None

    def set_viewer_provider(self, provider: ViewerProvider | None) -> None:
        """The window tells which viewer shows an acquisition (None when it closes)."""
        self._viewer_for = provider

    def viewer_for(self, acquisition: Any) -> Any | None:
        provider = self._viewer_for
        return provider(acquisition) if provider is not None else None


_current: Current[ShownAcquisitions] = Current(ShownAcquisitions)


def current_shown() -> ShownAcquisitions:
    return _current.get()


def set_current_shown(shown: ShownAcquisitions | None) -> None:
    _current.set(shown)


def add(acquisition: Any) -> None:
    current_shown().add(acquisition)


def remove(acquisition: Any) -> None:
    current_shown().remove(acquisition)


def newest() -> Any | None:
    return current_shown().newest()


def viewer_for(acquisition: Any) -> Any | None:
    return current_shown().viewer_for(acquisition)
