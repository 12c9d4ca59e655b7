"""The File menu's dataset and image actions: open a dataset, save what is kept in
memory as NDTiff, save the image shown as TIFF, copy it.

Each action has two halves: ``choose_…`` asks the user (``FileDialogs``) and the
other does the work, which tests and scripts call directly with a path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtWidgets import QWidget

from app.appstate import AppState
from app.storage.opening import open_dataset
from app.storage.ram_dataset import RAMDataset
from app.ui.common.file_dialogs import FileDialogs
from app.ui.common.progress_task import run_with_progress
from app.ui.common.seams import Messages
from app.ui.display.dataset_browser import DatasetBrowser

logger = logging.getLogger(__name__)


class DatasetFiles:
    """Datasets and images for the window: ``browser`` shows them; ``stop_live`` is
    called before a dataset replaces the camera's image."""

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        browser: DatasetBrowser,
        dialogs: FileDialogs,
        messages: Messages,
        stop_live: Callable[[], None],
    ) -> None:
        self.parent = parent
        self.state = state
        self.browser = browser
        self.viewer = browser.viewer
        self.dialogs = dialogs
        self.messages = messages
        self.stop_live = stop_live

    # ------------------------------------------------------------ open
    def choose_dataset(self) -> None:
        folder = self.dialogs.folder_to_open("Open an NDTiff dataset")
        if folder:
            self.open_dataset(folder)

    def open_dataset(self, folder: str | os.PathLike[str]) -> None:
        """An NDTiff dataset folder, or a TIFF / OME-TIFF file."""
        try:
            dataset = open_dataset(folder)
        except Exception as exc:
            self.messages.show_error_message(f"Could not open {folder}: {exc}")
            return
        self.stop_live()
        self.browser.browse(dataset, follow=False)
        self.viewer.set_title(str(folder))
        warning = getattr(dataset, "warning", None)  # a dataset whose writer was stopped
        if warning:  # the whole of it is in the Log panel (the dataset logs it)
            missing = len(getattr(dataset, "missing_images", ()))
            self.messages.show_status(
                f"Incomplete dataset: its writer did not close it; {missing} image(s) of "
                "its index never reached the disk (the Log panel says more)",
                60000,
                details=warning,
            )

    # ------------------------------------------------------------ kept in memory
    def choose_folder_to_save_memory_dataset(self) -> None:
        if not isinstance(self.browser.dataset, RAMDataset):
            self.messages.show_error_message(
                "The images shown are already on disk: only an acquisition kept in memory "
                "(Save to disk unchecked) needs saving."
            )
            return
        folder = self.dialogs.folder_to_write_in("Save the acquisition as NDTiff in")
        if folder:
            self.save_memory_dataset(folder)

    def save_memory_dataset(self, folder: str) -> str | None:
        """Write the acquisition kept in memory to ``folder/<name>_N``."""
        dataset = self.browser.dataset
        if not isinstance(dataset, RAMDataset):
            return None

        def work(on_progress, should_stop) -> str:
            return str(dataset.save_as_ndtiff(folder, on_progress=on_progress))

        result = run_with_progress(self.parent, "Save as NDTiff", f"Saving to {folder}…", work)
        if result.error:
            self.messages.show_error_message(f"Saving to {folder} failed: {result.error}")
            return None
        logger.info("Saved the acquisition kept in memory to %s", result.value)
        self.messages.show_status(f"Saved to {result.value}")
        return result.value

    # ------------------------------------------------------------ the image shown
    def _shown_image_and_metadata(self) -> tuple[np.ndarray, dict[str, Any]] | None:
        image = self.viewer.image
        if image is None:
            self.messages.show_error_message(
                "There is no image to save: Snap, Live or open a dataset."
            )
            return None
        core = self.state.core
        metadata = {
            "Camera": core.getCameraDevice(),
            "Exposure-ms": core.getExposure(),
            "PixelSize_um": core.getPixelSizeUm(),
            "Shown": self.viewer.title.text(),
        }
        group = core.getChannelGroup()
        if group:
            metadata["Channel"] = core.getCurrentConfig(group)
        return image, metadata

    def choose_file_to_save_image(self) -> None:
        path = self.dialogs.file_to_save("Save the image as TIFF", "TIFF (*.tif)")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> str | None:
        """The image shown, as a TIFF with its metadata (pixels as acquired)."""
        from app.ui.files.image_export import save_tiff

        shown = self._shown_image_and_metadata()
        if shown is None:
            return None
        try:
            written = save_tiff(path, *shown)
        except OSError as exc:
            self.messages.show_error_message(f"Could not save {path}: {exc}")
            return None
        self.messages.show_status(f"Saved {written}")
        return str(written)

    def copy_image(self) -> None:
        from app.ui.files.image_export import copy_to_clipboard

        if self.viewer.image is None:
            self.messages.show_error_message(
                "There is no image to copy: Snap, Live or open a dataset."
            )
            return
        copy_to_clipboard(self.viewer.image, self.viewer.levels)
        self.messages.show_status("Image copied (as shown: 8 bits, this contrast)", 5000)
