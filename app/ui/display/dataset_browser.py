"""What the axis sliders browse: the running acquisition's dataset, or one from disk.

A tiled dataset (``TiledDataset``: an ``XYTiledAcquisition``'s, or a map opened from
disk) is shown stitched by a ``MapView``; its row and column get no slider, the other
axes (channel, z, time) choose the plane of the map shown."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from PyQt6.QtCore import QTimer

from app.storage.sink import ReadableDataset
from app.storage.tiled_dataset import COLUMN, ROW, TiledDataset
from app.ui.display.axis_sliders import AxisSliders
from app.ui.display.map_view import MapView
from app.ui.display.viewer import ImageViewer

logger = logging.getLogger(__name__)

#: while following, the sliders move to the frame shown at most this often: the image
#: changes at up to 60 frames a second, a label read by a person need not, and moving
#: them at every frame cost the GUI thread 0.2-0.3 ms a frame, plus a repaint of the
#: slider and its label (``scopeflow bench gui``'s acquisitions, offscreen)
SLIDERS_INTERVAL_S = 0.1


class _PlanPart(Enum):
    """A plan's parts, each in a turn of the event loop of its own, in this order."""

    CHANNEL_ROWS = 1
    SLIDERS = 2
    TELL_LAID_OUT = 3


@dataclass
class _PendingPlan:
    """The axes an acquisition starting will have, laid out in turns of the event loop
    after its Start: its channel rows, then its sliders; in the turn after those,
    ``laid_out`` is called (the window lets the acquisition's engine start then).

    Each part lays the window out again, and the window is repainted before the loop
    comes back to its timers (the view's scene sends the window's pending paint;
    ``bench gui``). In one turn, a 3-channel composite's Start held the GUI thread
    21.5 ms (median of ten), against 16.7 ms in two, run in turn in one process
    (``bench gui``'s "Start's block"). With the engine started at once, its threads took
    the two cores while the parts ran: each took up to twice its own CPU time."""

    axes: dict[str, Sequence[Any]]
    laid_out: Callable[[], None]
    next_part: _PlanPart = _PlanPart.CHANNEL_ROWS


def _nothing() -> None:
    return None


class DatasetBrowser:
    """Connects the sliders to a dataset and the viewer.

    While following (the acquisition's newest image is shown), the sliders move to the
    frame shown, at most every ``SLIDERS_INTERVAL_S``: a frame shown sooner owes them a
    move, made when the interval is over, to the place of the frame shown then. Moving
    a slider stops following and shows that image from the dataset (with a move owed,
    the frame shown with that axis changed; the move is then not made); unchecking
    "Follow newest" stops following on the frame shown (a move owed is made at once).
    The channels found (``viewer.channels``) follow the dataset's; in composite mode
    the image read is the current channel's, and ``request_composite(axes, image,
    following)`` asks for the composite of them all.
    """

    def __init__(self, viewer: ImageViewer, sliders: AxisSliders) -> None:
        self.viewer = viewer
        self.sliders = sliders
        self.dataset: ReadableDataset | None = None
        self.map = MapView(viewer)  # shows a tiled dataset stitched
        self.last_shown_axes: dict[str, Any] = {}
        self._physical: dict[tuple[str, Any], str | None] = {}
        #: the dataset is an acquisition's still being written: the labels' units come
        #: only from the frames shown (``frame_shown``), not from its files
        self._being_written = False
        #: the channels an acquisition's plan named at Start: those it did not acquire lose
        #: their rows at its end
        self._planned_channels: frozenset[Any] = frozenset()
        #: set by whoever composes channels (the display router)
        self.request_composite: Callable[[dict[str, Any], np.ndarray | None, bool], None] = (
            lambda axes, image, following: None
        )
        sliders.axesChosen.connect(self._chosen)
        sliders.describe = self.physical_value
        #: when the sliders were last moved to a frame shown (or found not following);
        #: a move owed waits for the timer
        self._sliders_moved_at = -math.inf
        self._sliders_timer = QTimer(sliders)
        self._sliders_timer.setSingleShot(True)
        self._sliders_timer.timeout.connect(self._move_sliders)
        sliders.follow.clicked.connect(self._follow_clicked)  # the user's click only
        #: the plan an acquisition started with, laid out in the next turns (``browse``)
        self._pending_plan: _PendingPlan | None = None
        self._plan_timer = QTimer(sliders)
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(0)
        self._plan_timer.timeout.connect(self._lay_out_plan_part)

    @property
    def following(self) -> bool:
        """Frames from the camera are shown (nothing to browse, or "Follow newest")."""
        return self.dataset is None or self.sliders.follow.isChecked()

    def browse(
        self,
        dataset: ReadableDataset | None,
        *,
        follow: bool,
        planned: Mapping[str, Sequence[Any]] | None = None,
        laid_out: Callable[[], None] = _nothing,
    ) -> None:
        """Browse ``dataset`` from now on (None: nothing to browse, e.g. Live).
        ``planned``: the axes an acquisition starting will have (``planned_axes``), whose
        channel rows and sliders are laid out before its first frame, each in a turn of
        the event loop of its own after this one; ``laid_out()`` is called once: in the
        turn after them (``_PendingPlan``), or as soon as they are laid out sooner
        (``lay_out_plan``), or now with nothing planned, or when another dataset is
        browsed first."""
        self._drop_pending_plan()
        self.dataset = dataset
        self._being_written = dataset is not None and follow
        self.last_shown_axes = {}
        self._sliders_timer.stop()  # a move owed to the dataset before is not made
        self._sliders_moved_at = -math.inf  # this one's first frame moves them at once
        self._physical.clear()
        self.sliders.clear()
        self.viewer.channels.clear_names()
        self.sliders.follow.setChecked(follow)
        self.map.show(dataset if isinstance(dataset, TiledDataset) else None)
        self._planned_channels = frozenset()
        if planned:
            self._pending_plan = _PendingPlan(dict(planned), laid_out)
            self._plan_timer.start()
        else:
            laid_out()
        if dataset is not None and not follow:
            self.refresh()
            self.show(self.sliders.current_axes())

    def _drop_pending_plan(self) -> None:
        """Nothing of the plan is left to lay out (its last turn came, or another
        dataset is browsed first): what waits for it is told now (an acquisition's
        engine waits for it to start)."""
        plan, self._pending_plan = self._pending_plan, None
        self._plan_timer.stop()
        if plan is not None:
            plan.laid_out()

    @property
    def plan_pending(self) -> bool:
        """An acquisition's plan given to ``browse`` is not laid out yet (it is
        starting: its engine waits for ``laid_out``)."""
        return self._pending_plan is not None

    def lay_out_plan(self) -> None:
        """What ``browse`` was given to lay out and is not yet, and its ``laid_out``
        told (a frame drawn sooner than its turns needs it whole: the router calls this
        first; so does the acquisition's end)."""
        while self._lay_out_plan_part():
            pass

    def _lay_out_plan_part(self) -> bool:
        """The plan's next part (channel rows, sliders, then ``laid_out`` told); whether
        one is left (whose turn comes next)."""
        plan = self._pending_plan
        if plan is None:
            self._plan_timer.stop()
            return False
        part = plan.next_part
        if part is _PlanPart.CHANNEL_ROWS:
            channels = plan.axes.get("channel", ())
            self._planned_channels = frozenset(channels)
            self.viewer.channels.add_names(channels)
            plan.next_part = _PlanPart.SLIDERS
        elif part is _PlanPart.SLIDERS:
            if self.dataset is not None:  # nothing kept: nothing to browse, no slider
                map_axes = (ROW, COLUMN) if self.map.active else ()  # the map lays them out
                self.sliders.plan(
                    name
                    for name, values in plan.axes.items()
                    if len(values) > 1 and name not in map_axes
                )
            plan.next_part = _PlanPart.TELL_LAID_OUT
        else:
            self._drop_pending_plan()
            return False
        self._plan_timer.start()
        return True

    def refresh(self) -> None:
        """Let the sliders reach every image the dataset has now."""
        if self.dataset is not None and getattr(self.dataset, "axes", None):
            axes = dict(self.dataset.axes)  # the sliders make their own lists of them
            if self.map.active:  # the map lays rows and columns out
                axes = {k: v for k, v in axes.items() if k not in (ROW, COLUMN)}
            self.viewer.channels.add_names(axes.get("channel", ()))
            self.sliders.set_axes(axes)

    def _chosen(self, axes: dict[str, Any]) -> None:
        """The user moved a slider. With a move owed, the other sliders are still on an
        earlier frame than the one the user sees: the image chosen is the one shown,
        with the axis the user moved changed."""
        name = self.sliders.moved_last
        if self._sliders_timer.isActive() and name in axes:
            self._sliders_timer.stop()
            self._sliders_to({**self.last_shown_axes, name: axes[name]})
            axes = self.sliders.current_axes()
        self.show(axes)

    def show(self, axes: dict[str, Any]) -> None:
        if self.map.active:
            self.map.show_plane(axes)
            return
        if self.dataset is None or not axes:
            return
        try:
            if not self.dataset.has_image(**axes):
                return
            image = self.dataset.read_image(**axes)
        except Exception as exc:  # a partial dataset may lack an image
            logger.warning("Could not read the image %s: %s", axes, exc)
            return
        self.viewer.show_channel(axes.get("channel"))
        self.viewer.set_image(image)
        if self.viewer.channels.composite_active:
            self.request_composite(axes, image, False)

    def frame_shown(self, axes: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        """The viewer just showed a frame with ``axes``: the sliders go there, now or at
        the end of their interval (a map: the newest tile's plane is shown). Its
        ``metadata`` says what its axes' values are in µm and seconds, so the sliders'
        labels need not read them from the dataset on the GUI thread (a file on a disk
        being written: up to tens of ms)."""
        self.lay_out_plan()  # sooner than its turn: laid out first
        if metadata is not None:
            for axis in ("z", "time", "position"):
                if axis in axes and (axis, axes[axis]) not in self._physical:
                    found = physical_from(axis, metadata)
                    if found is not None:
                        self._physical[(axis, axes[axis])] = found
        if self.map.active:
            axes = {k: v for k, v in axes.items() if k not in (ROW, COLUMN)}
        self.last_shown_axes = axes
        if self.dataset is not None and not self._sliders_timer.isActive():
            wait_s = self._sliders_moved_at + SLIDERS_INTERVAL_S - time.perf_counter()
            if wait_s <= 0:
                self._move_sliders()
            else:  # the place of the frame shown then (``last_shown_axes``)
                self._sliders_timer.start(max(1, round(wait_s * 1000)))
        if "channel" in axes:  # kept nowhere, or not yet in the dataset's axes
            self.viewer.channels.add_names((axes["channel"],))
        if self.map.active:  # the map shows the newest tile's plane
            self.map.show_plane(axes)

    def _move_sliders(self) -> None:
        """The sliders to the last frame shown, while following (a slider the user
        moved since is left where it is)."""
        self._sliders_moved_at = time.perf_counter()
        if self.sliders.follow.isChecked():
            self._sliders_to(self.last_shown_axes)

    def _follow_clicked(self, following: bool) -> None:
        """Unchecked by the user: the frame shown stays, and the sliders say which it is."""
        if not following and self._sliders_timer.isActive():
            self._sliders_timer.stop()
            self._sliders_to(self.last_shown_axes)

    def _sliders_to(self, axes: dict[str, Any]) -> None:
        if self.dataset is None or not axes:
            return
        if not self.sliders.knows(axes):
            self.refresh()  # a new time point or z: let the sliders reach it
        self.sliders.show_axes(axes)

    def physical_value(self, axis: str, value: Any, axes: dict[str, Any]) -> str | None:
        """An axis value in physical units, from the metadata of an image that has it:
        µm for z, seconds for time, the name of a position (channels are names)."""
        if axis not in ("z", "time", "position") or self.dataset is None:
            return None
        key = (axis, value)
        if key not in self._physical:
            if self._being_written:
                return None  # read once the acquisition has ended (``acquisition_ended``)
            found = self._read_physical(axis, value, {**axes, axis: value})
            if found is None:
                return None  # not known yet (the image may come, or other axes may)
            self._physical[key] = found
        return self._physical[key]

    def _read_physical(self, axis: str, value: Any, axes: dict[str, Any]) -> str | None:
        dataset = self.dataset
        if isinstance(dataset, TiledDataset):  # a map's plane: the metadata of a tile of it
            tiles = dataset.tiles(0, axes)
            if not tiles:
                return None
            axes = {**axes, ROW: tiles[0][0], COLUMN: tiles[0][1]}
        try:
            if dataset is None or not dataset.has_image(**axes):
                return None
            metadata = dataset.read_metadata(**axes)
        except Exception:  # a partial dataset: no unit rather than an error
            return None
        return physical_from(axis, metadata)

    def acquisition_ended(self) -> None:
        """The sliders reach every image; following, the last image saved is shown (the
        display may not have shown it: the acquisition ended before the display's next
        tick, or its last frames were still waiting for their turn on the screen when
        the display stopped following it); otherwise they stay where the user put them."""
        self._being_written = False  # the units not brought by a frame shown: read now
        self.lay_out_plan()  # an acquisition over before its plan's turn: as any other
        self._sliders_timer.stop()  # moved here, to the last image
        self.sliders.plan(())  # an axis acquired at one value only (aborted) hides
        self.refresh()
        self._forget_channels_not_acquired()
        if not self.sliders.follow.isChecked():
            return
        if self.dataset is not None:
            coordinates = self.dataset.get_image_coordinates_list()
            if coordinates:
                axes = dict(coordinates[-1])
                if self.map.active:  # the map shows the plane, rows and columns laid out
                    axes = {k: v for k, v in axes.items() if k not in (ROW, COLUMN)}
                shown_channel = self.last_shown_axes.get("channel")
                if self.viewer.channels.composite_active and shown_channel is not None:
                    # the composite holds every channel: the histogram's stays, where
                    # that channel has an image at the last place (an acquisition
                    # stopped between channels may not)
                    kept = {**axes, "channel": shown_channel}
                    if self.map.active or self._has(kept):
                        axes = kept
                if axes != self.last_shown_axes:
                    self.last_shown_axes = axes
                    self.show(axes)
        self.sliders.show_axes(self.last_shown_axes)
        self._sliders_moved_at = time.perf_counter()

    def _has(self, axes: dict[str, Any]) -> bool:
        try:
            return self.dataset is not None and bool(self.dataset.has_image(**axes))
        except Exception:  # a partial dataset: as if it had not
            return False

    def _forget_channels_not_acquired(self) -> None:
        """Channels planned at Start that the dataset has no image of (stopped before
        them, or renamed by a processor) lose their rows; with nothing kept, nothing
        says which came."""
        planned, self._planned_channels = self._planned_channels, frozenset()
        axes = getattr(self.dataset, "axes", None)
        if not planned or axes is None:
            return
        acquired = set(axes.get("channel", ()))
        gone = {name for name in planned if name not in acquired}
        if gone:
            self.viewer.channels.keep_names(n for n in self.viewer.channels.names if n not in gone)


def physical_from(axis: str, metadata: dict[str, Any]) -> str | None:
    """An axis value as a person reads it, from an image's metadata: µm for z,
    seconds for time, the name of a position."""
    if axis == "z":
        z = metadata.get("ZPosition_um_Intended", metadata.get("ZPosition_um"))
        return f"{float(z):.2f} µm" if z is not None else None
    if axis == "time":
        elapsed = metadata.get("ElapsedTime-ms")
        return f"{float(elapsed) / 1000:.1f} s" if elapsed is not None else None
    name = metadata.get("PositionName")
    return str(name) if name else None
