"""The composite of a dataset's channels: each visible channel's frame at the same
coordinates, mapped with its own contrast, coloured, and added (as MMStudio and ndv
show channels). Plain numpy, no Qt: the thread that prepares frames runs it.

Two 2048x2048 channels take 20-30 ms here at full resolution, 5 ms zoomed out to one
pixel in two (an 8-bit plane per colour component, filled by one multiply per
component from the clipped frame, saturating adds, one interleave into RGBA, or into
the screen's own pixels for the viewer: ``screen_pixels``). A colour-table lookup per
pixel, the obvious way, took 50-70 ms for the lookups alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.processing.channel_display import ChannelDisplay, ChannelShown
from app.processing.colour_tables import SINGLE_COLOURS, colour_table
from app.processing.contrast import clipped_from_low, robust_levels, to_uint8
from app.processing.screen_pixels import pixel
from app.storage.sink import ReadableDataset

logger = logging.getLogger(__name__)

#: (strided frame, levels, colour name)
Layer = tuple[np.ndarray, tuple[float, float], str]


@dataclass(frozen=True)
class Composite:
    #: one pixel in ``stride`` of each frame: (h, w, 4) uint8 RGBA, or (h, w) screen
    #: pixels (``screen_pixels``) when the planes were made for the screen
    display: np.ndarray
    image: np.ndarray  # the raw frame of the current channel
    levels: tuple[float, float]  # the current channel's
    shown: dict[str, ChannelShown]  # what each channel drawn was drawn with


def _but_channel(axes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in axes.items() if name != "channel"}


class ColourPlanes:
    """Adds coloured layers into three reused 8-bit planes, saturating at 255; the
    planes come out as RGBA, or as screen pixels when made ``for_screen``."""

    def __init__(self, for_screen: bool = False) -> None:
        self.for_screen = for_screen
        self._planes = np.empty((3, 0, 0), np.uint8)
        self._spare = np.empty((0, 0), np.uint8)
        self._room = np.empty((0, 0), np.uint8)
        self._opaque = np.empty((0, 0), np.uint8)

    def image(self, layers: Sequence[Layer], shape: tuple[int, int]) -> np.ndarray:
        """``layers`` added, as RGBA or as screen pixels (``for_screen``)."""
        return self.screen(layers, shape) if self.for_screen else self.rgba(layers, shape)

    def rgba(self, layers: Sequence[Layer], shape: tuple[int, int]) -> np.ndarray:
        """A new RGBA image of ``layers`` added (each of ``shape``); black without any."""
        self._fill(layers, shape)
        return np.stack([*self._planes, self._opaque], axis=-1)

    def screen(self, layers: Sequence[Layer], shape: tuple[int, int]) -> np.ndarray:
        """A new image of screen pixels of ``layers`` added; black without any."""
        self._fill(layers, shape)
        red, green, blue = self._planes
        return pixel(red, green, blue, opaque=self._opaque)

    def _fill(self, layers: Sequence[Layer], shape: tuple[int, int]) -> None:
        if self._planes.shape[1:] != shape:
            self._planes = np.empty((3, *shape), np.uint8)
            self._spare = np.empty(shape, np.uint8)
            self._room = np.empty(shape, np.uint8)
            self._opaque = np.full(shape, 255, np.uint8)
        filled = [False, False, False]
        for image, (low, high), colour in layers:
            if colour in SINGLE_COLOURS:  # black to one colour: a gain per component
                work, span = clipped_from_low(image, low, high)
                for k, value in enumerate(SINGLE_COLOURS[colour]):
                    if value:
                        self._add(k, filled, work, np.float32(value / span))
            else:  # any other table: 8 bits, then a lookup per component
                values = to_uint8(image, low, high)
                table = colour_table(colour)
                for k in range(3):
                    self._add(k, filled, table[:, k], values)
        for k in range(3):
            if not filled[k]:
                self._planes[k].fill(0)

    def _add(self, k: int, filled: list[bool], a: np.ndarray, b: Any) -> None:
        """Plane ``k`` += ``a * b`` (a gain) or ``a[b]`` (a table lookup), at most 255."""
        plane = self._planes[k]
        target = self._spare if filled[k] else plane
        if isinstance(b, np.ndarray):
            np.take(a, b, out=target)
        else:
            np.multiply(a, b, out=target, casting="unsafe")
        if filled[k]:
            np.subtract(255, plane, out=self._room)
            np.minimum(target, self._room, out=self._room)
            np.add(plane, self._room, out=plane)
        filled[k] = True


class ChannelComposer:
    """The latest frame of each channel, and composites of them.

    Used by one thread (the frame preparer's). A channel's frame at the coordinates
    asked for comes from what it was given (``remember``), else from the dataset; when
    neither has it and ``latest_ok`` (following an acquisition), the channel's latest
    frame stands in, as MMStudio shows the newest image of each channel while acquiring.
    """

    def __init__(self) -> None:
        self._frames: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
        self._planes = ColourPlanes(for_screen=True)  # drawn by the viewer as they are
        self._dataset: ReadableDataset | None = None

    def remember(self, axes: dict[str, Any], image: np.ndarray) -> None:
        """``image`` is the frame at ``axes`` (its channel's newest)."""
        self._frames[str(axes.get("channel"))] = (_but_channel(axes), image)

    def use_dataset(self, dataset: ReadableDataset | None) -> None:
        """Read missing channels from ``dataset``; frames of another one are forgotten."""
        if dataset is not self._dataset:
            self._dataset = dataset
            self._frames.clear()

    def frame(self, channel: Any, where: dict[str, Any], latest_ok: bool) -> np.ndarray | None:
        kept = self._frames.get(str(channel))
        if kept is not None and kept[0] == where:
            return kept[1]
        dataset = self._dataset
        if dataset is not None:
            axes = {**where, "channel": channel}
            try:
                if dataset.has_image(**axes):
                    image = dataset.read_image(**axes)
                    self.remember(axes, image)
                    return image
            except Exception as exc:  # a dataset being written or closed: none for now
                logger.debug("Could not read channel %r at %s: %s", channel, where, exc)
        return kept[1] if kept is not None and latest_ok else None

    def compose(
        self,
        channels: ChannelDisplay,
        axes: dict[str, Any],
        stride: int,
        latest_ok: bool,
    ) -> Composite | None:
        """The visible channels at ``axes`` (their channel: the current one), added in
        their colours; None when the current channel's frame is not there."""
        where = _but_channel(axes)
        return compose_channels(
            self._planes,
            channels,
            axes.get("channel"),
            lambda name: self.frame(name, where, latest_ok),
            stride,
        )


def compose_channels(
    planes: ColourPlanes,
    channels: ChannelDisplay,
    current: Any,
    frame: Callable[[Any], np.ndarray | None],
    stride: int,
) -> Composite | None:
    """The visible channels added in their colours, each channel's image given by
    ``frame(name)`` (None: not there), ``current`` the channel in the histogram; None
    when the current channel's image is not there. Frames of a dataset and regions of a
    tiled map (``map_render``) are composed by this one function."""
    looks = {name: channels.look(name) for name in channels.names}
    if current not in looks:
        looks[current] = channels.look(current)
    raw = frame(current)
    if raw is None or raw.ndim != 2:
        return None
    layers: list[Layer] = []
    shown: dict[str, ChannelShown] = {}
    for name, look in looks.items():
        if not look.visible and name != current:
            continue
        image = raw if name == current else frame(name)
        if image is None or image.shape != raw.shape:
            continue
        data_range = robust_levels(image)
        levels = data_range if look.auto_levels else look.levels
        shown[str(name)] = ChannelShown(levels, data_range)
        if look.visible:
            layers.append((image[::stride, ::stride], levels, look.colour))
    strided_shape = raw[::stride, ::stride].shape
    display = planes.image(layers, (strided_shape[0], strided_shape[1]))
    return Composite(display, raw, shown[str(current)].levels, shown)
