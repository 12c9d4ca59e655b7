"""The status bar's numbers: rates from counters sampled on a timer."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PyQt6.QtWidgets import QLabel, QStatusBar

from app.acquisition.acquisition import Acquisition
from app.ui.common.free_space import FreeSpaceWatch
from app.ui.common.steady_text import SteadyText


@dataclass
class RateMeter:
    """Turns a growing counter, read on a timer, into a rate that does not fall to 0
    between the frames of a time-lapse: the rate over the last changes seen (up to
    ``changes``), not over the last tick (a burst of more changes than that, a long
    Z-stack at each time point, fills it: its waits read 0 after 5 s). A counter's
    first reading (after ``reset``, or a new counter) is where it starts, not a change:
    a Snap just after Live stopped is one frame, no rate over the time since."""

    changes: int = 20
    _seen: deque[tuple[float, float]] = field(default_factory=deque)
    _last: float | None = None  # the value read last (None: none since the reset)

    def rate(self, value: float, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        seen, last = self._seen, self._last
        self._last = value
        if last is None or value < last:
            seen.clear()  # the first reading of this counter (another acquisition's)
            return 0.0
        if value > last:
            seen.append((now, value))
            while len(seen) > self.changes:
                seen.popleft()
        if len(seen) < 2:
            return 0.0
        (t0, v0), (t1, v1) = seen[0], seen[-1]
        if t1 <= t0:
            return 0.0
        typical_gap = (t1 - t0) / (len(seen) - 1)
        if now - t1 > max(5.0, 3 * typical_gap):
            return 0.0  # it stopped (Live off, nothing displayed): say so
        return (v1 - v0) / (t1 - t0)

    def reset(self) -> None:
        self._seen.clear()
        self._last = None


def free_disk_text(free: int | None) -> str:
    return "disk: ?" if free is None else f"disk free {free / 1e9:.1f} GB"


class StatusLine:
    """The status bar's text: what the camera, the display and the saver are doing,
    from the status snapshot of the acquisition shown (or Live's frame count)."""

    def __init__(self, bar: QStatusBar | None) -> None:
        assert bar is not None  # a QMainWindow always makes its status bar
        # a long line is cut at the window's edge, never widens the window; rewritten
        # twice a second, without laying the window out again
        self.text = SteadyText(wrap=False)
        self.pixel = QLabel()
        bar.addWidget(self.text, 1)
        bar.addPermanentWidget(self.pixel)
        self._camera = RateMeter()
        self._display = RateMeter()
        self._saved = RateMeter()
        #: what the rates are of: an acquisition, Live, or neither (Snap); when it
        #: changes, the rates start again (a Snap after Live is no frame of its stream)
        self._source: object = None
        self.free_space = FreeSpaceWatch()

    def update(
        self,
        acquisition: Acquisition | None,
        live_frames: int,
        displayed: int,
        image: np.ndarray | None,
        data_directory: str,
        map_size: tuple[int, int] | None = None,
        map_scale: float = 1.0,
        started_by: str = "",
        live: bool = False,
        now: float | None = None,
    ) -> None:
        """``map_size`` (width, height in full-resolution pixels) when the image is a
        part of a tiled map, drawn at 1/``map_scale`` of its resolution; ``started_by``
        says who started the acquisition ("started from the console or a script");
        ``live``: Live is on. ``now``: the time the counters were read (perf_counter)."""
        now = time.perf_counter() if now is None else now
        # an acquisition by its id: a reference here would keep one of images kept in
        # memory alive after the window let it go
        source = id(acquisition) if acquisition is not None else live
        if source != self._source:
            self._source = source
            for meter in (self._camera, self._display, self._saved):
                meter.reset()
        parts = []
        if acquisition is not None:
            status = acquisition.status
            counts = status.counts
            if started_by:
                parts.append(f"acquiring '{acquisition.name}', {started_by}")
            parts.append(f"camera {self._camera.rate(counts['acquired'], now):.0f} fps")
            parts.append(f"{self._saved.rate(acquisition.bytes_saved, now) / 1e6:.0f} MB/s saved")
            depths = status.queue_depths
            parts.append(f"queues: processing {depths['processing']}, saving {depths['saving']}")
            if status.long_call:
                parts.append(f"waiting on {status.long_call}")
            parts.append(
                f"lost {counts['lost']}  dropped by processors {counts['dropped_by_processors']}"
            )
        else:
            parts.append(f"camera {self._camera.rate(live_frames, now):.0f} fps")
        parts.append(f"displayed {self._display.rate(displayed, now):.0f} fps")
        parts.append(free_disk_text(self.free_space.free(data_directory or str(Path.home()))))
        if image is not None and map_size is not None:
            shown = f", shown at 1/{map_scale:g}" if map_scale > 1 else ""
            parts.insert(0, f"map {map_size[0]}×{map_size[1]} px {image.dtype}{shown}")
        elif image is not None:
            parts.insert(0, f"{image.shape[1]}×{image.shape[0]} {image.dtype}")
        self.text.setText("   ".join(parts))

    def show_pixel(self, x: int, y: int, value: float) -> None:
        self.pixel.setText(f"x {x}  y {y}  value {value:g}")
