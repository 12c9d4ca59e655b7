"""Mapping a frame's pixel values to the screen's 8 bits: plain numpy, no Qt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _subsample(image: np.ndarray) -> np.ndarray:
    """About 65,536 pixels of ``image``, evenly spread, whatever its size (a view)."""
    step = max(1, int(np.sqrt(image.size / 65536)))
    return image[::step, ::step]


def _span(sample: np.ndarray) -> tuple[float, float]:
    low, high = float(sample.min()), float(sample.max())
    return (low, high if high > low else low + 1)


def robust_levels(image: np.ndarray) -> tuple[float, float]:
    """Min and max of a subsample: cheap at any size, and close enough for contrast."""
    return _span(_subsample(image))


@dataclass(frozen=True)
class Histogram:
    """A frame's histogram as the viewer draws it: 256 bins of a subsample."""

    centres: np.ndarray
    counts: np.ndarray
    low: float  # the subsample's darkest and brightest values
    high: float


def histogram_of(image: np.ndarray) -> Histogram:
    """256 bins between the darkest and the brightest pixel of a subsample of
    ``image`` (about 65,536 pixels, whatever its size)."""
    sample = _subsample(image)
    low, high = _span(sample)
    bins = np.minimum(((sample - low) * (255.0 / (high - low))).astype(np.intp), 255)
    counts = np.bincount(bins.ravel(), minlength=256)
    centres = low + (np.arange(256) + 0.5) * (high - low) / 256
    return Histogram(centres, counts, low, high)


#: the part of the histogram's range that what it holds must fill, or it is made anew
HISTOGRAM_FILL = 0.5
#: made anew, the range reaches this part of its span beyond what it holds, each side
HISTOGRAM_MARGIN = 0.125


def steady_range(
    shown: tuple[float, float] | None, wanted: tuple[float, float]
) -> tuple[float, float]:
    """The histogram's range for values from ``wanted``'s low to its high: ``shown``
    while it holds them and they fill at least half of it, else theirs with a margin
    (not below 0 for values that are not). Following each refresh's darkest and
    brightest pixel, the range changed at every refresh of a noisy image, twice a
    second, and each change drew the histogram's axis anew: 0.9 to 1.6 ms of the GUI
    thread's CPU, 1 to 3.7 ms while saving (#21)."""
    low, high = wanted
    if shown is not None:
        shown_low, shown_high = shown
        held = shown_low <= low and high <= shown_high
        if held and high - low >= HISTOGRAM_FILL * (shown_high - shown_low):
            return shown
    margin = (high - low) * HISTOGRAM_MARGIN
    return (max(0.0, low - margin) if low >= 0 else low - margin, high + margin)


def clipped_from_low(image: np.ndarray, low: float, high: float) -> tuple[np.ndarray, float]:
    """A new array of ``image`` clipped to ``low``..``high`` minus ``low``, in the image's
    own type, and the width of that range (``low`` and ``high`` brought inside an
    integer type's range first). Times a gain into uint8, it gives display values."""
    if image.dtype.kind in "ui":
        info = np.iinfo(image.dtype)
        low = min(max(low, info.min), info.max)
        high = min(max(high, low + 1), info.max)
    work = np.clip(image, image.dtype.type(low), image.dtype.type(high))
    np.subtract(work, image.dtype.type(low), out=work)
    return work, high - low


def to_uint8(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """A new 8-bit image of ``image`` with ``low``..``high`` mapped to 0..255.

    Clip and shift in the image's own integer type, then one multiply straight into
    the 8-bit result: about half the cost of pyqtgraph rescaling 16-bit data itself.
    """
    work, span = clipped_from_low(image, low, high)
    out = np.empty(image.shape, np.uint8)
    np.multiply(work, np.float32(255.0 / span), out=out, casting="unsafe")
    return out
