"""Getting frames ready to draw, off the GUI thread.

Mapping a 16-bit frame to 8 bits with the current contrast is the heaviest part of
showing it. On a busy machine that numpy work, done on the GUI thread, stretched
single event-loop iterations to 50-60 ms. Here a worker takes the newest frame from
the display slot, maps it, colours it into the screen's own pixels (so that painting
converts nothing: ``processing/screen_pixels``), and leaves the result in a slot of
its own; the GUI thread only paints. It prepares a frame of the stream no more often
than the viewer shows one (``min_interval_s``, the display router's interval): taking
every frame the camera gave, it prepared 1.3 to 3 times as many frames as were shown
(``scopeflow bench gui``: 772 prepared for 258 shown keeping nothing, 961 for 537
saving), on cores the camera, the saver and the GUI thread wanted. A frame that comes
before its turn waits for it, replaced by any newer one; a channel's frame is kept for
the composites of the next ones all the same.

A frame with a ``channel`` axis is mapped with its channel's contrast; in composite
mode the worker also reads the other channels at the same coordinates and adds them
in their colours (``app/processing/composite.py``). The GUI thread asks for a
composite of the coordinates the sliders show with ``request``. A frame without a
channel (Live, a snap) takes the same path as ever: one subsample, one mapping.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PyQt6.QtCore import QThread, pyqtSignal

from app.acquisition.priority import lower_current_thread_priority
from app.processing.channel_display import ChannelDisplay, ChannelShown
from app.processing.composite import ChannelComposer
from app.processing.contrast import Histogram, histogram_of, robust_levels, to_uint8
from app.processing.display import OTHER_CAMERAS_KEY, DisplaySettings, LatestFrameSlot
from app.processing.screen_pixels import to_screen
from app.storage.sink import ReadableDataset
from app.ui.common.lifecycle import finish_thread

logger = logging.getLogger(__name__)

#: the histogram of a frame is made here at most this often (a little more often than
#: the viewer refreshes it, so that each refresh finds one made since the last): on
#: the GUI thread it took 1.5-2 ms each time (``scopeflow bench gui``)
HISTOGRAM_EVERY_S = 0.4

IDLE_S = 0.004  # how soon a request (or a new source) is seen while no frame comes
STOP_TIMEOUT_S = 10.0  # a loop turn is a frame's mapping or one composite: milliseconds


@dataclass(frozen=True)
class PreparedFrame:
    #: screen pixels (``processing/screen_pixels``), strided by ``stride``: one channel
    #: in its colours, or the composite; None: draw ``image`` as is
    display: np.ndarray | None
    image: np.ndarray  # the original frame (of the current channel, for a composite)
    levels: tuple[float, float]
    stride: int
    metadata: dict[str, Any]
    channel: Any = None  # the frame's channel (None: it has no channel axis)
    shown: dict[str, ChannelShown] = field(default_factory=dict)
    request: int = 0  # the number of the ``request`` it answers (0: from the stream)
    #: the slot a frame of the stream came from: once the viewer follows another
    #: (an acquisition ended), a frame still on its way from the old one is not shown
    source: object = None
    composite: bool = False  # ``display`` adds the visible channels
    #: one channel's 8-bit values before colouring (uint8, like ``display``), for a
    #: colour table edited by hand in the histogram, or changed since: the viewer then
    #: colours those itself
    values: np.ndarray | None = None
    table: str | None = None  # the colour table ``display`` of one channel is in
    #: ``image``'s histogram, made here every ``HISTOGRAM_EVERY_S`` (the viewer's
    #: refresh takes the newest; None: not made for this frame)
    histogram: Histogram | None = None


def one_channel(
    image: np.ndarray,
    levels: tuple[float, float],
    stride: int,
    table: str,
    metadata: dict[str, Any],
    channel: Any = None,
    shown: dict[str, ChannelShown] | None = None,
) -> PreparedFrame:
    """``image`` mapped to 8 bits with ``levels``, one pixel in ``stride``, and coloured
    into screen pixels with ``table``."""
    values = to_uint8(image[::stride, ::stride], *levels)
    display = to_screen(values, table)
    return PreparedFrame(
        display, image, levels, stride, metadata, channel, shown or {}, values=values, table=table
    )


@dataclass(frozen=True)
class CompositeRequest:
    number: int
    #: the coordinates shown, with the current channel (None: the newest frame's, when
    #: following: the GUI may not have shown that one yet)
    axes: dict[str, Any] | None
    image: np.ndarray | None  # the current channel's frame there, if the GUI has it
    latest_ok: bool  # a channel missing there may show its latest frame (following)


class FramePreparer(QThread):
    """Reads ``source`` (set by the GUI thread) and fills ``prepared``."""

    #: a frame was put in ``prepared`` (to a slot on the GUI thread: queued)
    frame_ready = pyqtSignal()

    def __init__(
        self,
        settings: DisplaySettings,
        channels: ChannelDisplay | None = None,
        min_interval_s: float = 0.0,
    ) -> None:
        super().__init__()
        #: frames of the stream are prepared no more often than the viewer shows them
        self.min_interval_s = min_interval_s
        #: perf_counter when the last frame of the stream began to be prepared: the next
        #: one's turn comes ``min_interval_s`` after (the preparing itself is in it)
        self._turn_at = 0.0
        #: the newest frame taken before its turn: prepared when the turn comes
        self._owed: tuple[np.ndarray, dict[str, Any]] | None = None
        self.settings = settings
        self.channels = channels if channels is not None else ChannelDisplay()
        self.source: LatestFrameSlot | None = None
        #: where the other channels of a composite are read (set by the GUI thread)
        self.dataset: ReadableDataset | None = None
        self.prepared: LatestFrameSlot[PreparedFrame] = LatestFrameSlot()
        self._requests: LatestFrameSlot[CompositeRequest] = LatestFrameSlot()
        self._requested = 0
        self._newest_axes: dict[str, Any] | None = None  # of the newest channel frame
        self._composer = ChannelComposer()
        self._taken_from: object = None  # the source of the frame being prepared
        self._running = True
        self._failed = False
        #: when, and of what shape, a histogram was last made (``_put``)
        self._histogram_at = -math.inf
        self._histogram_shape: tuple[int, ...] = ()

    def request(
        self, axes: dict[str, Any] | None, image: np.ndarray | None, latest_ok: bool
    ) -> int:
        """Compose the channels at ``axes`` (None: where the newest frame of the stream
        is); the number its answer will carry (called by the GUI thread; the newest
        request replaces one not yet answered)."""
        self._requested += 1
        request = CompositeRequest(self._requested, axes and dict(axes), image, latest_ok)
        self._requests.put(request, {})
        return self._requested

    def run(self) -> None:
        lower_current_thread_priority()
        while self._running:
            request = self._requests.take()
            if request is not None:
                self._guarded(self._answer, request[0])
                continue
            source = self.source
            if source is not self._taken_from:  # the viewer follows another source:
                self._owed = None  # the old one's frame is never shown, and the new
                self._turn_at = 0.0  # one's first frame does not wait for a turn
            if source is None:
                time.sleep(IDLE_S)
                continue
            turn_in_s = self._turn_at + self.min_interval_s - time.perf_counter()
            owed = self._owed
            if owed is not None and turn_in_s <= 0:
                self._owed = None
                self._guarded(self._prepare, *owed)
                continue
            wait_s = min(IDLE_S, turn_in_s) if owed is not None else IDLE_S
            item = source.take(timeout=wait_s)  # back at once when a frame comes
            if item is None:
                continue
            self._taken_from = source
            if self._turn_at + self.min_interval_s > time.perf_counter():
                # not shown before its turn: prepared then, if no newer one came
                self._owed = item
                self._guarded(self._remember, *item)
                continue
            self._owed = None
            self._guarded(self._prepare, *item)

    def _remember(self, image: np.ndarray, metadata: dict[str, Any]) -> None:
        """A channel's frame (and the other cameras' with it), prepared or not: the
        composites of the next frames use them."""
        axes = metadata.get("Axes")
        if image.ndim == 2 and axes and "channel" in axes:
            self._composer.use_dataset(self.dataset)
            self._composer.remember(axes, image)
            for camera, other in (metadata.get(OTHER_CAMERAS_KEY) or {}).items():
                self._composer.remember({**axes, "channel": camera}, other)

    def _prepare(self, image: np.ndarray, metadata: dict[str, Any]) -> None:
        """A frame of the stream, ready to draw."""
        self._turn_at = time.perf_counter()
        if image.ndim != 2:  # RGB: the viewer draws it as it is
            self._put(PreparedFrame(None, image, (0, 255), 1, metadata))
            return
        axes = metadata.get("Axes")
        if axes and "channel" in axes:
            self._prepare_channel(image, metadata, axes)
            return
        settings = self.settings
        levels = robust_levels(image) if settings.auto_levels else settings.levels
        stride = max(1, settings.stride)
        self._put(one_channel(image, levels, stride, settings.lookup_table, metadata))

    def _prepare_channel(
        self, image: np.ndarray, metadata: dict[str, Any], axes: dict[str, Any]
    ) -> None:
        """A frame of one channel: with its channel's contrast, or in the composite."""
        channel = axes["channel"]
        self._remember(image, metadata)
        self._newest_axes = axes
        channels = self.channels
        stride = max(1, self.settings.stride)
        if channels.composite_active:
            # the histogram's channel stays the one it is on: following it to each
            # frame's channel made the histogram, its colours and the LUT box change
            # at every frame of a multi-channel acquisition (and cost the GUI thread)
            current = channels.current
            if current is not None and current in channels.names and current != channel:
                axes = {**axes, "channel": current}
            self._put_composite(axes, stride, True, metadata, request=0)
            return
        look = channels.look(channel)
        data_range = robust_levels(image)
        levels = data_range if look.auto_levels else look.levels
        shown = {str(channel): ChannelShown(levels, data_range)}
        self._put(one_channel(image, levels, stride, look.colour, metadata, channel, shown))

    def _answer(self, request: CompositeRequest) -> None:
        self._composer.use_dataset(self.dataset)
        axes = request.axes if request.axes is not None else self._newest_axes
        if axes is None:
            return
        if request.image is not None:
            self._composer.remember(axes, request.image)
        stride = max(1, self.settings.stride)
        self._put_composite(axes, stride, request.latest_ok, {"Axes": axes}, request.number)

    def _put_composite(
        self,
        axes: dict[str, Any],
        stride: int,
        latest_ok: bool,
        metadata: dict[str, Any],
        request: int,
    ) -> None:
        composite = self._composer.compose(self.channels, axes, stride, latest_ok)
        if composite is None:
            return
        frame = PreparedFrame(
            composite.display,
            composite.image,
            composite.levels,
            stride,
            metadata,
            axes.get("channel"),
            composite.shown,
            request,
            composite=True,
        )
        self._put(frame)

    def _put(self, frame: PreparedFrame) -> None:
        if not frame.request:
            frame = replace(frame, source=self._taken_from)
        image = frame.image
        now = time.perf_counter()
        if image.ndim == 2 and (
            now - self._histogram_at >= HISTOGRAM_EVERY_S or image.shape != self._histogram_shape
        ):
            self._histogram_at, self._histogram_shape = now, image.shape
            frame = replace(frame, histogram=histogram_of(image))
        self.prepared.put(frame, frame.metadata)
        self.frame_ready.emit()

    def _guarded(self, work: Any, *args: Any) -> None:
        """Run ``work``; an error is logged (once) instead of ending the thread, which
        would leave the viewer frozen on its last frame."""
        try:
            work(*args)
        except Exception:
            if not self._failed:
                logger.exception("Could not prepare a frame for display")
            self._failed = True

    def stop(self) -> None:
        """End the thread; returns once it ended (one stuck in a dataset read is said in
        the log and kept referenced: Qt aborts if a running QThread is destroyed)."""
        self._running = False
        finish_thread(self, STOP_TIMEOUT_S, "The frame preparer")
