"""A scale bar in micrometres, from the microscope's pixel size.

pyqtgraph's ``ScaleBar`` draws the bar and follows the zoom, but labels its length
in the image's own units (pixels here); a microscopist reads micrometres. This one
takes a round length (1, 2 or 5 times a power of ten µm) near a fifth of the visible
width and says it in µm.
"""

from __future__ import annotations

import math

import pyqtgraph as pg


def round_length(target: float) -> float:
    """The largest of 1, 2, 5 x 10^n not above ``target`` (> 0)."""
    exponent = math.floor(math.log10(target))
    for step in (5, 2, 1):
        value = step * 10**exponent
        if value <= target:
            return float(value)
    return float(10**exponent)


class MicrometreScaleBar(pg.ScaleBar):
    def __init__(self) -> None:
        super().__init__(
            size=1, width=6, brush=(255, 255, 255), pen=(0, 0, 0), suffix="", offset=(-24, -24)
        )
        # readable over a bright image too: the length on a dark plate
        self.text.fill = pg.mkBrush(0, 0, 0, 150)
        self.pixel_size_um = 0.0
        self.length_um = 0.0
        self.shown = True
        self.has_image = True

    def set_pixel_size(self, um: float) -> None:
        self.pixel_size_um = um
        self.updateBar()

    def set_has_image(self, has: bool) -> None:
        """Over an empty view a bar measures nothing: hidden until an image comes."""
        self.has_image = has
        self.updateBar()

    def set_shown(self, on: bool) -> None:
        self.shown = on
        self.updateBar()

    def updateBar(self) -> None:  # pyqtgraph's name, called on each zoom
        view = self.parentItem()
        visible = self.shown and self.has_image and self.pixel_size_um > 0 and view is not None
        self.setVisible(visible)
        if not visible:
            return
        (x0, x1), _ = view.viewRange()
        self.length_um = round_length(max((x1 - x0) * self.pixel_size_um / 5, 1e-9))
        self.size = self.length_um / self.pixel_size_um  # in image pixels
        self.text.setText(f"{self.length_um:g} µm")
        super().updateBar()
