"""Opening an NDTiff dataset from disk, quietly and with a clear error."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from ndtiff import Dataset

from app.storage.ndtiff_datasets import SavedNDTiffDataset
from app.storage.sink import ReadableDataset


def open_dataset(path: str | os.PathLike[str]) -> ReadableDataset:
    """Open a finished (or partial) NDTiff dataset folder for reading.

    NDTiff v3 datasets (what Scopeflow and Micro-Manager 2 write) open as a
    ``SavedNDTiffDataset``, whose channel names are known; older versions and
    multi-resolution ones as ndtiff opens them. The ndtiff package prints progress to
    stdout while opening; that is swallowed here so a headless script's output stays
    the user's own.
    """
    folder = Path(path)
    if not (folder / "NDTiff.index").is_file() and not (folder / "Full resolution").is_dir():
        raise FileNotFoundError(
            f"{folder} is not an NDTiff dataset (no NDTiff.index): "
            "a dataset in which no image was saved cannot be opened"
        )
    with contextlib.redirect_stdout(io.StringIO()):
        if (folder / "NDTiff.index").is_file():
            return SavedNDTiffDataset(str(folder))
        opened: ReadableDataset = Dataset(str(folder))
        return opened
