"""The acquisitions running now that asked to be shown (``show_display=True``).

The app's viewer shows the newest of them, whoever started it: the acquisition panel,
the console or a script.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_running: list[Any] = []


def add(acquisition: Any) -> None:
    with _lock:
        _running.append(acquisition)


def remove(acquisition: Any) -> None:
    with _lock:
        if acquisition in _running:
            _running.remove(acquisition)


def newest() -> Any | None:
    with _lock:
        return _running[-1] if _running else None


_viewer_for: Any = None  # set by the app's window: acquisition -> its viewer, or None


def set_viewer_provider(provider: Any) -> None:
    """The window tells which viewer shows an acquisition (``None`` when it closes)."""
    global _viewer_for
    _viewer_for = provider


def viewer_for(acquisition: Any) -> Any | None:
    provider = _viewer_for
    return provider(acquisition) if provider is not None else None
