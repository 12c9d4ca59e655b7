"""A focus-quality metric written into each image's metadata, and plotted.

The metric is the normalised variance of the image: high when beads are sharp, low
when they are blurred. It goes into metadata["FocusScore"] (saved with the image) and
into a plot of score against Z (or frame number).
"""

import numpy as np

from app import processor, show_plot

_history: list[tuple[float, float]] = []


@processor(enabled=False)
def focus_score(image, metadata):
    data = image.astype(np.float32)
    mean = float(data.mean()) or 1.0
    score = float(data.var() / mean)
    metadata["FocusScore"] = score
    x = metadata.get("ZPosition_um", float(len(_history)))
    _history.append((x, score))
    del _history[:-500]
    xs, ys = zip(*_history, strict=True)
    show_plot("focus score", ys, xs)
    return image, metadata
