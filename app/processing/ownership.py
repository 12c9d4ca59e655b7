"""What a processor returns is owned by the acquisition before it is queued.

Frames wait in queues (saving, display) after a processor returned them. A processor
that returns one preallocated buffer each frame (a common speed idiom:
``np.multiply(image, 2, out=self.buffer)``) would otherwise overwrite frames still
waiting, and later pixels would be saved under earlier axes. The same goes for
anything returned that the processor still holds and may change later: the frame it
was given (kept as ``self.last = image``), a view of it, a metadata dict, a list or
array inside the metadata, or one array returned twice in a call.

The rule: an output is kept as it is when no one else can change it. That is read
from CPython's reference counts (``sys.getrefcount``), against baselines measured
through the same code on first use (the counts depend on the interpreter), so a new
array, or the frame changed in place and returned, costs nothing, and only what the
processor kept pays for a copy. A self-check on first use confirms a kept object is
seen as kept; if it is not (another interpreter), every output is copied.
"""

from __future__ import annotations

import copy
import functools
import logging
import sys
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_MUTABLE = (dict, list, set, bytearray, np.ndarray)


class InputRefs:
    """The reference counts of the frame and metadata handed to a processor, read
    just before the call (``inputs_before``), to tell afterwards whether the processor
    kept them."""

    __slots__ = ("base_refs", "frame", "frame_base", "frame_refs", "metadata", "metadata_refs")
    frame: np.ndarray
    frame_base: np.ndarray | None
    metadata: dict[str, Any]
    frame_refs: int
    base_refs: int
    metadata_refs: int


def inputs_before(frame: np.ndarray, metadata: dict[str, Any]) -> InputRefs:
    """The counts, read in a plain function as ``_inputs_kept`` reads them later (a
    class's ``__init__`` is called with its arguments held twice more, by the call's
    tuple and frame: counts read there hid a processor's one extra holder)."""
    refs = InputRefs()
    # held here as _inputs_kept holds them later (an attribute and a local each),
    # so that the counts compare like with like
    frame_base = frame.base if isinstance(frame.base, np.ndarray) else None
    refs.frame, refs.frame_base, refs.metadata = frame, frame_base, metadata
    refs.frame_refs = sys.getrefcount(frame)
    refs.base_refs = sys.getrefcount(frame_base) if frame_base is not None else 0
    refs.metadata_refs = sys.getrefcount(metadata)
    return refs


def take_ownership(result: Any, before: InputRefs) -> tuple[Any, bool]:
    """``result`` (a processor's return value, checked later) with every part the
    processor may change later replaced by a copy; and whether anything was copied.

    The caller holds ``result`` in one variable and ``before`` was read just before
    the call, with the frame and metadata held as they are now.
    """
    if not _counts_are_trustworthy():
        return _copy_all(result), True
    shared_container = sys.getrefcount(result) > _baseline_container_refs()
    if isinstance(result, tuple):
        items: list[Any] = [result]
    elif isinstance(result, list):
        items = list(result)
    else:
        return result, False
    kept_frame, kept_metadata = _inputs_kept(items, before)
    copied = False
    owned: list[Any] = []
    seen_arrays: list[np.ndarray] = []
    for index in range(len(items)):
        item = items[index]
        if not isinstance(item, tuple) or len(item) != 2:
            owned.append(item)  # not an (image, metadata) pair: reported later
            continue
        shared = shared_container or (
            isinstance(result, list) and sys.getrefcount(item) > _baseline_item_refs()
        )
        image, md = item
        del item
        if isinstance(image, np.ndarray) and _must_copy_image(
            image, before, shared, kept_frame, seen_arrays
        ):
            image = image.copy()
            copied = True
        if isinstance(image, np.ndarray):
            seen_arrays.append(image)
        if isinstance(md, dict) and _must_copy_metadata(md, before, shared, kept_metadata):
            md = _copied_metadata(md)
            copied = True
        owned.append((image, md))
    if isinstance(result, tuple):
        return owned[0], copied
    return owned, copied


def _inputs_kept(items: list[Any], before: InputRefs) -> tuple[bool, bool]:
    """Whether the processor kept the frame (or a view of it) or the metadata, beyond
    what it returned: their counts grew by more than the returned references."""
    frame, frame_base, metadata = before.frame, before.frame_base, before.metadata
    frame_returned = base_returned = metadata_returned = 0
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            if item[0] is frame:
                frame_returned += 1
            elif isinstance(item[0], np.ndarray):
                # a view returned holds its base: the frame, or the frame's own base
                frame_returned += item[0].base is frame
                if frame_base is not None:
                    base_returned += item[0].base is frame_base
            metadata_returned += item[1] is metadata
    item = None  # the loop's last tuple must not count as a holder
    # the list ``items`` made here holds the returned tuples, not their parts
    kept_frame = sys.getrefcount(frame) > before.frame_refs + frame_returned
    if frame_base is not None:
        kept_frame = kept_frame or sys.getrefcount(frame_base) > before.base_refs + base_returned
    kept_metadata = sys.getrefcount(metadata) > before.metadata_refs + metadata_returned
    return kept_frame, kept_metadata


def _must_copy_image(
    image: np.ndarray,
    before: InputRefs,
    shared: bool,
    kept_frame: bool,
    seen: list[np.ndarray],
) -> bool:
    if any(image is other or np.may_share_memory(image, other) for other in seen):
        return True  # returned twice: the next processor may change one in place
    if image is before.frame or np.may_share_memory(image, before.frame):
        return kept_frame  # the frame, or a view of it: ours, unless the processor kept it
    if shared:
        return True
    if image.base is None:
        return sys.getrefcount(image) > _baseline_part_refs()
    owner = image.base
    if not isinstance(owner, np.ndarray) or owner.base is not None:
        return True  # memory from elsewhere (a buffer, a mapped file): not provably new
    return (
        sys.getrefcount(image) > _baseline_part_refs()
        or sys.getrefcount(owner) > _baseline_owner_refs()
    )


def _must_copy_metadata(
    md: dict[str, Any], before: InputRefs, shared: bool, kept_metadata: bool
) -> bool:
    if md is before.metadata:
        if kept_metadata:
            return True
        return _holds_kept_values(md, {})
    if shared or sys.getrefcount(md) > _baseline_part_refs():
        return True
    # a copy of the metadata handed in ({**metadata, ...}) shares its values with that
    # dict, which is the acquisition's own: one holder more is expected for those
    ours = {} if kept_metadata else {id(v): 1 for v in before.metadata.values()}
    return _holds_kept_values(md, ours)


def _holds_kept_values(container: Any, ours: dict[int, int], depth: int = 0) -> bool:
    """A list, dict or array in the metadata that something else holds too (or a
    nesting too deep to check): the processor may change it after returning."""
    if depth > 4:
        return True
    values = container.values() if isinstance(container, dict) else container
    for value in values:
        if isinstance(value, _MUTABLE):
            allowed = _baseline_value_refs() + (ours.get(id(value), 0) if depth == 0 else 0)
            if sys.getrefcount(value) > allowed:
                return True
            if isinstance(value, (dict, list)) and _holds_kept_values(value, {}, depth + 1):
                return True
    return False


def _copied_metadata(md: dict[str, Any]) -> dict[str, Any]:
    try:
        return copy.deepcopy(md)
    except Exception as exc:  # a lock, a device handle: copy what can be copied
        logger.warning("Metadata could not be deep-copied (%s); copied one level", exc)
        return {key: copy.copy(value) for key, value in md.items()}


def _copy_all(result: Any) -> Any:
    def one(item: Any) -> Any:
        if isinstance(item, tuple) and len(item) == 2:
            image, md = item
            image = image.copy() if isinstance(image, np.ndarray) else image
            md = _copied_metadata(md) if isinstance(md, dict) else md
            return (image, md)
        return item

    if isinstance(result, list):
        return [one(item) for item in result]
    return one(result)


# ---- baselines: counts of objects nothing else holds, measured through code shaped
# like the checks above, once, on first use (not at import)
@functools.cache
def _baseline_container_refs() -> int:
    result = _fresh_pair()  # the caller's variable, as in take_ownership's caller
    return _measure_container(result)


def _measure_container(result: Any) -> int:
    return sys.getrefcount(result)


@functools.cache
def _baseline_item_refs() -> int:
    result = [_fresh_pair()]  # the processor's list, held by the caller's variable
    items = list(result)  # the copy take_ownership walks
    index = 0
    item = items[index]
    return sys.getrefcount(item)


@functools.cache
def _baseline_part_refs() -> int:
    pair = _fresh_pair()  # the returned tuple stays alive while its parts are checked
    image, _ = pair  # the unpacked local, as in take_ownership
    return _measure_part(image)


def _measure_part(image: Any) -> int:
    return sys.getrefcount(image)


@functools.cache
def _baseline_owner_refs() -> int:
    view = np.empty(4)[1:]  # a view whose owner nothing else holds
    return _measure_owner(view)


def _measure_owner(image: np.ndarray) -> int:
    owner = image.base
    return sys.getrefcount(owner)


@functools.cache
def _baseline_value_refs() -> int:
    return _measure_values({"a": [1]})


def _measure_values(container: dict[str, Any]) -> int:
    for value in container.values():
        return sys.getrefcount(value)
    return 0


def _fresh_pair() -> tuple[np.ndarray, dict[str, Any]]:
    return (np.empty(1), {})


@functools.cache
def _counts_are_trustworthy() -> bool:
    """A buffer held elsewhere must count above the baseline of a fresh one."""
    held = _fresh_pair()
    kept = held[0]  # a second holder, as a processor's attribute would be
    image, _ = held
    trustworthy = _measure_part(image) > _baseline_part_refs()
    del kept
    if not trustworthy:
        logger.warning("Reference counts cannot tell kept buffers here: outputs are copied")
    return trustworthy
