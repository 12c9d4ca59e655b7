"""What a processor returns is owned by the acquisition before it is queued.

Frames wait in queues (saving, display) after a processor returned them. A processor
that returns one preallocated buffer each frame (a common speed idiom:
``np.multiply(image, 2, out=self.buffer)``) would otherwise overwrite frames still
waiting, and later pixels would be saved under earlier axes.

The rule: an output is kept as it is when no one else can change it, that is when it
is the frame handed in or a view of it (the frame is a fresh buffer per image, owned
by the acquisition), or a new array that the processor kept no reference to. Anything
else (an array or metadata the processor still holds, directly or through a tuple or
list it returned, and views of arrays other than the frame) is copied. Whether the
processor kept a reference is read from CPython's reference counts, against a baseline
measured through the same code, so a new array costs nothing and only a reused buffer
pays for a copy.
"""

from __future__ import annotations

import copy
import functools
import sys
from typing import Any

import numpy as np

ImageAndMetadata = tuple[np.ndarray, dict[str, Any]]


def take_ownership(result: Any, frame: np.ndarray, metadata: dict[str, Any]) -> tuple[Any, bool]:
    """``result`` (a processor's return value, checked later) with every part the
    processor may change later replaced by a copy; and whether anything was copied.

    Call it with the only other reference to ``result`` being the caller's variable.
    """
    shared_container = _refs(result) > _baseline_container_refs()
    if isinstance(result, tuple):
        return _own_item(result, frame, metadata, shared_container)
    if isinstance(result, list):
        copied = False
        owned = []
        for index in range(len(result)):
            item = result[index]
            if isinstance(item, tuple):
                shared_item = shared_container or _refs(item) > _baseline_item_refs()
                owned_item, item_copied = _own_item(item, frame, metadata, shared_item)
                owned.append(owned_item)
                copied = copied or item_copied
            else:
                owned.append(item)  # not an (image, metadata) pair: reported later
            del item
        return owned, copied
    return result, False


def _own_item(
    item: tuple[Any, ...], frame: np.ndarray, metadata: dict[str, Any], shared: bool
) -> tuple[Any, bool]:
    if len(item) != 2:
        return item, False
    image, md = item
    copied = False
    if (
        isinstance(image, np.ndarray)
        and not _belongs_to_frame(image, frame)
        and (shared or image.base is not None or _refs(image) > _baseline_part_refs())
    ):
        image = image.copy()
        copied = True
    if (
        isinstance(md, dict)
        and md is not metadata
        and (shared or _refs(md) > _baseline_part_refs())
    ):
        md = copy.deepcopy(md)
        copied = True
    return (image, md), copied


def _belongs_to_frame(image: np.ndarray, frame: np.ndarray) -> bool:
    """The frame itself or a view of its memory (the in-place editing idiom)."""
    return image is frame or bool(np.may_share_memory(image, frame))


def _refs(obj: Any) -> int:
    return sys.getrefcount(obj)


# The baselines: the counts of objects nothing else holds, measured through the very
# code above (the count depends on the interpreter's version), once, on first use.
@functools.cache
def _baseline_container_refs() -> int:
    result = _fresh_result()  # the caller's variable, as in take_ownership's caller
    return _measure_container(result)


def _measure_container(result: Any) -> int:
    return _refs(result)


@functools.cache
def _baseline_item_refs() -> int:
    return _measure_item([_fresh_pair()])


def _measure_item(result: list[Any]) -> int:
    index = 0
    item = result[index]
    count = _refs(item)
    del item
    return count


@functools.cache
def _baseline_part_refs() -> int:
    return _measure_part(_fresh_pair())


def _measure_part(item: tuple[Any, ...]) -> int:
    image, _ = item
    return _refs(image)


def _fresh_pair() -> tuple[np.ndarray, dict[str, Any]]:
    return (np.empty(1), {})


def _fresh_result() -> Any:
    return _fresh_pair()
