"""File menu actions for TIFF files: open one in the viewer, and export the dataset shown
or the image shown as OME-TIFF for Fiji (the writer is ``app/storage/ome_tiff_export.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.acquisition.acquisition import Acquisition
from app.storage.ome_tiff_export import (
    ExportError,
    ExportResult,
    check_export_path,
    dataset_sources,
    export_dataset,
    export_image,
    ome_tiff_path,
)
from app.ui.common.progress_task import run_with_progress
from app.ui.files.datasets import DatasetFiles

logger = logging.getLogger(__name__)

OME_TIFF_FILTER = "OME-TIFF (*.ome.tif)"


class TiffFiles:
    """What the File menu's TIFF actions do, beside ``datasets`` (a TIFF opens the way
    File > Open dataset opens a dataset, and with its parent, browser, dialogs and
    messages). ``running_acquisition`` is the window's acquisition while it runs: its
    dataset is not exported before it ends."""

    def __init__(
        self, datasets: DatasetFiles, running_acquisition: Callable[[], Acquisition | None]
    ) -> None:
        self.parent = datasets.parent
        self.state = datasets.state
        self.browser = datasets.browser
        self.viewer = datasets.viewer
        self.dialogs = datasets.dialogs
        self.messages = datasets.messages
        self.open_file = datasets.open_dataset
        self.running_acquisition = running_acquisition

    # ------------------------------------------------------------ open
    def choose_file_to_open(self) -> None:
        path = self.dialogs.file_to_open(
            "Open a TIFF or OME-TIFF file", "TIFF and OME-TIFF (*.tif *.tiff);;All files (*)"
        )
        if path:
            self.open_file(path)

    # ------------------------------------------------------------ the dataset shown
    def _dataset_to_export(self) -> Any:
        dataset = self.browser.dataset
        if dataset is None:
            self.messages.show_error_message(
                "No dataset is shown: open one (File > Open dataset…) or run an acquisition, "
                "then export it. Export current view as OME-TIFF… saves the image shown."
            )
            return None
        acquisition = self.running_acquisition()
        if acquisition is not None and acquisition.get_dataset() is dataset:
            self.messages.show_error_message(
                "The acquisition shown is still running: export it once it has ended."
            )
            return None
        return dataset

    def choose_file_to_export_dataset(self) -> None:
        dataset = self._dataset_to_export()
        if dataset is None:
            return
        path = self.dialogs.file_to_save(
            "Export the dataset as OME-TIFF", OME_TIFF_FILTER, _dataset_name(dataset) + ".ome.tif"
        )
        if path:
            # the dialog asked before replacing a file; the .ome.tif added may be another
            overwrite = Path(path) == ome_tiff_path(path)
            self.export_dataset(path, overwrite=overwrite)

    def export_dataset(self, path: str, *, overwrite: bool = False) -> ExportResult | None:
        """Write the dataset shown to ``path`` (``.ome.tif`` added) on a worker thread,
        with progress and Cancel; None if it was not written (the reason is shown)."""
        dataset = self._dataset_to_export()
        if dataset is None:
            return None
        try:  # a bad name is said at once, before the progress dialog
            target = check_export_path(path, overwrite=overwrite, sources=dataset_sources(dataset))
        except ExportError as exc:
            self.messages.show_error_message(f"Could not export: {exc}")
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

        result = run_with_progress(
            self.parent, "Export as OME-TIFF", f"Writing {target.name}…", work
        )
        if result.cancelled:
            self.messages.show_status("Export cancelled: no file was written.")
            return None
        if result.error:
            cause = result.exception if isinstance(result.exception, ExportError) else result.error
            self.messages.show_error_message(f"Could not export to {target}: {cause}")
            return None
        exported: ExportResult = result.value
        if exported.missing:
            logger.warning("%s", exported.summary())
        else:
            logger.info("%s", exported.summary())
        self.messages.show_status(exported.summary(), 30000)
        return exported

    # ------------------------------------------------------------ the image shown
    def choose_file_to_export_view(self) -> None:
        if self.viewer.image is None:
            self.export_view("")  # says there is nothing to export
            return
        path = self.dialogs.file_to_save("Export the image shown as OME-TIFF", OME_TIFF_FILTER)
        if path:
            self.export_view(path, overwrite=Path(path) == ome_tiff_path(path))

    def export_view(self, path: str, *, overwrite: bool = False) -> Path | None:
        """The 2-D image shown, pixels as acquired (not as the contrast shows them), with
        its pixel size and channel."""
        image = self.viewer.image
        if image is None:
            self.messages.show_error_message(
                "There is no image to export: Snap, Live or open a dataset."
            )
            return None
        metadata = self._shown_metadata()
        try:
            written = export_image(
                path,
                image,
                pixel_size_um=metadata.get("PixelSize_um"),
                channel=metadata.get("Channel"),
                name=self.viewer.title.text(),
                overwrite=overwrite,
            )
        except (ExportError, OSError) as exc:
            self.messages.show_error_message(f"Could not export the image: {exc}")
            return None
        self.messages.show_status(f"Exported the image shown to {written}")
        return written

    def _shown_metadata(self) -> dict[str, Any]:
        """The pixel size and channel of the image shown: from the dataset when one is
        browsed, else from the microscope (Snap, Live)."""
        browser = self.browser
        if browser.dataset is not None:
            axes = browser.last_shown_axes if browser.following else browser.sliders.current_axes()
            try:
                if axes and browser.dataset.has_image(**axes):
                    return dict(browser.dataset.read_metadata(**axes))
            except Exception as exc:  # a partial dataset: the microscope's values instead
                logger.info("No metadata for the image shown (%s): %s", axes, exc)
        core = self.state.core
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
