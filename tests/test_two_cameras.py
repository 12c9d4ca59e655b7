"""Two cameras behind Micro-Manager's Multi Camera device (a second demo camera in
another demo mode, so its images differ): each camera's images are kept apart under
channel names that name the camera (MMStudio's ``<preset>-<camera>``), in bursts and
in channel plans, and every reader of images sees the same axes."""

from __future__ import annotations

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events
from app.microscope import load_microscope, release_microscope
from app.microscope.simulated import (
    SECOND_CAMERA,
    SimulatedCameraSettings,
    add_second_simulated_camera,
)

FIRST = "Camera"


@pytest.fixture(scope="module")
def two_cameras():
    core = load_microscope(camera=SimulatedCameraSettings(width=64, height=48, exposure_ms=1))
    add_second_simulated_camera(core, mode="Noise")
    yield core
    release_microscope(core)


def _by_camera(dataset) -> dict[str, list[dict]]:
    images: dict[str, list[dict]] = {}
    for axes in dataset.get_image_coordinates_list():
        camera = dataset.read_metadata(**axes)["Camera"]
        images.setdefault(camera, []).append(dict(axes))
    return images


def test_a_burst_keeps_each_cameras_images_under_its_name(two_cameras, tmp_path):
    with Acquisition(str(tmp_path), "burst", core=two_cameras) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    counts = acq.status.counts
    assert counts["acquired"] == counts["saved"] == 6 and counts["duplicates"] == 0
    dataset = acq.get_dataset()
    assert sorted(dataset.axes["channel"]) == [FIRST, SECOND_CAMERA]
    for camera, images in _by_camera(dataset).items():
        assert sorted(a["time"] for a in images) == [0, 1, 2]
        assert {a["channel"] for a in images} == {camera}  # no channel: the camera's name
    first = dataset.read_image(time=1, channel=FIRST)
    second = dataset.read_image(time=1, channel=SECOND_CAMERA)
    assert not np.array_equal(first, second)  # beads and noise: two cameras' images
    metadata = dataset.read_metadata(time=1, channel=SECOND_CAMERA)
    assert metadata["CameraChannelIndex"] == 1 and metadata["Channel"] == SECOND_CAMERA


def test_a_channel_plan_names_each_preset_and_camera(two_cameras, tmp_path):
    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
    )
    with Acquisition(str(tmp_path), "channels", core=two_cameras) as acq:
        acq.acquire(events)
    dataset = acq.get_dataset()
    assert sorted(dataset.axes["channel"]) == [
        "DAPI-Camera",
        "DAPI-Camera2",
        "FITC-Camera",
        "FITC-Camera2",
    ]
    assert acq.status.counts["saved"] == 8 and acq.status.counts["duplicates"] == 0
    for channel in dataset.axes["channel"]:
        camera = dataset.read_metadata(time=0, channel=channel)["Camera"]
        assert channel.endswith(f"-{camera}")


def test_processors_callbacks_and_futures_see_each_images_axes(two_cameras, tmp_path):
    processed, saved, hooked = [], [], []

    def processor(image, metadata):
        processed.append((dict(metadata["Axes"]), metadata["Camera"]))
        return image, metadata

    def image_saved(axes, dataset):
        saved.append(dict(axes))

    def hook(event):  # a list for a burst, as pycro-manager gives
        hooked.extend(dict(e["axes"]) for e in (event if isinstance(event, list) else [event]))
        return event

    acq = Acquisition(
        str(tmp_path),
        "readers",
        core=two_cameras,
        image_process_fn=processor,
        image_saved_fn=image_saved,
        pre_hardware_hook_fn=hook,
    )
    future = acq.acquire(
        multi_d_acquisition_events(num_time_points=2, channel_group="Channel", channels=["DAPI"])
    )
    image = future.await_image_saved({"time": 1, "channel": "DAPI-Camera2"}, timeout=30)
    acq.mark_finished()
    acq.await_completion(timeout=30)
    dataset = acq.get_dataset()
    assert np.array_equal(image, dataset.read_image(time=1, channel="DAPI-Camera2"))
    # the event's own axes: one image per camera, said with their axes
    with pytest.raises(ValueError, match="one image per camera"):
        future.await_image_saved({"time": 1, "channel": "DAPI"}, timeout=30)
    expected = [{"time": t, "channel": f"DAPI-{c}"} for t in (0, 1) for c in (FIRST, SECOND_CAMERA)]
    assert sorted(axes["channel"] + str(axes["time"]) for axes, _ in processed) == sorted(
        e["channel"] + str(e["time"]) for e in expected
    )
    assert all(axes["channel"].endswith(camera) for axes, camera in processed)
    assert sorted(map(str, saved)) == sorted(map(str, expected))
    assert {a["channel"] for a in hooked} == {"DAPI"}  # hooks see events, as pycro-manager's


def test_cameras_that_differ_are_said_before_any_file_is_made(two_cameras, tmp_path):
    from app import CamerasDifferError

    two_cameras.setProperty(SECOND_CAMERA, "OnCameraCCDXSize", 32)
    try:
        with pytest.raises(CamerasDifferError) as refused:
            Acquisition(str(tmp_path), "differ", core=two_cameras)
        message = str(refused.value)
        assert "Camera 64x48 16-bit pixels" in message and "Camera2 32x48" in message
        assert "set their ROI, binning and pixel type alike" in message
        assert list(tmp_path.iterdir()) == []  # nothing written
        assert two_cameras.getCameraDevice() == "Multi Camera"  # as it was
    finally:
        two_cameras.setProperty(SECOND_CAMERA, "OnCameraCCDXSize", 64)
    with Acquisition(str(tmp_path), "alike", core=two_cameras) as acq:  # alike again: runs
        acq.acquire(multi_d_acquisition_events(num_time_points=1))
    assert acq.status.counts["saved"] == 2


def test_the_panels_estimate_counts_every_cameras_images(qtbot, two_cameras, tmp_path):
    from app.ui.acquiring.acquisition_panel import AcquisitionPanel

    panel = AcquisitionPanel(two_cameras, tmp_path)
    qtbot.addWidget(panel)
    panel.free_space = lambda folder: 10**12
    panel.time_box.setChecked(True)
    panel.time_points.setValue(10)
    assert panel.show_estimate()
    frame_kb = 64 * 48 * 2 / 1000
    assert panel.estimate_label.text().startswith(f"20 images, {20 * frame_kb:.1f} KB")


@pytest.fixture
def two_camera_window(qtbot, two_cameras, core, tmp_path):
    """A window on the two cameras; afterwards scripts' default microscope is the
    session's again (a window makes its microscope theirs, and this one is released)."""
    from app.microscope import set_current_core
    from tests.windows import new_window

    window = new_window(qtbot, two_cameras, tmp_path / "settings.json", tmp_path, show=True)
    yield window
    window.close()
    set_current_core(core)


def _composite_of_both(window) -> bool:
    drawn = window.viewer.item.screen_rgb()
    channels = window.viewer.channels
    return (
        drawn is not None
        and window.viewer.item.showing_composite
        and set(channels.names) == {FIRST, SECOND_CAMERA}
        and channels.composite_active
    )


def test_snap_shows_every_camera_as_a_composite(qtbot, two_camera_window):
    window = two_camera_window
    window.camera.snap()
    qtbot.waitUntil(lambda: _composite_of_both(window), timeout=5000)
    channels = window.viewer.channels
    # each camera its own colour in the composite
    assert channels.look(FIRST).colour != channels.look(SECOND_CAMERA).colour
    # the noise camera's image is in the composite (the beads' alone are mostly dark)
    assert window.viewer.item.screen_rgb().mean() > 20


def test_live_shows_every_camera_as_a_composite(qtbot, two_camera_window):
    window = two_camera_window
    window.camera.set_live(True)
    try:
        qtbot.waitUntil(lambda: _composite_of_both(window), timeout=10000)
        shown = window.display.displayed
        qtbot.waitUntil(lambda: window.display.displayed > shown + 3, timeout=10000)
        assert _composite_of_both(window)  # stays a composite while frames come
    finally:
        window.camera.set_live(False)


def test_the_window_says_cameras_that_differ_and_starts_nothing(
    qtbot, two_camera_window, two_cameras, tmp_path
):
    window = two_camera_window
    panel = window.acquisition_panel
    panel.directory.setText(str(tmp_path / "data"))
    panel.time_box.setChecked(True)
    panel.time_points.setValue(2)
    shown = []
    window.show_error_message = shown.append
    two_cameras.setProperty(SECOND_CAMERA, "PixelType", "8bit")
    try:
        window.acquisitions.start_acquisition()
    finally:
        two_cameras.setProperty(SECOND_CAMERA, "PixelType", "16bit")
    assert len(shown) == 1 and "Camera2 64x48 8-bit pixels" in shown[0]
    assert not window.controller.running and panel.start_button.isEnabled()
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_an_acquisition_from_the_window_browses_both_cameras(qtbot, two_camera_window, tmp_path):
    window = two_camera_window
    panel = window.acquisition_panel
    panel.directory.setText(str(tmp_path / "data"))
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0.1)
    window.acquisitions.start_acquisition()
    qtbot.waitUntil(lambda: not window.controller.running, timeout=30000)
    dataset = window.controller.acquisition.get_dataset()
    assert sorted(dataset.axes["channel"]) == [FIRST, SECOND_CAMERA]
    qtbot.waitUntil(lambda: _composite_of_both(window), timeout=5000)
    assert set(window.sliders.current_axes()) == {"time", "channel"}
