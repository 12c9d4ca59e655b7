"""RAMSink: keep an acquisition's images in memory, within a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.storage.ram_dataset import RAMDataset
from app.storage.sink import StorageFullError
from app.storage.warm_memory import RAM_SHARE, Reservation, WarmMemory, filled_by, warm_memory

#: The default budget: this share of the memory available when the acquisition starts,
#: so that other programs and the OS keep room and the machine never swaps.
DEFAULT_RAM_FRACTION = RAM_SHARE


def default_ram_limit_bytes() -> int:
    """The memory available (the process's warm memory no image uses counted in: it is
    for images) times ``DEFAULT_RAM_FRACTION`` (``WarmMemory.default_budget``)."""
    return warm_memory().default_budget()


class RAMSink:
    """Stores images in a ``RAMDataset``; refuses the image that would pass ``limit_bytes``.

    Reaching the limit raises ``StorageFullError``, which stops the acquisition with
    that message; every image stored before stays readable. So does a computer out of
    memory (a ``MemoryError`` while an image is stored, as Windows raises at its commit
    limit): the same error, saying so, and the dataset keeps every image stored before.

    Each image is copied into ``WarmMemory`` (memory touched ahead of need) and the
    array handed over is let go: keeping the camera's own buffer made the camera's
    next copy land in fresh pages, three times slower (see ``warm_memory``). The
    engine may read the camera's frames into the same memory (``camera_frames``): an
    image already there is kept as it is.
    """

    description = "RAM storage"
    stores_images = True

    def __init__(
        self,
        name: str,
        summary_metadata: dict[str, Any] | None = None,
        limit_bytes: int | None = None,
        memory: WarmMemory | None = None,
    ) -> None:
        self.limit_bytes = limit_bytes if limit_bytes is not None else default_ram_limit_bytes()
        self._limit_given = limit_bytes is not None  # said as the user gave it
        self._dataset = RAMDataset(name, summary_metadata)
        self.images_written = 0
        self._memory = memory if memory is not None else warm_memory()
        # Until an image must be copied (below), nothing is known to come: no block is
        # made ready for images that may never be acquired.
        self._reservation = self._memory.reserve(self.limit_bytes, coming=0)
        self._camera_reservation: Reservation | None = None

    @property
    def dataset(self) -> RAMDataset:
        return self._dataset

    @property
    def path(self) -> Path | None:
        return None

    @property
    def bytes_written(self) -> int:
        return self._dataset.bytes

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        if self._dataset.bytes + image.nbytes > self.limit_bytes:
            raise StorageFullError(
                f"The RAM limit for images kept in memory is reached: {self._limit_words()}. "
                f"{self._kept_words()}; the image {axes} ({readable_size(image.nbytes)}) and the "
                "images after it are not saved. Save to disk instead "
                "(Acquisition(directory=...)), or raise the limit with ram_limit_gb=..."
            )
        try:
            self._dataset.add_image(axes, self._kept(image), metadata)
        except MemoryError as exc:
            # the dataset undid what it had begun (add_image), so what is kept is whole
            raise StorageFullError(
                f"The computer is out of memory: the image {axes} could not be kept in "
                f"memory (MemoryError), and the acquisition stopped. {self._kept_words()}. "
                "Save them to disk now (dataset.save_as_ndtiff(...), or File > Save "
                "acquisition as NDTiff...), close other programs, and save to disk while "
                "acquiring (Acquisition(directory=...)) or lower ram_limit_gb"
            ) from exc
        self.images_written += 1

    def camera_frames(self) -> Reservation:
        """Where the engine puts each camera frame, on the thread that reads the
        camera (and that thread only): copied into this sink's warm memory, writable,
        the camera's array let go. A frame that reaches ``put`` unchanged is then kept
        without another copy. The engine says how many frames are coming
        (``Reservation.expect``) as it starts each burst."""
        self._camera_reservation = self._memory.reserve(self.limit_bytes, coming=0)
        return self._camera_reservation

    def _kept(self, image: np.ndarray) -> np.ndarray:
        """``image`` in warm memory (the dataset's from now on): as it is if it fills a
        piece of it (the engine read it there, and a processor passed it on, owned: see
        ``processing/ownership.py``), else copied there."""
        if filled_by(image) is self._memory:
            return image
        self._reservation.expect(None)  # a processor makes new arrays: as many to come
        return self._reservation.copy_of(image)

    def _limit_words(self) -> str:
        """The limit as the user set it (or that it is the default), with its size."""
        if self._limit_given:
            return f"ram_limit_gb={self.limit_bytes / 1e9:g} ({readable_size(self.limit_bytes)})"
        return (
            f"{readable_size(self.limit_bytes)}, the default ({DEFAULT_RAM_FRACTION:.0%} of the "
            "memory available when the acquisition started)"
        )

    def _kept_words(self) -> str:
        return (
            f"{self.images_written} images ({readable_size(self._dataset.bytes)}) are kept, "
            "readable from the dataset"
        )

    def finish(self) -> None:
        self._reservation.close()  # safe twice
        if self._camera_reservation is not None:
            self._camera_reservation.close()
        self._dataset.finish()


def readable_size(count: int) -> str:
    """A byte count as a person reads it in a message: "135 kB", "8.39 MB", "11.2 GB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"
