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
