"""Named image views: a processor shows an array in a view of its own.

``show_image("mask", mask)`` from any thread stores the array as that view's latest
image; the app shows each named view in a window of its own, refreshed on a timer,
so a processor never waits for the screen. Headless, the latest image of each view
is kept and can be read back with ``latest``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from psygnal import Signal

from app.current import Current
from app.processing.display import LatestFrameSlot


class ImageViews:
    """Latest image per view name."""

    added = Signal(str)  # a view name seen for the first time
    plot_added = Signal(str)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, LatestFrameSlot] = {}
        self._plots: dict[str, LatestFrameSlot] = {}

    def show(self, name: str, image: np.ndarray, metadata: dict[str, Any] | None = None) -> None:
        if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
            raise TypeError(f"show_image needs a 2-D (or RGB 3-D) numpy array, got {image!r:.80}")
        self._slot_in(self._slots, name, self.added).put(image, metadata or {})

    def _slot_in(self, table: dict[str, LatestFrameSlot], name: str, added: Any) -> LatestFrameSlot:
        """The slot called ``name``, made on first use (then ``added`` is emitted)."""
        with self._lock:
            slot = table.get(name)
            is_new = slot is None
            if slot is None:
                slot = table[name] = LatestFrameSlot()
        if is_new:
            added.emit(name)
        return slot

    def names(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def slot(self, name: str) -> LatestFrameSlot:
        with self._lock:
            return self._slots[name]

    def latest(self, name: str) -> np.ndarray | None:
        item = self.slot(name).peek()
        return item[0] if item is not None else None

    def show_plot(self, name: str, y: Any, x: Any = None) -> None:
        y = np.asarray(y, dtype=float).ravel()
        x = np.arange(len(y), dtype=float) if x is None else np.asarray(x, dtype=float).ravel()
        if len(x) != len(y):
            raise ValueError(f"show_plot: x has {len(x)} values but y has {len(y)}")
        self._slot_in(self._plots, name, self.plot_added).put(np.vstack([x, y]), {})

    def plot_names(self) -> list[str]:
        with self._lock:
            return list(self._plots)

    def plot_slot(self, name: str) -> LatestFrameSlot:
        with self._lock:
            return self._plots[name]


_current: Current[ImageViews] = Current(ImageViews)


def current_views() -> ImageViews:
    """The views ``show_image`` fills: the app state's, or one made on first use
    (headless)."""
    return _current.get()


def set_current_views(views: ImageViews | None) -> None:
    _current.set(views)


def show_image(name: str, image: np.ndarray, metadata: dict[str, Any] | None = None) -> None:
    """Show ``image`` in the view called ``name`` (created on first use)."""
    current_views().show(name, image, metadata)


def show_plot(name: str, y: Any, x: Any = None) -> None:
    """Plot ``y`` (against ``x``, or its index) in the plot view called ``name``."""
    current_views().show_plot(name, y, x)
