"""The microscope's room, assembled: the Microscope panel, Snap and Live, the Devices
menu and its dialogs, and loading another configuration."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtWidgets import QWidget

from app.appstate import AppState
from app.microscope.loading import load_microscope
from app.settings_store import SettingsStore
from app.ui.common.file_dialogs import FileDialogs
from app.ui.common.pacer import Pacer
from app.ui.common.seams import Messages
from app.ui.microscope.camera_control import CameraControl
from app.ui.microscope.configuration_files import ConfigurationFiles
from app.ui.microscope.configuration_swap import ConfigurationSwap, UsesMicroscope
from app.ui.microscope.devices_menu import DevicesMenu
from app.ui.microscope.microscope_panel import MicroscopePanel


class MicroscopeRoom:
    """``acquiring_here`` says whether the window's own acquisition runs (Snap and Live
    wait for it); ``show_camera(title)`` puts the viewer on the camera's image."""

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        settings: SettingsStore,
        messages: Messages,
        *,
        acquiring_here: Callable[[], bool],
        show_camera: Callable[[str], None],
        pacer: Pacer | None = None,
    ) -> None:
        self.parent = parent
        self.state = state
        self.settings = settings
        self.messages = messages

        def acquiring() -> bool:  # any acquisition: the window's, a script's, the console's
            return state.shown.newest() is not None

        self.panel = MicroscopePanel(state.core, acquiring, pacer=pacer)
        self.panel.failed.connect(messages.show_error_message)
        self.camera = CameraControl(
            parent, state, self.panel, messages, show_camera, acquiring_here
        )
        self.devices = DevicesMenu(  # device properties, presets, pixel size, camera ROI
            parent,
            state.core,
            live=lambda: self.camera.live,
            acquiring=acquiring,
            open_configuration=lambda: self._choose_configuration(),
            settings=settings,
        )
        self.acquiring_here = acquiring_here
        self.configurations: ConfigurationFiles | None = None  # load_configurations

    def _choose_configuration(self) -> None:
        """The hardware wizard's Open configuration…, once configurations can load."""
        if self.configurations is not None:
            self.configurations.choose_configuration()

    def load_configurations(
        self, users: Sequence[UsesMicroscope], dialogs: FileDialogs, loaded: Callable[[], None]
    ) -> ConfigurationFiles:
        """File > Open configuration…: a new microscope for ``users`` (every part of the
        window that holds one, in the order they follow it)."""
        settings = self.settings
        swap = ConfigurationSwap(
            self.parent,
            self.state,
            users,
            loader=lambda path: load_microscope(path, settings=settings),
        )
        self.configurations = ConfigurationFiles(
            self.parent,
            self.state,
            swap,
            settings,
            dialogs,
            self.messages,
            acquiring=self.acquiring_here,
            stop_live=self.camera.stop_live,
            show_installations=self.devices.show_installations,
            loaded=loaded,
        )
        return self.configurations

    def detach(self) -> None:
        """The window closes: the microscope lives on, unfollowed."""
        self.panel.core_events.disconnect_core()

    def close(self) -> None:
        """Its dialogs close and Live stops."""
        self.devices.close()
        self.camera.stop_live()
