"""The GUI thread's part of ``scopeflow bench map``: painting a part of a map drawn by the
map view's worker (``app/bench/map_bench.py`` measures the rest, without Qt)."""

from __future__ import annotations

import sys
import time

from PyQt6.QtCore import QRectF
from PyQt6.QtWidgets import QApplication

from app.processing.map_render import RenderedMap
from app.ui.display.viewer import ImageViewer


def paint_ms(frame: RenderedMap, screen: tuple[int, int], runs: int) -> list[float]:
    """ms to show ``frame`` in a viewer whose image area is about ``screen`` pixels and
    repaint it, for each of ``runs`` runs: what the GUI thread does with each redraw."""
    app = QApplication.instance() or QApplication(sys.argv)
    viewer = ImageViewer()
    histogram_and_bars = (140, 60)  # room around the image area
    viewer.resize(screen[0] + histogram_and_bars[0], screen[1] + histogram_and_bars[1])
    viewer.show()
    app.processEvents()
    viewer.view.setRange(QRectF(*frame.rect), padding=0)
    app.processEvents()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        viewer.show_map(frame)
        viewer.graphics.viewport().repaint()
        times.append(1000 * (time.perf_counter() - start))
    viewer.close()
    viewer.deleteLater()
    return times
