"""DiscardSink: keep nothing (Live, benchmarks, processors that divert every frame)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class DiscardSink:
    """A sink that stores no image. ``Acquisition(storage="none")`` uses it; the
    processing thread then never starts a saving thread, so frames cost nothing past
    the processors."""

    description = "no storage"
    stores_images = False

    def __init__(self) -> None:
        self.discarded = 0

    @property
    def dataset(self) -> None:
        return None

    @property
    def path(self) -> Path | None:
        return None

    @property
    def images_written(self) -> int:
        return 0

    @property
    def bytes_written(self) -> int:
        return 0

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        self.discarded += 1

    def finish(self) -> None:
        pass
