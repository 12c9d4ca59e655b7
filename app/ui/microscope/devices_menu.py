"""The Devices menu: the microscope's set-up, as MMStudio's Devices menu has it.

Each dialog is made the first time it is asked for and then kept (shown again, not
rebuilt), non-modal so that the image stays in sight. They all follow the microscope
through one ``CoreEvents`` of this menu's own, and a newly loaded configuration
through ``set_core`` (this object is one of the window's ``UsesMicroscope``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QAction, QDesktopServices
from PyQt6.QtWidgets import QDialog, QMenu, QWidget

from app.settings_store import SettingsStore
from app.ui.microscope.camera_roi import CameraRoiDialog
from app.ui.microscope.config_groups import ConfigGroupsDialog
from app.ui.microscope.core_events import CoreEvents
from app.ui.microscope.device_properties import PropertyBrowserDialog
from app.ui.microscope.hardware_wizard import HardwareWizardDialog
from app.ui.microscope.installations_dialog import InstallationsDialog
from app.ui.microscope.pixel_size import BinningFollower, PixelSizeDialog

PROPERTIES = "properties"
GROUPS = "groups"
PIXEL_SIZE = "pixel size"
CAMERA = "camera"
WIZARD = "wizard"
INSTALLATION = "installation"

Shown = TypeVar("Shown", bound=QDialog)


@runtime_checkable
class _FollowsCore(Protocol):
    def set_core(self, core: CMMCorePlus) -> None: ...


class DevicesMenu:
    """The menu (``menu``, for the window's menu bar) and its dialogs (``dialogs``).

    ``live`` and ``acquiring`` say whether the window's Live or an acquisition runs:
    the camera's frame size is not changed then, nor are properties and presets
    during an acquisition. ``opener`` opens web pages (tests replace it).
    """

    def __init__(
        self,
        parent: QWidget,
        core: CMMCorePlus,
        *,
        live: Callable[[], bool],
        acquiring: Callable[[], bool],
        open_configuration: Callable[[], object],
        settings: SettingsStore,
    ) -> None:
        self.parent = parent
        self.settings = settings
        self.core = core
        self._live = live
        self._acquiring = acquiring
        self._open_configuration = open_configuration
        self.opener: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.events = CoreEvents(core, parent)
        self.binning = BinningFollower(core, self.events, parent)
        self.dialogs: dict[str, QDialog] = {}
        self.menu = QMenu("&Devices", parent)
        self.actions: dict[str, QAction] = {}
        for key, text, tip in (
            (PROPERTIES, "Device &properties…", "Every property of every device, editable"),
            (GROUPS, "Configuration &groups…", "The presets of each group, and what they set"),
            (PIXEL_SIZE, "Pi&xel size…", "The µm per pixel of each objective"),
            (CAMERA, "Camera &ROI and binning…", "The part of the sensor read, and binning"),
            (None, "", ""),
            (WIZARD, "&Hardware configuration wizard…", "How to make a configuration file"),
            (
                INSTALLATION,
                "Micro-Manager &installation…",
                "The Micro-Manager installations found, and the one configurations load from",
            ),
        ):
            if key is None:
                self.menu.addSeparator()
                continue
            action = QAction(text, parent)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, k=key: self.show(k))
            self.menu.addAction(action)
            self.actions[key] = action

    # ------------------------------------------------------------ why not now
    def acquisition_busy(self) -> str | None:
        return "an acquisition is running" if self._acquiring() else None

    def camera_busy(self) -> str | None:
        if self._live():
            return "Live is on; stop it first (Acquire › Live on/off)"
        return self.acquisition_busy()

    # ------------------------------------------------------------ the dialogs
    def _make(self, key: str) -> QDialog:
        core, events, parent = self.core, self.events, self.parent
        if key == PROPERTIES:
            return PropertyBrowserDialog(core, events, self.acquisition_busy, parent)
        if key == GROUPS:
            return ConfigGroupsDialog(core, events, self.acquisition_busy, parent)
        if key == PIXEL_SIZE:
            return PixelSizeDialog(core, events, parent=parent)
        if key == CAMERA:
            return CameraRoiDialog(core, events, self.camera_busy, parent)
        if key == WIZARD:
            return HardwareWizardDialog(
                lambda url: self.opener(url), self._open_configuration, parent
            )
        if key == INSTALLATION:
            return InstallationsDialog(core, self.settings, parent)
        raise KeyError(key)

    def show(self, key: str) -> QDialog:
        """Show one of the dialogs (made the first time), raised above the window."""
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = self.dialogs[key] = self._make(key)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _shown(self, key: str, kind: type[Shown]) -> Shown:
        dialog = self.show(key)
        assert isinstance(dialog, kind)
        return dialog

    def show_properties(self) -> PropertyBrowserDialog:
        return self._shown(PROPERTIES, PropertyBrowserDialog)

    def show_groups(self) -> ConfigGroupsDialog:
        return self._shown(GROUPS, ConfigGroupsDialog)

    def show_pixel_size(self) -> PixelSizeDialog:
        return self._shown(PIXEL_SIZE, PixelSizeDialog)

    def show_camera(self) -> CameraRoiDialog:
        return self._shown(CAMERA, CameraRoiDialog)

    def show_wizard(self) -> HardwareWizardDialog:
        return self._shown(WIZARD, HardwareWizardDialog)

    def show_installations(self) -> InstallationsDialog:
        dialog = self._shown(INSTALLATION, InstallationsDialog)
        dialog.refresh()  # shown again: what is installed may have changed
        return dialog

    # ------------------------------------------------------------ the microscope
    def set_core(self, core: CMMCorePlus) -> None:
        """Follow a newly loaded configuration, in every dialog made so far."""
        self.core = core
        self.events.set_core(core)
        self.binning.set_core(core)
        for dialog in self.dialogs.values():
            if isinstance(dialog, _FollowsCore):  # the wizard shows nothing of the microscope
                dialog.set_core(core)

    def close(self) -> None:
        """The window closes: stop listening to the microscope."""
        self.events.disconnect_core()
        for dialog in self.dialogs.values():
            dialog.close()
