"""Opening an NDTiff dataset from disk, quietly and with a clear error."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from ndtiff import Dataset


def open_dataset(path: str | os.PathLike[str]):
    """Open a finished (or partial) NDTiff dataset folder for reading.

    The ndtiff package prints progress to stdout while opening; that is swallowed
    here so a headless script's output stays the user's own.
    """
    folder = Path(path)
    if not (folder / "NDTiff.index").is_file():
        raise FileNotFoundError(
            f"{folder} is not an NDTiff dataset (no NDTiff.index): "
            "a dataset in which no image was saved cannot be opened"
        )
    with contextlib.redirect_stdout(io.StringIO()):
        dataset = Dataset(str(folder))
    # ndtiff 3.1 learns string axis values (channel names) only from images added
    # while writing, not from an index read from disk; teach it from the index.
    if hasattr(dataset, "_parse_string_axes_values"):
        dataset._parse_string_axes_values(list(dataset.index.keys()))
        dataset._update_channel_names(dataset.index.keys())
    return dataset
