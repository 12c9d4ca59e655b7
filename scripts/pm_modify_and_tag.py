"""pycro-manager's first example: change pixels and add metadata.

Off by default: switch it on in the Processors panel to try it.
"""

from app import processor


@processor(enabled=False)
def modify_and_tag(image, metadata):
    metadata["a_new_metadata_key"] = "a new value"
    image[:100, :100] = 0  # in place: no copy of the frame is made
    return image, metadata
