"""Return two images: the frame, and a copy saved under a new channel."""

import copy

import numpy as np

from app import processor


@processor(enabled=False)
def with_inverted_channel(image, metadata):
    inverted = np.iinfo(image.dtype).max - image  # a new array; the original is kept
    metadata_2 = copy.deepcopy(metadata)
    metadata_2["Channel"] = metadata["Channel"] + "-inverted"
    return [(image, metadata), (inverted, metadata_2)]
