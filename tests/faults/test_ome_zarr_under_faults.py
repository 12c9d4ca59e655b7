"""#20: an acquisition saving OME-Zarr when the disk fills up, and when Scopeflow is
killed while writing: what the user is told, and what is kept (read through the
dataset, and by opening the folder afresh).

A full disk is simulated where the sink meets it, without privileges: tensorstore
(which writes the planes) on a disk of a given size, refusing a write that does not
fit as tensorstore does on a full disk (its error and words, recorded on a small
tmpfs), and the free space the system reports."""

from __future__ import annotations

import concurrent.futures
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import tensorstore

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.acquisition.state import RunState
from app.storage import ome_zarr_sink
from app.storage.ome_zarr_sink import (
    IMAGE_OVERHEAD_BYTES,
    METADATA_FILE,
    PENDING_WRITES,
    RESERVE_BYTES,
    DiskFullError,
    OMEZarrDataset,
)

FRAME_BYTES = 96 * 128 * 2  # the core fixture's camera: 128 x 96, 16-bit
#: what tensorstore 0.1.86 raises when the disk is full (seen on a 2 MB tmpfs)
TENSORSTORE_DISK_FULL = (
    'RESOURCE_EXHAUSTED: Error writing local file "{path}": Failed writing: '
    '"{path}.__lock": Failed to write {size} bytes to file 8: No space left on device '
    "[os_error_code='28']"
)


class SimulatedDisk:
    """A disk of ``capacity`` bytes under the dataset. tensorstore's writes land on it:
    a plane takes its bytes, the array's metadata needs a little room; a write that
    does not fit fails as on a full disk, in tensorstore's threads a moment later, and
    leaves no plane. ``free_bytes`` is the room the system reports: the truth, or
    (``misreported``) plenty, as on a share with a quota or while another program
    fills the disk."""

    def __init__(self, capacity: int, misreported: bool = False) -> None:
        self.capacity = capacity
        self.misreported = misreported
        self.used = 0
        self.refused: list[tuple[int, ...]] = []
        self._lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(ome_zarr_sink, "_tensorstore", lambda: _TensorstoreOn(self))
        monkeypatch.setattr(ome_zarr_sink, "free_bytes", self.free_bytes)

    def free_bytes(self, path: Path) -> int:
        return 10**12 if self.misreported else self.capacity - self.used

    def fits(self, nbytes: int) -> bool:
        with self._lock:
            return self.used + nbytes <= self.capacity

    def take(self, nbytes: int) -> bool:
        with self._lock:
            if self.used + nbytes > self.capacity:
                return False
            self.used += nbytes
            return True


class _Ready:
    """A tensorstore future that has its value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _TensorstoreOn:
    """The tensorstore module as the sink uses it, the arrays it creates on ``disk``."""

    def __init__(self, disk: SimulatedDisk) -> None:
        self.disk = disk

    def open(self, spec: dict[str, Any], **kwargs: Any) -> Any:
        opened = tensorstore.open(spec, **kwargs)
        if not spec.get("create"):
            return opened  # reading: the files as they are
        return _Ready(_ArrayOn(self.disk, opened.result(), spec["kvstore"]["path"]))


class _ArrayOn:
    def __init__(self, disk: SimulatedDisk, array: Any, path: str) -> None:
        self.disk, self.array, self.path = disk, array, path

    def __getattr__(self, name: str) -> Any:  # shape, dtype
        return getattr(self.array, name)

    def resize(self, **kwargs: Any) -> Any:
        if not self.disk.fits(512):  # the array's zarr.json, written anew
            error = TENSORSTORE_DISK_FULL.format(path=f"{self.path}/zarr.json", size=321)
            failed: concurrent.futures.Future[Any] = concurrent.futures.Future()
            failed.set_exception(ValueError(error))
            return failed
        return _Ready(_ArrayOn(self.disk, self.array.resize(**kwargs).result(), self.path))

    def __getitem__(self, plane: tuple[int, ...]) -> Any:
        return SimpleNamespace(write=lambda image: self._write(plane, image))

    def _write(self, plane: tuple[int, ...], image: np.ndarray) -> Any:
        if self.disk.take(image.nbytes):
            return self.array[plane].write(image)
        self.disk.refused.append(plane)
        chunk = "/".join(map(str, plane))
        error = TENSORSTORE_DISK_FULL.format(path=f"{self.path}/c/{chunk}/0/0", size=image.nbytes)
        commit: concurrent.futures.Future[None] = concurrent.futures.Future()
        threading.Timer(0.005, commit.set_exception, [ValueError(error)]).start()
        return SimpleNamespace(commit=commit)


def _stamp(image, metadata):
    """Every pixel of an image says its time point: a plane read as zeros shows."""
    image[:] = metadata["Axes"]["time"] + 1
    return image, metadata


def _acquire_onto(
    tmp_path: Path,
    time_points: int,
    ended_by: type[OSError] = DiskFullError,
    name: str = "full",
) -> tuple[Acquisition, Any, list]:
    """An OME-Zarr acquisition as a script runs it, ended by the disk (``ended_by``);
    (acquisition, its error, the axes its image-saved callback was given)."""
    saved: list[dict] = []
    acq = Acquisition(
        tmp_path,
        name,
        storage="ome-zarr",
        show_display=False,
        image_process_fn=_stamp,
        image_saved_fn=lambda axes, dataset: saved.append(dict(axes)),
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=time_points))
    acq.mark_finished()
    with pytest.raises(ended_by) as raised:
        acq.await_completion(timeout=30)
    assert acq.status.state is RunState.FAILED
    return acq, raised.value, saved


def _check_reads_back(dataset: Any, times: range | list[int]) -> None:
    """Exactly the images of ``times``, each with its own pixels and metadata."""
    assert sorted(axes["time"] for axes in dataset.get_image_coordinates_list()) == list(times)
    for t in times:
        assert np.all(dataset.read_image(time=t) == t + 1), t
        assert dataset.read_metadata(time=t)["Axes"] == {"time": t}


def _check_kept(acq: Acquisition, kept: range) -> OMEZarrDataset:
    """What was saved reads back from the acquisition's dataset, from the folder opened
    afresh, and from the Zarr array itself (tensorstore, not Scopeflow); returns the
    dataset opened afresh."""
    _check_reads_back(acq.get_dataset(), kept)
    reopened = open_dataset(acq.dataset_path)
    assert isinstance(reopened, OMEZarrDataset)
    _check_reads_back(reopened, kept)
    array = tensorstore.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{acq.dataset_path}/0/0"}}
    ).result()
    planes = array[: len(kept), 0, 0].read().result()
    assert [int(plane.min()) for plane in planes] == [t + 1 for t in kept]
    assert acq.sink.images_written == len(kept)
    return reopened


def test_a_disk_filling_up_stops_the_acquisition_with_every_image_it_saved(
    core, tmp_path, monkeypatch
):
    """The usual case: the acquisition fills the disk itself, and the free space the
    system reports shows it coming. The acquisition stops before a write is refused."""
    # room for 31 images (each its plane, its index line of a few hundred bytes and
    # what the sink allows for folders and blocks) and the reserve; not for a 32nd
    disk = SimulatedDisk(RESERVE_BYTES + IMAGE_OVERHEAD_BYTES + 31 * FRAME_BYTES + 16_000)
    disk.install(monkeypatch)
    acq, error, saved = _acquire_onto(tmp_path, time_points=60)
    message = str(error)
    assert f"The disk holding {acq.dataset_path} is full" in message
    assert "1 image could not be saved ({'time': 31})" in message
    assert f"The 31 images on disk are kept in {acq.dataset_path}" in message
    assert error.not_saved == [{"time": 31}] and error.reported_saved == [] and error.kept == 31
    assert disk.refused == []  # no write met the full disk: nothing accepted was lost
    assert saved == [{"time": t} for t in range(31)]
    counts = acq.status.counts
    assert counts["saved"] == 31 and counts["unsaved"] == counts["outputs"] - 31 > 0
    assert acq.counts.balanced()
    reopened = _check_kept(acq, range(31))
    assert reopened.finished is True and reopened.warning is None  # closed properly


@pytest.mark.parametrize(
    "room_left", [0, 4096], ids=["its metadata refused first", "planes refused"]
)
def test_writes_refused_by_a_full_disk_stop_the_acquisition_and_say_so(
    core, tmp_path, monkeypatch, room_left
):
    """The free space looked ample (a quota, a network share, another program filling
    the disk), and the disk refuses writes after 12 planes: the next array metadata
    write (none left), or the planes on their way (a little room left), when the sink
    may already have accepted some of them."""
    disk = SimulatedDisk(12 * FRAME_BYTES + room_left, misreported=True)
    disk.install(monkeypatch)
    acq, error, saved = _acquire_onto(tmp_path, time_points=80)
    message = str(error)
    assert f"The disk holding {acq.dataset_path} is full (No space left on device)" in message
    not_saved = [axes["time"] for axes in error.not_saved]
    assert not_saved == list(range(12, 12 + len(not_saved)))
    count = f"{len(not_saved)} image" + ("" if len(not_saved) == 1 else "s")
    assert f"{count} could not be saved" in message
    assert f"The 12 images on disk are kept in {acq.dataset_path}" in message
    assert error.kept == 12
    # with no room for its metadata, the 13th image is refused before its plane is
    # written; with a little room, its plane is refused in tensorstore's threads, once
    # put has returned: it and those after it until the refusal came back are said
    reported = error.reported_saved
    assert reported == error.not_saved[:-1] and (len(reported) > 0) == (room_left > 0)
    if reported:
        assert f"{len(reported)} of them had been reported saved" in message
    assert not any(acq.get_dataset().has_image(**axes) for axes in error.not_saved)
    # their image-saved callbacks had run (put had returned); the saving thread then
    # counts them as not saved after all
    assert saved == [{"time": t} for t in range(12 + len(reported))]
    counts = acq.status.counts
    assert counts["saved"] == 12
    assert counts["saved"] + counts["unsaved"] == counts["outputs"]
    reopened = _check_kept(acq, range(12))
    assert reopened.missing_images == reported  # indexed, never on disk
    assert (reopened.warning is not None) == bool(reported)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="synced at the end on Linux")
def test_a_plane_refused_when_synced_is_taken_back_from_the_counts_and_said(
    core, tmp_path, monkeypatch
):
    """On Linux the planes are synced when the dataset closes: a write the disk refuses
    only then (an I/O error, a network share) ends the acquisition failed, names the
    image, takes it back from the images counted saved, and leaves it out of the
    dataset, on disk too; the others are kept."""
    from app.storage import ome_zarr_sink
    from app.storage.ome_zarr_sink import WritesLostError

    real_sync = ome_zarr_sink._sync
    refused = []

    def refusing(path):
        if path.parts[-6:-2] == ("c", "3", "0", "0"):  # time 3's chunk
            refused.append(path)
            raise OSError(errno.EIO, "Input/output error")
        real_sync(path)

    monkeypatch.setattr(ome_zarr_sink, "_sync", refusing)
    acq, error, saved = _acquire_onto(tmp_path, 6, ended_by=WritesLostError, name="refused")
    assert refused and not refused[0].exists()  # its chunk file is gone
    assert error.reported_saved == [{"time": 3}] and error.kept == 5
    assert "Input/output error" in str(error)
    assert "found when the dataset was closed" in str(error)
    assert {"time": 3} in saved  # its callback had run: put had accepted it
    counts = acq.status.counts
    assert counts["saved"] == 5 and counts["unsaved"] == 1
    kept = [0, 1, 2, 4, 5]
    _check_reads_back(acq.get_dataset(), kept)
    reopened = open_dataset(acq.dataset_path)
    _check_reads_back(reopened, kept)
    assert reopened.missing_images == [{"time": 3}]
    assert "never reached the disk" in reopened.warning


# ---------------------------------------------------------------- killed while writing

#: the child: an OME-Zarr acquisition whose disk hangs from time point STALL_FROM on
#: (a write starts, leaves tensorstore's temporary file half written, and never ends),
#: so that it is killed mid-write whatever the machine's speed
CHILD = r"""
import concurrent.futures, sys, types
from pathlib import Path

from app import Acquisition, multi_d_acquisition_events
from app.microscope import SimulatedCameraSettings, configure_simulated_camera, load_microscope
from app.storage import ome_zarr_sink

folder, stall_from = sys.argv[1], int(sys.argv[2])
real = ome_zarr_sink._tensorstore()


def stalled_write(path, plane, image):
    chunk = Path(path, "c", *map(str, plane), "0")
    chunk.mkdir(parents=True, exist_ok=True)
    (chunk / "0.__lock").write_bytes(image.tobytes()[: image.nbytes // 2])
    return types.SimpleNamespace(commit=concurrent.futures.Future())  # never done


class Array:
    def __init__(self, array, path):
        self.array, self.path = array, path

    def __getattr__(self, name):
        return getattr(self.array, name)

    def resize(self, **kwargs):
        resized = Array(self.array.resize(**kwargs).result(), self.path)
        return types.SimpleNamespace(result=lambda: resized)

    def __getitem__(self, plane):
        if plane[0] < stall_from:
            return self.array[plane]
        return types.SimpleNamespace(write=lambda image: stalled_write(self.path, plane, image))


class Tensorstore:
    def open(self, spec, **kwargs):
        opened = real.open(spec, **kwargs)
        if not spec.get("create"):
            return opened
        array = Array(opened.result(), spec["kvstore"]["path"])
        return types.SimpleNamespace(result=lambda: array)


ome_zarr_sink._tensorstore = Tensorstore


def stamp(image, metadata):
    image[:] = metadata["Axes"]["time"] + 1
    return image, metadata


core = load_microscope()
configure_simulated_camera(core, SimulatedCameraSettings(width=128, height=96, exposure_ms=1))
acq = Acquisition(
    folder, "killed", storage="ome-zarr", core=core, show_display=False,
    image_process_fn=stamp,
    image_saved_fn=lambda axes, dataset: print("saved", axes["time"], flush=True),
)
print("folder", acq.dataset_path, flush=True)
acq.acquire(multi_d_acquisition_events(num_time_points=100))
acq.await_completion()
"""
STALL_FROM = 5
#: the images accepted whose planes were on their way when the process was killed
STALLED = list(range(STALL_FROM, STALL_FROM + PENDING_WRITES))


@pytest.fixture(scope="module")
def killed_dataset(tmp_path_factory) -> Path:
    """An OME-Zarr folder whose acquisition was killed (SIGKILL) with the writes of
    ``STALLED`` on their way; the images before them on disk."""
    root = tmp_path_factory.mktemp("killed")
    last = f"saved {STALLED[-1]}"
    with open(root / "stderr.txt", "w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), str(STALL_FROM)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.extend(line.strip() for line in child.stdout), daemon=True
        )
        reader.start()
        deadline = time.monotonic() + 60
        while last not in lines and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        child.kill()  # SIGKILL: no finish, no atexit, nothing flushed by Python
        child.wait(timeout=20)
    reader.join(timeout=5)
    assert last in lines, (lines, (root / "stderr.txt").read_text())
    if os.name == "posix":
        assert child.returncode == -signal.SIGKILL
    folder = next(line.split(" ", 1)[1] for line in lines if line.startswith("folder "))
    return Path(folder)


def test_a_folder_killed_mid_write_opens_with_its_whole_images_and_says_what_is_missing(
    killed_dataset, caplog
):
    with caplog.at_level(logging.WARNING, logger=ome_zarr_sink.__name__):
        dataset = open_dataset(killed_dataset)  # this process: not the one killed
    assert isinstance(dataset, OMEZarrDataset)
    _check_reads_back(dataset, range(STALL_FROM))
    # indexed, but their planes never reached the disk: not presented as images
    assert [axes["time"] for axes in dataset.missing_images] == STALLED
    assert not any(dataset.has_image(time=t) for t in STALLED)
    with pytest.raises(KeyError):
        dataset.read_image(time=STALL_FROM)
    assert dataset.finished is False
    warning = dataset.warning
    assert warning is not None and str(killed_dataset) in warning
    assert "did not close it" in warning and "killed or crashed" in warning
    assert f"{len(STALLED)} images in its index never reached the disk" in warning
    assert f"The {STALL_FROM} images it holds whole read back" in warning
    assert warning in caplog.text  # said in the log (the window's Log panel) too
    # why the index alone is not enough: a Zarr reader sees zeros where a plane is lost,
    # and tensorstore's half-written temporary file is no plane
    array = tensorstore.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{killed_dataset}/0/0"}}
    ).result()
    assert array.shape[0] == STALLED[-1] + 1
    assert not array[STALL_FROM, 0, 0].read().result().any()
    plane = killed_dataset / "0" / "0" / "c" / str(STALL_FROM) / "0" / "0" / "0"
    assert (plane / "0.__lock").is_file() and not (plane / "0").exists()


def test_an_index_line_cut_off_by_the_kill_is_left_out_and_said(killed_dataset, tmp_path):
    """A kill can cut the index's last line short (a long metadata line written while
    the process dies): the dataset still opens, without that image."""
    folder = tmp_path / killed_dataset.name
    shutil.copytree(killed_dataset, folder)
    index = folder / METADATA_FILE
    lines = index.read_bytes().splitlines(keepends=True)
    last_whole = STALL_FROM - 1  # an image whose plane is on disk
    index.write_bytes(b"".join(lines[:last_whole]) + lines[last_whole][:40])
    dataset = open_dataset(folder)
    _check_reads_back(dataset, range(last_whole))
    assert dataset.unreadable_lines == 1 and dataset.missing_images == []
    assert "1 line(s) of its index (scopeflow_metadata.jsonl) cut off" in dataset.warning


def test_a_plane_cut_short_by_a_power_cut_is_left_out_and_said(killed_dataset, tmp_path):
    """Chunk files are renamed into place when written and synced once at the end
    (``WRITEBACK``): after a power cut, one renamed before its pixels reached the disk
    can be shorter than a plane. It reads as missing, never as zeros."""
    folder = tmp_path / killed_dataset.name
    shutil.copytree(killed_dataset, folder)
    last = STALL_FROM - 1  # an image whose plane is on disk
    chunk = folder / "0" / "0" / "c" / str(last) / "0" / "0" / "0" / "0"
    chunk.write_bytes(chunk.read_bytes()[:100])
    dataset = open_dataset(folder)
    _check_reads_back(dataset, range(last))
    assert {"time": last} in dataset.missing_images
    assert not dataset.has_image(time=last)
    assert "never reached the disk" in dataset.warning


def test_planes_beyond_the_extent_last_written_are_left_out(killed_dataset, tmp_path):
    """The array's metadata grows with its planes; after a power cut it can say fewer
    planes than there are chunk files. Those beyond it cannot be read, and are left
    out, not listed and then failing."""
    folder = tmp_path / killed_dataset.name
    shutil.copytree(killed_dataset, folder)
    metadata_file = folder / "0" / "0" / "zarr.json"
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    kept = STALL_FROM - 3
    metadata["shape"][0] = kept
    metadata_file.write_text(json.dumps(metadata), encoding="utf-8")
    dataset = open_dataset(folder)
    _check_reads_back(dataset, range(kept))
    assert all({"time": t} in dataset.missing_images for t in range(kept, STALL_FROM))
    assert "never reached the disk" in dataset.warning


def test_the_window_says_so_when_it_opens_a_folder_killed_mid_write(qtbot, window, killed_dataset):
    window.datasets.open_dataset(str(killed_dataset))
    assert window.browser.dataset is not None
    said = window.statusBar().currentMessage()
    assert "did not close it" in said and f"{len(STALLED)} image(s)" in said
    assert window.statusBar().toolTip() == open_dataset(killed_dataset).warning
