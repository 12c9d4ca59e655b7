"""Feedback: queue new acquisition events from what a frame shows.

As a processor (off by default), it re-images a position 2 µm higher whenever a
frame's brightest pixel is saturated, once per time point. Run this file (Run in the
Scripts panel) for a complete adaptive acquisition that ends itself with
``event_queue.put(None)``.
"""

import numpy as np

from app import Acquisition, processor


@processor(enabled=False)
def refocus_when_saturated(image, metadata, event_queue):
    axes = metadata["Axes"]
    if image.max() >= np.iinfo(image.dtype).max and not axes.get("refocus"):
        z = metadata.get("ZPosition_um", 0.0) + 2.0
        event_queue.put({"axes": {**axes, "refocus": 1}, "z": z})
    return image, metadata


def follow_the_focus(image, metadata, event_queue):
    """Step Z until the image sharpens, then stop the acquisition."""
    t = metadata["Axes"]["time"]
    sharpness = float(np.var(image.astype(np.float32)))
    follow_the_focus.scores.append(sharpness)
    if t >= 15 or (t > 3 and sharpness < 0.5 * max(follow_the_focus.scores)):
        event_queue.put(None)
    else:
        event_queue.put({"axes": {"time": t + 1}, "z": metadata["ZPosition_um"] - 4.0})
    return image, metadata


follow_the_focus.scores = []

if __name__ == "__main__":
    acq = Acquisition(directory="data", name="adaptive", image_process_fn=follow_the_focus)
    acq.acquire({"axes": {"time": 0}, "z": 30.0})
    acq.await_completion()
    print("adaptive acquisition:", acq.counts.snapshot(), "in", acq.dataset_path)
