"""Pixels as a screen holds them: 32 bits each, 0xffRRGGBB (Qt's ``Format_RGB32``).

Qt draws an image onto a window by converting each of its pixels to the window's own
format first, at every paint, on the GUI thread. Measured with ``QPainter.drawImage``
scaling a 1024x1024 image into 900x900 (no smoothing, as the viewer draws): 5.8 ms for
8-bit values with a colour table (what pyqtgraph makes of an 8-bit frame with levels),
3.4 ms for 8-bit grey, 2.0 ms for RGBA, 0.64 ms for pixels already in this format.
So the thread that prepares frames for display makes them in this format, off the GUI
thread (a table lookup: ``np.take`` lets other threads run meanwhile), and the viewer
draws them as they are (``ui/display/screen_image_item.py``). Plain numpy, no Qt.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from app.processing.colour_tables import colour_table

OPAQUE = np.uint32(0xFF000000)


def pixel(
    red: np.ndarray, green: np.ndarray, blue: np.ndarray, opaque: np.ndarray | None = None
) -> np.ndarray:
    """Screen pixels of three 8-bit planes of one shape (``opaque``: 255s of that shape,
    if the caller keeps one)."""
    if sys.byteorder == "little":  # 0xffRRGGBB is B, G, R, 255 in memory: one interleave
        if opaque is None:
            opaque = np.full(red.shape, 255, np.uint8)
        return np.stack([blue, green, red, opaque], axis=-1).view(np.uint32)[..., 0]
    wide = [plane.astype(np.uint32) for plane in (red, green, blue)]
    return OPAQUE | (wide[0] << 16) | (wide[1] << 8) | wide[2]


@functools.cache
def screen_table(name: str) -> np.ndarray:
    """The colour table ``name`` (``colour_tables``) as 256 screen pixels (read-only)."""
    table = colour_table(name)
    pixels = np.ascontiguousarray(pixel(table[:, 0], table[:, 1], table[:, 2]))
    pixels.setflags(write=False)
    return pixels


def rgb_of(pixels: np.ndarray) -> np.ndarray:
    """Screen pixels back as (h, w, 3) uint8 RGB: for tests and screenshots."""
    return np.stack([(pixels >> shift & 0xFF).astype(np.uint8) for shift in (16, 8, 0)], -1)


def to_screen(values: np.ndarray, table_name: str) -> np.ndarray:
    """8-bit display values as screen pixels in the colours of ``table_name``."""
    return np.take(screen_table(table_name), values)
