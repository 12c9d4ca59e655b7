"""OME-TIFF for Fiji: File > Export dataset / current view as OME-TIFF, and File > Open of
what Scopeflow writes (TIFF and OME-TIFF files) in the same viewer and sliders."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import tifffile

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.storage.ome_tiff_export import (
    ExportCancelled,
    ExportError,
    check_export_path,
    export_dataset,
    export_image,
    ome_tiff_path,
)
from app.storage.ram_dataset import RAMDataset
from app.storage.tiff_dataset import TiffDataset


def _finished(window) -> bool:
    return not window.controller.running and window.acquisition_panel.start_button.isEnabled()


def _menu(window, title: str) -> dict:
    (bar_action,) = [a for a in window.menuBar().actions() if a.text() == title]
    return {action.text(): action for action in bar_action.menu().actions()}


def _acquire_from_the_panel(qtbot, window, save: bool = True):
    """2 time points x DAPI, FITC x 3 z, as a user sets it up in the Acquisition panel."""
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(2)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 2)
    panel.set_channel("FITC", True, 5)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-1)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    panel.save_box.setChecked(save)
    panel.name.setText("for_fiji")
    panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    return window.controller.acquisition


def _ome(path: Path) -> dict:
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        return tifffile.xml2dict(tif.ome_metadata)["OME"]


def test_an_acquisition_made_in_the_window_exports_for_fiji(qtbot, window, core, tmp_path):
    acq = _acquire_from_the_panel(qtbot, window)
    dataset = open_dataset(acq.dataset_path)
    assert "&Export dataset as OME-TIFF…" in _menu(window, "&File")
    result = window.tiff_files.export_dataset(str(tmp_path / "for_fiji"))
    assert result is not None and not result.missing
    assert result.path == tmp_path / "for_fiji.ome.tif"
    assert "Exported 12 planes" in window.statusBar().currentMessage()
    with tifffile.TiffFile(result.path) as tif:
        (series,) = tif.series
        assert series.axes == "TCZYX"
        assert series.shape == (2, 2, 3, 96, 128)
        assert series.dtype == np.uint16
        pixels = series.asarray()
    for t in range(2):
        for c, channel in enumerate(["DAPI", "FITC"]):
            for z in range(3):
                expected = dataset.read_image(time=t, channel=channel, z=z)
                assert np.array_equal(pixels[t, c, z], expected), (t, channel, z)
    image = _ome(result.path)["Image"]
    pixel_info = image["Pixels"]
    assert pixel_info["DimensionOrder"] == "XYZCT"  # TCZYX: time outermost, Z innermost
    assert pixel_info["PhysicalSizeX"] == pytest.approx(core.getPixelSizeUm())
    assert pixel_info["PhysicalSizeY"] == pytest.approx(core.getPixelSizeUm())
    assert pixel_info["PhysicalSizeXUnit"] == "µm"
    assert pixel_info["PhysicalSizeZ"] == pytest.approx(1.0)
    assert [c["Name"] for c in pixel_info["Channel"]] == ["DAPI", "FITC"]
    planes = pixel_info["Plane"]
    assert len(planes) == 12
    fitc = [p for p in planes if p["TheC"] == 1 and p["TheT"] == 0]
    assert {p["ExposureTime"] for p in fitc} == {5.0}
    assert [p["PositionZ"] for p in sorted(fitc, key=lambda p: p["TheZ"])] == pytest.approx(
        [-1.0, 0.0, 1.0]
    )


def test_the_export_opens_in_the_window_with_its_sliders(qtbot, window, tmp_path, monkeypatch):
    acq = _acquire_from_the_panel(qtbot, window)
    dataset = open_dataset(acq.dataset_path)
    exported = window.tiff_files.export_dataset(str(tmp_path / "again.ome.tif")).path
    # File > Open TIFF or OME-TIFF file…, the dialog answered with the file
    from app.ui.common import file_dialogs

    monkeypatch.setattr(
        file_dialogs.QFileDialog, "getOpenFileName", lambda *a, **k: (str(exported), "")
    )
    _menu(window, "&File")["Open TIFF or OME-TIFF &file…"].trigger()
    opened = window.browser.dataset
    assert isinstance(opened, TiffDataset)
    assert window.viewer.title.text() == str(exported)
    assert opened.get_channel_names() == ["DAPI", "FITC"]
    assert opened.axes == {"time": [0, 1], "channel": ["DAPI", "FITC"], "z": [0, 1, 2]}
    window.sliders.slider("time").setValue(1)
    window.sliders.slider("channel").setValue(1)
    window.sliders.slider("z").setValue(2)
    assert window.sliders.current_axes() == {"time": 1, "channel": "FITC", "z": 2}
    assert np.array_equal(window.viewer.image, dataset.read_image(time=1, channel="FITC", z=2))
    # the physical values beside the sliders come from the OME planes
    metadata = opened.read_metadata(time=1, channel="FITC", z=2)
    assert metadata["ZPosition_um_Intended"] == pytest.approx(1.0)
    assert metadata["Exposure"] == 5.0
    assert window.browser.physical_value("z", 2, window.sliders.current_axes()) == "1.00 µm"


def test_an_acquisition_kept_in_memory_exports_too(qtbot, window, tmp_path):
    acq = _acquire_from_the_panel(qtbot, window, save=False)
    ram = acq.get_dataset()
    assert isinstance(ram, RAMDataset) and window.browser.dataset is ram
    result = window.tiff_files.export_dataset(str(tmp_path / "memory"))
    with tifffile.TiffFile(result.path) as tif:
        pixels = tif.series[0].asarray()
    assert pixels.shape == (2, 2, 3, 96, 128)
    assert np.array_equal(pixels[1, 0, 2], ram.read_image(time=1, channel="DAPI", z=2))


def test_an_aborted_acquisition_exports_zeros_where_images_are_missing(window, core, tmp_path):
    def stop_at_fitc_z1(event):
        if event["axes"] == {"time": 0, "channel": "FITC", "z": 1}:
            holder["acq"].abort()
            return None  # this event, and every one after it, is never acquired
        return event

    holder: dict = {}
    events = multi_d_acquisition_events(
        num_time_points=2, z_start=0, z_end=2, z_step=1, channel_group="Channel",
        channels=["DAPI", "FITC"],
    )  # fmt: skip
    acq = Acquisition(
        tmp_path, "aborted", pre_hardware_hook_fn=stop_at_fitc_z1, hardware_sequencing=False
    )
    holder["acq"] = acq
    acq.acquire(events)
    acq.mark_finished()
    acq.await_completion(timeout=30)
    assert acq.status.state.value == "aborted"
    window.datasets.open_dataset(acq.dataset_path)
    dataset = window.browser.dataset
    assert not dataset.has_image(time=0, channel="FITC", z=1)
    result = window.tiff_files.export_dataset(str(tmp_path / "aborted"))
    assert result.missing == [
        {"time": 0, "channel": "FITC", "z": 1},
        {"time": 0, "channel": "FITC", "z": 2},
    ]
    message = window.statusBar().currentMessage()
    assert "2 image(s) were missing" in message and "written as zeros" in message
    with tifffile.TiffFile(result.path) as tif:
        assert tif.series[0].get_shape(False)[:5] == (1, 2, 3, 96, 128)
        pixels = tif.series[0].asarray().reshape(1, 2, 3, 96, 128)
    assert not pixels[0, 1, 1].any() and not pixels[0, 1, 2].any()
    assert np.array_equal(pixels[0, 1, 0], dataset.read_image(time=0, channel="FITC", z=0))
    assert pixels[0, 0].any()
    pixel_info = _ome(result.path)["Image"]["Pixels"]
    missing_planes = [p for p in pixel_info["Plane"] if p["TheC"] == 1 and p["TheZ"] > 0]
    assert all("DeltaT" not in p for p in missing_planes)  # nothing is made up for them


def test_bad_names_and_places_get_a_clear_error_and_write_nothing(qtbot, window, tmp_path):
    acq = _acquire_from_the_panel(qtbot, window)
    window.datasets.open_dataset(acq.dataset_path)
    taken = tmp_path / "taken.ome.tif"
    taken.write_bytes(b"keep me")
    for path, expected in (
        (tmp_path / "CON.ome.tif", "reserved by Windows"),
        (tmp_path / "a:b", "does not allow"),
        (tmp_path / "taken", "already exists"),
        (tmp_path / "no_such_folder" / "x", "does not exist"),
        (Path(acq.dataset_path) / "inside", "inside the dataset folder"),
        (tmp_path / ("n" * 130), "characters long"),
    ):
        assert window.tiff_files.export_dataset(str(path)) is None
        message = window.statusBar().currentMessage()
        assert message.startswith("Could not export") and expected in message, (path, message)
    assert taken.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["taken.ome.tif"]
    assert window.tiff_files.export_dataset(str(taken), overwrite=True) is not None
    assert tifffile.TiffFile(taken).is_ome


def test_nothing_to_export_and_a_running_acquisition_are_said(qtbot, window, tmp_path):
    assert window.tiff_files.export_dataset(str(tmp_path / "x")) is None
    assert "No dataset is shown" in window.statusBar().currentMessage()
    assert window.tiff_files.export_view(str(tmp_path / "x")) is None
    assert "no image to export" in window.statusBar().currentMessage()
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(1000)
    panel.interval.setValue(0.05)
    panel.save_box.setChecked(False)
    panel.start_button.click()
    assert window.tiff_files.export_dataset(str(tmp_path / "x")) is None
    assert "still running" in window.statusBar().currentMessage()
    panel.abort_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    assert not list(tmp_path.glob("*.tif"))


def test_the_view_exports_with_its_pixel_size_and_channel(qtbot, window, core, tmp_path):
    window.microscope_panel.snap_button.click()
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    written = window.tiff_files.export_view(str(tmp_path / "snap.tif"))
    assert written == tmp_path / "snap.ome.tif"
    assert np.array_equal(tifffile.imread(written), window.viewer.image)
    pixels = _ome(written)["Image"]["Pixels"]
    assert pixels["PhysicalSizeX"] == pytest.approx(core.getPixelSizeUm())
    assert pixels["Channel"]["Name"] == "DAPI"
    assert pixels["Type"] == "uint16"


def test_the_view_of_a_dataset_takes_the_dataset_s_metadata(qtbot, window, core, tmp_path):
    acq = _acquire_from_the_panel(qtbot, window)
    window.datasets.open_dataset(acq.dataset_path)
    window.sliders.slider("channel").setValue(1)
    written = window.tiff_files.export_view(str(tmp_path / "view"))
    assert np.array_equal(tifffile.imread(written), window.viewer.image)
    assert _ome(written)["Image"]["Pixels"]["Channel"]["Name"] == "FITC"


def test_a_saved_tiff_opens_in_the_viewer_with_its_metadata(qtbot, window, core, tmp_path):
    window.microscope_panel.snap_button.click()
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    snapped = window.viewer.image.copy()
    written = window.datasets.save_image(str(tmp_path / "snap"))
    window.browser.browse(None, follow=True)
    window.viewer.set_image(np.zeros_like(snapped))
    window.datasets.open_dataset(written)
    assert np.array_equal(window.viewer.image, snapped)
    dataset = window.browser.dataset
    (axes,) = dataset.get_image_coordinates_list()
    metadata = dataset.read_metadata(**axes)
    assert metadata["Exposure-ms"] == core.getExposure() and metadata["Channel"] == "DAPI"
    assert metadata["PixelSize_um"] == pytest.approx(core.getPixelSizeUm())


# ------------------------------------------------------------------ the writer alone


def _ram_dataset(positions: int = 2) -> RAMDataset:
    ram = RAMDataset("stamps")
    for p in range(positions):
        for t in range(2):
            for c in ("DAPI", "Cy5"):
                for z in range(3):
                    value = 1000 * p + 100 * t + 10 * (c == "Cy5") + z
                    metadata = {
                        "PixelSize_um": 0.325,
                        "PositionName": f"Pos{p}",
                        "ZPosition_um_Intended": 5.0 + 0.5 * z,
                        "ElapsedTime-ms": 2000.0 * t,
                    }
                    axes = {"position": p, "time": t, "channel": c, "z": z}
                    ram.add_image(axes, np.full((8, 10), value, np.uint16), metadata)
    return ram


def test_positions_become_series_of_one_file_named_after_them(tmp_path):
    result = export_dataset(_ram_dataset(), tmp_path / "positions.ome.tif")
    assert result.series == 2 and result.planes == 24
    with tifffile.TiffFile(result.path) as tif:
        assert [s.name for s in tif.series] == ["Pos0", "Pos1"]
        assert tif.series[1].asarray()[1, 1, 2, 0, 0] == 1112
    back = open_dataset(result.path)
    assert back.axes["position"] == [0, 1]
    assert back.read_image(position=1, time=1, channel="Cy5", z=2)[0, 0] == 1112
    metadata = back.read_metadata(position=1, time=1, channel=0, z=1)
    assert metadata["PositionName"] == "Pos1" and metadata["Channel"] == "DAPI"
    assert metadata["ElapsedTime-ms"] == 2000.0
    assert metadata["ZPosition_um_Intended"] == pytest.approx(5.5)
    assert metadata["PixelSize_um"] == pytest.approx(0.325)
    back.close()


class _GeneratedDataset:
    """A large dataset made plane by plane on demand (like one on disk)."""

    def __init__(self, planes: int, size: int) -> None:
        self.planes, self.size = planes, size

    @property
    def axes(self):
        return {"time": list(range(self.planes))}

    def has_image(self, **axes):
        return True

    def read_image(self, time, **axes):
        return np.full((self.size, self.size), time, np.uint16)

    def read_metadata(self, **axes):
        return {"PixelSize_um": 1.0}

    def get_channel_names(self):
        return []

    def get_image_coordinates_list(self):
        return [{"time": t} for t in range(self.planes)]

    def close(self):
        pass


def test_the_export_streams_plane_by_plane(tmp_path):
    dataset = _GeneratedDataset(planes=100, size=512)  # 50 MB of pixels
    progress = []
    tracemalloc.start()
    try:
        result = export_dataset(
            dataset, tmp_path / "big", on_progress=lambda d, t: progress.append((d, t))
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8e6, f"peak {peak / 1e6:.1f} MB: the dataset was held in memory"
    assert progress[-1] == (100, 100) and len(progress) == 100
    with tifffile.TiffFile(result.path) as tif:
        assert tif.series[0].get_shape(False)[:5] == (100, 1, 1, 512, 512)
        assert tif.pages[99].asarray()[0, 0] == 99


def test_cancel_leaves_no_file(tmp_path):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 40  # during the planes

    with pytest.raises(ExportCancelled):
        export_dataset(_ram_dataset(), tmp_path / "cancelled", should_stop=stop)
    assert list(tmp_path.iterdir()) == []


def test_images_of_another_size_are_refused_and_leave_no_file(tmp_path):
    ram = RAMDataset("mixed")
    ram.add_image({"time": 0}, np.zeros((8, 10), np.uint16), {})
    ram.add_image({"time": 1}, np.zeros((4, 4), np.uint16), {})
    with pytest.raises(ExportError, match="one size and type"):
        export_dataset(ram, tmp_path / "mixed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match="no image"):
        export_dataset(RAMDataset("empty"), tmp_path / "empty")


def test_the_file_being_read_cannot_be_the_one_written(tmp_path):
    first = export_dataset(_ram_dataset(1), tmp_path / "source").path
    opened = open_dataset(first)
    with pytest.raises(ExportError, match="the file being exported"):
        export_dataset(opened, first, overwrite=True)
    opened.close()


@pytest.mark.parametrize(
    ("given", "written"),
    [("a", "a.ome.tif"), ("a.tif", "a.ome.tif"), ("a.TIFF", "a.ome.tif"), ("a.ome.tiff", None)],
)
def test_the_file_name_ends_in_ome_tif(tmp_path, given, written):
    assert ome_tiff_path(tmp_path / given) == tmp_path / (written or given)
    assert check_export_path(tmp_path / given).parent == tmp_path


def test_rgb_images_export_and_read_back(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (6, 7, 3), dtype=np.uint8)
    written = export_image(tmp_path / "rgb", rgb, pixel_size_um=2.0, channel="colour")
    back = open_dataset(written)
    (axes,) = back.get_image_coordinates_list()
    assert np.array_equal(back.read_image(**axes), rgb)
    assert back.read_metadata(**axes)["PixelSize_um"] == 2.0
    back.close()


# ------------------------------------------------------------------ opening TIFF files


def test_an_imagej_hyperstack_opens_with_numbered_channels(tmp_path):
    stack = np.arange(2 * 3 * 4 * 5 * 6, dtype=np.uint16).reshape(2, 3, 4, 5, 6)  # TZCYX
    path = tmp_path / "fiji.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "TZCYX", "unit": "um"})
    dataset = open_dataset(path)
    assert dataset.axes == {"time": [0, 1], "z": [0, 1, 2], "channel": [0, 1, 2, 3]}
    assert np.array_equal(dataset.read_image(time=1, z=2, channel=3), stack[1, 2, 3])
    assert not dataset.has_image(time=2, z=0, channel=0)
    with pytest.raises(KeyError, match="No image"):
        dataset.read_image(time=5, z=0, channel=0)
    dataset.close()
    with pytest.raises(ValueError, match="was closed"):
        dataset.read_image(time=0, z=0, channel=0)


def test_a_file_of_an_ndtiff_dataset_opens_the_dataset(core, tmp_path):
    with Acquisition(tmp_path, "whole") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    (stack_file,) = Path(acq.dataset_path).glob("*.tif")
    dataset = open_dataset(stack_file)
    assert sorted(dataset.axes["time"]) == [0, 1]
    assert Path(dataset.path).resolve() == Path(acq.dataset_path).resolve()


def test_what_is_neither_a_dataset_nor_a_tiff_is_said(window, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    window.datasets.open_dataset(text)
    assert "neither an NDTiff dataset folder nor a TIFF file" in (
        window.statusBar().currentMessage()
    )
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"not a tiff at all")
    window.datasets.open_dataset(broken)
    assert "not a readable TIFF file" in window.statusBar().currentMessage()
    window.datasets.open_dataset(tmp_path / "gone.tif")
    assert "does not exist" in window.statusBar().currentMessage()
    assert window.browser.dataset is None  # nothing was opened
