"""What the window remembers between runs: its layout, the pipeline's order and
switches, the save folder and the scripts folder (in QSettings)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings
from PyQt6.QtWidgets import QMainWindow

from app.processing.registry import ProcessorRegistry

logger = logging.getLogger(__name__)


class WindowSettings:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def scripts_folder(self) -> str | None:
        saved = self.settings.value("scripts/folder")
        return saved if isinstance(saved, str) and saved else None

    def data_directory(self) -> str | None:
        saved = self.settings.value("acquisition/directory")
        return saved if isinstance(saved, str) and saved else None

    def restore(self, window: QMainWindow, registry: ProcessorRegistry) -> None:
        """The window's geometry and docks, and the pipeline's order and switches."""
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            window.restoreState(state)
        pipeline = self.settings.value("processors/state")
        if isinstance(pipeline, str):
            try:
                registry.restore_state(json.loads(pipeline))
            except (ValueError, TypeError):
                logger.warning("Ignored an unreadable saved pipeline: %r", pipeline)

    def save(
        self,
        window: QMainWindow,
        registry: ProcessorRegistry,
        data_directory: str,
        scripts_folder: Path,
    ) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/state", window.saveState())
        self.settings.setValue("processors/state", json.dumps(registry.state()))
        self.settings.setValue("acquisition/directory", data_directory)
        self.settings.setValue("scripts/folder", str(scripts_folder))
        self.settings.sync()

    def remember_scripts_folder(self, folder: str) -> None:
        self.settings.setValue("scripts/folder", folder)
