"""Where images go: NDTiff on disk, memory, or nowhere; and opening datasets."""

from app.storage.discard_sink import DiscardSink
from app.storage.ndtiff_sink import NDTiffSink
from app.storage.ndtiff_writer import NDTiffWriter, UnsupportedImageError, check_storable
from app.storage.opening import open_dataset
from app.storage.ram_dataset import ImageNotInDatasetError, RAMDataset
from app.storage.ram_sink import RAMSink, default_ram_limit_bytes
from app.storage.sink import DiskFullError, ImageSink, StorageFullError
from app.storage.warm_memory import prepare_memory

__all__ = [
    "DiscardSink",
    "DiskFullError",
    "ImageNotInDatasetError",
    "ImageSink",
    "NDTiffSink",
    "NDTiffWriter",
    "RAMDataset",
    "RAMSink",
    "StorageFullError",
    "UnsupportedImageError",
    "check_storable",
    "default_ram_limit_bytes",
    "open_dataset",
    "prepare_memory",
]
