"""The status bar's numbers: rates from counters sampled on a timer."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PyQt6.QtWidgets import QLabel, QStatusBar

from app.acquisition.acquisition import Acquisition


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


class StatusLine:
    """The status bar's text: what the camera, the display and the saver are doing,
    from the status snapshot of the acquisition shown (or Live's frame count)."""

    def __init__(self, bar: QStatusBar | None) -> None:
        assert bar is not None  # a QMainWindow always makes its status bar
        self.text = QLabel()
        self.pixel = QLabel()
        bar.addWidget(self.text, 1)
        bar.addPermanentWidget(self.pixel)
        self._camera = RateMeter()
        self._display = RateMeter()
        self._saved = RateMeter()

    def update(
        self,
        acquisition: Acquisition | None,
        live_frames: int,
        displayed: int,
        image: np.ndarray | None,
        data_directory: str,
    ) -> None:
        parts = []
        if acquisition is not None:
            status = acquisition.status
            counts = status.counts
            parts.append(f"camera {self._camera.rate(counts['acquired']):.0f} fps")
            parts.append(f"{self._saved.rate(acquisition.bytes_saved) / 1e6:.0f} MB/s saved")
            depths = status.queue_depths
            parts.append(f"queues: processing {depths['processing']}, saving {depths['saving']}")
            parts.append(
                f"lost {counts['lost']}  dropped by processors {counts['dropped_by_processors']}"
            )
        else:
            parts.append(f"camera {self._camera.rate(live_frames):.0f} fps")
        parts.append(f"displayed {self._display.rate(displayed):.0f} fps")
        parts.append(free_disk_text(data_directory or str(Path.home())))
        if image is not None:
            parts.insert(0, f"{image.shape[1]}×{image.shape[0]} {image.dtype}")
        self.text.setText("   ".join(parts))

    def show_pixel(self, x: int, y: int, value: float) -> None:
        self.pixel.setText(f"x {x}  y {y}  value {value:g}")
