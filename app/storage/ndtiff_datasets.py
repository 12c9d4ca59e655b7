"""The ndtiff dataset objects users read: while Scopeflow writes, and opened from disk.

Both are ``ndtiff.NDTiffDataset``s (what pycro-manager hands out), completed through
public API only, for two gaps of ndtiff 3.1:

- A dataset fed index entries by another writer (``writable=False`` with summary
  metadata) has a ``finish()`` that fails, so it could never say it is finished:
  ``LiveNDTiffDataset`` keeps that state itself.
- A dataset opened from disk learns no string axis values (channel names), so
  ``get_channel_names()`` is empty and ``read_image(channel=0)`` fails:
  ``SavedNDTiffDataset`` reads them from its index, in the order images were saved.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from ndtiff import NDTiffDataset

from app.storage.axes import given_axes, name_string_axes


class LiveNDTiffDataset(NDTiffDataset):
    """The dataset of an acquisition being written, readable image by image."""

    def __init__(self, path: str, summary_metadata: dict[str, Any], name: str) -> None:
        super().__init__(path, summary_metadata=summary_metadata, name=name, writable=False)
        self._sf_finished = threading.Event()

    def mark_finished(self) -> None:
        """The writer closed its files: no image will be added."""
        self._sf_finished.set()

    def finish(self) -> None:
        self.mark_finished()

    def is_finished(self) -> bool:
        return self._sf_finished.is_set()

    def block_until_finished(self, timeout: float | None = None) -> bool:
        return self._sf_finished.wait(timeout)

    def has_image(self, channel: Any = None, z: Any = None, time: Any = None,
                  position: Any = None, row: Any = None, column: Any = None,
                  **others: Any) -> bool:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        try:
            return bool(super().has_image(**axes))
        except KeyError:  # ndtiff raises for an axis no image has yet
            return False


class SavedNDTiffDataset(NDTiffDataset):
    """An NDTiff v3 dataset opened from disk, with its channel names known."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._sf_string_values: dict[str, list[str]] = {}
        for key in self.index:
            for axis, value in key:
                if isinstance(value, str):
                    known = self._sf_string_values.setdefault(axis, [])
                    if value not in known:
                        known.append(value)

    def get_channel_names(self) -> list[str]:
        return list(self._sf_string_values.get("channel", []))

    def _named(self, axes: dict[str, Any]) -> dict[str, Any]:
        """An int given for a string axis is its index (``channel=0``: the first)."""
        return name_string_axes(axes, self._sf_string_values) or axes

    def has_image(self, channel: Any = None, z: Any = None, time: Any = None,
                  position: Any = None, row: Any = None, column: Any = None,
                  **others: Any) -> bool:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        try:
            return bool(super().has_image(**self._named(axes)))
        except KeyError:  # ndtiff raises for an axis no image has yet
            return False

    def read_image(self, channel: Any = None, z: Any = None, time: Any = None,
                   position: Any = None, row: Any = None, column: Any = None,
                   **others: Any) -> np.ndarray:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        image: np.ndarray = super().read_image(**self._named(axes))
        return image

    def read_metadata(self, channel: Any = None, z: Any = None, time: Any = None,
                      position: Any = None, row: Any = None, column: Any = None,
                      **others: Any) -> dict[str, Any]:  # fmt: skip
        axes = given_axes(channel, z, time, position, row, column, others)
        metadata: dict[str, Any] = super().read_metadata(**self._named(axes))
        return metadata
