"""Saving images as NDTiff, and opening datasets."""

from app.storage.ndtiff_sink import NDTiffSink
from app.storage.ndtiff_writer import NDTiffWriter, UnsupportedImageError, check_storable
from app.storage.opening import open_dataset

__all__ = ["NDTiffSink", "NDTiffWriter", "UnsupportedImageError", "check_storable", "open_dataset"]
