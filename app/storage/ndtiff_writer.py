"""Writing NDTiff v3 files: a careful, append-only writer readable by the ndtiff package.

Why not ``ndtiff.NDTiffDataset(writable=True)``: its writer refuses uint8 arrays (so
8-bit cameras cannot save), records every 16-bit image as 16-bit whatever the camera's
bit depth, and pre-allocates each file to 4 GB, which on filesystems without sparse
files writes gigabytes of zeros. This writer produces the same format (TIFF with
Micro-Manager's NDTiff header, one IFD + pixels + JSON metadata per image, and the
``NDTiff.index`` file), appends only, and keeps every file a valid TIFF after each
image, so a crash or an abort leaves a readable dataset.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from ndtiff.ndtiff_index import NDTiffIndexEntry

from app.storage.dataset_names import DatasetNameError, check_dataset_name, check_path_length
from app.storage.sink import check_not_deleted

#: the largest piece of pixels one write() call hands the kernel (see ``write``)
WRITE_PIECE_BYTES = 1024 * 1024

MAJOR_VERSION = 3
MINOR_VERSION = 3
_NDTIFF_MAGIC = 483729
_SUMMARY_MD_HEADER = 2355492
_MAX_FILE_SIZE = 4 * 1024**3  # TIFF offsets are 32-bit
_FILE_MARGIN = 1024**2  # room left for the last IFD and metadata of a file
_SYNC_EVERY_BYTES = 64 * 1024**2

# TIFF tags written for each image, in ascending order as TIFF requires.
_WIDTH, _HEIGHT, _BITS_PER_SAMPLE, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _SAMPLES_PER_PIXEL, _ROWS_PER_STRIP, _STRIP_BYTE_COUNTS = 273, 277, 278, 279
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT, _MM_METADATA = 282, 283, 296, 51123
_NUM_ENTRIES = 13
_IFD_SIZE = 2 + _NUM_ENTRIES * 12 + 4 + 16  # entries, next-IFD offset, two rationals
_SHORT, _LONG, _RATIONAL, _UNDEFINED_ASCII = 3, 4, 5, 2

_PIXEL_TYPES = {
    8: NDTiffIndexEntry.EIGHT_BIT,
    10: NDTiffIndexEntry.TEN_BIT,
    11: NDTiffIndexEntry.ELEVEN_BIT,
    12: NDTiffIndexEntry.TWELVE_BIT,
    14: NDTiffIndexEntry.FOURTEEN_BIT,
    16: NDTiffIndexEntry.SIXTEEN_BIT,
}


class UnsupportedImageError(TypeError):
    """An image NDTiff cannot store (its dtype or shape); the message says what would work."""


def check_storable(image: np.ndarray) -> None:
    """Raise ``UnsupportedImageError`` unless ``image`` is a 2-D uint8 or uint16 array."""
    if not isinstance(image, np.ndarray):
        raise UnsupportedImageError(f"NDTiff stores numpy arrays, got {type(image).__name__}")
    if image.dtype not in (np.uint8, np.uint16):
        raise UnsupportedImageError(
            f"NDTiff stores 8-bit and 16-bit images (uint8, uint16); got {image.dtype}. "
            "Convert in the processor, e.g. np.clip(img, 0, 65535).astype(np.uint16)."
        )
    if image.ndim != 2:
        raise UnsupportedImageError(
            f"NDTiff stores 2-D (Y, X) images here; got shape {image.shape}"
        )
    if image.size == 0:
        raise UnsupportedImageError(f"An empty image (shape {image.shape}) cannot be stored")


def _bit_depth(image: np.ndarray, bit_depth: int | None) -> int:
    if image.dtype == np.uint8:
        return 8
    return bit_depth if bit_depth in (10, 11, 12, 14, 16) else 16


class _TiffFile:
    """One ``.tif`` of the dataset, appended to image after image."""

    def __init__(self, path: Path, summary_json: bytes) -> None:
        self.path = path
        self.file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        header = bytearray(28)
        struct.pack_into("<2sH", header, 0, b"II" if sys.byteorder == "little" else b"MM", 42)
        first_ifd = 28 + len(summary_json)
        first_ifd += first_ifd % 2
        struct.pack_into("<I", header, 4, first_ifd)
        struct.pack_into("<III", header, 8, _NDTIFF_MAGIC, MAJOR_VERSION, MINOR_VERSION)
        struct.pack_into("<II", header, 20, _SUMMARY_MD_HEADER, len(summary_json))
        self.file.write(header)
        self.file.write(summary_json)
        self.position = 28 + len(summary_json)
        self._unsynced = 0
        self._released_up_to = 0
        self._flushed_position = self.position
        # Where the previous IFD's "next IFD" offset lives; the header's on the first image.
        self._previous_next_ifd_field: int | None = None

    def fits(self, nbytes: int) -> bool:
        return self.position + nbytes + _FILE_MARGIN < _MAX_FILE_SIZE

    def append(self, image: np.ndarray, metadata_json: bytes) -> tuple[int, int]:
        """Write one image; returns (pixel offset, metadata offset)."""
        if self.position % 2:
            self.file.write(b"\0")
            self.position += 1
        ifd_offset = self.position
        height, width = image.shape
        nbytes = image.nbytes
        pixels_at = ifd_offset + _IFD_SIZE
        metadata_at = pixels_at + nbytes
        ifd = bytearray(_IFD_SIZE)
        struct.pack_into("<H", ifd, 0, _NUM_ENTRIES)
        entries = (
            (_WIDTH, _LONG, 1, width),
            (_HEIGHT, _LONG, 1, height),
            (_BITS_PER_SAMPLE, _SHORT, 1, 8 * image.itemsize),
            (_COMPRESSION, _SHORT, 1, 1),
            (_PHOTOMETRIC, _SHORT, 1, 1),
            (_STRIP_OFFSETS, _LONG, 1, pixels_at),
            (_SAMPLES_PER_PIXEL, _SHORT, 1, 1),
            (_ROWS_PER_STRIP, _SHORT if height < 65536 else _LONG, 1, height),
            (_STRIP_BYTE_COUNTS, _LONG, 1, nbytes),
            (_X_RESOLUTION, _RATIONAL, 1, ifd_offset + _IFD_SIZE - 16),
            (_Y_RESOLUTION, _RATIONAL, 1, ifd_offset + _IFD_SIZE - 8),
            (_RESOLUTION_UNIT, _SHORT, 1, 3),
            (_MM_METADATA, _UNDEFINED_ASCII, len(metadata_json), metadata_at),
        )
        for i, (tag, kind, count, value) in enumerate(entries):
            struct.pack_into("<HHII", ifd, 2 + 12 * i, tag, kind, count, value)
        # next-IFD offset stays 0: this is the last image until another is appended
        struct.pack_into("<IIII", ifd, _IFD_SIZE - 16, 1, 1, 1, 1)
        self.file.write(ifd)
        pixels = np.ascontiguousarray(image).data.cast("B")
        # in pieces: one write() of a whole frame is a stretch in the kernel that a
        # kernel without preemption (Linux's default outside desktops) does not
        # interrupt for the window's thread; between pieces the scheduler runs it
        # (bench gui, saving: worst block once set up 58 and 114 ms whole, 36 and 50
        # in 1 MiB pieces, side by side in one process)
        for start in range(0, len(pixels), WRITE_PIECE_BYTES):
            self.file.write(pixels[start : start + WRITE_PIECE_BYTES])
        self.file.write(metadata_json)
        self.position = metadata_at + len(metadata_json)
        self._link_previous_ifd(ifd_offset)
        self._previous_next_ifd_field = ifd_offset + 2 + _NUM_ENTRIES * 12
        return pixels_at, metadata_at

    def overwrite(self, offset: int, data: bytes | memoryview) -> None:
        """Write ``data`` over bytes already in the file, and go back to its end."""
        self.file.seek(offset)
        self.file.write(data)
        self.file.seek(self.position)
        self.file.flush()

    def _link_previous_ifd(self, ifd_offset: int) -> None:
        if self._previous_next_ifd_field is None:
            return  # the header already points at the first IFD
        self.file.seek(self._previous_next_ifd_field)
        self.file.write(struct.pack("<I", ifd_offset))
        self.file.seek(self.position)

    def flush(self) -> None:
        self.file.flush()
        self._unsynced += self.position - self._flushed_position
        self._flushed_position = self.position
        if self._unsynced >= _SYNC_EVERY_BYTES:
            self._release_page_cache()

    def _release_page_cache(self) -> None:
        """Start writing the newest data to disk, and let the OS forget older data.

        Without this, a fast acquisition fills gigabytes of page cache with dirty pages;
        every other allocation in the process (the next camera frame, the display) then
        waits while the kernel reclaims memory, which froze the window for hundreds of
        milliseconds. ``POSIX_FADV_DONTNEED`` on Linux starts writeback of dirty pages
        without waiting for it and drops pages already written, so the cache stays
        small while the writer never blocks on the disk (an ``fdatasync`` here cost
        throughput whenever the page cache had room).
        """
        self._unsynced = 0
        if not hasattr(os, "posix_fadvise"):
            return  # Windows: its cache manager does not let dirty data pile up like this
        fd = self.file.fileno()
        os.posix_fadvise(fd, self._released_up_to, 0, os.POSIX_FADV_DONTNEED)
        # What was handed to the disk a step ago is written by now: next time, start there.
        self._released_up_to = max(0, self.position - 2 * _SYNC_EVERY_BYTES)

    def close(self) -> None:
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())  # on disk when the acquisition says it is finished
            self.file.close()


class NDTiffWriter:
    """Writes one NDTiff dataset folder. Not thread-safe: one saving thread owns it.

    ``write`` returns the index entry of the image it wrote (already in
    ``NDTiff.index``), after the image's bytes were handed to the OS, so a reader can be
    told about it at once.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        summary_metadata: dict[str, Any],
        prefix: str,
        append: bool = False,
    ):
        """``append``: add images to a dataset already in ``path`` (in new files of
        its own; the index grows), as going on with a map that was reopened."""
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._prefix = prefix
        self._summary_json = json.dumps(summary_metadata, default=json_default).encode()
        self._tiff: _TiffFile | None = None
        self._file_count = len(list(self.path.glob("*.tif"))) if append else 0
        index_path = self.path / "NDTiff.index"
        self._index = open(index_path, "ab" if append else "wb")  # noqa: SIM115
        self.images_written = 0
        self.bytes_written = 0

    def _tiff_for(self, nbytes: int) -> _TiffFile:
        if self._tiff is not None and self._tiff.fits(nbytes):
            return self._tiff
        if self._tiff is not None:
            self._tiff.close()
        while True:  # never over an existing file (a dataset gone on with)
            suffix = "" if self._file_count == 0 else f"_{self._file_count}"
            name = self.path / f"{self._prefix}_NDTiffStack{suffix}.tif"
            if not name.exists():
                break
            self._file_count += 1
        self._tiff = _TiffFile(name, self._summary_json)
        self._file_count += 1
        return self._tiff

    def write(
        self,
        axes: dict[str, int | str],
        image: np.ndarray,
        metadata: dict[str, Any],
        bit_depth: int | None = None,
    ) -> NDTiffIndexEntry:
        check_storable(image)
        bits = _bit_depth(image, bit_depth)
        metadata_json = json.dumps(metadata, default=json_default).encode()
        tiff = self._tiff_for(image.nbytes + len(metadata_json))
        pixels_at, metadata_at = tiff.append(image, metadata_json)
        tiff.flush()
        check_not_deleted([tiff.file, self._index], self.path, self.images_written)
        entry = NDTiffIndexEntry(
            frozenset(axes.items()),
            _PIXEL_TYPES[bits],
            pixels_at,
            image.shape[1],
            image.shape[0],
            metadata_at,
            len(metadata_json),
            tiff.path.name,
        )
        self._index.write(entry.as_byte_buffer().getvalue())
        self._index.flush()
        self.images_written += 1
        self.bytes_written += image.nbytes
        return entry

    def overwrite_rows(self, entry: NDTiffIndexEntry, image: np.ndarray, y0: int, y1: int) -> None:
        """Write rows ``y0..y1`` of ``image`` over the pixels of an image already
        written (same shape and type), in place: a pyramid's downsampled tiles are
        refined as the tiles they show arrive, without a new copy each time."""
        if image.shape != (entry.image_height, entry.image_width):
            raise ValueError(f"shape {image.shape} is not the stored image's")
        row_bytes = entry.image_width * image.itemsize
        data = np.ascontiguousarray(image[y0:y1]).data.cast("B")
        offset = entry.pix_offset + y0 * row_bytes
        if self._tiff is not None and self._tiff.path.name == entry.filename:
            self._tiff.overwrite(offset, data)
            return
        with open(self.path / entry.filename, "r+b") as file:  # an earlier file of the dataset
            file.seek(offset)
            file.write(data)

    def read_pixels(self, entry: NDTiffIndexEntry) -> np.ndarray:
        """The pixels of an image this writer wrote, read back from its file."""
        dtype = np.uint8 if entry.pixel_type == NDTiffIndexEntry.EIGHT_BIT else np.uint16
        count = entry.image_width * entry.image_height
        pixels = np.fromfile(
            self.path / entry.filename, dtype=dtype, count=count, offset=entry.pix_offset
        )
        return pixels.reshape(entry.image_height, entry.image_width)

    def close(self) -> None:
        if self._tiff is not None:
            self._tiff.close()
        self._index.flush()
        os.fsync(self._index.fileno())
        self._index.close()


def json_default(value: Any) -> Any:
    """Make numpy scalars and arrays, paths and sets serialisable in metadata."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


def unique_dataset_dir(root: str | os.PathLike[str], name: str) -> Path:
    """``root/name_N`` with N one more than any existing ``name_N``: never overwrites.

    ``name`` must be a plain folder name (``DatasetNameError`` otherwise): the dataset
    is always inside ``root``."""
    check_dataset_name(name)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    highest = 0
    prefix = f"{name}_"
    for entry in root.iterdir():
        tail = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        digits = tail.split("_", 1)[0]
        if digits.isdigit():
            highest = max(highest, int(digits))
    while True:
        highest += 1
        candidate = root / f"{name}_{highest}"
        if sys.platform == "win32":  # the longest file it will hold: the 1000th stack
            check_path_length(str(candidate.absolute() / f"{name}_NDTiffStack_999.tif"))
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise DatasetNameError(
                    f"The file system refuses the folder {candidate}: the name or the path "
                    "is too long. Choose a shorter name or folder."
                ) from exc
            raise
        return candidate
