"""The display slot: the latest image for a viewer, never a queue that can back up."""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

ImageT = TypeVar("ImageT")


class LatestFrameSlot(Generic[ImageT]):
    """Holds only the newest (image, metadata); a slow reader skips frames.

    ``put`` is called by the processing thread and returns whether it replaced a
    frame nobody had taken (a skipped frame, counted by the caller). ``take`` is
    called by a display, typically on a GUI timer, and returns ``None`` when there
    is nothing new.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: tuple[ImageT, dict[str, Any]] | None = None
        self.version = 0

    def put(self, image: ImageT, metadata: dict[str, Any]) -> bool:
        with self._lock:
            replaced = self._item is not None
            self._item = (image, metadata)
            self.version += 1
            return replaced

    def take(self) -> tuple[ImageT, dict[str, Any]] | None:
        with self._lock:
            item, self._item = self._item, None
            return item

    def peek(self) -> tuple[ImageT, dict[str, Any]] | None:
        with self._lock:
            return self._item
