"""OME-Zarr as a second format: ``Acquisition(directory, name, storage="ome-zarr")``.

Written with tensorstore (Google's array storage library, also what pymmcore-plus's
OME-Zarr writer uses): one OME-NGFF 0.5 image (Zarr v3) per position, ``(t, c, z, y,
x)``, one chunk per plane. Scopeflow's acquisitions take events as they come (feedback
adds some), so an array's extent is not known when its first plane arrives: it grows as
planes come (with one chunk per plane, growing rewrites the array's metadata, never
its data). acquire-zarr, measured beside it, can grow only its first dimension.

Each image's metadata goes to ``scopeflow_metadata.jsonl`` beside the arrays, one line
per image with its axes, as NDTiff keeps metadata with each image; it is also the index
a reader uses to know which planes exist. Planes never written read as zeros (the
arrays' fill value), as in any Zarr array, so every plane written is stored as a chunk
file (zeros too) and a reader presents only the indexed images whose chunk is there.

When things go wrong (see ``OMEZarrSink`` for what is kept and said):

- a full disk stops the acquisition with ``DiskFullError``, before the disk refuses a
  write when its free space says so (the images saved are then all on disk);
- Scopeflow stopped while writing (killed, crashed, a power cut): opening the folder
  presents the images whose planes reached the disk, whole, and says what is missing
  (``OMEZarrDataset.warning``, also logged).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import shutil
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from app.storage.ndtiff_writer import check_storable, json_default, unique_dataset_dir
from app.storage.ram_sink import readable_size
from app.storage.sink import (
    DatasetGoneError,
    DiskFullError,
    check_not_deleted,
    disk_full_error,
)

logger = logging.getLogger(__name__)

METADATA_FILE = "scopeflow_metadata.jsonl"
OME_VERSION = "0.5"
DIMENSIONS = ("t", "c", "z", "y", "x")
#: the acquisition axes an OME-Zarr image has a dimension for (position: one image each)
AXIS_DIMENSION = {"time": 0, "channel": 1, "z": 2}
SUPPORTED_AXES = frozenset({*AXIS_DIMENSION, "position"})
#: planes being written at most (each held in memory until tensorstore has written it)
PENDING_WRITES = 16
#: Where the system can be asked to start writing a file and to forget what is written
#: (``posix_fadvise``: Linux), chunk files are not synced as tensorstore writes them (its
#: default, a flush of the disk for every plane): each is handed to the disk once
#: written and forgotten ``PENDING_WRITES`` planes later, as the NDTiff writer does with
#: its file, and ``finish`` syncs each (a write the disk refuses only then is said
#: there). Through this sink alone (no camera; five runs of each, alternating in one
#: process), planes were saved 1.41 times as fast at 2048 x 2048 16-bit, 1.49 times at
#: 1024 x 1024 and 1.24 times at 512 x 512 as with tensorstore's sync of each (1.81,
#: 1.43 and 1.32 times with one ``os.sync`` at the end instead, whose errors cannot be
#: told apart). What this gives up: a write error met by the system's own writeback is
#: asked for only at ``finish`` (hours later, for a long acquisition; a file whose pages
#: were all dropped can have been evicted with its error meanwhile), and ``finish``
#: syncs every plane in turn (0.5 s for 2,000 small planes here). Elsewhere (Windows,
#: macOS) tensorstore syncs each chunk as it writes it.
WRITEBACK = hasattr(os, "posix_fadvise")
#: what an image takes on disk beyond its pixels and index line, at most: its chunk
#: file's last block and the folders of its chunk key (``c/t/c/z/0``: up to four new
#: ones of 4 kB)
IMAGE_OVERHEAD_BYTES = 64 * 1024
#: kept free on the disk: room to close the dataset (its OME metadata) once it is full
RESERVE_BYTES = 4 * 1024**2
#: how the system says a write failed for want of room: Python's errno, tensorstore's
#: words ("... No space left on device [os_error_code='28']", on Linux)
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DISK_FULL_WORDS = re.compile(
    r"No space left on device|Disk quota exceeded|not enough space on the disk", re.IGNORECASE
)


class UnsupportedAxesError(ValueError):
    """An image whose axes OME-Zarr has no dimension for."""


def disk_full_reason(error: BaseException) -> str | None:
    """The system's words when ``error`` is a write refused for want of room (a full
    disk, a quota); None for any other failure."""
    if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
        return error.strerror or os.strerror(error.errno or errno.ENOSPC)
    found = _DISK_FULL_WORDS.search(str(error))
    return found.group(0) if found is not None else None


def free_bytes(path: Path) -> int:
    """The room the operating system reports on the disk that holds ``path``."""
    return shutil.disk_usage(path).free


class _Pending(NamedTuple):
    """A plane on its way to disk: its image's axes, tensorstore's commit, its bytes."""

    axes: dict[str, Any]
    commit: Any
    nbytes: int


class WritesLostError(OSError):
    """Writes the disk refused for another reason than room (an I/O error, a network
    share): as ``DiskFullError``, it says which images are not saved (``not_saved``),
    which of them ``put`` had accepted (``reported_saved``: the saving worker takes
    them back from its counts) and how many are kept (``kept``)."""

    not_saved: list[dict[str, Any]]
    reported_saved: list[dict[str, Any]]
    kept: int


class _WritesFailed(Exception):
    """Planes whose writes failed after ``put`` had returned (inside the sink only)."""

    def __init__(self, failed: list[tuple[dict[str, Any], BaseException]]) -> None:
        super().__init__(f"{len(failed)} plane write(s) failed")
        self.failed = failed


def _tensorstore() -> Any:
    import tensorstore  # imported when a dataset is written or read, not with the app

    return tensorstore


class OMEZarrDataset:
    """What users read back (the ``ReadableDataset`` protocol), while it is written
    (from the sink) and afterwards (``open_dataset`` on the folder).

    Opened from a folder, it presents the images of the index whose plane is on disk:
    after Scopeflow was stopped while writing (killed, crashed), the last images
    indexed may have no plane yet, and one would read as zeros. Those are left out and
    listed in ``missing_images``; ``warning`` says what is incomplete (also logged), and
    is None for a dataset whose writing finished with every image on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offsets: dict[frozenset[tuple[str, Any]], tuple[int, int]] = {}
        self._axes: dict[str, list[Any]] = {}
        self._axis_values_seen: dict[str, set[Any]] = {}  # the same values, to look up
        self._channels: list[str] = []
        self._positions: list[Any] = []
        self._arrays: dict[int, Any] = {}
        #: planes written but not yet committed to disk, served from memory meanwhile
        self._held: dict[frozenset[tuple[str, Any]], np.ndarray] = {}
        # the saving thread records while the viewer, composites and futures read
        self._lock = threading.RLock()
        self.summary_metadata: dict[str, Any] = {}
        #: images the index lists whose plane is not on disk (left out)
        self.missing_images: list[dict[str, Any]] = []
        #: index lines cut off or unreadable (the last one, when the writer was killed)
        self.unreadable_lines = 0
        #: whether the writing acquisition finished; None when not known (being made
        #: by this process's sink, or written before Scopeflow recorded it)
        self.finished: bool | None = None
        root = self.path / "zarr.json"
        if root.is_file():
            attributes = json.loads(root.read_text(encoding="utf-8")).get("attributes", {})
            scopeflow = attributes.get("scopeflow", {})
            self.summary_metadata = dict(scopeflow.get("summary", {}))
            self.finished = scopeflow.get("finished")
            # older datasets stored no chunk for an all-zero plane: nothing to check; a
            # dataset closed with every write done needs no check either (20,000 files
            # looked for took 1.2 s of opening)
            check = bool(scopeflow.get("every_plane_stored")) and not scopeflow.get("whole")
            self._load_index(check_planes=check)
        self.warning = self._incomplete()
        if self.warning is not None:
            logger.warning("%s", self.warning)

    def _load_index(self, check_planes: bool) -> None:
        index = self.path / METADATA_FILE
        if not index.is_file():
            return
        offset = 0
        with open(index, "rb") as file:
            for line in file:
                axes = _axes_of_line(line)
                if axes is None:
                    self.unreadable_lines += 1
                elif not check_planes or self._plane_on_disk(axes):
                    self.record(axes, offset, len(line))
                else:
                    self._place(axes)  # its channel and position still number the planes
                    self.missing_images.append(axes)
                offset += len(line)

    def chunk_path(self, axes: Mapping[str, Any]) -> Path:
        """The file that holds the plane of ``axes`` (one chunk per plane)."""
        position, plane = self.plane_of(axes)
        chunk = self.path / str(position) / "0" / "c"
        return chunk.joinpath(*map(str, plane), "0", "0")

    def _plane_on_disk(self, axes: Mapping[str, Any]) -> bool:
        """Whether the plane's chunk file is there, whole. tensorstore writes a chunk to
        a temporary file and renames it, so one that is there was whole when written;
        after a power cut, a file renamed before its data reached the disk may be
        shorter (its pixels are stored as they are: a whole one has all their bytes)."""
        try:
            size = self.chunk_path(axes).stat().st_size
        except OSError:
            return False
        position, plane = self.plane_of(axes)
        try:
            array = self._array(position)
        except Exception:  # its array's metadata lost with the power: nothing to read
            return False
        # the array's metadata grows with the planes, and may not have reached the disk
        # with this one (a power cut): a plane beyond its extent cannot be read
        inside = all(index < extent for index, extent in zip(plane, array.shape[:3], strict=True))
        whole: int = math.prod(array.shape[3:]) * array.dtype.numpy_dtype.itemsize
        return inside and size >= whole

    def _incomplete(self) -> str | None:
        """What a reader must know about a folder that is not whole, in a sentence."""
        problems = []
        if self.finished is False:
            problems.append(
                "the acquisition writing it did not close it (it is still being written, "
                "or it stopped without closing it: Scopeflow was killed or crashed, or the "
                "disk was full)"
            )
        if self.missing_images:
            problems.append(
                f"{_images(len(self.missing_images))} in its index never reached the disk, "
                f"left out ({_which(self.missing_images)})"
            )
        if self.unreadable_lines:
            problems.append(
                f"{self.unreadable_lines} line(s) of its index ({METADATA_FILE}) cut off "
                "or unreadable, their images left out"
            )
        if not problems:
            return None
        return (
            f"The OME-Zarr dataset {self.path} is incomplete: {'; '.join(problems)}. "
            f"The {_images(len(self._offsets))} it holds whole read back."
        )

    # ------------------------------------------------------------ the sink's side
    def record(self, axes: Mapping[str, Any], offset: int, length: int) -> None:
        """An image written: its axes and where its metadata line is. From here on it
        can be read (its plane is on disk or held, its metadata line written)."""
        with self._lock:
            self._place(axes)
            self._offsets[frozenset(axes.items())] = (offset, length)
            for name, value in axes.items():
                seen = self._axis_values_seen.setdefault(name, set())
                if value not in seen:  # a set: a list searched took 0.4 s of 20,000 images
                    seen.add(value)
                    self._axes.setdefault(name, []).append(value)

    def _place(self, axes: Mapping[str, Any]) -> None:
        """The channel and position of an image, numbered in the order they come: the
        plane an image is in (``plane_of``) depends on it."""
        with self._lock:
            channel = axes.get("channel")
            if channel is not None and channel not in self._channels:
                self._channels.append(channel)
            position = axes.get("position", 0)
            if position not in self._positions:
                self._positions.append(position)

    def forget(self, axes: Mapping[str, Any]) -> None:
        """An image recorded whose plane never reached the disk (its write failed once
        ``put`` had returned): no longer presented, so it is not read as zeros. Its
        channel and position keep their numbers (they still place the other planes)."""
        key = frozenset(axes.items())
        with self._lock:
            self._held.pop(key, None)
            if self._offsets.pop(key, None) is None:
                return
            self._axes = {}
            self._axis_values_seen = {}
            for other in self._offsets:
                for name, value in other:
                    seen = self._axis_values_seen.setdefault(name, set())
                    if value not in seen:
                        seen.add(value)
                        self._axes.setdefault(name, []).append(value)

    @property
    def positions(self) -> list[Any]:
        """The position axis's values, in the order of their images (0: no positions)."""
        with self._lock:
            return list(self._positions)

    def plane_of(self, axes: Mapping[str, Any]) -> tuple[int, tuple[int, int, int]]:
        """The image (position) and the (t, c, z) plane of an image's axes; for axes
        not recorded yet, where they will go (the next position or channel)."""
        with self._lock:
            where = axes.get("position", 0)
            position = (
                self._positions.index(where) if where in self._positions else len(self._positions)
            )
            channel = 0
            if "channel" in axes:
                name = axes["channel"]
                channel = (
                    self._channels.index(name) if name in self._channels else len(self._channels)
                )
            return position, (int(axes.get("time", 0)), channel, int(axes.get("z", 0)))

    def _array(self, position: int, reopen: bool = False) -> Any:
        with self._lock:
            array = None if reopen else self._arrays.get(position)
            if array is None:
                spec = {"driver": "zarr3", "kvstore": _file(self.path / str(position) / "0")}
                array = self._arrays[position] = _tensorstore().open(spec).result()
            return array

    # ------------------------------------------------------------ ReadableDataset
    @property
    def axes(self) -> dict[str, Any]:
        with self._lock:
            return {name: set(values) for name, values in self._axes.items()}

    def has_image(self, **axes: Any) -> bool:
        with self._lock:
            return frozenset(axes.items()) in self._offsets

    def hold(self, axes: Mapping[str, Any], image: np.ndarray) -> None:
        """A plane whose write is on its way to disk: read from memory until it is."""
        with self._lock:
            self._held[frozenset(axes.items())] = image

    def release(self, axes: Mapping[str, Any]) -> None:
        with self._lock:
            self._held.pop(frozenset(axes.items()), None)

    def read_image(self, **axes: Any) -> np.ndarray:
        key = frozenset(axes.items())
        with self._lock:
            if key not in self._offsets:
                raise KeyError(f"no image with axes {axes} in {self.path}")
            held = self._held.get(key)
            if held is not None:
                return held.copy()
        position, (t, c, z) = self.plane_of(axes)
        array = self._array(position)
        if t >= array.shape[0] or c >= array.shape[1] or z >= array.shape[2]:
            array = self._array(position, reopen=True)  # grown since it was opened
        plane = np.asarray(array[t, c, z].read().result())
        with self._lock:
            if key not in self._offsets:  # its write failed while it was read: no zeros
                raise KeyError(f"no image with axes {axes} in {self.path} (its write failed)")
        return plane

    def read_metadata(self, **axes: Any) -> dict[str, Any]:
        with self._lock:
            found = self._offsets.get(frozenset(axes.items()))
        if found is None:
            raise KeyError(f"no image with axes {axes} in {self.path}")
        offset, length = found
        with open(self.path / METADATA_FILE, "rb") as file:
            file.seek(offset)
            return dict(json.loads(file.read(length))["metadata"])

    def get_channel_names(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    def get_image_coordinates_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(key) for key in self._offsets]

    def close(self) -> None:
        self._arrays.clear()


class OMEZarrSink:
    """Saves images into a new ``directory/name_N`` OME-Zarr dataset (an ``ImageSink``).

    One saving thread calls ``put``. A plane's write goes on in tensorstore's threads
    (at most ``PENDING_WRITES`` at once: twice the throughput of waiting for each); the
    image is readable when ``put`` returns, from memory until its plane is on disk.

    What is kept when things go wrong:

    - The disk fills: before each plane, the free space the system reports is checked
      against the planes on their way, this one and ``RESERVE_BYTES``. Short of room,
      the writes on their way are waited for and ``put`` raises ``DiskFullError`` for
      this image, written nowhere: every image accepted before is on disk, and the
      reserve lets ``finish`` close the dataset. It says the disk is full, names the
      folder, counts the images not saved and those kept.
    - A write refused although the free space said there was room (a quota, a network
      share, another program filling the disk): the next ``put`` (or ``finish``) waits
      for every write on its way and raises ``DiskFullError`` (another failure: an
      ``OSError`` saying it) listing the images not saved, including any accepted
      earlier whose plane was refused (``reported_saved``): those leave the dataset,
      so none reads as zeros, and ``images_written`` no longer counts them.
    - Scopeflow stopped while writing (killed, crashed, a power cut): planes are written
      to a temporary file and renamed, so a chunk file is whole or absent, and index
      lines are whole or cut off (a line cut short by a failed write is taken back).
      The root records whether the acquisition finished. Opening the folder (in any
      process: ``open_dataset``) presents the indexed images whose plane is on disk,
      and ``OMEZarrDataset.warning`` (also logged) says that the acquisition did not
      finish and which images are left out. Planes being written (at most
      ``PENDING_WRITES``, held in memory) are lost with the process. A power cut can
      also take planes written but not yet on the disk (with ``WRITEBACK``, synced by
      ``finish``: the system writes each within seconds meanwhile, as it does NDTiff's
      images): a chunk file renamed before its pixels reached the disk can be shorter
      than a plane, or lie beyond its array's extent as last written, and reads as
      absent.
    """

    description = "the OME-Zarr writer"
    stores_images = True

    def __init__(
        self,
        directory: str | os.PathLike[str],
        name: str,
        summary_metadata: dict[str, Any],
        channel_colour: Callable[[str, int], str] | None = None,
    ) -> None:
        self._path: Path = unique_dataset_dir(directory, name)
        #: a channel's display colour as RRGGBB hex, from its name and place
        self._channel_colour = channel_colour or (lambda name, index: "FFFFFF")
        self._path.mkdir(parents=True, exist_ok=True)
        self._summary = {**summary_metadata, "Prefix": self._path.name}
        self._dataset = OMEZarrDataset(self._path)
        # unbuffered: a line is on file when put returns, and one cut short can be undone
        self._metadata_file = open(self._path / METADATA_FILE, "ab", buffering=0)  # noqa: SIM115
        self._offset = 0
        self._writers: dict[int, Any] = {}
        self._shapes: dict[int, list[int]] = {}
        self._labels: dict[int, Any] = {}  # each image's position axis value
        self._pixel_size_um: float | None = None
        self._z_steps: dict[int, float] = {}
        self._images = 0
        self._bytes = 0
        self._pending: deque[_Pending] = deque()
        #: planes written and handed to the disk, synced by ``finish`` (``WRITEBACK``):
        #: their axes and bytes only (tensorstore's commits are let go)
        self._unsynced: list[_Pending] = []
        self._finished = False
        self._put_failed = False
        self._write_root(finished=False)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dataset(self) -> OMEZarrDataset:
        return self._dataset

    @property
    def images_written(self) -> int:
        return self._images

    @property
    def bytes_written(self) -> int:
        return self._bytes

    def put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        try:
            self._put_said(axes, image, metadata)
        except BaseException:
            self._put_failed = True  # the index may list a plane that is not on disk
            raise

    def _put_said(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        """``_put``, its failures said for users."""
        try:
            self._put(axes, image, metadata)
        except DiskFullError:
            raise
        except _WritesFailed as failed:
            self._check_not_deleted()  # the likeliest cause of a failed write: said so
            raise self._failure(failed.failed, axes, failed.failed[0][1]) from failed.failed[0][1]
        except Exception as exc:
            self._check_not_deleted()
            if disk_full_reason(exc) is None:
                raise
            # the writes on their way met the same disk: which of them are lost too
            raise self._failure(self._settle(0), axes, exc) from exc

    def _put(self, axes: dict[str, Any], image: np.ndarray, metadata: dict[str, Any]) -> None:
        check_storable(image)
        unsupported = sorted(set(axes) - SUPPORTED_AXES)
        if unsupported:
            raise UnsupportedAxesError(
                f"OME-Zarr has dimensions for time, channel, z and one image per position; "
                f"this image also has the axes {unsupported} (save as NDTiff for those)"
            )
        record = {"axes": axes, "metadata": metadata}
        line = json.dumps(record, default=json_default).encode() + b"\n"
        # everything that can fail first; the image is recorded (readable) last. A write
        # that failed meanwhile is said now, before this image is written
        self._raise_failed(self._settle(PENDING_WRITES - 1))
        self._make_room(axes, image.nbytes + len(line))
        position, plane = self._dataset.plane_of(axes)
        writer = self._writer_for(position, image, axes.get("position", 0))
        writer = self._grown(position, writer, plane)
        # the write goes on in tensorstore's threads; the plane is read from memory until
        # it is on disk, so put returns with the image readable
        self._dataset.hold(axes, image)
        try:
            commit = writer[plane].write(image).commit
            self._append_line(line)
            self._check_not_deleted()
        except BaseException:
            self._dataset.release(axes)
            raise
        self._pending.append(_Pending(axes, commit, image.nbytes))
        self._dataset.record(axes, self._offset, len(line))
        self._offset += len(line)
        self._images += 1
        self._bytes += image.nbytes
        self._remember_scale(metadata, plane[2])

    def finish(self) -> None:
        """The OME metadata (channels, scale) written, the dataset marked finished; the
        files on disk. Raises for planes whose writes failed since the last ``put``."""
        if self._finished:
            return
        self._finished = True
        failed = self._settle(0)
        try:
            if failed:
                self._check_not_deleted()
            if WRITEBACK:
                # the planes are synced one by one (their errors said, ``_settle``); the
                # arrays' metadata, renames and folders, written unsynced with them, are
                # on disk too before the root says the dataset is whole
                os.sync()
            for position in self._writers:
                self._write_image_metadata(position)
            self._write_root(finished=True, whole=not failed and not self._put_failed)
            os.fsync(self._metadata_file.fileno())
        except Exception as exc:
            reason = disk_full_reason(exc)
            if not failed and reason is not None:
                raise disk_full_error(
                    f"The disk holding {self._path} is full ({reason}): the dataset could "
                    "not be closed (its OME metadata: channel names, scale). The "
                    f"{_images(self._images)} on disk are kept and read back (open_dataset).",
                    [],
                    [],
                    self._images,
                ) from exc
            if not failed or isinstance(exc, DatasetGoneError):
                raise
            error = self._failure(failed, None, failed[0][1])
            error.add_note(f"The dataset's OME metadata could not be written either: {exc}")
            raise error from exc
        finally:
            self._metadata_file.close()
            self._writers.clear()
        if failed:  # said as in ``put``: which images, and that the others are kept
            raise self._failure(failed, None, failed[0][1]) from failed[0][1]

    # ------------------------------------------------------------ inside
    def _check_not_deleted(self) -> None:
        check_not_deleted([self._metadata_file], self._path, self._images)

    def _settle(self, most: int) -> list[tuple[dict[str, Any], BaseException]]:
        """Forget the writes that reached the disk; wait for the oldest while more than
        ``most`` are on their way (memory stays bounded). Once one has failed (a full
        disk), wait for all: returns the failed ones, whose images have left the
        dataset and the count of images written. With ``WRITEBACK``, the planes written
        are synced when ``most`` is 0 (``finish``, and a disk about to be full), or once
        one has failed."""
        failed: list[tuple[dict[str, Any], BaseException]] = []
        while self._pending and (
            failed or len(self._pending) > most or self._pending[0].commit.done()
        ):
            pending = self._pending.popleft()
            try:
                pending.commit.result()
            except Exception as exc:
                self._lost(pending, exc, failed)
            else:
                if WRITEBACK:
                    self._handed_to_disk(pending)
            finally:
                self._dataset.release(pending.axes)
        if failed or not most:
            self._sync_written(failed)
        return failed

    def _handed_to_disk(self, written: _Pending) -> None:
        """Ask the system to start writing a plane just written, and to forget the one
        written ``PENDING_WRITES`` planes before it (its pages dropped once clean: on
        the disk by then, unless the disk is slower than the camera): the page cache
        does not fill with gigabytes of planes (see the NDTiff writer's
        ``_release_page_cache``: a full cache froze the window)."""
        self._unsynced.append(written._replace(commit=None))
        _advise_written(self._dataset.chunk_path(written.axes))
        if len(self._unsynced) > PENDING_WRITES:
            _advise_written(self._dataset.chunk_path(self._unsynced[-PENDING_WRITES - 1].axes))

    def _sync_written(self, failed: list[tuple[dict[str, Any], BaseException]]) -> None:
        """Every plane written on disk: a write the disk refuses only when asked to sync
        (a network share, a quota) loses that plane, said as any refused write, and its
        chunk file goes (its pixels may not be those written)."""
        unsynced, self._unsynced = self._unsynced, []
        for written in unsynced:
            chunk = self._dataset.chunk_path(written.axes)
            try:
                _sync(chunk)
            except OSError as exc:
                self._lost(written, exc, failed)
                with contextlib.suppress(OSError):
                    chunk.unlink(missing_ok=True)

    def _lost(
        self, pending: _Pending, error: BaseException, failed: list[tuple[dict[str, Any], Any]]
    ) -> None:
        """A plane accepted whose write failed: it leaves the dataset, and is said."""
        failed.append((pending.axes, error))
        self._dataset.forget(pending.axes)
        self._images -= 1
        self._bytes -= pending.nbytes

    def _raise_failed(self, failed: list[tuple[dict[str, Any], BaseException]]) -> None:
        if failed:
            raise _WritesFailed(failed)

    def _make_room(self, axes: dict[str, Any], nbytes: int) -> None:
        """Raise ``DiskFullError`` for this image (``nbytes``: its plane and index line),
        before writing it, if the disk has no room for it, the planes on their way and
        the reserve: then no plane accepted is refused by a full disk, and the dataset
        can still be closed."""
        need = nbytes + IMAGE_OVERHEAD_BYTES
        if free_bytes(self._path) - len(self._pending) * need >= need + RESERVE_BYTES:
            return
        self._raise_failed(self._settle(0))  # the planes on their way take their room
        free = free_bytes(self._path)
        if free < need + RESERVE_BYTES:
            reason = (
                f"{readable_size(free)} free; an image takes {readable_size(need)}, and "
                f"{readable_size(RESERVE_BYTES)} stay free to close the dataset"
            )
            raise self._failure([], axes, None, reason)

    def _append_line(self, line: bytes) -> None:
        """One whole line at the end of the index, or none: a write cut short (a full
        disk) is taken back, so the next line does not follow half a line."""
        written = 0
        try:
            while written < len(line):
                written += self._metadata_file.write(line[written:]) or 0
        except BaseException:
            self._metadata_file.truncate(self._offset)
            raise

    def _failure(
        self,
        lost: list[tuple[dict[str, Any], BaseException]],
        refused: dict[str, Any] | None,
        cause: BaseException | None,
        reason: str | None = None,
    ) -> OSError:
        """The error that stops the acquisition: ``lost``, images accepted whose plane
        was refused; ``refused``, the image ``put`` was given (none in ``finish``)."""
        reported = [axes for axes, _ in lost]
        not_saved = reported + ([refused] if refused is not None else [])
        said = f"{_images(len(not_saved))} could not be saved ({_which(not_saved)}), " + (
            "and the acquisition stopped."
            if refused is not None or not self._finished
            else "found when the dataset was closed."
        )
        if reported:
            said += (
                f" {len(reported)} of them had been reported saved: their planes were still "
                "on their way to the disk, and they are not in the dataset."
            )
        said += (
            f" The {_images(self._images)} on disk are kept in {self._path} and read back "
            "(open_dataset)."
        )
        reason = reason or (disk_full_reason(cause) if cause is not None else None)
        if reason is None:
            error = WritesLostError(f"Writing into {self._path} failed ({cause}): {said}")
            error.not_saved, error.reported_saved, error.kept = not_saved, reported, self._images
            return error
        return disk_full_error(
            f"The disk holding {self._path} is full ({reason}): {said} Free disk space, "
            "or save to another disk.",
            not_saved,
            reported,
            self._images,
        )

    def _writer_for(self, position: int, image: np.ndarray, label: Any) -> Any:
        writer = self._writers.get(position)
        if writer is not None:
            if writer.shape[3:] != image.shape or writer.dtype.numpy_dtype != image.dtype:
                raise ValueError(
                    f"this OME-Zarr image holds {writer.shape[3:]} {writer.dtype.numpy_dtype} "
                    f"planes; got {image.shape} {image.dtype}"
                )
            return writer
        height, width = image.shape
        group = self._path / str(position)
        group.mkdir(parents=True, exist_ok=True)
        _write_json(group / "zarr.json", {"zarr_format": 3, "node_type": "group", "attributes": {}})
        spec = {
            "driver": "zarr3",
            "kvstore": {**_file(group / "0"), "file_io_sync": not WRITEBACK},
            "metadata": {
                "shape": [1, 1, 1, height, width],
                "chunk_grid": {
                    "name": "regular",
                    "configuration": {"chunk_shape": [1, 1, 1, height, width]},
                },
                "data_type": image.dtype.name,
                "dimension_names": list(DIMENSIONS),
                "fill_value": 0,
            },
            "create": True,
            # a chunk for every plane, zeros too: a reader tells a plane written from
            # one lost by whether its chunk is there (``OMEZarrDataset``)
            "store_data_equal_to_fill_value": True,
        }
        writer = self._writers[position] = _tensorstore().open(spec).result()
        self._shapes[position] = [1, 1, 1, height, width]
        self._labels[position] = label
        self._write_image_metadata(position)
        return writer

    def _grown(self, position: int, writer: Any, plane: tuple[int, int, int]) -> Any:
        shape = self._shapes[position]
        wanted = [max(shape[i], plane[i] + 1) for i in range(3)] + shape[3:]
        if wanted == shape:
            return writer
        writer = writer.resize(exclusive_max=wanted, resize_metadata_only=True).result()
        self._writers[position] = writer
        self._shapes[position] = wanted
        return writer

    def _remember_scale(self, metadata: dict[str, Any], z: int) -> None:
        size = metadata.get("PixelSizeUm", metadata.get("PixelSize_um"))
        if self._pixel_size_um is None and isinstance(size, int | float) and size > 0:
            self._pixel_size_um = float(size)
        position = metadata.get("ZPosition_um_Intended", metadata.get("ZPosition_um"))
        if isinstance(position, int | float):
            self._z_steps.setdefault(z, float(position))

    def _z_step(self) -> float:
        if len(self._z_steps) < 2:
            return 1.0
        ordered = sorted(self._z_steps.items())
        (z0, p0), (z1, p1) = ordered[0], ordered[1]
        return abs(p1 - p0) / (z1 - z0) or 1.0

    def _write_image_metadata(self, position: int) -> None:
        pixel = self._pixel_size_um or 1.0
        unit = "micrometer"
        axes = [
            {"name": "t", "type": "time", "unit": "second"},
            {"name": "c", "type": "channel"},
            {"name": "z", "type": "space", "unit": unit},
            {"name": "y", "type": "space", "unit": unit},
            {"name": "x", "type": "space", "unit": unit},
        ]
        channels = self._dataset.get_channel_names() or ["0"]
        dtype = self._writers[position].dtype.numpy_dtype
        top = int(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1
        ome = {
            "version": OME_VERSION,
            "multiscales": [
                {
                    "name": f"position {self._labels[position]}",
                    "axes": axes,
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [1.0, 1.0, self._z_step(), pixel, pixel]}
                            ],
                        }
                    ],
                }
            ],
            "omero": {
                "channels": [
                    {
                        "label": str(name),
                        "active": True,
                        "color": self._channel_colour(str(name), index),
                        "window": {"min": 0, "max": top, "start": 0, "end": top},
                    }
                    for index, name in enumerate(channels)
                ],
            },
        }
        group = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
        _write_json(self._path / str(position) / "zarr.json", group)

    def _write_root(self, finished: bool, whole: bool = False) -> None:
        """The root: a collection of one image per position (bioformats2raw's layout),
        and what a reader must know to tell a whole dataset from one cut short
        (``whole``: finished, and every plane its index lists written)."""
        scopeflow = {
            "summary": self._summary,
            "every_plane_stored": True,
            "finished": finished,
            "whole": whole,
        }
        attributes = {
            "ome": {"version": OME_VERSION, "bioformats2raw.layout": 3},
            "scopeflow": scopeflow,
        }
        root = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
        _write_json(self._path / "zarr.json", root)


def _axes_of_line(line: bytes) -> dict[str, Any] | None:
    """An index line's image axes; None for a line cut off (no end of line: its writer
    was killed while writing it) or not JSON."""
    if not line.endswith(b"\n"):
        return None
    try:
        axes = json.loads(line)["axes"]
    except (ValueError, KeyError, TypeError):
        return None
    return axes if isinstance(axes, dict) else None


def _images(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"


def _which(images: list[dict[str, Any]]) -> str:
    """Some images' axes for a message: all of a few, the ends of many."""
    if len(images) <= 3:
        return ", ".join(map(str, images))
    return f"{images[0]}, {images[1]} ... {images[-1]}"


def is_ome_zarr(path: str | os.PathLike[str]) -> bool:
    """A folder Scopeflow wrote as OME-Zarr (its root and image index are there)."""
    folder = Path(path)
    return (folder / "zarr.json").is_file() and (folder / METADATA_FILE).is_file()


def _advise_written(path: Path) -> None:
    """``POSIX_FADV_DONTNEED`` on a plane's file: Linux starts writing its dirty pages
    without waiting and drops those already written (a hint: a file gone, the dataset
    deleted, is left to the checks that say so, and to its sync)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _sync(path: Path) -> None:
    """A plane's file on disk (raises the ``OSError`` of a write the disk refused), and
    then out of the page cache."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def _file(path: Path) -> dict[str, str]:
    return {"driver": "file", "path": str(path)}


def _write_json(path: Path, value: Any) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, default=json_default, indent=1), encoding="utf-8")
    os.replace(temporary, path)
