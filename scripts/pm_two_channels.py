"""Return two images: the frame, and an inverted copy, saved as two channels.

Each image is named by its axes: setting ``metadata["Axes"]["channel"]`` on both
keeps them apart in the dataset even when the events had no channel axis.
"""

import copy

import numpy as np

from app import processor


@processor(enabled=False)
def with_inverted_channel(image, metadata):
    inverted = np.iinfo(image.dtype).max - image  # a new array; the original is kept
    metadata_2 = copy.deepcopy(metadata)
    metadata["Axes"]["channel"] = metadata["Channel"]
    metadata_2["Axes"]["channel"] = metadata_2["Channel"] = metadata["Channel"] + "-inverted"
    return [(image, metadata), (inverted, metadata_2)]
