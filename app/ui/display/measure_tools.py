"""A line profile and a rectangle's statistics on the main image, updated live.

pyqtgraph's own ROI items are drawn on the viewer's ViewBox, whose coordinates are
the raw frame's pixels (the drawn image may be strided: never measure ``item.image``,
the 8-bit display). The numbers come from ``app.processing.region_stats`` on
``viewer.image``, the raw frame.

On a tiled map (``map_view``) the ROIs are in map pixels, and the numbers come from the
pixels the map shows: ``viewer.image`` is then the part of the map drawn, at the pyramid
level drawn, placed by ``viewer.placement``. Zoomed in to one map pixel or more per
screen pixel that is full resolution; zoomed out, level L, whose pixels are the means of
2^L x 2^L full-resolution pixels (a mean is the same, a standard deviation, a minimum or
a maximum smaller, and N counts level pixels): the panel says so, and zooming in
measures at full resolution.

Updates are throttled: moving an ROI and every frame the viewer draws (Live, an
acquisition, a slider) only ask for one; it runs at most every ``MIN_INTERVAL_S``,
and less often when measuring takes long (a big rectangle on a big frame), so that
it never takes more than about ``1 / BUDGET`` of the GUI thread. Nothing is measured
while both tools are off or while their panel is hidden.
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QObject, QPointF, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.processing.map_render import Placement
from app.processing.region_stats import (
    LineProfile,
    RegionStats,
    line_profile,
    region_statistics,
)
from app.ui.display.viewer import ImageViewer

MIN_INTERVAL_S = 0.05  # at most 20 updates a second
WATCH_INTERVAL_MS = 250
BUDGET = 5  # wait at least 5 times what the last update took: <= ~20% of the GUI thread

RECT_COLOUR = "#ffd400"  # Fiji's yellow
LINE_COLOUR = "#00e5ff"


def format_value(value: float) -> str:
    """A pixel value or a statistic as the panel shows it: whole numbers in full,
    others to 6 significant digits."""
    if math.isnan(value):
        return "–"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


class MeasurePanel(QWidget):
    """What the tools measure: the rectangle's statistics, the line's profile plot."""

    shown = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(
            "View > Line profile or Rectangle statistics puts a line or a rectangle on "
            "the image; drag it, or its handles, to measure there."
        )
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: gray;")
        self.stats_label = QLabel()
        self.line_label = QLabel()
        for label in (self.stats_label, self.line_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(140)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("left", "Value")
        self.plot.setLabel("bottom", "Distance", units="px")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.curve = self.plot.plot(pen=pg.mkPen(LINE_COLOUR, width=2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.line_label)
        layout.addWidget(self.plot, 1)
        self.show_tools(rectangle=False, line=False)

    def sizeHint(self) -> QSize:
        return QSize(420, 320)  # a dock's first size: a readable plot

    def say(self, label: QLabel, colour: str, *lines: str) -> None:
        """``lines`` in ``label``, after a mark of the colour of the tool they are about."""
        mark = f'<span style="color: {colour}">&#9632;</span> '
        text = html.escape("\n".join(lines))
        label.setText(f'<div style="white-space: pre-wrap">{mark}{text}</div>')

    def show_tools(self, *, rectangle: bool, line: bool) -> None:
        self.hint.setVisible(not (rectangle or line))
        self.stats_label.setVisible(rectangle)
        self.line_label.setVisible(line)
        self.plot.setVisible(line)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.shown.emit()  # hidden, nothing was measured: catch up


class MeasureTools(QObject):
    """The line and the rectangle on ``viewer``, switched on and off by ``line_action``
    and ``rect_action`` (checkable; the window puts them in its View menu), and the
    panel that shows what they measure (the window docks it)."""

    switchedOn = pyqtSignal()  # a tool was switched on: its panel should be seen
    switchedOff = pyqtSignal()  # both tools are off: the panel has nothing to show

    def __init__(self, viewer: ImageViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.panel = MeasurePanel()
        self.panel.shown.connect(self.request_update)
        # Created once and kept: switched off, they leave the view; switched on again,
        # they come back where the user left them.
        self.rect = pg.RectROI(
            [0, 0],
            [1, 1],
            sideScalers=True,
            pen=pg.mkPen(RECT_COLOUR, width=2),
            translateSnap=True,  # dragged, its edges stay on pixel edges
            scaleSnap=True,
            snapSize=1.0,
        )
        for handle, anchor in (
            ([0, 0], [1, 1]),
            ([1, 0], [0, 1]),
            ([0, 1], [1, 0]),
            ([0, 0.5], [1, 0.5]),
            ([0.5, 0], [0.5, 1]),
        ):
            self.rect.addScaleHandle(handle, anchor)
        self.line = pg.LineSegmentROI([(0, 0), (1, 0)], pen=pg.mkPen(LINE_COLOUR, width=2))
        for roi in (self.rect, self.line):
            roi.setZValue(20)  # above the image
            roi.sigRegionChanged.connect(self.request_update)
        self._placed: set[pg.ROI] = set()
        self.rect_action = self._action("&Rectangle statistics", self.set_rectangle_on)
        self.line_action = self._action("&Line profile", self.set_line_on)
        self.stats: RegionStats | None = None  # the last shown, for scripts and tests
        self.profile: LineProfile | None = None
        self.updates = 0
        self._last_update = -math.inf
        self._interval = MIN_INTERVAL_S
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.update_now)
        # A new frame: the image item redraws (Live, acquisitions, snaps, sliders); and
        # in case the viewer ever swaps ``image`` without redrawing, a slow check.
        viewer.item.sigImageChanged.connect(self._frame_drawn)
        self._measured_image: np.ndarray | None = None
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self._check_image)

    def _action(self, text: str, slot) -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.toggled.connect(slot)
        return action

    # ------------------------------------------------------------ switching
    @property
    def rectangle_on(self) -> bool:
        return self.rect_action.isChecked()

    @property
    def line_on(self) -> bool:
        return self.line_action.isChecked()

    @property
    def active(self) -> bool:
        return self.rectangle_on or self.line_on

    def set_rectangle_on(self, on: bool) -> None:
        self._switch(self.rect, self.rect_action, on)

    def set_line_on(self, on: bool) -> None:
        self._switch(self.line, self.line_action, on)

    def _switch(self, roi: pg.ROI, action: QAction, on: bool) -> None:
        if action.isChecked() != on:
            action.setChecked(on)  # comes back here through toggled
            return
        view = self.viewer.view
        if on and roi.parentItem() is None:
            if roi not in self._placed or not self._overlaps_image(roi):
                self._place(roi)
            view.addItem(roi, ignoreBounds=True)  # Fit shows the image, not the ROIs
        elif not on and roi.parentItem() is not None:
            view.removeItem(roi)
        if not on:
            if roi is self.rect:
                self.stats = None
            else:
                self.profile = None
                self.panel.curve.setData([], [])
        self.panel.show_tools(rectangle=self.rectangle_on, line=self.line_on)
        if self.active:
            self._watch.start()
        else:
            self._watch.stop()
            self._measured_image = None
        if on:
            self.switchedOn.emit()
            self.request_update()
        elif not self.active:
            self.switchedOff.emit()

    def _area(self) -> tuple[float, float, float, float]:
        """Where new ROIs go: the part of the image in sight (x, y, width, height)."""
        (x0, x1), (y0, y1) = self.viewer.view.viewRange()
        placed = self.viewer.image_rect()
        if placed is not None:
            left, top, width, height = placed
            x0, x1 = max(x0, left), min(x1, left + width)
            y0, y1 = max(y0, top), min(y1, top + height)
            if x1 <= x0 or y1 <= y0:  # the image is out of sight: its middle
                x0, x1, y0, y1 = left, left + width, top, top + height
        return x0, y0, x1 - x0, y1 - y0

    def _place(self, roi: pg.ROI) -> None:
        x, y, w, h = self._area()
        if roi is self.rect:
            size = (max(1, round(w / 4)), max(1, round(h / 4)))
            centre = (x + w / 2, y + 0.4 * h)
            pos = (round(centre[0] - size[0] / 2), round(centre[1] - size[1] / 2))
            roi.setPos(pos, update=False)
            roi.setSize(size)
        else:
            row = math.floor(y + 0.72 * h) + 0.5  # through pixel centres
            self.set_line((x + 0.25 * w, row), (x + 0.75 * w, row))
        self._placed.add(roi)

    def _overlaps_image(self, roi: pg.ROI) -> bool:
        placed = self.viewer.image_rect()
        if placed is None:
            return True
        left, top, width, height = placed
        rect = roi.mapRectToParent(roi.boundingRect())
        return (
            rect.right() > left
            and rect.bottom() > top
            and rect.left() < left + width
            and rect.top() < top + height
        )

    def close(self) -> None:
        """The window closes: both tools off (their ROIs leave the view before the view
        is deleted), nothing measured again."""
        self.set_rectangle_on(False)
        self.set_line_on(False)
        self._timer.stop()
        self._watch.stop()

    # ------------------------------------------------------------ geometry
    def rectangle(self) -> tuple[float, float, float, float]:
        """The rectangle in image pixels: x, y, width, height."""
        pos, size = self.rect.pos(), self.rect.size()
        return pos.x(), pos.y(), size.x(), size.y()

    def set_rectangle(self, x: float, y: float, w: float, h: float) -> None:
        self.rect.setPos((x, y), update=False)
        self.rect.setSize((w, h))

    def line_points(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The line's two ends in image pixels, as (x, y)."""
        a, b = (self.line.mapToParent(h.pos()) for h in self.line.getHandles()[:2])
        return (a.x(), a.y()), (b.x(), b.y())

    def set_line(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        first, second = self.line.getHandles()[:2]
        self.line.movePoint(first, QPointF(*p0), finish=False)
        self.line.movePoint(second, QPointF(*p1))

    # ------------------------------------------------------------ measuring
    def _frame_drawn(self) -> None:
        if self.active:  # cheap: called for every frame drawn
            self.request_update()

    def _check_image(self) -> None:
        if self.viewer.image is not self._measured_image:
            self.request_update()

    def request_update(self) -> None:
        """Measure again soon: now if the last update is old enough, else when it is."""
        if not self.active or self._timer.isActive():
            return
        wait = max(0.0, self._last_update + self._interval - time.perf_counter())
        self._timer.start(math.ceil(wait * 1000))  # 0: on the next turn of the event loop

    def update_now(self) -> None:
        self._timer.stop()
        if not self.active or not self.panel.isVisible():
            return
        start = time.perf_counter()
        image = self._measured_image = self.viewer.image
        if image is not None and image.ndim != 2:
            image = None
            message = "Measurements need a one-channel image (this one is colour)."
        else:
            message = "No image yet."
        pixel_um = self._pixel_size_um()
        placement = self.viewer.placement
        if self.rectangle_on:
            self._update_rectangle(image, placement, message, pixel_um)
        if self.line_on:
            self._update_line(image, placement, message, pixel_um)
        self.updates += 1
        self._last_update = time.perf_counter()
        self._interval = max(MIN_INTERVAL_S, BUDGET * (self._last_update - start))

    def _pixel_size_um(self) -> float:
        """The viewer's pixel size (its scale bar's): 0 when unknown."""
        scale_bar = getattr(self.viewer, "scale_bar", None)
        return float(getattr(scale_bar, "pixel_size_um", 0.0) or 0.0)

    def _update_rectangle(
        self, image: np.ndarray | None, placement: Placement, message: str, pixel_um: float
    ) -> None:
        if image is None:
            self.stats = None
            self.panel.say(self.panel.stats_label, RECT_COLOUR, f"Rectangle: {message}")
            return
        x, y, w, h = self.rectangle()
        scale = placement.scale
        stats = region_statistics(image, *placement.to_image(x, y), w / scale, h / scale)
        self.stats = stats  # bounds: pixels of ``image``
        if stats.n == 0:
            text = "Rectangle: no pixels (outside the image, or of zero size)."
            self.panel.say(self.panel.stats_label, RECT_COLOUR, text)
            return
        x0, y0 = (round(v) for v in placement.to_map(*stats.bounds[:2]))  # in the view
        x1, y1 = (round(v) for v in placement.to_map(*stats.bounds[2:]))
        where = f"Rectangle {x1 - x0} × {y1 - y0} px at ({x0}, {y0})"
        if pixel_um > 0:
            where += f" = {(x1 - x0) * pixel_um:.4g} × {(y1 - y0) * pixel_um:.4g} µm"
        values = "   ".join(
            f"{name} {format_value(value)}"
            for name, value in (
                ("Mean", stats.mean),
                ("Std", stats.std),
                ("Min", stats.min),
                ("Max", stats.max),
            )
        )
        lines = [where, f"{values}   N {stats.n}"]
        if scale > 1:
            lines.append(_coarser(scale))
        self.panel.say(self.panel.stats_label, RECT_COLOUR, *lines)

    def _update_line(
        self, image: np.ndarray | None, placement: Placement, message: str, pixel_um: float
    ) -> None:
        curve = self.panel.curve
        if image is None:
            self.profile = None
            curve.setData([], [])
            self.panel.say(self.panel.line_label, LINE_COLOUR, f"Line: {message}")
            return
        p0, p1 = self.line_points()
        drawn = placement.scale  # map pixels a pixel of ``image`` spans
        sampled = line_profile(image, placement.to_image(*p0), placement.to_image(*p1))
        # distances in the view's pixels (map pixels), values those of the pixels drawn
        profile = LineProfile(sampled.distances * drawn, sampled.values, sampled.length * drawn)
        self.profile = profile
        scale, unit = (pixel_um, "µm") if pixel_um > 0 else (1.0, "px")
        self.panel.plot.setLabel("bottom", "Distance", units=unit)
        # connect="finite": the part of the line outside the image is a gap
        curve.setData(profile.distances * scale, profile.values, connect="finite")
        length = f"{profile.length:.1f} px"
        if pixel_um > 0:
            length += f" = {profile.length * pixel_um:.4g} µm"
        lines = [f"Line {length}, from ({p0[0]:.1f}, {p0[1]:.1f}) to ({p1[0]:.1f}, {p1[1]:.1f})"]
        if drawn > 1:
            lines.append(_coarser(drawn))
        self.panel.say(self.panel.line_label, LINE_COLOUR, *lines)


def _coarser(scale: float) -> str:
    """What a measurement on a zoomed-out map is made of."""
    factor = f"{scale:g}"
    return (
        f"Measured on the map as shown: 1/{factor} resolution, each pixel the mean of "
        f"{factor} × {factor} (zoom in for full resolution)."
    )
