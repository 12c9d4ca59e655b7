"""What the window remembers between runs: its layout, the pipeline's order and
switches, the save folder, the scripts folder and how each channel looks (plain JSON
values in a ``SettingsStore``, never pickled objects)."""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

from PyQt6.QtCore import QByteArray
from PyQt6.QtWidgets import QMainWindow

from app.processing.channel_display import ChannelDisplay
from app.processing.registry import ProcessorRegistry
from app.settings_store import SettingsStore

logger = logging.getLogger(__name__)


class WindowSettings:
    def __init__(self, store: SettingsStore) -> None:
        self.store = store

    def scripts_folder(self) -> str | None:
        return self.store.get("scripts/folder", str, "") or None

    def data_directory(self) -> str | None:
        return self.store.get("acquisition/directory", str, "") or None

    def dialog_folder(self) -> str | None:
        return self.store.get("dialogs/folder", str, "") or None

    def remember_dialog_folder(self, folder: str) -> None:
        self.store.set("dialogs/folder", folder)

    def return_hardware(self) -> bool:
        """After an acquisition, return the hardware to where it was (default: yes)."""
        return self.store.get("acquisition/return_hardware", bool, True)

    def has_layout(self) -> bool:
        """A layout the user arranged was saved (then it is restored as it was)."""
        return bool(self.store.get("window/state", str, ""))

    def restore_layout(self, window: QMainWindow) -> None:
        """The window's geometry and docks; what cannot be applied is ignored with a
        warning (the window then starts as new)."""
        geometry = self._bytes("window/geometry")
        if geometry is not None and not window.restoreGeometry(geometry):
            logger.warning("Ignored an unusable saved window geometry")
        state = self._bytes("window/state")
        if state is not None and not window.restoreState(state):
            logger.warning("Ignored an unusable saved window layout")

    def restore_pipeline(self, registry: ProcessorRegistry) -> None:
        """The pipeline's order and switches, once the scripts are loaded."""
        pipeline = self.store.get("processors/state", list, [])
        try:
            registry.restore_state(pipeline)
        except Exception as exc:  # a hand-edited file must not stop the microscope
            logger.warning("Ignored an unusable saved pipeline (%s): %r", exc, pipeline)

    def restore_channel_display(self, channels: ChannelDisplay) -> None:
        """Each channel's colour, contrast and visibility, by name, and the mode."""
        channels.restore_looks(self.store.get("viewer/channels", dict, {}))
        channels.composite = self.store.get("viewer/composite", bool, True)

    def remember_channel_display(self, channels: ChannelDisplay) -> None:
        """Kept until ``save``, with the rest."""
        self.store.set("viewer/channels", channels.looks_to_json())
        self.store.set("viewer/composite", channels.composite)

    def _bytes(self, key: str) -> QByteArray | None:
        text = self.store.get(key, str, "")
        if not text:
            return None
        try:
            return QByteArray(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            logger.warning("Ignored the setting %r: not base64 data", key)
            return None

    def save(
        self,
        window: QMainWindow,
        registry: ProcessorRegistry,
        data_directory: str,
        scripts_folder: Path,
        return_hardware: bool = True,
    ) -> None:
        self.store.set("window/geometry", _base64(window.saveGeometry()))
        self.store.set("window/state", _base64(window.saveState()))
        self.store.set("processors/state", registry.state())
        self.store.set("acquisition/directory", data_directory)
        self.store.set("scripts/folder", str(scripts_folder))
        self.store.set("acquisition/return_hardware", return_hardware)
        self.store.save()

    def remember_scripts_folder(self, folder: str) -> None:
        self.store.set("scripts/folder", folder)
        self.store.save()


def _base64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")
