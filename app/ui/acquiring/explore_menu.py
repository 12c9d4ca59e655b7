"""Acquire > Explore: starting an exploration from the window, or going on with a map.

The window's part is small: the settings come from the Acquisition panel
(``explore_settings``: channels, exposures, Z planes, overlap), the map is saved in its
data folder, the registry's processors run on every tile, and the Explore window does
the rest. One exploration at a time; Live stops first (the camera is the map's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu, QWidget

from app.acquisition.explore import Exploration
from app.appstate import AppState
from app.processing.errors import ErrorPolicy
from app.storage.tiled_dataset import TiledDataset
from app.ui.acquiring.acquisition_panel import AcquisitionPanel
from app.ui.acquiring.explore_window import ExploreWindow
from app.ui.common.qt_threads import QtThreads
from app.ui.common.seams import Messages
from app.ui.display.dataset_browser import DatasetBrowser

logger = logging.getLogger(__name__)

EXPLORE_NAME = "explore"


class ExploreActions:
    """The Acquire menu's Explore entries and the Explore window they open.

    The map's settings come from ``panel``; ``browser`` shows the map (and holds the
    map to go on with); ``acquiring`` says whether the window's acquisition runs;
    ``stop_live`` and ``microscope_free`` are the camera's and the microscope panel's,
    as for an acquisition."""

    def __init__(
        self,
        parent: QWidget,
        menu: QMenu | None,
        state: AppState,
        panel: AcquisitionPanel,
        browser: DatasetBrowser,
        messages: Messages,
        *,
        acquiring: Callable[[], bool],
        stop_live: Callable[[], None],
        microscope_free: Callable[[bool], None],
    ) -> None:
        if menu is None:
            raise ValueError("the Acquire menu is needed")
        self.state = state
        self.panel = panel
        self.browser = browser
        self.messages = messages
        self.acquiring = acquiring
        self.stop_live = stop_live
        self.microscope_free = microscope_free
        self.window: ExploreWindow | None = None
        menu.addSeparator()
        self.explore_action = QAction("E&xplore…", parent)
        self.explore_action.setShortcut(QKeySequence("Ctrl+E"))
        self.explore_action.setToolTip(
            "A map from the stage's position: click tiles to acquire them (the Acquisition "
            "panel's channels, exposures and Z-stack)"
        )
        self.explore_action.triggered.connect(self.start)
        self.resume_action = QAction("Go on exploring the map shown", parent)
        self.resume_action.setToolTip(
            "Open a map with File > Open dataset first: new tiles join it where they belong"
        )
        self.resume_action.triggered.connect(self.resume)
        menu.addAction(self.explore_action)
        menu.addAction(self.resume_action)
        menu.setToolTipsVisible(True)  # why an entry is greyed
        menu.aboutToShow.connect(self._enable)

    def _enable(self) -> None:
        shown = self.browser.dataset
        self.resume_action.setEnabled(
            isinstance(shown, TiledDataset)
            and shown.is_finished()
            and "ScopeflowTileOrigin_um" in shown.summary_metadata
        )

    def _arguments(self) -> dict[str, Any]:
        panel = self.panel
        return {
            "image_process_fn": self.state.registry.for_acquisition(),
            "on_error": ErrorPolicy.PASS_THROUGH,
            "threads": QtThreads(),
            "show_display": False,
            # "Afterwards, return the microscope...": once the Explore window closes
            "restore_hardware": panel.return_hardware.isChecked(),
        }

    def _ready(self) -> bool:
        if self.window is not None:
            self.window.raise_()
            self.messages.show_error_message("An exploration is open: close it to start another")
            return False
        if self.acquiring():
            self.messages.show_error_message("An acquisition is running: explore when it ends")
            return False
        self.stop_live()
        return True

    def start(self) -> ExploreWindow | None:
        """A new map, tile (0, 0) where the stage is, saved in the panel's data folder."""
        if not self._ready():
            return None
        panel = self.panel
        try:
            exploration = Exploration.start(
                self.state.core,
                panel.data_directory,
                EXPLORE_NAME,
                panel.explore_settings(),
                **self._arguments(),
            )
        except Exception as exc:  # no pixel size, no stage, a folder that cannot be made
            self.messages.show_error_message(f"Could not start exploring: {exc}")
            return None
        return self._open(exploration)

    def resume(self) -> ExploreWindow | None:
        """Go on with the map the viewer shows (opened from disk)."""
        shown = self.browser.dataset
        if not isinstance(shown, TiledDataset) or not self._ready():
            return None
        panel = self.panel
        try:
            exploration = Exploration.resume(
                self.state.core,
                shown.path,
                panel.explore_settings(),
                **self._arguments(),
            )
        except Exception as exc:  # another camera size, a map without its grid
            self.messages.show_error_message(f"Could not go on exploring {shown.path}: {exc}")
            return None
        return self._open(exploration)

    def _open(self, exploration: Exploration) -> ExploreWindow:
        window = ExploreWindow(exploration, before_acquiring=self.stop_live)
        window.closed.connect(self._closed)
        window.busyChanged.connect(self._busy)
        window.show()
        self.window = window
        self.browser.browse(exploration.dataset, follow=True)  # the map here too
        self.browser.viewer.set_title(f"{EXPLORE_NAME}: {exploration.dataset.path}")
        panel = self.panel
        ignored = [
            name
            for name, box in (("time points", panel.time_box), ("positions", panel.position_box))
            if box.isChecked()
        ]
        if ignored:
            self.messages.show_status(
                f"Explore acquires tiles where you click: the panel's {' and '.join(ignored)} "
                "are not used"
            )
        logger.info("Exploring: %s", exploration.dataset.path)
        return window

    @property
    def exploring(self) -> bool:
        """An Explore window is open (the microscope is the map's)."""
        return self.window is not None

    def _busy(self, busy: bool) -> None:
        """While tiles are on their way, Live, Snap and the stage buttons wait (the
        camera and the stage are the map's), as during an acquisition."""
        if busy:
            self.stop_live()
        self.microscope_free(not busy)

    def _closed(self) -> None:
        window = self.window
        self.window = None
        self.microscope_free(not self.acquiring())
        if window is not None:
            self.messages.show_status(
                f"The explored map is in {window.exploration.dataset.path} "
                "(File > Open dataset shows it; Acquire > Go on exploring adds to it)"
            )

    def close(self) -> None:
        """The main window closes: so does the exploration (queued tiles dropped)."""
        if self.window is not None:
            self.window.close()
