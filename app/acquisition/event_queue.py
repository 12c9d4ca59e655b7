"""The event queue processors and hooks receive, as in pycro-manager."""

from __future__ import annotations

from typing import Any

from app.acquisition.flow import AcquisitionFlow


class EventQueue:
    """``put(event)`` queues an event (or a list of them); ``put(None)`` ends the acquisition.

    Safe from any thread. Events are checked when put: an invalid one raises
    ``InvalidEventError`` in the processor that put it.
    """

    def __init__(self, flow: AcquisitionFlow) -> None:
        self._flow = flow

    def put(self, event: Any, block: bool = True, timeout: float | None = None) -> None:
        self._flow.submit([event] if event is None else event)

    put_nowait = put

    def qsize(self) -> int:
        return self._flow.pending
