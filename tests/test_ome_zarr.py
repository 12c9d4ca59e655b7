"""OME-Zarr as a second format: written as frames come, read back as NDTiff is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tensorstore
import yaozarrs  # the OME-NGFF validator (ome-writers uses it)
from PyQt6.QtCore import Qt

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.storage.ome_zarr_sink import METADATA_FILE, OMEZarrDataset


def _stamp(image, metadata):
    axes = metadata["Axes"]
    image[0, 0] = 100 * axes.get("time", 0) + 10 * axes.get("z", 0)
    return image, metadata


def test_an_acquisition_saved_as_ome_zarr_reads_back_like_ndtiff(core, tmp_path):
    saved = []
    with Acquisition(
        tmp_path,
        "zarr",
        storage="ome-zarr",
        core=core,
        show_display=False,
        image_process_fn=_stamp,
        image_saved_fn=lambda axes, dataset: saved.append(
            int(dataset.read_image(**axes)[0, 0])  # readable when the callback runs
        ),
    ) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2,
                z_start=0,
                z_end=2,
                z_step=1,
                channel_group="Channel",
                channels=["DAPI", "FITC"],
            )
        )
    assert len(saved) == 12 and saved[:3] == [0, 10, 20]
    path = Path(acq.dataset_path)
    assert path.name == "zarr_1"
    # the OME-NGFF metadata a reader (napari, ome-zarr-py) looks for
    image = json.loads((path / "0" / "zarr.json").read_text())["attributes"]["ome"]
    assert image["version"] == "0.5"
    assert [a["name"] for a in image["multiscales"][0]["axes"]] == ["t", "c", "z", "y", "x"]
    assert [c["label"] for c in image["omero"]["channels"]] == ["DAPI", "FITC"]
    scale = image["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale[2] == pytest.approx(1.0) and scale[3] == pytest.approx(core.getPixelSizeUm())
    # the pixels, read by tensorstore itself (not through Scopeflow)
    array = tensorstore.open(
        {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path / "0" / "0")}}
    ).result()
    assert array.shape == (2, 2, 3, 96, 128)
    assert array[1, 1, 2, 0, 0].read().result() == 120
    # and through the same reading API as NDTiff, after the acquisition too
    dataset = open_dataset(path)
    assert isinstance(dataset, OMEZarrDataset)
    assert dataset.get_channel_names() == ["DAPI", "FITC"]
    assert dataset.axes["z"] == {0, 1, 2}
    assert dataset.read_image(time=1, channel="DAPI", z=1)[0, 0] == 110
    assert dataset.read_metadata(time=1, channel="FITC", z=2)["Channel"] == "FITC"
    assert len(dataset.get_image_coordinates_list()) == 12


def test_events_that_come_later_grow_the_arrays_and_positions_are_images(core, tmp_path):
    with Acquisition(tmp_path, "grow", storage="ome-zarr", core=core, show_display=False) as acq:
        acq.acquire({"axes": {"time": 0, "position": "A"}})
        acq.acquire({"axes": {"time": 3, "position": "A"}})  # feedback: a later point
        acq.acquire({"axes": {"time": 0, "position": "B"}})
    dataset = open_dataset(acq.dataset_path)
    assert dataset.axes["position"] == {"A", "B"}
    assert dataset.has_image(time=3, position="A") and not dataset.has_image(time=1, position="A")
    folder = Path(acq.dataset_path)
    assert (folder / "1" / "0" / "zarr.json").is_file()  # B: an image of its own
    shape = json.loads((folder / "0" / "0" / "zarr.json").read_text())["shape"]
    assert shape[0] == 4


def test_axes_ome_zarr_has_no_dimension_for_are_refused_clearly(core, tmp_path):
    acq = Acquisition(tmp_path, "rows", storage="ome-zarr", core=core, show_display=False)
    acq.acquire({"axes": {"time": 0}})
    acq.acquire({"axes": {"row": 0, "column": 1}})
    acq.mark_finished()
    with pytest.raises(Exception, match="OME-Zarr has dimensions for time, channel, z"):
        acq.await_completion()
    # what was saved before stays readable
    assert open_dataset(acq.dataset_path).has_image(time=0)
    assert (Path(acq.dataset_path) / METADATA_FILE).is_file()


def test_the_same_frames_as_ndtiff(core, tmp_path):
    events = multi_d_acquisition_events(num_time_points=3)
    kept = {}

    def keep(image, metadata):
        kept[metadata["Axes"]["time"]] = image.copy()
        return image, metadata

    with Acquisition(
        tmp_path, "same", storage="ome-zarr", core=core, show_display=False, image_process_fn=keep
    ) as acq:
        acq.acquire(events)
    dataset = acq.get_dataset()
    for t, image in kept.items():
        np.testing.assert_array_equal(dataset.read_image(time=t), image)


def test_the_window_saves_ome_zarr_and_browses_it(qtbot, window):
    panel = window.acquisition_panel
    panel.format.setCurrentIndex(panel.format.findData("ome-zarr"))
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0.2)
    panel.name.setText("zarr_from_panel")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: not window.controller.running and panel.start_button.isEnabled(), timeout=30000
    )
    acq = window.controller.acquisition
    assert (Path(acq.dataset_path) / "zarr.json").is_file()
    assert "3 images saved" in panel.progress_label.text()
    last = dict(acq.get_dataset().get_image_coordinates_list()[-1])  # the sliders reach it
    qtbot.waitUntil(lambda: window.sliders.current_axes() == last, timeout=5000)
    window.sliders.slider("time").setValue(1)
    np.testing.assert_array_equal(window.viewer.image, acq.get_dataset().read_image(time=1))


def test_the_dataset_is_valid_ome_zarr_with_one_image_per_position(core, tmp_path):
    with Acquisition(tmp_path, "valid", storage="ome-zarr", core=core, show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2,
                channel_group="Channel",
                channels=["DAPI", "FITC"],
                xy_positions=[[0, 0], [10, 10]],
            )
        )
    root = Path(acq.dataset_path)
    yaozarrs.validate_zarr_store(str(root))  # raises on anything the spec does not allow
    for position in ("0", "1"):
        yaozarrs.validate_zarr_store(str(root / position))
    image = json.loads((root / "0" / "zarr.json").read_text())["attributes"]["ome"]
    colours = {c["label"]: c["color"] for c in image["omero"]["channels"]}
    assert colours == {"DAPI": "4696FF", "FITC": "00FF00"}


def test_ome_zarr_py_reads_each_position_with_its_channels(core, tmp_path):
    """What napari's OME-Zarr plugin (napari-ome-zarr) reads with: ome-zarr-py."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    with Acquisition(tmp_path, "read", storage="ome-zarr", core=core, show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2,
                channel_group="Channel",
                channels=["DAPI", "FITC"],
                xy_positions=[[0, 0], [10, 10]],
            )
        )
    for position in ("0", "1"):
        (node,) = list(Reader(parse_url(str(Path(acq.dataset_path) / position)))())
        assert node.metadata["channel_names"] == ["DAPI", "FITC"]
        assert [a["name"] for a in node.metadata["axes"]] == ["t", "c", "z", "y", "x"]
        (level,) = node.data
        assert level.shape == (2, 2, 1, 96, 128)
        expected = acq.get_dataset().read_image(time=1, channel="FITC", position=int(position))
        np.testing.assert_array_equal(np.asarray(level[1, 1, 0]), expected)


def test_a_refused_image_leaves_nothing_behind(tmp_path):
    from app.storage.ome_zarr_sink import OMEZarrSink

    sink = OMEZarrSink(tmp_path, "refused", {})
    sink.put({"time": 0}, np.full((4, 4), 1, np.uint16), {"n": 0})
    with pytest.raises(ValueError, match="holds"):
        sink.put({"time": 1}, np.zeros((8, 8), np.uint16), {"n": 1})  # another size
    sink.put({"time": 2}, np.full((4, 4), 2, np.uint16), {"n": 2})
    dataset = sink.dataset
    assert not dataset.has_image(time=1)
    assert dataset.read_metadata(time=2)["n"] == 2 and dataset.read_image(time=2)[0, 0] == 2
    sink.finish()
    reopened = open_dataset(sink.path)
    assert sorted(c["time"] for c in reopened.get_image_coordinates_list()) == [0, 2]
    # a put failed: a reader looks for each plane the index lists (not trusted whole)
    assert _root_attributes(sink.path)["scopeflow"]["whole"] is False


def _root_attributes(path: Path) -> dict:
    return json.loads((path / "zarr.json").read_text(encoding="utf-8"))["attributes"]


def test_a_dataset_closed_with_every_write_done_says_it_is_whole(tmp_path):
    """Opening it then trusts its index: looking for each of 20,000 planes' files took
    1.2 s of opening (``scopeflow bench open``)."""
    from app.storage.ome_zarr_sink import OMEZarrSink

    sink = OMEZarrSink(tmp_path, "whole", {})
    for t in range(3):
        sink.put({"time": t}, np.full((4, 4), t, np.uint16), {})
    assert _root_attributes(sink.path)["scopeflow"]["whole"] is False  # not yet closed
    sink.finish()
    assert _root_attributes(sink.path)["scopeflow"] == {
        **_root_attributes(sink.path)["scopeflow"],
        "finished": True,
        "whole": True,
    }
    reopened = open_dataset(sink.path)
    assert reopened.warning is None and reopened.missing_images == []
    assert [int(reopened.read_image(time=t)[0, 0]) for t in range(3)] == [0, 1, 2]


def _planes(count: int) -> list[dict]:
    """``count`` planes' axes over two positions, two channels and time."""
    every = [
        {"time": t, "position": position, "channel": channel}
        for t in range(count)
        for position in ("A", "B")
        for channel in ("DAPI", "FITC")
    ]
    return every[:count]


def _chunk_files(path: Path) -> set[Path]:
    return {f for f in path.glob("*/0/c/**/*") if f.is_file()}


needs_writeback = pytest.mark.skipif(
    not hasattr(os, "posix_fadvise"), reason="Linux's page cache advice"
)


@needs_writeback
def test_each_plane_is_handed_to_the_disk_when_written_and_synced_at_the_end(tmp_path, monkeypatch):
    """Chunks are not synced as tensorstore writes them (a flush of the disk for each,
    half the rate at 2048 x 2048): each is handed to the disk once written, and
    forgotten ``PENDING_WRITES`` planes later, so the page cache holds a few planes;
    ``finish`` syncs each before the root says the dataset is whole."""
    from app.storage import ome_zarr_sink
    from app.storage.ome_zarr_sink import PENDING_WRITES, OMEZarrSink

    advised, synced = [], []
    real_sync = ome_zarr_sink._sync

    def sync(path):
        assert _root_attributes(sink.path)["scopeflow"]["whole"] is False
        synced.append(path)
        real_sync(path)

    monkeypatch.setattr(ome_zarr_sink, "_advise_written", advised.append)
    monkeypatch.setattr(ome_zarr_sink, "_sync", sync)
    sink = OMEZarrSink(tmp_path, "handed", {})
    planes = _planes(3 * PENDING_WRITES)
    for number, axes in enumerate(planes):
        sink.put(axes, np.full((64, 64), number, np.uint16), {})
    assert synced == []  # none waited for while frames come
    sink.finish()
    on_disk = _chunk_files(sink.path)
    assert len(on_disk) == len(planes)
    # every plane's own file (positions and channels too): synced once, handed to the
    # disk when written and again (forgotten) when PENDING_WRITES more were written
    assert sorted(synced) == sorted(on_disk) and set(advised) == on_disk
    assert len(advised) == 2 * len(planes) - PENDING_WRITES
    assert _root_attributes(sink.path)["scopeflow"]["whole"] is True
    reopened = open_dataset(sink.path)
    read = [int(reopened.read_image(**axes)[0, 0]) for axes in planes]
    assert read == list(range(len(planes)))


@needs_writeback
def test_a_plane_the_disk_refuses_when_synced_leaves_the_dataset_and_is_said(tmp_path, monkeypatch):
    """A write the disk refuses can show only when the plane is synced (a network share,
    a quota): that image, reported saved, leaves the dataset and ``finish`` says so,
    as for a write refused at once; the others are kept."""
    import errno

    from app.storage import ome_zarr_sink
    from app.storage.ome_zarr_sink import OMEZarrSink

    real_sync = ome_zarr_sink._sync

    def refusing(path):
        if path == sink.dataset.chunk_path({"time": 2}):
            raise OSError(errno.EIO, "Input/output error")
        real_sync(path)

    monkeypatch.setattr(ome_zarr_sink, "_sync", refusing)
    sink = OMEZarrSink(tmp_path, "refused", {})
    for t in range(20):
        sink.put({"time": t}, np.full((8, 8), t, np.uint16), {})
    with pytest.raises(OSError, match=r"Input/output error.*had been reported saved") as raised:
        sink.finish()
    assert raised.value.reported_saved == [{"time": 2}] and raised.value.kept == 19
    assert not sink.dataset.chunk_path({"time": 2}).exists()  # its pixels: not trusted
    assert not sink.dataset.has_image(time=2) and sink.images_written == 19
    reopened = open_dataset(sink.path)
    coordinates = reopened.get_image_coordinates_list()
    assert {"time": 2} not in coordinates and len(coordinates) == 19
    assert int(reopened.read_image(time=1)[0, 0]) == 1


def test_an_image_whose_write_fails_while_it_is_read_is_never_read_as_zeros(tmp_path, monkeypatch):
    """A reader (the viewer, a script) checks that an image is there, then reads its
    plane; if its write fails meanwhile (a refused sync, found by the saving thread),
    the plane reads as the array's zeros: the read then says the image is gone."""
    from app.storage.ome_zarr_sink import OMEZarrSink

    sink = OMEZarrSink(tmp_path, "raced", {})
    for t in range(4):
        sink.put({"time": t}, np.full((4, 4), t + 1, np.uint16), {})
    sink.finish()
    dataset = sink.dataset
    real = dataset.plane_of

    def failing_meanwhile(axes):
        dataset.forget(axes)  # as the saving thread does when the plane's write fails
        return real(axes)

    monkeypatch.setattr(dataset, "plane_of", failing_meanwhile)
    with pytest.raises(KeyError, match="its write failed"):
        dataset.read_image(time=3)
    monkeypatch.undo()
    assert int(dataset.read_image(time=2)[0, 0]) == 3


def test_reading_while_it_is_written_sees_only_whole_images(tmp_path):
    import threading

    from app.storage.ome_zarr_sink import OMEZarrSink

    sink = OMEZarrSink(tmp_path, "busy", {})
    dataset, problems, done = sink.dataset, [], threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                for axes in dataset.get_image_coordinates_list():
                    image = dataset.read_image(**axes)
                    if (
                        image[0, 0] != axes["time"] + 1
                        or dataset.read_metadata(**axes)["t"] != axes["time"]
                    ):
                        problems.append(axes)
                dataset.axes  # noqa: B018 - read while records are added
            except Exception as exc:
                problems.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for t in range(300):
        sink.put({"time": t, "channel": f"c{t % 3}"}, np.full((8, 8), t + 1, np.uint16), {"t": t})
    done.set()
    for reader in readers:
        reader.join()
    sink.finish()
    assert problems == []
