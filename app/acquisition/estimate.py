"""What an acquisition plan will take, before it starts: images, bytes, time.

A microscopist wants to know, before pressing Start, whether twelve hours of images
fit on the disk. The time is the later of the last event's start time and the
exposures back to back (the camera cannot go faster); moving stages and processors
add to it, so it is a lower bound, said as "about". A tiled plan also says its tiles
(one per row, column and position), which is what a microscopist sets up a grid by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlanEstimate:
    images: int
    bytes: int
    seconds: float
    tiles: int = 0  # fields of view of a grid (at every position); 0 without a grid


def estimate_plan(
    events: Sequence[dict[str, Any]],
    frame_bytes: int,
    default_exposure_ms: float,
    cameras: int = 1,
) -> PlanEstimate:
    """``cameras``: how many cameras image each event (a Multi Camera device's): as
    many images, and bytes, per event; the cameras expose at once."""
    exposures_s = sum(float(e.get("exposure") or default_exposure_ms) for e in events) / 1000
    last_start = max((float(e.get("min_start_time") or 0) for e in events), default=0.0)
    tiles = {
        (axes.get("position"), axes["row"], axes["column"])
        for axes in (e.get("axes") or {} for e in events)
        if "row" in axes and "column" in axes
    }
    return PlanEstimate(
        images=len(events) * cameras,
        bytes=len(events) * cameras * frame_bytes,
        seconds=max(exposures_s, last_start),
        tiles=len(tiles),
    )


def human_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"
