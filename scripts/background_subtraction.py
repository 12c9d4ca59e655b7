"""Background subtraction with a running estimate of the background.

The background is a slowly updated average of the frames (per channel), so stage
drift and bleaching are followed; half of it is subtracted, in float32, and the result
clipped back to the camera's type.
"""

import numpy as np

from app import processor

RATE = 0.05  # how fast the estimate follows the frames
_background: dict[str, np.ndarray] = {}


@processor(enabled=False)
def subtract_background(image, metadata):
    channel = metadata.get("Channel", "")
    frame = image.astype(np.float32)
    background = _background.get(channel)
    if background is None or background.shape != frame.shape:
        background = frame.copy()
    else:
        background += RATE * (frame - background)
    _background[channel] = background
    corrected = np.clip(frame - 0.5 * background, 0, np.iinfo(image.dtype).max)
    image[:] = corrected.astype(image.dtype)
    metadata["BackgroundSubtracted"] = True
    return image, metadata
