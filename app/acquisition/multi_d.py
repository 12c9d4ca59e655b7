"""multi_d_acquisition_events: the event list of a classic multi-dimensional acquisition."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from typing import Any


def _z_offsets(z_start: float, z_end: float, z_step: float) -> list[float]:
    """The slices of ``np.arange(z_start, z_end + z_step, z_step)``, as pycro-manager's,
    without the extra slice its floating point adds when the range is a whole number of
    steps (``0, 1.1, 0.1`` gives 12 slices here, 13 there)."""
    if z_step == 0:
        raise ValueError("z_step must not be 0")
    count = math.ceil((z_end - z_start) / z_step + 1 - 1e-9)
    if count < 1:
        raise ValueError(
            f"z_step {z_step} does not go from z_start {z_start} towards z_end {z_end}"
        )
    return [float(z_start + i * z_step) for i in range(count)]


def multi_d_acquisition_events(
    num_time_points: int | None = None,
    time_interval_s: float | Sequence[float] = 0,
    z_start: float | None = None,
    z_end: float | None = None,
    z_step: float | None = None,
    channel_group: str | None = None,
    channels: Sequence[str] | None = None,
    channel_exposures_ms: Sequence[float] | None = None,
    xy_positions: Sequence[Sequence[float]] | None = None,
    xyz_positions: Sequence[Sequence[float]] | None = None,
    position_labels: Sequence[str] | None = None,
    order: str = "tpcz",
    keep_shutter_open_between_channels: bool = False,
    keep_shutter_open_between_z_steps: bool = False,
) -> list[dict[str, Any]]:
    """Events for time points x positions x channels x z-slices, in ``order``.

    Same arguments and events as pycro-manager's function of that name: ``axes``
    holds ``time``, ``position`` (index or label), ``channel`` (the preset name) and
    ``z``; events carry ``x``/``y``/``z`` in µm, ``config_group``, ``exposure`` and
    ``min_start_time``. With ``xyz_positions``, the Z-stack is relative to each
    position's Z (without a stack, each position's Z is slice ``z=0``). A list
    ``time_interval_s`` gives the interval before each point. The keep-shutter flags
    set ``keep_shutter_open`` on channel or z events.

    The Z slices are pycro-manager's (``np.arange(z_start, z_end + z_step, z_step)``:
    the last one may pass ``z_end`` when the range is not a whole number of steps),
    without the extra slice floating point adds to ``np.arange`` when it is.
    """
    order = order.lower()
    if set(order) - set("tpcz") or len(set(order)) != len(order):
        raise ValueError(f"order must use each of the letters t, p, c, z at most once: {order!r}")
    if xy_positions is not None and xyz_positions is not None:
        raise ValueError("xy_positions and xyz_positions cannot both be given")
    if "p" in order and "z" in order and order.index("p") > order.index("z"):
        raise ValueError("the position must come before z in order")
    z_args = (z_start, z_end, z_step)
    if any(v is not None for v in z_args) and any(v is None for v in z_args):
        raise ValueError("z_start, z_end and z_step must be given together")
    if channels is not None and channel_group is None:
        raise ValueError("channels need a channel_group (the config group, e.g. 'Channel')")
    if channel_exposures_ms is not None and (
        channels is None or len(channel_exposures_ms) != len(channels)
    ):
        raise ValueError("channel_exposures_ms must have one exposure per channel")
    if isinstance(time_interval_s, Sequence) and len(time_interval_s) != (num_time_points or 0):
        raise ValueError("A list time_interval_s must have one interval per time point")

    xy: list[tuple[float, float]] | None = None
    centre_z: list[float] | None = None
    if xy_positions is not None:
        xy = [(float(p[0]), float(p[1])) for p in xy_positions]
    elif xyz_positions is not None:
        xy = [(float(p[0]), float(p[1])) for p in xyz_positions]
        centre_z = [float(p[2]) for p in xyz_positions]
    if position_labels is not None:
        if xy is None or len(position_labels) != len(xy):
            raise ValueError("position_labels must have one label per position")
        labels: list[int | str] = list(position_labels)
    else:
        labels = list(range(len(xy))) if xy is not None else []
    offsets = _z_offsets(*z_args) if z_start is not None else None  # type: ignore[arg-type]

    if isinstance(time_interval_s, Sequence):
        starts, total = [], 0.0
        for interval in time_interval_s:
            total += float(interval)
            starts.append(total)
    else:
        starts = None

    def z_values(event: dict[str, Any]) -> list[float] | None:
        if centre_z is None or "position" not in event["axes"]:
            return offsets
        centre = centre_z[labels.index(event["axes"]["position"])]
        return [centre + o for o in offsets] if offsets is not None else [centre]

    def expand(event: dict[str, Any], rest: str) -> Iterator[dict[str, Any]]:
        if not rest:
            yield event
            return
        axis, rest = rest[0], rest[1:]
        if axis == "t" and num_time_points:
            for t in range(num_time_points):
                new = copy.deepcopy(event)
                new["axes"]["time"] = t
                if starts is not None:
                    new["min_start_time"] = starts[t]
                elif isinstance(time_interval_s, int | float) and time_interval_s:
                    new["min_start_time"] = t * float(time_interval_s)
                yield from expand(new, rest)
        elif axis == "p" and xy is not None:
            for i, (label, (x, y)) in enumerate(zip(labels, xy, strict=True)):
                new = copy.deepcopy(event)
                new["axes"]["position"] = label
                new["x"], new["y"] = x, y
                if centre_z is not None and "z" not in order:
                    new["z"] = centre_z[i]  # pycro-manager would drop the position's Z here
                yield from expand(new, rest)
        elif axis == "c" and channels is not None:
            for i, name in enumerate(channels):
                new = copy.deepcopy(event)
                new["axes"]["channel"] = name
                new["config_group"] = [channel_group, name]
                if channel_exposures_ms is not None:
                    new["exposure"] = float(channel_exposures_ms[i])
                if keep_shutter_open_between_channels:
                    new["keep_shutter_open"] = True
                yield from expand(new, rest)
        elif axis == "z" and (zs := z_values(event)) is not None:
            for i, z in enumerate(zs):
                new = copy.deepcopy(event)
                new["axes"]["z"] = i
                new["z"] = z
                if keep_shutter_open_between_z_steps:
                    new["keep_shutter_open"] = True
                yield from expand(new, rest)
        else:
            yield from expand(event, rest)

    return list(expand({"axes": {}}, order))
