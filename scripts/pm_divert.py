"""Divert frames to your own code: a running maximum projection, shown in a view.

Returning None would also keep them from the default saving; this one passes the frame
on as well, so the dataset is complete.
"""

import numpy as np

from app import processor, show_image

_state = {"projection": None}


@processor(enabled=False)
def running_max_projection(image, metadata):
    projection = _state["projection"]
    if projection is None or projection.shape != image.shape or metadata["Axes"].get("time") == 0:
        projection = image.copy()
    else:
        np.maximum(projection, image, out=projection)
    _state["projection"] = projection
    show_image("max projection", projection)
    return image, metadata
