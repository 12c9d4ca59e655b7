"""Which frames the viewer shows, and when: the display's timer.

The newest acquisition being shown (from the panel, the console or a script) wins;
otherwise Live's frames, otherwise the last snap. A ``FramePreparer`` maps them to 8
bits off the GUI thread and says when one is ready; the GUI thread then takes the newest
prepared frame and paints it, at most one per 60 Hz refresh (a frame ready sooner
waits for its turn, and a newer one replaces it meanwhile). A frame the display could
not keep up with is skipped, never queued. Paced by the preparer rather than by a
fixed timer: on a busy machine the preparer's frames come unevenly, and a timer's
tick that found none lost a whole refresh (13% of them, 51 frames/s instead of 60).
A slower timer does the rest: following the newest acquisition, named views.

In composite mode the preparer also makes the composites of what the sliders browse,
and makes them again when a channel's look, the mode or the zoom changes.

A tiled dataset is drawn stitched by the browser's ``MapView``, not frame by frame:
while it is shown, a frame followed only moves the sliders (and the map's plane) to
the newest tile's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, Qt, QTimer

from app.acquisition.active import ShownAcquisitions
from app.processing.display import OTHER_CAMERAS_KEY, LatestFrameSlot
from app.ui.display.dataset_browser import DatasetBrowser
from app.ui.display.frame_preparer import FramePreparer, PreparedFrame
from app.ui.display.named_views import NamedViewDocks
from app.ui.display.viewer import ImageViewer

#: at most a frame per 14 ms: sooner than a 60 Hz refresh (16.7 ms), so that the timer's
#: and the event loop's lateness (1-2 ms) still leave a new frame for every refresh
DISPLAY_INTERVAL_S = 0.014
FOLLOW_INTERVAL_MS = 16  # looking for a new acquisition to follow, named views

Slot = LatestFrameSlot[np.ndarray]


class DisplayRouter(QObject):
    """Feeds ``viewer`` from the right source on a timer; counts what it shows."""

    def __init__(
        self,
        viewer: ImageViewer,
        browser: DatasetBrowser,
        named_views: NamedViewDocks,
        shown: ShownAcquisitions,
        camera_source: Callable[[], Slot],
    ) -> None:
        super().__init__()
        self.viewer = viewer
        self.browser = browser
        self.named_views = named_views
        self.shown = shown
        self.camera_source = camera_source  # Live's slot while it runs, else the snap's
        self.displayed = 0
        self._following: object | None = None  # the acquisition the viewer follows
        self._followed_last: object | None = None  # the one followed last, running or not
        self.preparer = FramePreparer(viewer.settings, viewer.channels, DISPLAY_INTERVAL_S)
        self.preparer.start()
        self._request = 0  # the newest composite asked for (older answers are dropped)
        browser.request_composite = self.request_composite
        channels = viewer.channels
        for signal in (channels.events.looks, channels.events.composite, channels.events.names):
            signal.connect(self.recompose)
        viewer.settings.events.stride.connect(self.recompose)
        self._shown_at = 0.0  # perf_counter of the last frame shown
        self._stopped = False
        self._show_timer = QTimer(self)  # a frame ready before its turn waits for it
        self._show_timer.setSingleShot(True)
        self._show_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._show_timer.timeout.connect(self.show_ready_frame)
        # queued: emitted by the preparer's thread, run on this (the GUI) thread
        self.preparer.frame_ready.connect(self._frame_ready)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(FOLLOW_INTERVAL_MS)

    def source(self) -> Slot:
        acquisition = self.shown.newest()
        return acquisition.display if acquisition is not None else self.camera_source()

    def _follow_newest(self) -> None:
        """An acquisition appeared (from the panel, the console, a script): its name
        goes above the image and the sliders browse its dataset; when it ends, the
        sliders reach every image it saved."""
        newest = self.shown.newest()
        if newest is None:
            # one that started and ended since the last tick is shown once ended
            missed = self.shown.last_added()
            if missed is not None and missed is not self._followed_last:
                self._browse(missed)
                self._following = missed
        if newest is self._following:
            return
        if newest is None:
            self.browser.acquisition_ended()
        else:
            self._browse(newest)
        self._following = newest

    def _browse(self, acquisition: Any) -> None:
        dataset = acquisition.get_dataset()
        if self.browser.dataset is not dataset:
            self.browser.browse(dataset, follow=True)
        where = acquisition.dataset_path or "kept in memory"
        self.viewer.set_title(f"{acquisition.name}: {where}")
        self._followed_last = acquisition

    def request_composite(
        self, axes: dict[str, Any] | None, image: np.ndarray | None, following: bool
    ) -> None:
        """Have the preparer compose the channels at ``axes`` (``image``: the current
        channel's frame there, if read already; None: at the newest frame's, following)."""
        self.preparer.dataset = self.browser.dataset
        self._request = self.preparer.request(axes, image, latest_ok=following)

    def recompose(self) -> None:
        """The composite shown again, with the looks, mode and zoom of now: at the
        sliders' coordinates, or, following, at the newest frame's (the preparer may
        hold one newer than the one shown: composing the shown one again would step
        back)."""
        if not self.viewer.channels.composite_active or self.viewer.image is None:
            return
        if self.browser.map.active:
            return  # the map composes its own channels
        if self.browser.following:
            self.request_composite(None, None, True)
            return
        axes = self.browser.sliders.current_axes()
        if "channel" in axes:
            self.request_composite(axes, self.viewer.image, False)

    def tick(self) -> None:
        """Follow the newest acquisition and feed the preparer from it; named views."""
        self._follow_newest()
        following = self.browser.following
        self.preparer.source = self.source() if following else None
        # a map's composites are the map's: the preparer reads no channel from its tiles
        self.preparer.dataset = None if self.browser.map.active else self.browser.dataset
        self._frame_ready()  # one prepared while no one was following, say
        self.named_views.show_pending()

    def _frame_ready(self) -> None:
        """The preparer has a frame: shown now, or at its turn if one was just shown."""
        if self._stopped or self._show_timer.isActive():
            return  # already waiting: the newest frame then is shown
        wait_s = self._shown_at + DISPLAY_INTERVAL_S - time.perf_counter()
        if wait_s <= 0:
            self.show_ready_frame()
        else:
            self._show_timer.start(int(wait_s * 1000))  # whole ms, never later than due

    def show_ready_frame(self) -> None:
        """The newest prepared frame, if there is one, in the viewer."""
        following = self.browser.following
        item = self.preparer.prepared.take()
        if item is not None and self.browser.plan_pending and item[0].source is not self.source():
            # from before Start (Live's last frame; a composite of the dataset before):
            # not shown, so that the plan keeps its turns and the engine its hold
            return
        if item is not None:
            self.browser.lay_out_plan()  # sooner than the plan's turn: laid out first
        if item is not None and self.browser.map.active:
            if following:
                metadata = item[0].metadata
                self.browser.frame_shown(metadata.get("Axes") or {}, metadata)
            return
        if item is None or not self._wanted(item[0], following):
            return
        frame = item[0]
        others = frame.metadata.get(OTHER_CAMERAS_KEY)
        if others:  # several cameras: each is a channel of the composite
            self.viewer.channels.add_names(tuple(others))
        self._shown_at = time.perf_counter()
        self.viewer.show_channel(frame.channel)
        self.viewer.show_prepared(frame)
        self.displayed += 1
        if following:
            axes = frame.metadata.get("Axes") or {}
            if "channel" in axes and frame.channel is not None:
                axes = {**axes, "channel": frame.channel}  # a composite: the histogram's
            self.browser.frame_shown(axes, frame.metadata)
        alone = frame.display is not None and not frame.composite
        if alone and frame.channel is not None and self.viewer.channels.composite_active:
            self.recompose()  # mapped alone before the other channels were known

    def _wanted(self, frame: PreparedFrame, following: bool) -> bool:
        """A frame of the stream followed now, or the answer to the newest request;
        never a composite once the viewer shows one channel at a time."""
        composite = frame.display is not None and frame.composite
        if composite and not self.viewer.channels.composite_active:
            return False
        if frame.request:
            return frame.request == self._request
        return following and frame.source is self.preparer.source

    def stop(self) -> None:
        self._stopped = True  # a frame_ready still queued must start no timer
        self._timer.stop()
        self._show_timer.stop()
        self.preparer.stop()
