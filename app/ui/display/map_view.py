"""A tiled dataset shown stitched in the viewer: a map, panned and zoomed with the mouse.

The rule this module keeps: the GUI thread never reads or maps a tile. It asks for the
part of the map in view (``MapRenderer.ask``); a worker thread reads it at the pyramid
level that suits the zoom and maps it with the channels' looks
(``processing/map_render.py``); the GUI thread only places the result where it lies in
map pixels (``ImageViewer.show_map``). Asks that come faster than the worker draws are
coalesced: only the newest view is drawn, and what was drawn before stays in place
(magnified or shrunk by the view) until then.

The view asks again when it moves, when a channel's look or the contrast changes, when
the plane changes (the sliders: channel, z, time) and when tiles arrive: the dataset's
tile count is polled, which works the same for an acquisition's live map, a script's
and one opened from disk. A view that showed the whole map keeps showing it as the map
grows.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QObject, QRectF, QThread, QTimer, pyqtSignal

from app.acquisition.priority import lower_current_thread_priority
from app.processing.channel_display import ChannelDisplay
from app.processing.composite import ColourPlanes
from app.processing.display import DisplaySettings, LatestFrameSlot
from app.processing.map_render import MapRequest, RenderedMap, map_bounds, render_map
from app.storage.tile_pyramid import Region
from app.storage.tiled_dataset import COLUMN, ROW, TiledDataset
from app.ui.common.lifecycle import finish_thread
from app.ui.display.viewer import ImageViewer

logger = logging.getLogger(__name__)

#: how often the dataset is checked for new tiles; a tile's downsampled levels are
#: refined just after it is counted, so the map is drawn again one check later
POLL_INTERVAL_MS = 150
STOP_TIMEOUT_S = 10.0  # a turn of the renderer is one view of the map drawn


class MapRenderer(QThread):
    """Draws the newest ``ask``ed view of a map into ``rendered``, off the GUI thread;
    ``renderedReady`` tells the GUI thread (a queued signal)."""

    renderedReady = pyqtSignal()

    def __init__(self, channels: ChannelDisplay, settings: DisplaySettings) -> None:
        super().__init__()
        self.channels = channels
        self.settings = settings
        self.rendered: LatestFrameSlot[RenderedMap] = LatestFrameSlot()
        self._asks: LatestFrameSlot[tuple[TiledDataset, MapRequest]] = LatestFrameSlot()
        self._wake = threading.Event()
        self._planes = ColourPlanes()  # the composites' buffers: this thread's only
        self._running = True
        self._failed = False

    def ask(self, dataset: TiledDataset, request: MapRequest) -> None:
        """Draw ``request`` of ``dataset`` (replaces an ask not yet taken up)."""
        self._asks.put((dataset, request), {})
        self._wake.set()

    def run(self) -> None:
        lower_current_thread_priority()  # the camera and the saving come first
        while True:
            self._wake.wait()
            self._wake.clear()
            if not self._running:
                return
            taken = self._asks.take()
            if taken is None:
                continue
            dataset, request = taken[0]
            try:
                frame = render_map(dataset, request, self.channels, self.settings, self._planes)
            except Exception:  # a map being written, or closed: said once, then quiet
                if not self._failed:
                    logger.exception("Could not draw the map")
                self._failed = True
                continue
            if frame is not None:
                self.rendered.put(frame, {})
                self.renderedReady.emit()

    def stop(self) -> None:
        """End the thread; returns once it ended (or is kept referenced until it does,
        said in the log: Qt aborts if a running QThread is destroyed)."""
        self._running = False
        self._wake.set()
        finish_thread(self, STOP_TIMEOUT_S, "The map renderer")


def _plane(axes: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in axes.items() if name not in (ROW, COLUMN)}


class MapView(QObject):
    """Shows a ``TiledDataset`` stitched in ``viewer`` (``show``), one plane at a time
    (``show_plane``: its channel is the current one; the composite shows them all)."""

    def __init__(self, viewer: ImageViewer) -> None:
        super().__init__()
        self.viewer = viewer
        self.dataset: TiledDataset | None = None
        self.plane: dict[str, Any] | None = None  # None: the first tile's, when there is one
        self.drawn = 0  # parts of maps shown (for tests and the status)
        self._renderer: MapRenderer | None = None
        self._asked = 0  # the number of the newest request
        self._first_asked = 1  # requests from before the dataset shown are dropped
        self._bounds: Region | None = None
        self._count: tuple[int, int, bool] | None = None  # levels, tiles, finished
        self._settling = False
        #: a view that showed the whole map keeps showing it as the map grows (Explore
        #: turns this off: there the view stays where the user is pointing)
        self.follows_growth = True
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_INTERVAL_MS)
        self._poll.timeout.connect(self._check_tiles)
        viewer.view.sigRangeChanged.connect(self.redraw)
        channels = viewer.channels
        for signal in (channels.events.looks, channels.events.composite, channels.events.names):
            signal.connect(self.redraw)

    @property
    def size(self) -> tuple[int, int] | None:
        """The map's width and height in full-resolution pixels (None: no tile yet)."""
        bounds = self._bounds
        if bounds is None:
            return None
        return bounds.x1 - bounds.x0, bounds.y1 - bounds.y0

    @property
    def active(self) -> bool:
        """A map is shown."""
        return self.dataset is not None

    def show(self, dataset: TiledDataset | None) -> None:
        """Show ``dataset`` stitched from now on (None: no map; frames again)."""
        self.dataset = dataset
        self.plane = None
        self._bounds = None
        self._count = None
        self._first_asked = self._asked + 1
        if dataset is None:
            self._poll.stop()
            self.viewer.stop_drawing()
            return
        self.viewer.start_drawing(self)
        if self._renderer is None:
            self._renderer = MapRenderer(self.viewer.channels, self.viewer.settings)
            self._renderer.renderedReady.connect(self._show_rendered)
            self._renderer.start()
        self._poll.start()
        self._check_tiles()

    def show_plane(self, axes: Mapping[str, Any]) -> None:
        """Show the plane of ``axes`` (its row and column, if any, are ignored)."""
        plane = _plane(axes)
        self.viewer.show_channel(plane.get("channel"))  # the histogram's channel
        if plane != self.plane:
            self.plane = plane
            self.redraw()

    # ------------------------------------------------------------ the viewer's Drawing
    def redraw(self) -> None:
        """Ask for the view as it is now."""
        dataset, renderer = self.dataset, self._renderer
        if dataset is None or renderer is None or self.plane is None:
            return
        view = self.viewer.view
        width, height = math.ceil(view.width()), math.ceil(view.height())
        if width <= 1 or height <= 1:
            return  # not laid out yet
        (x0, x1), (y0, y1) = view.viewRange()
        self._asked += 1
        request = MapRequest(self.plane, (x0, y0, x1, y1), (width, height), self._asked)
        renderer.ask(dataset, request)

    def fit(self) -> None:
        """The whole map in the window."""
        bounds = self._bounds
        if bounds is not None:
            rect = QRectF(bounds.x0, bounds.y0, bounds.x1 - bounds.x0, bounds.y1 - bounds.y0)
            self.viewer.view.setRange(rect, padding=0)

    # ------------------------------------------------------------ new tiles
    def _check_tiles(self) -> None:
        """Draw again when tiles arrived, and once more a check later (their coarser
        levels are written just after the tile is counted)."""
        dataset = self.dataset
        if dataset is None:
            return
        try:
            count = (dataset.levels, dataset.image_count(), dataset.is_finished())
        except Exception as exc:  # being written: next time
            logger.debug("Could not count the map's tiles: %s", exc)
            return
        if count != self._count:
            self._count = count
            self._settling = True
            self._tiles_arrived(dataset)
        elif self._settling:
            self._settling = False
            self.redraw()
        elif count[2]:
            self._poll.stop()  # finished, and drawn since its last tile

    def _tiles_arrived(self, dataset: TiledDataset) -> None:
        if self.plane is None:
            coordinates = dataset.get_image_coordinates_list()
            if not coordinates:
                return
            self.show_plane(coordinates[0])
        try:
            bounds = map_bounds(dataset)
        except Exception as exc:  # being written: next time
            logger.debug("Could not read the map's bounds: %s", exc)
            return
        if bounds != self._bounds:
            whole = self._bounds is None or self._shows_all(self._bounds)
            self._bounds = bounds
            if whole and self.follows_growth:
                self.fit()  # the view follows the map as it grows
        self.redraw()

    def _shows_all(self, bounds: Region) -> bool:
        (x0, x1), (y0, y1) = self.viewer.view.viewRange()
        slack = 0.5
        return (
            x0 <= bounds.x0 + slack
            and y0 <= bounds.y0 + slack
            and x1 >= bounds.x1 - slack
            and y1 >= bounds.y1 - slack
        )

    # ------------------------------------------------------------ drawn
    def _show_rendered(self) -> None:
        renderer = self._renderer
        taken = renderer.rendered.take() if renderer is not None else None
        if taken is None or not self.active:
            return
        frame = taken[0]
        if frame.number < self._first_asked:
            return  # a part of the map shown before
        self.viewer.show_map(frame)
        self.drawn += 1

    def stop(self) -> None:
        """End the worker thread (the window closes)."""
        self._poll.stop()
        if self._renderer is not None:
            self._renderer.stop()
            self._renderer = None
