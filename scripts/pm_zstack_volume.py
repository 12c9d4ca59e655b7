"""Accumulate each Z-stack and process it as a volume (ZYX), as in pycro-manager's
example: when the stack is complete, its best-focus plane is saved as a new channel
and its maximum projection is shown in a view of its own.

Set NUM_Z_STEPS to the number of slices of your stacks. A stack also ends when a frame
of another time point, position or channel arrives.
"""

import copy

import numpy as np

from app import processor, show_image

NUM_Z_STEPS = 5
_stack = {"key": None, "planes": []}


@processor(enabled=False)
def zstack_volume(image, metadata):
    axes = metadata["Axes"]
    if "z" not in axes:
        return image, metadata
    key = tuple(sorted((k, v) for k, v in axes.items() if k != "z"))
    if key != _stack["key"]:
        _stack["key"], _stack["planes"] = key, []
    _stack["planes"].append(image)
    if len(_stack["planes"]) < NUM_Z_STEPS:
        return image, metadata
    volume = np.stack(_stack["planes"], axis=0)  # ZYX
    _stack["key"], _stack["planes"] = None, []
    show_image("z max projection", volume.max(axis=0))
    planes = volume.reshape(volume.shape[0], -1).astype(np.float32)
    sharpness = planes.var(axis=1) / np.maximum(planes.mean(axis=1), 1.0)  # normalised variance
    best_index = int(np.argmax(sharpness))
    best_metadata = copy.deepcopy(metadata)
    best_metadata["Channel"] = f"{metadata['Channel']}-best-focus"
    best_metadata["BestFocusPlane"] = best_index
    return [(image, metadata), (volume[best_index].copy(), best_metadata)]
