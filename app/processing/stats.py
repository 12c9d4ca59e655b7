"""Per-processor statistics, cheap enough to keep for every frame."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

_WINDOW = 2048  # recent durations kept for the p99; older ones only feed the mean


@dataclass
class ProcessorStats:
    """Frames in and out, time per frame, errors. Written by the processing thread only."""

    frames_in: int = 0
    frames_out: int = 0
    errors: int = 0
    last_error: str | None = None
    last_traceback: str | None = None
    total_seconds: float = 0.0
    #: outputs copied because the processor kept a reference to them (ownership.py)
    copies: int = 0
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, seconds: float, outputs: int) -> None:
        with self._lock:
            self.frames_in += 1
            self.frames_out += outputs
            self.total_seconds += seconds
            self._recent.append(seconds)

    def record_copy(self) -> None:
        with self._lock:
            self.copies += 1

    def record_error(self, seconds: float, message: str, traceback_text: str) -> None:
        with self._lock:
            self.frames_in += 1
            self.errors += 1
            self.total_seconds += seconds
            self._recent.append(seconds)
            self.last_error = message
            self.last_traceback = traceback_text

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total_seconds / self.frames_in if self.frames_in else 0.0

    @property
    def p99_ms(self) -> float:
        with self._lock:
            recent = sorted(self._recent)
        if not recent:
            return 0.0
        return 1000 * recent[min(len(recent) - 1, int(0.99 * len(recent)))]
