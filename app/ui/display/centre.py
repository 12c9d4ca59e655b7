"""The middle of the window: the viewer, its channel strip and its sliders, and the
dataset browser that moves through a dataset with them."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from app.ui.common.lifecycle import release_graphics
from app.ui.common.pacer import Pacer
from app.ui.display.axis_sliders import AxisSliders
from app.ui.display.channel_strip import ChannelStrip
from app.ui.display.dataset_browser import DatasetBrowser
from app.ui.display.viewer import ImageViewer


class CentreView(QWidget):
    """The viewer over its channel strip over its sliders; the viewer takes the room."""

    def __init__(self, parent: QWidget | None = None, pacer: Pacer | None = None) -> None:
        super().__init__(parent)
        self.viewer = ImageViewer(pacer=pacer)
        self.sliders = AxisSliders()
        self.browser = DatasetBrowser(self.viewer, self.sliders)
        self.channel_strip = ChannelStrip(self.viewer.channels, pacer=pacer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.channel_strip)
        layout.addWidget(self.sliders)


def release_views(window: QWidget) -> None:
    """Every viewer and plot of ``window`` (the main one, processors' views, the
    profile, the time plot) lets go of its graphics items (``lifecycle``)."""
    for viewer in window.findChildren(ImageViewer):
        viewer.release()
    for graphics in window.findChildren(pg.GraphicsView):
        release_graphics(graphics)
