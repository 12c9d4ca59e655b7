"""The files room, assembled: one way to ask for files (``FileDialogs``), the File
menu's dataset and image actions, and its TIFF ones."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QWidget

from app.acquisition.acquisition import Acquisition
from app.appstate import AppState
from app.settings_store import SettingsStore
from app.ui.common.file_dialogs import FileDialogs
from app.ui.common.seams import Messages
from app.ui.display.dataset_browser import DatasetBrowser
from app.ui.files.datasets import DatasetFiles
from app.ui.files.tiff_files import TiffFiles


class FilesRoom:
    """``data_folder`` is where dialogs open the first time; ``stop_live`` is called
    before a dataset replaces the camera's image; ``running_acquisition`` is the
    window's while it runs (not exported before it ends)."""

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        settings: SettingsStore,
        browser: DatasetBrowser,
        messages: Messages,
        *,
        data_folder: Callable[[], str],
        stop_live: Callable[[], None],
        running_acquisition: Callable[[], Acquisition | None],
    ) -> None:
        self.dialogs = FileDialogs(parent, settings, data_folder)
        self.datasets = DatasetFiles(parent, state, browser, self.dialogs, messages, stop_live)
        self.tiff = TiffFiles(self.datasets, running_acquisition)
