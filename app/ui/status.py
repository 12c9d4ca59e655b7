"""The status bar's numbers: rates from counters sampled on a timer."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RateMeter:
    """Turns a growing counter into a rate between two readings."""

    _last_value: float = 0.0
    _last_time: float = field(default_factory=time.perf_counter)

    def rate(self, value: float) -> float:
        now = time.perf_counter()
        elapsed = now - self._last_time
        delta = value - self._last_value
        self._last_value, self._last_time = value, now
        return max(0.0, delta / elapsed) if elapsed > 0 else 0.0


def free_disk_text(folder: str) -> str:
    path = Path(folder).expanduser()
    while not path.exists() and path != path.parent:
        path = path.parent  # the save folder may not exist until the first acquisition
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return "disk: ?"
    return f"disk free {free / 1e9:.1f} GB"
