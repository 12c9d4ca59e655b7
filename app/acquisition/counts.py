"""Every frame counted: acquired, processed, dropped by a processor, saved, lost."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class FrameCounts:
    """Counters shared by the engine, processing and saving threads.

    How they add up, once an acquisition has finished:

    - ``acquired == processed + failed + lost + unprocessed``: each camera frame went
      through the processors, or raised in one, or never reached them (``lost``: the
      processing queue was full under the drop policy, or the user asked to discard
      frames on abort; ``unprocessed``: the acquisition stopped before its turn, so it
      was passed on as acquired, marked so in its metadata).
    - ``outputs == saved + unsaved``: each image the processors passed on was saved,
      or was not (no saving configured, or the saver failed).
    - ``dropped_by_processors`` counts processed frames for which the processors
      returned nothing; ``missing`` counts frames the camera was asked for and never
      delivered (a sequence that timed out or overflowed the camera's buffer).
    - ``duplicates`` counts saved images whose axes an earlier image already had: they
      were kept under an extra ``duplicate`` axis rather than replacing it.
    """

    acquired: int = 0
    processed: int = 0
    failed: int = 0
    lost: int = 0
    unprocessed: int = 0
    dropped_by_processors: int = 0
    outputs: int = 0
    saved: int = 0
    unsaved: int = 0
    missing: int = 0
    duplicates: int = 0
    displayed_skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}

    def balanced(self) -> bool:
        """Whether every frame is accounted for (true once the acquisition is over)."""
        s = self.snapshot()
        return (
            s["acquired"] == s["processed"] + s["failed"] + s["lost"] + s["unprocessed"]
            and s["outputs"] == s["saved"] + s["unsaved"]
        )
