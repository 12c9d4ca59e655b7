"""Return None to drop a frame: here every other time point is not saved."""

from app import processor


@processor(enabled=False)
def keep_even_time_points(image, metadata):
    if metadata["Axes"].get("time", 0) % 2:
        return None
    return image, metadata
