"""File > Open configuration… and Use the simulated microscope: which microscope the
window drives. ``ConfigurationSwap`` does the loading; this says what came of it (in
the status line, the Log, and for adapters that do not fit this Scopeflow, an offer to
choose another Micro-Manager installation)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtWidgets import QWidget

from app.appstate import AppState
from app.microscope.installations import installation_in_use
from app.microscope.loading import AdaptersDoNotFitError, MicroscopeConfigError
from app.settings_store import SettingsStore
from app.ui.common.file_dialogs import FileDialogs
from app.ui.common.seams import Messages
from app.ui.microscope.configuration_swap import ConfigurationSwap, LoadCancelled
from app.ui.microscope.installations_dialog import offer_another_installation

logger = logging.getLogger(__name__)


class ConfigurationFiles:
    """Loading configurations for the window. ``acquiring`` refuses a load while the
    window's acquisition runs; ``stop_live`` stops Live first; ``show_installations``
    opens Devices > Micro-Manager installation…; ``loaded`` is told after a load."""

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        swap: ConfigurationSwap,
        settings: SettingsStore,
        dialogs: FileDialogs,
        messages: Messages,
        *,
        acquiring: Callable[[], bool],
        stop_live: Callable[[], None],
        show_installations: Callable[[], object],
        loaded: Callable[[], None],
    ) -> None:
        self.parent = parent
        self.state = state
        self.swap = swap
        self.settings = settings
        self.dialogs = dialogs
        self.messages = messages
        self.acquiring = acquiring
        self.stop_live = stop_live
        self.show_installations = show_installations
        self.loaded = loaded

    def choose_configuration(self) -> None:
        path = self.dialogs.file_to_open(
            "Open a Micro-Manager configuration", "Micro-Manager configuration (*.cfg)"
        )
        if path:
            self.load_configuration(path)

    def use_simulated_microscope(self) -> bool:
        """Back from a loaded configuration to the simulated microscope."""
        return self.load_configuration(None)

    def load_configuration(self, path: str | None) -> bool:
        """Load a configuration (None: the simulated microscope) off the GUI thread and
        use it; False if it was not."""
        messages = self.messages
        if self.acquiring():
            messages.show_error_message("Stop the acquisition before loading a configuration.")
            return False
        self.stop_live()
        try:
            self.swap.load(path)
        except AdaptersDoNotFitError as exc:
            logger.error("%s", exc)
            messages.show_status(
                f"Not loaded: {len(exc.problems)} device adapter(s) in {exc.installation.path} "
                "do not fit this Scopeflow (the Log panel says which); the microscope is "
                "unchanged.",
                30000,
            )
            offer = not os.environ.get("SCOPEFLOW_NO_DIALOGS")
            if offer and offer_another_installation(self.parent, str(exc)):
                self.show_installations()
            return False
        except MicroscopeConfigError as exc:
            messages.show_error_message(str(exc))
            return False
        except LoadCancelled as exc:
            messages.show_status(str(exc))
            return False
        self.loaded()
        if path is None:
            messages.show_status("Using the simulated microscope")
        else:
            core = self.state.core
            adapters = installation_in_use(core.getDeviceAdapterSearchPaths(), self.settings)
            messages.show_status(
                f"Loaded {Path(path).name}: device adapters from {adapters}", 30000
            )
        return True
