"""Acquisition settings as a file: useq-schema's ``MDASequence``, in JSON or YAML.

useq-schema is the community's description of a multi-dimensional acquisition
(pymmcore-plus, pymmcore-widgets and napari-micromanager read and write it), so a plan
saved here opens there and the other way round. The window's Z range (a start, an end
and a step, relative to the current Z or absolute) is kept as the useq Z plan that says
the same thing, and read back from any of useq's Z plans.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import useq
from pydantic import ValidationError

from app.acquisition.multi_d import slices_within

PLAN_SUFFIXES = (".json", ".yaml", ".yml")


class PlanFileError(ValueError):
    """A settings file that cannot be written or read, with the reason."""


class ZMode(Enum):
    RELATIVE = "relative"  # offsets from the Z where the acquisition starts (or each position's)
    ABSOLUTE = "absolute"  # focus positions in µm


@dataclass(frozen=True)
class ZRange:
    """A Z-stack as the window shows it: from ``start`` to ``end`` (either direction)."""

    mode: ZMode
    start: float
    end: float
    step: float

    @property
    def signed_step(self) -> float:
        """The step, going from ``start`` towards ``end``."""
        return abs(self.step) * (1 if self.end >= self.start else -1)

    def slices(self) -> list[float]:
        """The slices from ``start`` towards ``end``, never past ``end`` (offsets from
        the Z of now or of each position when relative): useq's plan rounds the range to
        whole steps, a slice past the end a user typed (Explore's tiles took it)."""
        return slices_within(self.start, self.end, self.signed_step)

    def z_plan(self) -> useq.ZTopBottom | useq.ZAboveBelow | useq.ZRelativePositions:
        step = abs(self.step)
        low, high = sorted((self.start, self.end))
        going_up = self.end >= self.start
        if self.mode is ZMode.ABSOLUTE:
            return useq.ZTopBottom(bottom=low, top=high, step=step, go_up=going_up)
        if low <= 0 <= high:
            return useq.ZAboveBelow(below=-low, above=high, step=step, go_up=going_up)
        offsets = slices_within(low, high, step) if step else [low]
        return useq.ZRelativePositions(relative=offsets, go_up=going_up)


def z_range_of(plan: useq.MDASequence) -> ZRange | None:
    """The window's Z range for a sequence's Z plan (None: no Z-stack)."""
    z = plan.z_plan
    if z is None:
        return None
    step = float(getattr(z, "step", 0.0) or 0.0)
    if isinstance(z, useq.ZTopBottom):
        low, high, mode = z.bottom, z.top, ZMode.ABSOLUTE
    elif isinstance(z, useq.ZAboveBelow):
        low, high, mode = -z.below, z.above, ZMode.RELATIVE
    elif isinstance(z, useq.ZRangeAround):
        low, high, mode = -z.range / 2, z.range / 2, ZMode.RELATIVE
    else:  # a list of positions, relative or absolute: its ends and its first spacing
        values = sorted(z.positions())
        mode = ZMode.RELATIVE if z.is_relative else ZMode.ABSOLUTE
        low, high = values[0], values[-1]
        step = values[1] - values[0] if len(values) > 1 else 1.0
    start, end = (low, high) if z.go_up else (high, low)
    return ZRange(mode, float(start), float(end), step or 1.0)


def write_plan(path: str | os.PathLike[str], plan: useq.MDASequence) -> Path:
    """Write ``plan`` as JSON or YAML, chosen by the file's suffix."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in PLAN_SUFFIXES:
        raise PlanFileError(
            f"{target.name}: acquisition settings are saved as .json or .yaml, not {suffix!r}"
        )
    text = _json(plan) if suffix == ".json" else (plan.yaml(exclude_unset=True) or "")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"Could not write {target}: {exc.strerror or exc}") from exc
    return target


def read_plan(path: str | os.PathLike[str]) -> useq.MDASequence:
    """Read a useq ``MDASequence`` from JSON or YAML, or say why it is not one."""
    source = Path(path)
    if source.suffix.lower() not in PLAN_SUFFIXES:
        raise PlanFileError(f"{source.name}: expected a .json or .yaml acquisition settings file")
    try:
        return useq.MDASequence.from_file(source)
    except FileNotFoundError as exc:
        raise PlanFileError(f"{source} does not exist") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()[:3]
        )
        raise PlanFileError(f"{source.name} is not a valid acquisition plan: {problems}") from exc
    except (ValueError, TypeError, OSError) as exc:  # unreadable JSON or YAML
        raise PlanFileError(
            f"{source.name} could not be read as acquisition settings: {exc}"
        ) from exc


def plan_to_json_value(plan: useq.MDASequence) -> Any:
    """The plan as plain JSON values (for the settings file's "last settings")."""
    return json.loads(_json(plan))


def plan_from_json_value(value: Any) -> useq.MDASequence:
    try:
        return useq.MDASequence.model_validate(value)
    except ValidationError as exc:
        raise PlanFileError(f"the remembered acquisition settings are not valid: {exc}") from exc


def _json(plan: useq.MDASequence) -> str:
    return plan.model_dump_json(exclude_unset=True, indent=2)
