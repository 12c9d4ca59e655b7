"""The axes an acquisition's images will have, read from its events before any image.

The window lays out its sliders and channel rows from them when Start is pressed: made
at the first frames instead, they resized the view and repainted the whole window while
frames came at full speed (``scopeflow bench gui``, the first second of a run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.acquisition.cameras import images_of


def planned_axes(
    events: Iterable[Mapping[str, Any]], cameras: tuple[str, ...] = ()
) -> dict[str, list[Any]]:
    """Each axis of the images of ``events`` (each camera's, with several: its own
    channel), with its values in the order they first come. A value that cannot be
    told apart from others (not hashable) is left out: the plan is a layout, the
    dataset says what was acquired."""
    found: dict[str, dict[Any, None]] = {}
    for event in events:
        axes = event.get("axes")
        if not isinstance(axes, Mapping):
            continue
        for image in images_of(dict(axes), cameras) if cameras else (axes,):
            for name, value in image.items():
                try:
                    hash(value)
                except TypeError:
                    continue
                found.setdefault(name, {})[value] = None
    return {name: list(values) for name, values in found.items()}
