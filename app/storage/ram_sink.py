"""RAMSink: keep an acquisition's images in memory, within a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psutil

from app.storage.ram_dataset import RAMDataset
from app.storage.sink import StorageFullError

#: The default budget: this share of the memory available when the acquisition starts,
#: so that other programs and the OS keep room and the machine never swaps.
DEFAULT_RAM_FRACTION = 0.5


def default_ram_limit_bytes() -> int:
    return int(psutil.virtual_memory().available * DEFAULT_RAM_FRACTION)


class RAMSink:
    """Stores images in a ``RAMDataset``; refuses the image that would pass ``limit_bytes``.

    Reaching the limit raises ``StorageFullError``, which stops the acquisition with
    that message; every image stored before stays readable.
    """

    description = "RAM storage"
    stores_images = True

    def __init__(
        self,
        name: str,
        summary_metadata: dict[str, Any] | None = None,
        limit_bytes: int | None = None,
    ) -> None:
        self.limit_bytes = limit_bytes if limit_bytes is not None else default_ram_limit_bytes()
        self._dataset = RAMDataset(name, summary_metadata)
        self.images_written = 0

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
                f"The RAM limit of {self.limit_bytes / 1e9:.2f} GB for in-memory images is "
                f"reached ({self._dataset.bytes / 1e9:.2f} GB held in "
                f"{self.images_written} images). Save to disk instead "
                "(Acquisition(directory=...)), or raise the limit with ram_limit_gb=..."
            )
        self._dataset.add_image(axes, image, metadata)
        self.images_written += 1

    def finish(self) -> None:
        self._dataset.finish()
