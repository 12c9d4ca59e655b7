"""Processing a Z-stack as a volume: ``@z_stack(planes=N)``.

pycro-manager's documentation shows the by-hand way: a processor keeps the planes in a
list until it has a whole stack. This helper does the bookkeeping that way leaves to
the user: it collects the planes of each stack separately (by every axis but ``z``:
time point, position, channel, so interleaved channels make separate stacks), in Z
order whatever the acquisition order, calls the function with the volume when a stack
is complete, and at the end of the acquisition hands on what an incomplete stack holds
(an abort, a stop), so no plane acquired is lost.

    @processor
    @z_stack(planes=10)
    def max_projection(volume, metadata):      # volume: (Z, Y, X); metadata: a list
        ...
        return volume.max(axis=0), metadata[0]  # what a processor returns

The function returns what a processor returns (an image and its metadata, a list of
them, or None), or a (Z, Y, X) volume with its list of metadata, which goes on as
planes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

logger = logging.getLogger(__name__)

#: the metadata key that marks the planes of a stack that was never completed
INCOMPLETE_KEY = "ScopeflowIncompleteStack"

Planes = dict[Any, tuple[np.ndarray, dict[str, Any]]]


class ZStack:
    """A processor (``(image, metadata)``) that holds planes until their stack is whole.

    ``incomplete="pass"`` (the default) hands an incomplete stack's planes on as they
    were acquired, marked ``ScopeflowIncompleteStack``; ``"process"`` calls the function
    with the planes there are (the same mark on their metadata).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        planes: int,
        axis: str = "z",
        incomplete: Literal["pass", "process"] = "pass",
    ) -> None:
        _check(planes, incomplete)
        self.fn = fn
        self.planes = planes
        self.axis = axis
        self.incomplete = incomplete
        self._open: dict[frozenset[tuple[str, Any]], Planes] = {}
        functools.update_wrapper(self, fn)  # the processor's name is the function's

    def __call__(self, image: np.ndarray, metadata: dict[str, Any]) -> Any:
        axes = dict(metadata.get("Axes") or {})
        if self.axis not in axes:
            raise ValueError(
                f"@z_stack on {self.fn.__name__}: the image with axes {axes} has no "
                f"{self.axis!r} axis (acquire a Z-stack, or name the axis: axis='...')"
            )
        key = frozenset((name, value) for name, value in axes.items() if name != self.axis)
        stack = self._open.setdefault(key, {})
        outputs: list[Any] = []
        plane = axes[self.axis]
        if plane in stack:  # the same plane again: the stack it was in will not fill up
            outputs.extend(self._incomplete(self._open.pop(key)))
            stack = self._open.setdefault(key, {})
        stack[plane] = (image, metadata)
        if len(stack) == self.planes:
            outputs.extend(self._volume(self._open.pop(key)))
        return outputs

    def holds(self, axes: dict[str, Any]) -> bool:
        """Whether the plane of ``axes`` waits here for the rest of its stack."""
        if self.axis not in axes:
            return False
        key = frozenset((name, value) for name, value in axes.items() if name != self.axis)
        return axes[self.axis] in self._open.get(key, {})

    def finish(self) -> list[tuple[np.ndarray, dict[str, Any]]]:
        """The end of the acquisition: the incomplete stacks, handed on."""
        outputs: list[tuple[np.ndarray, dict[str, Any]]] = []
        for stack in self._open.values():
            outputs.extend(self._incomplete(stack))
        self._open.clear()
        return outputs

    # ------------------------------------------------------------ inside
    def _ordered(self, stack: Planes) -> tuple[np.ndarray, list[dict[str, Any]]]:
        planes = [stack[z] for z in sorted(stack, key=_plane_order)]
        return np.stack([image for image, _ in planes]), [md for _, md in planes]

    def _volume(self, stack: Planes) -> list[tuple[np.ndarray, dict[str, Any]]]:
        volume, metadata = self._ordered(stack)
        return _as_outputs(self.fn(volume, metadata), self.fn)

    def _incomplete(self, stack: Planes) -> list[tuple[np.ndarray, dict[str, Any]]]:
        note = f"{len(stack)} of {self.planes} planes: the stack was not completed"
        for _, plane_metadata in stack.values():
            plane_metadata[INCOMPLETE_KEY] = note
        logger.warning("@z_stack %s: %s", self.fn.__name__, note)
        if self.incomplete == "process":
            try:
                return self._volume(stack)
            except Exception as exc:  # the planes are kept, as acquired: nothing lost
                logger.exception("@z_stack %s failed on an incomplete stack", self.fn.__name__)
                for _, plane_metadata in stack.values():
                    plane_metadata[INCOMPLETE_KEY] = f"{note}; processing it raised {exc!r}"
        volume, metadata = self._ordered(stack)
        return list(zip(volume, metadata, strict=True))


def z_stack(
    planes: int, axis: str = "z", incomplete: Literal["pass", "process"] = "pass"
) -> Callable[[Callable[..., Any]], ZStack]:
    """Decorate ``fn(volume, metadata)`` into a processor that calls it once per
    Z-stack of ``planes`` planes (see the module's docstring)."""

    _check(planes, incomplete)  # at the decorator's line, not at the first frame

    def wrap(fn: Callable[..., Any]) -> ZStack:
        return ZStack(fn, planes, axis, incomplete)

    return wrap


def _check(planes: int, incomplete: str) -> None:
    if isinstance(planes, bool) or not isinstance(planes, int) or planes < 1:
        raise ValueError(
            f"planes must be the number of planes of a stack (1 or more), not {planes!r}"
        )
    if incomplete not in ("pass", "process"):
        raise ValueError(f"incomplete must be 'pass' or 'process', not {incomplete!r}")


def _plane_order(plane: Any) -> tuple[int, Any]:
    return (0, plane) if isinstance(plane, int | float) else (1, str(plane))


def _as_outputs(result: Any, fn: Callable[..., Any]) -> list[Any]:
    """A volume and its list of metadata become planes; anything else is what a
    processor returns, checked by the pipeline."""
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], np.ndarray)
        and result[0].ndim == 3
        and isinstance(result[1], list)
    ):
        volume, metadata = result
        if len(volume) != len(metadata):
            raise ValueError(
                f"@z_stack {getattr(fn, '__name__', fn)} returned {len(volume)} planes "
                f"with {len(metadata)} metadata dicts: give one per plane"
            )
        return list(zip(volume, metadata, strict=True))
    if result is None:
        return []
    return result if isinstance(result, list) else [result]
