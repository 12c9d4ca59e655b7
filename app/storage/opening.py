"""Opening a dataset from disk, quietly and with a clear error: an NDTiff folder, or a
TIFF / OME-TIFF file."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from ndtiff import Dataset

from app.storage.ndtiff_datasets import SavedNDTiffDataset
from app.storage.ome_zarr_sink import OMEZarrDataset, is_ome_zarr
from app.storage.sink import ReadableDataset
from app.storage.tiff_dataset import TiffDataset
from app.storage.tiled_dataset import TiledDataset, is_tiled_dataset, level_of_folder

TIFF_SUFFIXES = (".tif", ".tiff", ".tf2", ".tf8", ".btf")


def open_dataset(path: str | os.PathLike[str]) -> ReadableDataset:
    """Open a finished (or partial) NDTiff or Scopeflow OME-Zarr dataset folder, or a
    TIFF file, for reading.

    NDTiff v3 datasets (what Scopeflow and Micro-Manager 2 write) open as a
    ``SavedNDTiffDataset``, whose channel names are known; a tiled map (a
    multi-resolution pyramid, as ``XYTiledAcquisition`` and pycro-manager write it) as a
    ``TiledDataset``; older versions as ndtiff opens them. The ndtiff package prints progress to
    stdout while opening; that is swallowed here so a headless script's output stays
    the user's own.

    A TIFF or OME-TIFF file (what File > Save image as TIFF and the OME-TIFF export
    write, or Fiji) opens as a read-only ``TiffDataset`` with the same reading API; a
    file of an NDTiff dataset (one of its ``.tif`` files, or ``NDTiff.index``) opens the
    whole dataset.
    """
    chosen = Path(path)
    if chosen.is_file():
        if (chosen.parent / "NDTiff.index").is_file():
            chosen = chosen.parent  # a file of an NDTiff dataset: the dataset
        elif chosen.name.lower().endswith(TIFF_SUFFIXES):
            return TiffDataset(chosen)
        else:
            raise FileNotFoundError(
                f"{chosen} is neither an NDTiff dataset folder nor a TIFF file (.tif, .tiff)"
            )
    elif not chosen.exists():
        raise FileNotFoundError(f"{chosen} does not exist")
    folder = chosen
    if level_of_folder(folder.name) is not None and is_tiled_dataset(folder.parent):
        folder = folder.parent  # a level of a map ("Full resolution"...): the map
    if is_ome_zarr(folder):
        return OMEZarrDataset(folder)
    if not _has_ndtiff_marks(folder):
        inside = _datasets_in(folder)
        if inside:
            shown = ", ".join(inside[:MAX_NAMED]) + (", ..." if len(inside) > MAX_NAMED else "")
            raise FileNotFoundError(
                f"{folder} is a folder of datasets, not one: open one of them ({shown})"
            )
        raise FileNotFoundError(
            f"{folder} is not an NDTiff dataset (no NDTiff.index): "
            "a dataset in which no image was saved cannot be opened"
        )
    if is_tiled_dataset(folder):
        return TiledDataset.open(folder)
    with contextlib.redirect_stdout(io.StringIO()):
        if (folder / "NDTiff.index").is_file():
            return SavedNDTiffDataset(str(folder))
        opened: ReadableDataset = Dataset(str(folder))
        return opened


#: datasets named in the error for a folder of them
MAX_NAMED = 5


def _datasets_in(folder: Path) -> list[str]:
    """The datasets directly in ``folder`` (its subfolders that open), sorted by name
    (whatever their case, as Windows' Explorer shows them),
    at most ``MAX_NAMED + 1`` (enough to say there are more): a user who chose the data
    folder instead of one of its datasets is told which. A subfolder that cannot be
    read is passed over; the folder unreadable, none are named."""
    try:
        with os.scandir(folder) as entries:
            names = sorted((e.name for e in entries if _is_folder(e)), key=str.casefold)
    except OSError:  # not readable: the error says only that it is no dataset
        return []
    found: list[str] = []
    for name in names:
        if _opens(folder / name):
            found.append(name)
            if len(found) > MAX_NAMED:
                break
    return found


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """A subfolder; an entry that cannot be read (a broken link on a network drive)
    is none: the error being made names what it can."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _has_ndtiff_marks(folder: Path) -> bool:
    """An NDTiff dataset's index, or a tiled map's full-resolution level."""
    return (folder / "NDTiff.index").is_file() or (folder / "Full resolution").is_dir()


def _opens(child: Path) -> bool:
    """A dataset ``open_dataset`` knows, told by its marks alone (opening each would
    read indexes of thousands of images to name them)."""
    try:
        return _has_ndtiff_marks(child) or is_ome_zarr(child)
    except OSError:  # a subfolder not readable (permissions, a network drive gone)
        return False
