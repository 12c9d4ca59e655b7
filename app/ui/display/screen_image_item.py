"""An image item that also draws screen pixels made elsewhere, as they are.

pyqtgraph's ``ImageItem`` turns every image into a ``QImage`` of a format Qt must then
convert, pixel by pixel, at each paint on the GUI thread (``processing/screen_pixels``
has the figures). Frames the preparer thread made as screen pixels are wrapped as a
``Format_RGB32`` image and drawn without that conversion. Anything else (``setImage``)
is pyqtgraph's to draw, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QImage

from app.processing.screen_pixels import rgb_of


class ScreenImageItem(pg.ImageItem):
    """``show_screen_pixels`` draws (h, w) uint32 0xffRRGGBB pixels as they are, until
    the next ``setImage`` with an image."""

    def __init__(self) -> None:
        super().__init__()
        self._screen: QImage | None = None
        self._screen_pixels: np.ndarray | None = None  # the memory ``_screen`` shows
        self._composite = False

    @property
    def showing_screen_pixels(self) -> bool:
        return self._screen is not None

    @property
    def showing_composite(self) -> bool:
        """The screen pixels shown add several channels (the preparer said so)."""
        return self._screen is not None and self._composite

    def show_screen_pixels(self, pixels: np.ndarray, composite: bool = False) -> None:
        pixels = np.ascontiguousarray(pixels)
        # pyqtgraph's wrapper: the image reads ``pixels`` in place (kept alive below)
        screen = pg.functions.ndarray_to_qimage(pixels, QImage.Format.Format_RGB32)
        super().setImage(pixels, autoLevels=False, levels=None)  # bounds and signals
        self._screen, self._screen_pixels, self._composite = screen, pixels, composite

    def screen_rgb(self) -> np.ndarray | None:
        """What ``show_screen_pixels`` draws, as (h, w, 3) uint8 RGB (None: it draws
        something else): for tests and screenshots."""
        pixels = self._screen_pixels
        if self._screen is None or pixels is None:
            return None
        return rgb_of(pixels)

    def setImage(self, image: Any = None, autoLevels: Any = None, **kwargs: Any) -> None:
        if image is None and self._screen is not None:
            # pyqtgraph asks to draw again after a new table or levels: screen pixels
            # carry their look already (the viewer makes new ones when it changes)
            self.update()
            return
        self._screen = self._screen_pixels = None
        super().setImage(image, autoLevels, **kwargs)

    def clear(self) -> None:
        self._screen = self._screen_pixels = None
        super().clear()

    def paint(self, painter: Any, *args: Any) -> None:
        screen = self._screen
        if screen is None:
            super().paint(painter, *args)
            return
        painter.drawImage(QRectF(0, 0, screen.width(), screen.height()), screen)
