"""The windows that processors' ``show_image`` and ``show_plot`` open, one per name."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

from app.processing.views import ImageViews
from app.ui.display.viewer import ImageViewer


class NamedViewDocks:
    """Floating docks of ``window`` for the named views, created when a name first
    shows something and fed from the views' slots on the display timer."""

    def __init__(self, window: QMainWindow, views: ImageViews) -> None:
        self._window = window
        self._source = views
        self._views: dict[str, tuple[QDockWidget, ImageViewer]] = {}
        self._plots: dict[str, tuple[QDockWidget, pg.PlotWidget]] = {}

    def view(self, name: str) -> ImageViewer | None:
        entry = self._views.get(name)
        return entry[1] if entry else None

    def plot(self, name: str) -> pg.PlotWidget | None:
        entry = self._plots.get(name)
        return entry[1] if entry else None

    def docks(self) -> list[QDockWidget]:
        """Every view's and plot's window, closed or not (the View menu reopens them)."""
        return [dock for dock, _ in self._views.values()] + [
            dock for dock, _ in self._plots.values()
        ]

    def show_pending(self) -> None:
        """Show what processors left in the named views since the last call."""
        for name in self._source.names():
            if name not in self._views:
                viewer = ImageViewer()
                dock = self._floating_dock(f"View: {name}", f"view_{name}", viewer, (520, 480))
                self._views[name] = (dock, viewer)
            item = self._source.slot(name).take()
            if item is not None:
                self._views[name][1].set_image(item[0])
        for name in self._source.plot_names():
            if name not in self._plots:
                plot = pg.PlotWidget()
                plot.showGrid(x=True, y=True, alpha=0.3)
                dock = self._floating_dock(f"Plot: {name}", f"plot_{name}", plot, (480, 320))
                self._plots[name] = (dock, plot)
            data = self._source.plot_slot(name).take()
            if data is not None:
                plot = self._plots[name][1]
                plot.plotItem.clear()
                plot.plot(
                    data[0][0],
                    data[0][1],
                    pen=pg.mkPen("#3aa0ff", width=2),
                    symbol="o",
                    symbolSize=4,
                )

    def _floating_dock(
        self, title: str, object_name: str, widget: QWidget, size: tuple[int, int]
    ) -> QDockWidget:
        """A window of its own for a processor's view, so the main image keeps its room."""
        window = self._window
        dock = QDockWidget(title, window)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.setFloating(True)
        dock.resize(*size)
        dock.move(window.geometry().right() - size[0] - 40, window.geometry().top() + 80)
        return dock
