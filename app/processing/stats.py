"""Per-processor statistics, cheap enough to keep for every frame."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

_WINDOW = 2048  # recent durations kept for the p99 and the plot; older ones feed the mean


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
    #: when each of ``_recent`` ended (``time.perf_counter()``), for the time plot
    _recent_at: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, seconds: float, outputs: int, at: float | None = None) -> None:
        """One frame that took ``seconds`` and gave ``outputs`` images, ending ``at``
        (``time.perf_counter()``; now when not given)."""
        with self._lock:
            self.frames_in += 1
            self.frames_out += outputs
            self.total_seconds += seconds
            self._recent.append(seconds)
            self._recent_at.append(time.perf_counter() if at is None else at)

    def record_copy(self) -> None:
        with self._lock:
            self.copies += 1

    def record_error(self, seconds: float, message: str, traceback_text: str) -> None:
        with self._lock:
            self.frames_in += 1
            self.errors += 1
            self.total_seconds += seconds
            self._recent.append(seconds)
            self._recent_at.append(time.perf_counter())
            self.last_error = message
            self.last_traceback = traceback_text

    def numbers(self) -> tuple[int, int, float, float]:
        """Frames in, errors, mean ms and 99th percentile ms, read together (one frame
        recorded between two of them would make a count disagree with its mean)."""
        with self._lock:
            recent = sorted(self._recent)
            frames, errors, seconds = self.frames_in, self.errors, self.total_seconds
        mean = 1000 * seconds / frames if frames else 0.0
        return frames, errors, mean, _p99_ms(recent)

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total_seconds / self.frames_in if self.frames_in else 0.0

    @property
    def p99_ms(self) -> float:
        with self._lock:
            recent = sorted(self._recent)
        return _p99_ms(recent)

    def timeline(self, since: float = float("-inf")) -> tuple[np.ndarray, np.ndarray]:
        """The recent frames that ended at or after ``since`` (``time.perf_counter()``):
        when each ended, and its time in ms; oldest first, at most the last 2048."""
        with self._lock:
            ends = np.array(self._recent_at, dtype=float)
            durations = np.array(self._recent, dtype=float)
        first = int(np.searchsorted(ends, since, side="left"))
        return ends[first:], 1000 * durations[first:]


def _p99_ms(ordered: list[float]) -> float:
    """The 99th percentile of ``ordered`` seconds, in ms (0 without any)."""
    if not ordered:
        return 0.0
    return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
