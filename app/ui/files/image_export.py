"""Saving the image shown as a TIFF with its metadata, and copying it.

The TIFF keeps the camera's pixels as they are (16-bit stays 16-bit), the pixel size as
the file's resolution (Fiji reads it as µm per pixel, ImageJ style) and the metadata
as JSON in the description; the copy is what the screen shows (8 bits, with the
contrast and lookup table), for a slide or an e-mail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QApplication

from app.processing.contrast import to_uint8


def save_tiff(path: str | Path, image: np.ndarray, metadata: dict[str, Any]) -> Path:
    """Write ``image`` with ``metadata`` to ``path`` (``.tif`` added if missing)."""
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        path = path.with_suffix(".tif")
    pixel_um = float(metadata.get("PixelSize_um") or 0)
    extra: dict[str, Any] = {}
    if pixel_um > 0:
        extra = {"resolution": (1 / pixel_um, 1 / pixel_um)}
    tifffile.imwrite(
        path,
        image,
        imagej=image.dtype in (np.uint8, np.uint16, np.float32) and image.ndim == 2,
        metadata={"unit": "um", "Info": json.dumps(metadata, default=str)},
        **extra,
    )
    return path


def copy_to_clipboard(image: np.ndarray, levels: tuple[float, float]) -> QImage:
    """What the viewer shows, as an 8-bit grayscale image on the clipboard."""
    shown = np.ascontiguousarray(to_uint8(image, *levels) if image.dtype != np.uint8 else image)
    height, width = shown.shape
    qimage = QImage(shown.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).copy()
    clipboard = QApplication.clipboard()
    assert clipboard is not None
    clipboard.setImage(qimage)
    return qimage
