"""Asking for a file or a folder, in the folder used last.

Every File menu action asks through ``FileDialogs``: the dialog opens in the folder
the user went to last (remembered in the settings), else in the data folder, never in
the working directory (which a Start-menu shortcut makes the program's folder); the
folder of what was chosen is remembered for the next dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtWidgets import QFileDialog, QWidget

from app.settings_store import SettingsStore

FOLDER_KEY = "dialogs/folder"


class FileDialogs:
    """File dialogs for ``parent``; ``fallback`` gives the data folder."""

    def __init__(
        self, parent: QWidget, settings: SettingsStore, fallback: Callable[[], str]
    ) -> None:
        self.parent = parent
        self.settings = settings
        self.fallback = fallback

    def folder(self) -> str:
        """Where the next dialog opens."""
        last = self.settings.get(FOLDER_KEY, str, "")
        if last and Path(last).is_dir():
            return last
        return self.fallback()

    def remember(self, folder: str) -> None:
        self.settings.set(FOLDER_KEY, folder)

    def folder_to_open(self, title: str) -> str | None:
        """A folder to read (a dataset); its parent is remembered (the next dataset is
        most likely beside it)."""
        folder = QFileDialog.getExistingDirectory(self.parent, title, self.folder())
        if not folder:
            return None
        self.remember(str(Path(folder).parent))
        return folder

    def folder_to_write_in(self, title: str) -> str | None:
        """A folder to write into; remembered itself."""
        folder = QFileDialog.getExistingDirectory(self.parent, title, self.folder())
        if not folder:
            return None
        self.remember(folder)
        return folder

    def file_to_open(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, self.folder(), filters)
        return self._chosen(path)

    def file_to_save(self, title: str, filters: str, suggested_name: str = "") -> str | None:
        start = str(Path(self.folder()) / suggested_name) if suggested_name else self.folder()
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        return self._chosen(path)

    def _chosen(self, path: str) -> str | None:
        if not path:
            return None
        self.remember(str(Path(path).parent))
        return path
