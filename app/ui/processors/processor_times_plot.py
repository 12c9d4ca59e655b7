"""Each processor's time per frame over the last seconds: one small plot, one curve
per processor, so a processor that slows the stream stands out at once.

The points are the statistics' own (``ProcessorStats.timeline``: when each recent frame
ended and how long the processor took on it); the panel's timer redraws them. Each
processor keeps its colour while it is registered; the panel shows it beside its name.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QGraphicsItem

from app.processing.pipeline import Processor

#: bright on the plot's dark background, told apart in order
PALETTE = (
    "#3aa0ff",
    "#ff9f1c",
    "#4cd964",
    "#ff4d6d",
    "#c58cff",
    "#ffe14d",
    "#3fe0d0",
    "#ff8fd0",
    "#b5e655",
    "#c0c0c0",
)


#: the y axis reaches at least this: times under it are still told apart on it, and a
#: top that followed them (0.02 ms for a pass-through) re-scaled the axis as the first
#: frames came, each time laying the plot out and painting it again (2-5 ms of the GUI
#: thread, in the first second of ``scopeflow bench gui``'s acquisitions)
MIN_TOP_MS = 1.0


class ProcessorTimesPlot(pg.PlotWidget):
    """ms per frame of each processor over the last ``window_s`` seconds (x: seconds
    before now)."""

    def __init__(self, window_s: float = 30.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._colours: dict[str, str] = {}
        # processors whose curve is empty, and the frames each had when last drawn: a
        # pipeline has many processors switched off, and each empty curve set again
        # cost the GUI thread at every refresh (a refresh takes its turn alone, but its
        # length adds to whatever else the event loop does in that turn)
        self._empty: set[str] = set()
        self._frames_seen: dict[str, int] = {}
        self.setMinimumHeight(90)
        self.setMaximumHeight(160)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.25)
        for side in ("left", "bottom"):
            # an axis with a grid covers the plot, so every new curve repainted it, from
            # a QPicture replayed line by line: ~20 ms of the GUI thread per refresh
            # (3.8 ms as a pixmap that Qt redraws only when the axis changes)
            self.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setLabel("left", "ms")
        self.setLabel("bottom", "seconds ago")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.setXRange(-window_s, 0, padding=0.01)
        self.setYRange(0, MIN_TOP_MS, padding=0)
        self.setToolTip(
            f"Time per frame of each processor over the last {window_s:.0f} s "
            "(colours as beside the names)"
        )

    def colour(self, name: str) -> QColor:
        return QColor(self._colour_of(name))

    def _colour_of(self, name: str) -> str:
        if name not in self._colours:
            used = set(self._colours.values())
            free = [c for c in PALETTE if c not in used]
            self._colours[name] = free[0] if free else PALETTE[len(self._colours) % len(PALETTE)]
        return self._colours[name]

    def set_processors(self, names: Iterable[str]) -> None:
        """One curve per name (new ones added, gone ones removed with their colour)."""
        wanted = list(names)
        for name in [n for n in self.curves if n not in wanted]:
            self.removeItem(self.curves.pop(name))
            self._colours.pop(name, None)
            self._empty.discard(name)
            self._frames_seen.pop(name, None)
        for name in wanted:
            if name not in self.curves:
                pen = pg.mkPen(self._colour_of(name), width=1)  # thin lines draw fast
                curve = self.plot([], [], pen=pen, name=name)
                self.curves[name] = curve

    def refresh(self, processors: Iterable[Processor], now: float) -> None:
        """Redraw each processor's curve from its statistics, as of ``now``
        (``time.perf_counter()``)."""
        shown = []
        for processor in processors:
            curve = self.curves.get(processor.name)
            if curve is None:
                continue
            frames = processor.stats.frames_in
            if processor.name in self._empty and self._frames_seen.get(processor.name) == frames:
                continue  # nothing in its window before, and no frame since: still nothing
            self._frames_seen[processor.name] = frames
            ends, ms = processor.stats.timeline(now - self.window_s)
            if ms.size:
                self._empty.discard(processor.name)
            else:
                self._empty.add(processor.name)
            curve.setData(*peak_envelope(ends - now, ms, -self.window_s, 0.0))
            shown.append(ms)
        every = np.concatenate(shown) if shown else np.empty(0)
        top = nice_ceiling(float(np.percentile(every, 99))) if every.size else MIN_TOP_MS
        top = max(top, MIN_TOP_MS)
        if self.getViewBox().viewRange()[1][1] != top:
            self.setYRange(0, top, padding=0)


ENVELOPE_BINS = 300  # about the plot's width in pixels


def peak_envelope(
    x: np.ndarray, y: np.ndarray, start: float, stop: float, bins: int = ENVELOPE_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Thousands of frames on a few hundred pixels, as each bin's lowest and highest
    value (x at the bin's centre): a single slow frame still shows. Done here, once,
    instead of by pyqtgraph at every paint, which with 2,048 points a curve took the
    GUI thread ~20 ms twice a second while acquiring. Fewer points than bins: as they
    are."""
    if len(x) <= 2 * bins:
        return x, y
    which = np.clip(((x - start) * (bins / (stop - start))).astype(np.intp), 0, bins - 1)
    used = np.unique(which)
    starts = np.searchsorted(which, used)  # x is sorted (oldest first): bins in order
    low = np.minimum.reduceat(y, starts)
    high = np.maximum.reduceat(y, starts)
    centres = start + (used + 0.5) * ((stop - start) / bins)
    return np.repeat(centres, 2), np.column_stack((low, high)).ravel()


def nice_ceiling(ms: float) -> float:
    """The y range's top for a curve whose 99th percentile is ``ms``: 1, 2 or 5 times a
    power of ten, with some room. A lone slow frame (the first, often) reaches the top
    edge instead of flattening every other curve for the plot's whole window; a
    processor that stays slow moves the top within a refresh. Changes in steps, so a
    steady stream does not make the axis jitter."""
    if not np.isfinite(ms) or ms <= 0:
        return 1.0
    wanted = ms * 1.25
    power = 10.0 ** np.floor(np.log10(wanted))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * power >= wanted:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - 10 always fits
