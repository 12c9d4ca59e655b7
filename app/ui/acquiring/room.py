"""The acquiring room, assembled: the Acquisition panel, the controller that runs its
acquisitions on worker threads, and what the window does as one starts, runs and ends
(``AcquisitionActions``, with the acquisitions started elsewhere it follows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtWidgets import QMenu, QWidget

from app.acquisition.acquisition import Acquisition
from app.appstate import AppState
from app.ui.acquiring.acquisition_actions import AcquisitionActions
from app.ui.acquiring.acquisition_controller import AcquisitionController
from app.ui.acquiring.acquisition_panel import AcquisitionPanel
from app.ui.acquiring.explore_menu import ExploreActions
from app.ui.common.seams import Messages
from app.ui.display.dataset_browser import DatasetBrowser


class AcquiringRoom:
    """See ``AcquisitionActions`` for ``stop_live``, ``microscope_free``, ``exploring``."""

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        browser: DatasetBrowser,
        messages: Messages,
        data_directory: Path,
        *,
        stop_live: Callable[[], None],
        microscope_free: Callable[[bool], None],
        exploring: Callable[[], bool],
    ) -> None:
        self.parent, self.state, self.browser, self.messages = parent, state, browser, messages
        self.stop_live, self.microscope_free = stop_live, microscope_free
        self.controller = AcquisitionController(state.core, state.registry)
        self.panel = AcquisitionPanel(state.core, data_directory)
        self.actions = AcquisitionActions(
            parent,
            state,
            self.panel,
            self.controller,
            browser,
            messages,
            stop_live=stop_live,
            microscope_free=microscope_free,
            exploring=exploring,
        )

    def add_explore(self, menu: QMenu) -> ExploreActions:
        """Acquire > Explore… and Go on exploring, in ``menu``."""
        return ExploreActions(
            self.parent,
            menu,
            self.state,
            self.panel,
            self.browser,
            self.messages,
            acquiring=lambda: self.controller.running,
            stop_live=self.stop_live,
            microscope_free=self.microscope_free,
        )

    def running_acquisition(self) -> Acquisition | None:
        """The panel's acquisition while it runs, else None."""
        return self.controller.acquisition if self.controller.running else None

    def detach(self) -> None:
        """The window closes: an acquisition started elsewhere is no longer followed,
        and memory is no longer made ready for the panel's plan."""
        self.actions.followed.detach()
        self.actions.give_up_memory()

    def close(self) -> None:
        """An acquisition still running is aborted and its thread joined."""
        self.controller.close()
