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
from PyQt6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major")

HISTOGRAM_INTERVAL_S = 0.5


def _two_colour(name: str, colour: tuple[int, int, int]) -> pg.ColorMap:
    return pg.ColorMap([0.0, 1.0], [(0, 0, 0), colour], name=name)


LOOKUP_TABLES: dict[str, pg.ColorMap] = {
    "Grays": _two_colour("Grays", (255, 255, 255)),
    "Green": _two_colour("Green", (0, 255, 0)),
    "Red": _two_colour("Red", (255, 0, 0)),
    "Blue": _two_colour("Blue", (40, 90, 255)),
    "Magenta": _two_colour("Magenta", (255, 0, 255)),
    "Cyan": _two_colour("Cyan", (0, 255, 255)),
    "Viridis": pg.colormap.get("viridis"),
    "Inferno": pg.colormap.get("inferno"),
}


class ImageViewer(QWidget):
    """Shows one 2-D image at a time; ``set_image`` is cheap enough for every frame.

    Contrast is automatic (a subsample's min and max, per frame) until the user drags
    the histogram's levels; the Auto box turns it back on.
    """

    pixelHovered = pyqtSignal(int, int, float)

    def __init__(self, parent: QWidget | None = None, *, toolbar: bool = True) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.item = pg.ImageItem()
        self.view.addItem(self.item)
        self.histogram = pg.HistogramLUTItem()
        self.histogram.setImageItem(self.item)
        self.histogram.sigLevelsChanged.connect(self._levels_changed_by_user)
        self.graphics.addItem(self.histogram)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.auto_box = QCheckBox("Auto contrast")
        self.auto_box.setChecked(True)
        self.auto_box.toggled.connect(self.set_auto_levels)
        self.lut_box = QComboBox()
        self.lut_box.addItems(list(LOOKUP_TABLES))
        self.lut_box.currentTextChanged.connect(self.set_lookup_table)
        self.title = QLabel()
        if toolbar:
            bar = QHBoxLayout()
            bar.setContentsMargins(6, 2, 6, 0)
            bar.addWidget(self.title, 1)
            bar.addWidget(self.auto_box)
            bar.addWidget(QLabel("LUT"))
            bar.addWidget(self.lut_box)
            layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        self.image: np.ndarray | None = None
        self.auto_levels = True
        self._histogram_time = 0.0
        self._setting_levels = False
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.set_lookup_table("Grays")

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

    def set_lookup_table(self, name: str) -> None:
        self.histogram.gradient.setColorMap(LOOKUP_TABLES[name])
        if self.lut_box.currentText() != name:
            self.lut_box.setCurrentText(name)

    def set_levels(self, low: float, high: float) -> None:
        """Manual contrast: fixes the levels and turns automatic contrast off."""
        self.auto_box.setChecked(False)
        self.histogram.setLevels(low, high)
        self.item.setLevels((low, high))

    def _levels_changed_by_user(self) -> None:
        if not self._setting_levels and self.auto_levels:
            self.auto_box.setChecked(False)

    def set_auto_levels(self, on: bool) -> None:
        self.auto_levels = on
        if self.auto_box.isChecked() != on:
            self.auto_box.setChecked(on)
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
