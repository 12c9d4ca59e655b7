"""The image viewer: a bare pyqtgraph ImageItem with explicit levels, and a histogram.

pyqtgraph's ``ImageView`` recomputes its histogram and levels on every frame (about
twice the cost of drawing at 2048x2048) and registers named ViewBoxes whose
``destroyed`` callbacks have crashed Python during garbage collection. This viewer
draws with explicit levels, updates the histogram at a low rate, and keeps every
graphics item parented.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major")

HISTOGRAM_INTERVAL_S = 0.5


class ImageViewer(QWidget):
    """Shows one 2-D image at a time; ``set_image`` is cheap enough for every frame."""

    pixelHovered = pyqtSignal(int, int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.item = pg.ImageItem()
        self.view.addItem(self.item)
        self.histogram = pg.HistogramLUTItem()
        self.histogram.setImageItem(self.item)
        self.histogram.sigLevelsChanged.connect(self._levels_changed_by_user)
        self.graphics.addItem(self.histogram)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.image: np.ndarray | None = None
        self.auto_levels = True
        self._histogram_time = 0.0
        self._setting_levels = False
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

    def set_image(self, image: np.ndarray) -> None:
        first = self.image is None or self.image.shape != image.shape
        self.image = image
        levels = _robust_levels(image) if self.auto_levels or first else self.item.getLevels()
        # Keep the histogram from recomputing on every frame: it follows the image at
        # HISTOGRAM_INTERVAL_S, which is all the eye needs.
        now = time.perf_counter()
        refresh_histogram = now - self._histogram_time > HISTOGRAM_INTERVAL_S
        if not refresh_histogram:
            self.item.sigImageChanged.disconnect(self.histogram.imageChanged)
        try:
            self._setting_levels = True
            self.item.setImage(image, autoLevels=False, levels=levels)
            self.histogram.setLevels(*levels)
        finally:
            self._setting_levels = False
            if not refresh_histogram:
                self.item.sigImageChanged.connect(self.histogram.imageChanged)
        if refresh_histogram:
            self._histogram_time = now
        if first:
            self.view.autoRange(padding=0)

    def _levels_changed_by_user(self) -> None:
        if not self._setting_levels:
            self.auto_levels = False

    def set_auto_levels(self, on: bool) -> None:
        self.auto_levels = on
        if on and self.image is not None:
            self.set_image(self.image)

    def _mouse_moved(self, position) -> None:
        if self.image is None:
            return
        point = self.view.mapSceneToView(position)
        x, y = int(point.x()), int(point.y())
        if 0 <= y < self.image.shape[0] and 0 <= x < self.image.shape[1]:
            self.pixelHovered.emit(x, y, float(self.image[y, x]))


def _robust_levels(image: np.ndarray) -> tuple[float, float]:
    """Min and max of a subsample: cheap at any size, and close enough for contrast."""
    step = max(1, int(np.sqrt(image.size / 65536)))
    sample = image[::step, ::step]
    low, high = float(sample.min()), float(sample.max())
    return (low, high if high > low else low + 1)
