"""Which frames the viewer shows, and when: the display's timer.

The newest acquisition being shown (from the panel, the console or a script) wins;
otherwise Live's frames, otherwise the last snap. A ``FramePreparer`` maps them to 8
bits off the GUI thread; on each tick (at most about 60 a second) the GUI thread takes
the newest prepared frame, if any, and paints it. A frame the display could not keep
up with is skipped, never queued.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QObject, QTimer

from app.acquisition.active import ShownAcquisitions
from app.processing.display import LatestFrameSlot
from app.ui.dataset_browser import DatasetBrowser
from app.ui.frame_preparer import FramePreparer
from app.ui.named_views import NamedViewDocks
from app.ui.viewer import ImageViewer

DISPLAY_INTERVAL_MS = 16  # at most ~60 displayed frames per second

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
        self.preparer = FramePreparer(viewer.settings)
        self.preparer.start()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(DISPLAY_INTERVAL_MS)

    def source(self) -> Slot:
        acquisition = self.shown.newest()
        return acquisition.display if acquisition is not None else self.camera_source()

    def _follow_newest(self) -> None:
        """An acquisition appeared (from the panel, the console, a script): its name
        goes above the image and the sliders browse its dataset; when it ends, the
        sliders reach every image it saved."""
        newest = self.shown.newest()
        if newest is self._following:
            return
        if newest is None:
            self.browser.acquisition_ended()
        else:
            dataset = newest.get_dataset()
            if self.browser.dataset is not dataset:
                self.browser.browse(dataset, follow=True)
            where = newest.dataset_path or "kept in memory"
            self.viewer.set_title(f"{newest.name}: {where}")
        self._following = newest

    def tick(self) -> None:
        self._follow_newest()
        following = self.browser.following
        self.preparer.source = self.source() if following else None
        item = self.preparer.prepared.take()
        if item is not None and following:
            frame = item[0]
            self.viewer.show_prepared(frame)
            self.displayed += 1
            self.browser.frame_shown(frame.metadata.get("Axes") or {})
        self.named_views.show_pending()

    def stop(self) -> None:
        self._timer.stop()
        self.preparer.stop()
