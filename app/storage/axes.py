"""The axes a reader asks for, as ndtiff's reading API takes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: the axis that tells apart images saved with the same axes (kept, never overwritten)
DUPLICATE_AXIS = "duplicate"


def given_axes(
    channel: Any, z: Any, time: Any, position: Any, row: Any, column: Any, others: dict[str, Any]
) -> dict[str, Any]:
    """``read_image(channel=..., z=..., ...)``'s arguments as one dict, without Nones."""
    axes = {"channel": channel, "z": z, "time": time, "position": position}
    axes |= {"row": row, "column": column, **others}
    return {name: value for name, value in axes.items() if value is not None}


def name_string_axes(
    axes: dict[str, Any], string_values: Mapping[str, Sequence[str]]
) -> dict[str, Any] | None:
    """An int given for a string axis is its index, as ndtiff reads it (``channel=0``:
    the first channel). None when such an index is out of range."""
    named = dict(axes)
    for axis, value in axes.items():
        names = string_values.get(axis)
        if names is not None and isinstance(value, int):
            if not 0 <= value < len(names):
                return None
            named[axis] = names[value]
    return named
