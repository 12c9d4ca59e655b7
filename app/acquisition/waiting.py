"""How a caller waits for an acquisition, so that the app's GUI thread keeps drawing.

Headless, waiting is blocking. The app installs a strategy that, when the caller is
the GUI thread (the embedded console runs there), keeps processing Qt events while it
waits: frames keep showing and the window stays responsive during
``with Acquisition(...)`` typed in the console. The engine itself never imports Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

WaitStrategy = Callable[[threading.Event, float | None], bool]

_strategy: WaitStrategy | None = None


def set_wait_strategy(strategy: WaitStrategy | None) -> None:
    global _strategy
    _strategy = strategy


def wait_for(event: threading.Event, timeout: float | None = None) -> bool:
    """Wait until ``event`` is set or ``timeout`` passes; returns whether it was set."""
    if _strategy is not None:
        return _strategy(event, timeout)
    return event.wait(timeout)
