"""File menu actions for TIFF files: open one in the viewer, and export the dataset shown
or the image shown as OME-TIFF for Fiji (the writer is ``app/storage/ome_tiff_export.py``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QFileDialog

from app.storage.ome_tiff_export import (
    ExportError,
    ExportResult,
    check_export_path,
    dataset_sources,
    export_dataset,
    export_image,
    ome_tiff_path,
)

if TYPE_CHECKING:
    from app.ui.shell.main_window import MainWindow

logger = logging.getLogger(__name__)

OME_TIFF_FILTER = "OME-TIFF (*.ome.tif)"


class TiffFiles:
    """What the File menu's TIFF actions do, for ``window``."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    # ------------------------------------------------------------ open
    def choose_file_to_open(self) -> None:
        window = self.window
        path, _ = QFileDialog.getOpenFileName(
            window,
            "Open a TIFF or OME-TIFF file",
            window.dialog_folder(),
            "TIFF and OME-TIFF (*.tif *.tiff);;All files (*)",
        )
        if path:
            window.remember_dialog_folder(str(Path(path).parent))
            window.open_dataset(path)

    # ------------------------------------------------------------ the dataset shown
    def _dataset_to_export(self) -> Any:
        window = self.window
        dataset = window.browser.dataset
        if dataset is None:
            window.show_error_message(
                "No dataset is shown: open one (File > Open dataset…) or run an acquisition, "
                "then export it. Export current view as OME-TIFF… saves the image shown."
            )
            return None
        acquisition = window.controller.acquisition
        running = window.controller.running and acquisition is not None
        if running and acquisition.get_dataset() is dataset:
            window.show_error_message(
                "The acquisition shown is still running: export it once it has ended."
            )
            return None
        return dataset

    def choose_file_to_export_dataset(self) -> None:
        window = self.window
        dataset = self._dataset_to_export()
        if dataset is None:
            return
        suggested = Path(window.dialog_folder()) / (_dataset_name(dataset) + ".ome.tif")
        path, _ = QFileDialog.getSaveFileName(
            window, "Export the dataset as OME-TIFF", str(suggested), OME_TIFF_FILTER
        )
        if path:
            window.remember_dialog_folder(str(Path(path).parent))
            # the dialog asked before replacing a file; the .ome.tif added may be another
            overwrite = Path(path) == ome_tiff_path(path)
            self.export_dataset(path, overwrite=overwrite)

    def export_dataset(self, path: str, *, overwrite: bool = False) -> ExportResult | None:
        """Write the dataset shown to ``path`` (``.ome.tif`` added) on a worker thread,
        with progress and Cancel; None if it was not written (the reason is shown)."""
        from app.ui.common.progress_task import run_with_progress

        window = self.window
        dataset = self._dataset_to_export()
        if dataset is None:
            return None
        try:  # a bad name is said at once, before the progress dialog
            target = check_export_path(path, overwrite=overwrite, sources=dataset_sources(dataset))
        except ExportError as exc:
            window.show_error_message(f"Could not export: {exc}")
            return None

        def work(on_progress, should_stop) -> ExportResult:
            return export_dataset(
                dataset,
                target,
                name=_dataset_name(dataset),
                overwrite=overwrite,
                on_progress=on_progress,
                should_stop=should_stop,
            )

        result = run_with_progress(window, "Export as OME-TIFF", f"Writing {target.name}…", work)
        if result.cancelled:
            window.statusBar().showMessage("Export cancelled: no file was written.", 15000)
            return None
        if result.error:
            cause = result.exception if isinstance(result.exception, ExportError) else result.error
            window.show_error_message(f"Could not export to {target}: {cause}")
            return None
        exported: ExportResult = result.value
        if exported.missing:
            logger.warning("%s", exported.summary())
        else:
            logger.info("%s", exported.summary())
        window.statusBar().showMessage(exported.summary(), 30000)
        return exported

    # ------------------------------------------------------------ the image shown
    def choose_file_to_export_view(self) -> None:
        window = self.window
        if window.viewer.image is None:
            self.export_view("")  # says there is nothing to export
            return
        path, _ = QFileDialog.getSaveFileName(
            window, "Export the image shown as OME-TIFF", window.dialog_folder(), OME_TIFF_FILTER
        )
        if path:
            window.remember_dialog_folder(str(Path(path).parent))
            self.export_view(path, overwrite=Path(path) == ome_tiff_path(path))

    def export_view(self, path: str, *, overwrite: bool = False) -> Path | None:
        """The 2-D image shown, pixels as acquired (not as the contrast shows them), with
        its pixel size and channel."""
        window = self.window
        image = window.viewer.image
        if image is None:
            window.show_error_message("There is no image to export: Snap, Live or open a dataset.")
            return None
        metadata = self._shown_metadata()
        try:
            written = export_image(
                path,
                image,
                pixel_size_um=metadata.get("PixelSize_um"),
                channel=metadata.get("Channel"),
                name=window.viewer.title.text(),
                overwrite=overwrite,
            )
        except (ExportError, OSError) as exc:
            window.show_error_message(f"Could not export the image: {exc}")
            return None
        window.statusBar().showMessage(f"Exported the image shown to {written}", 15000)
        return written

    def _shown_metadata(self) -> dict[str, Any]:
        """The pixel size and channel of the image shown: from the dataset when one is
        browsed, else from the microscope (Snap, Live)."""
        window = self.window
        browser = window.browser
        if browser.dataset is not None:
            axes = browser.last_shown_axes if browser.following else window.sliders.current_axes()
            try:
                if axes and browser.dataset.has_image(**axes):
                    return dict(browser.dataset.read_metadata(**axes))
            except Exception as exc:  # a partial dataset: the microscope's values instead
                logger.info("No metadata for the image shown (%s): %s", axes, exc)
        core = window.core
        metadata: dict[str, Any] = {"PixelSize_um": core.getPixelSizeUm()}
        group = core.getChannelGroup()
        if group:
            metadata["Channel"] = core.getCurrentConfig(group)
        return metadata


def _dataset_name(dataset: Any) -> str:
    path = getattr(dataset, "path", None)
    if path:
        name = Path(str(path).rstrip("/\\")).name
        for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return name
    return str(getattr(dataset, "name", "") or "dataset")
