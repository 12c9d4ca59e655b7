"""Getting frames ready to draw, off the GUI thread.

Mapping a 16-bit frame to 8 bits with the current contrast is the heaviest part of
showing it. On a busy machine that numpy work, done on the GUI thread, stretched
single event-loop iterations to 50-60 ms. Here a worker takes the newest frame from
the display slot, maps it, and leaves the result in a slot of its own; the GUI thread
only hands the 8-bit image to pyqtgraph and paints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QThread

from app.acquisition.priority import lower_current_thread_priority
from app.processing.contrast import robust_levels, to_uint8
from app.processing.display import DisplaySettings, LatestFrameSlot


@dataclass(frozen=True)
class PreparedFrame:
    display: np.ndarray | None  # uint8, strided by ``stride``; None: draw ``image`` as is
    image: np.ndarray  # the original frame (pixel readout, histogram, browsing)
    levels: tuple[float, float]
    stride: int
    metadata: dict[str, Any]


class FramePreparer(QThread):
    """Reads ``source`` (set by the GUI thread) and fills ``prepared``."""

    def __init__(self, settings: DisplaySettings) -> None:
        super().__init__()
        self.settings = settings
        self.source: LatestFrameSlot | None = None
        self.prepared: LatestFrameSlot[PreparedFrame] = LatestFrameSlot()
        self._running = True

    def run(self) -> None:
        lower_current_thread_priority()
        while self._running:
            source = self.source
            item = source.take() if source is not None else None
            if item is None:
                time.sleep(0.004)
                continue
            image, metadata = item
            if image.ndim != 2:  # RGB: the viewer draws it as it is
                self.prepared.put(PreparedFrame(None, image, (0, 255), 1, metadata), metadata)
                continue
            settings = self.settings
            levels = robust_levels(image) if settings.auto_levels else settings.levels
            stride = max(1, settings.stride)
            display = to_uint8(image[::stride, ::stride], *levels)
            frame = PreparedFrame(display, image, levels, stride, metadata)
            self.prepared.put(frame, metadata)

    def stop(self) -> None:
        self._running = False
        self.wait(2000)
