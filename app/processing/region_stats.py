"""Measurements on a raw frame: a rectangle's statistics and a line's profile. No Qt.

Coordinates are the viewer's: pixel (row ``r``, column ``c``) covers the square
``[c, c + 1) x [r, r + 1)``, so its centre is at ``(c + 0.5, r + 0.5)``; ``x`` runs
along columns and ``y`` along rows.

Both work on views of the frame: a rectangle is a slice, and the only buffer
allocated is a block of at most ``BLOCK_PIXELS`` values for the standard deviation,
whatever the size of the rectangle (a whole 2048x2048 frame included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK_PIXELS = 1 << 18  # 2 MB of float64 at most for the deviations


@dataclass(frozen=True)
class RegionStats:
    """Statistics of the pixels of a rectangle that lie in the image.

    ``std`` is the sample standard deviation (n - 1 in the denominator), as ImageJ and
    Fiji report it; 0 for a single pixel. With no pixel (``n == 0``: a rectangle of
    zero size, or outside the image) the values are NaN. ``bounds`` is the pixels
    measured as a slice: columns ``x0:x1`` and rows ``y0:y1`` of the image.
    """

    n: int
    mean: float
    std: float
    min: float
    max: float
    bounds: tuple[int, int, int, int]  # x0, y0, x1, y1

    def region(self, image: np.ndarray) -> np.ndarray:
        """The measured pixels of ``image`` (a view, not a copy)."""
        x0, y0, x1, y1 = self.bounds
        return image[y0:y1, x0:x1]


def pixel_bounds(
    shape: tuple[int, ...], x: float, y: float, w: float, h: float
) -> tuple[int, int, int, int]:
    """The pixels whose centres lie in ``[x, x + w) x [y, y + h)``, clipped to an image
    of ``shape`` (rows, columns): ``(x0, y0, x1, y1)`` with ``x0 <= x1``, ``y0 <= y1``.
    A negative width or height counts from the other corner (a rectangle dragged
    inside out)."""
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    rows, columns = shape[0], shape[1]

    def span(start: float, size: float, limit: int) -> tuple[int, int]:
        if not (math.isfinite(start) and math.isfinite(size)):
            return 0, 0
        low = min(max(math.ceil(start - 0.5), 0), limit)
        high = min(max(math.ceil(start + size - 0.5), low), limit)
        return low, high

    x0, x1 = span(x, w, columns)
    y0, y1 = span(y, h, rows)
    return x0, y0, x1, y1


def region_statistics(image: np.ndarray, x: float, y: float, w: float, h: float) -> RegionStats:
    """Mean, standard deviation, min, max and number of the pixels of the 2-D ``image``
    in the rectangle at ``(x, y)`` of size ``w`` x ``h`` (see ``pixel_bounds``)."""
    if image.ndim != 2:
        raise ValueError(f"statistics need a 2-D image, not one of shape {image.shape}")
    bounds = pixel_bounds(image.shape, x, y, w, h)
    x0, y0, x1, y1 = bounds
    region = image[y0:y1, x0:x1]
    n = int(region.size)
    if n == 0:
        nan = float("nan")
        return RegionStats(0, nan, nan, nan, nan, bounds)
    # reductions straight on the slice: numpy buffers the conversion, no copy
    mean = float(region.sum(dtype=np.float64)) / n
    low, high = float(region.min()), float(region.max())
    std = 0.0
    if n > 1 and high > low:
        std = math.sqrt(_squared_deviations(region, mean) / (n - 1))
    return RegionStats(n, mean, std, low, high, bounds)


def _squared_deviations(region: np.ndarray, mean: float) -> float:
    """Sum of (value - mean)^2, a block of rows at a time into one reused buffer
    (the second pass of the two-pass variance: exact where sum of squares is not)."""
    rows, columns = region.shape
    step = max(1, BLOCK_PIXELS // columns)
    buffer = np.empty((min(step, rows), columns), np.float64)
    total = 0.0
    for start in range(0, rows, step):
        block = region[start : start + step]
        work = buffer[: block.shape[0]]
        np.subtract(block, mean, out=work, dtype=np.float64)
        total += float(np.einsum("ij,ij->", work, work))
    return total


@dataclass(frozen=True)
class LineProfile:
    """Values sampled along a line, about one pixel apart, from its first point.

    ``distances`` are in pixels from the first point; ``values`` are interpolated
    bilinearly between pixel centres (Fiji's default), NaN where the line leaves the
    image. A line of length 0 has one sample, the value at its point.
    """

    distances: np.ndarray
    values: np.ndarray
    length: float


def line_profile(
    image: np.ndarray, p0: tuple[float, float], p1: tuple[float, float]
) -> LineProfile:
    """The profile of the 2-D ``image`` from ``p0`` to ``p1`` (``(x, y)`` points)."""
    if image.ndim != 2:
        raise ValueError(f"a profile needs a 2-D image, not one of shape {image.shape}")
    (xa, ya), (xb, yb) = (float(p0[0]), float(p0[1])), (float(p1[0]), float(p1[1]))
    length = math.hypot(xb - xa, yb - ya)
    if not math.isfinite(length):
        raise ValueError(f"the line's points must be finite, not {p0} and {p1}")
    steps = max(1, round(length)) if length > 0 else 0
    t = np.linspace(0.0, 1.0, steps + 1)
    xs = xa + t * (xb - xa)
    ys = ya + t * (yb - ya)
    return LineProfile(t * length, sample_bilinear(image, xs, ys), length)


def sample_bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Values of ``image`` at the points ``(xs, ys)``, bilinear between pixel centres
    (constant over the outer half pixel), NaN outside the image. Reads only the four
    neighbours of each point."""
    rows, columns = image.shape
    values = np.full(xs.shape, np.nan)
    inside = (xs >= 0) & (xs <= columns) & (ys >= 0) & (ys <= rows)
    if rows == 0 or columns == 0 or not inside.any():
        return values
    u = np.clip(xs[inside] - 0.5, 0, columns - 1)  # in pixel-centre units
    v = np.clip(ys[inside] - 0.5, 0, rows - 1)
    j0 = np.floor(u).astype(np.intp)
    i0 = np.floor(v).astype(np.intp)
    j1 = np.minimum(j0 + 1, columns - 1)
    i1 = np.minimum(i0 + 1, rows - 1)
    fu = u - j0
    fv = v - i0
    top = (1 - fu) * image[i0, j0] + fu * image[i0, j1]
    bottom = (1 - fu) * image[i1, j0] + fu * image[i1, j1]
    values[inside] = (1 - fv) * top + fv * bottom
    return values
