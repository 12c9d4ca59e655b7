"""Markers that travel down the queues between the acquisition's threads."""

from __future__ import annotations


class Marker:
    """A unique object with a readable name (for logs and debuggers)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


#: after the last frame: each worker passes it on and stops
STOP = Marker("STOP")

#: a processor's pool has a result: the processing thread looks at its frames in flight
WAKE = Marker("WAKE")
