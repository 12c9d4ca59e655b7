"""The storage seam: what the saving thread puts images into.

NDTiff on disk (``NDTiffSink``), memory (``RAMSink``) and nowhere (``DiscardSink``)
implement it; a test or a user can hand ``Acquisition(storage=...)`` any object that
does. Callbacks, futures and frame accounting are the same whatever the sink.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


class ReadableDataset(Protocol):
    """What users read images back from, on disk or in memory: the reading API of an
    ``ndtiff`` dataset (``RAMDataset`` has the same)."""

    @property
    def axes(self) -> Mapping[str, Any]:
        """Each axis name and its values, outermost axis first."""
        ...

    def has_image(self, **axes: Any) -> bool: ...

    def read_image(self, **axes: Any) -> np.ndarray: ...

    def read_metadata(self, **axes: Any) -> dict[str, Any]: ...

    def get_channel_names(self) -> list[str]: ...

    def get_image_coordinates_list(self) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


@runtime_checkable
class ImageSink(Protocol):
    """Contract:

    - ``put`` is called on one thread (the saving thread), image after image, in the
      order the processors returned them. The sink owns the array from then on: nothing
      upstream changes its pixels. When ``put`` returns, the image can be read back
      from ``dataset``. ``put`` raises on failure (a full disk, the RAM budget); any
      exception from it stops the acquisition, and what was stored stays readable.
    - ``finish`` is called once when the acquisition ends, whatever happened, on the
      saving thread (or the caller's, for a sink that was never started). It must be
      safe to call twice. ``dataset`` stays readable afterwards.
    - ``stores_images`` is False for a sink that keeps nothing: the processing thread
      then skips the saving thread altogether (and counts its outputs as unsaved).
    """

    #: for messages: "the NDTiff writer", "RAM storage", ...
    description: str
    stores_images: bool

    @property
    def dataset(self) -> ReadableDataset | None:
        """The dataset users read (None for a sink that keeps nothing)."""
        ...

    @property
    def path(self) -> Path | None:
        """Where the data is on disk, or None for a sink that writes no files."""
        ...

    @property
    def images_written(self) -> int: ...

    @property
    def bytes_written(self) -> int: ...

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None: ...

    def finish(self) -> None: ...


class DatasetGoneError(OSError):
    """The dataset's files were deleted while it was written (someone freeing disk
    space): what was written to them is gone, and nothing more can be kept there."""


def check_not_deleted(files: list[Any], folder: Path, images_written: int) -> None:
    """Raise ``DatasetGoneError`` if one of ``files`` (open) was deleted. A file deleted
    while open stays writable on Linux and macOS, its data going nowhere; its link
    count says so, for the price of an ``fstat`` each."""
    for file in files:
        if os.fstat(file.fileno()).st_nlink == 0:
            raise DatasetGoneError(
                f"The dataset's files in {folder} were deleted during the acquisition: the "
                f"{images_written} image(s) written before are gone with them, and the "
                "acquisition stopped. Free disk space elsewhere, or save to another folder"
            )


class StorageFullError(RuntimeError):
    """The storage has no room for another image (RAM budget, disk); the message says
    what the limit is and how to raise it."""


class DiskFullError(StorageFullError, OSError):
    """The disk under a dataset is full (or the user's quota on it). What was saved
    stays and reads back. Set by ``disk_full_error``: ``not_saved``, the images that
    could not be saved; ``reported_saved``, those among them that ``put`` had accepted
    (their planes were still on their way when the disk refused them); ``kept``, the
    images on disk. ``errno`` is ENOSPC, as for the system's own error."""

    not_saved: list[dict[str, Any]]
    reported_saved: list[dict[str, Any]]
    kept: int


def disk_full_error(
    message: str,
    not_saved: list[dict[str, Any]],
    reported_saved: list[dict[str, Any]],
    kept: int,
) -> DiskFullError:
    # OSError reads two or more constructor arguments as (errno, strerror, ...): the
    # details go in after, so that str() is the message itself
    error = DiskFullError(message)
    error.errno = errno.ENOSPC
    error.not_saved, error.reported_saved, error.kept = not_saved, reported_saved, kept
    return error
