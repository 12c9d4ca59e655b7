"""NDTiffSink: where the saving thread puts images, and the dataset users read back."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from app.storage.ndtiff_datasets import LiveNDTiffDataset
from app.storage.ndtiff_writer import NDTiffWriter, unique_dataset_dir

logger = logging.getLogger(__name__)


class NDTiffSink:
    """Saves images to a new ``directory/name_N`` NDTiff dataset (an ``ImageSink``).

    The dataset object (``ndtiff.NDTiffDataset``, as pycro-manager hands out) is
    created in the mode the ndtiff package provides for data written by another
    writer: each image is announced to it with its index entry once written, so it
    can be read while the acquisition runs and is the same object afterwards.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        name: str,
        summary_metadata: dict[str, Any],
    ) -> None:
        self._path: Path = unique_dataset_dir(directory, name)
        summary = {**summary_metadata, "Prefix": self._path.name, "Directory": str(directory)}
        self._writer = NDTiffWriter(self._path, summary, prefix=name)
        self._dataset = LiveNDTiffDataset(str(self._path), summary, self._path.name)
        self._finished = False

    description = "the NDTiff writer"
    stores_images = True

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dataset(self) -> LiveNDTiffDataset:
        return self._dataset

    @property
    def images_written(self) -> int:
        return self._writer.images_written

    @property
    def bytes_written(self) -> int:
        return self._writer.bytes_written

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        """Write one image; when this returns it can be read back from ``dataset``."""
        entry = self._writer.write(axes, image, metadata, bit_depth=metadata.get("BitDepth"))
        # The entry object itself, not its bytes: parsing them back would keep a
        # decoded copy of every image's axes in memory for the whole acquisition.
        self._dataset.add_index_entry(entry)

    def finish(self) -> None:
        """Close the files; the dataset stays readable. Safe to call twice."""
        if self._finished:
            return
        self._finished = True
        try:
            self._writer.close()
        finally:
            self._dataset.mark_finished()
