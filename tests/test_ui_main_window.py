"""The main window driven as a user drives it."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPointF, Qt, QTimer
from PyQt6.QtGui import QDropEvent
from PyQt6.QtWidgets import QHeaderView, QLabel

from app import open_dataset, prepare_memory, show_image
from app.processing.registry import ProcessorRegistry
from app.storage.warm_memory import WarmMemory, set_warm_memory
from tests.windows import new_window


def _menu(window, title: str) -> dict:
    (bar_action,) = [a for a in window.menuBar().actions() if a.text() == title]
    return {action.text(): action for action in bar_action.menu().actions()}


def _finished(window) -> bool:
    return not window.controller.running and window.acquisition_panel.start_button.isEnabled()


def test_snap_shows_the_camera_image(qtbot, window):
    qtbot.mouseClick(window.microscope_panel.snap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    assert window.viewer.image.shape == (96, 128)
    low, high = window.viewer.levels  # the contrast the frame was drawn with
    assert high > low


def test_live_streams_frames_and_stops_the_camera(qtbot, window, core):
    window.microscope_panel.live_button.setChecked(True)
    qtbot.waitUntil(lambda: window.display.displayed >= 5, timeout=10000)
    assert core.isSequenceRunning()
    assert not window.microscope_panel.snap_button.isEnabled()
    window.microscope_panel.live_button.setChecked(False)
    assert not core.isSequenceRunning()
    assert window.microscope_panel.snap_button.isEnabled()


def test_microscope_controls_drive_the_core(window, core):
    panel = window.microscope_panel
    panel.channel.setCurrentText("FITC")
    assert core.getCurrentConfig("Channel") == "FITC"
    panel.exposure.setValue(12.5)
    assert core.getExposure() == 12.5
    panel.z_step.setValue(2.5)
    before = core.getPosition()
    panel.move_z(panel.z_step.value())
    assert core.getPosition() == before + 2.5
    x, _ = core.getXYPosition()
    panel.xy_step.setValue(10)
    panel.xy_buttons["→"].click()
    core.waitForSystem()
    assert core.getXYPosition()[0] == pytest.approx(x + 10, abs=0.05)


def test_acquisition_from_the_panel_saves_a_dataset(qtbot, window):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 2)
    panel.set_channel("FITC", True, 5)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-1)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    panel.name.setText("from_panel")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    acq = window.controller.acquisition
    dataset = open_dataset(acq.dataset_path)
    assert {k: sorted(v) for k, v in dataset.axes.items()} == {
        "time": [0, 1, 2],
        "channel": ["DAPI", "FITC"],
        "z": [0, 1, 2],
    }
    assert dataset.read_metadata(time=2, channel="FITC", z=0)["Exposure"] == 5
    assert panel.progress_label.text() == f"Finished: 18 images saved in {acq.dataset_path}"
    # the sliders browse what was acquired, once they reach its last place (following,
    # they move to the frame shown at most every 100 ms); the composite's channel stays
    # the histogram's, whichever the display showed first
    last = dict(dataset.get_image_coordinates_list()[-1])

    def at_last_place() -> bool:
        axes = window.sliders.current_axes()
        current = window.viewer.channels.current
        return current is not None and axes == {**last, "channel": current}

    qtbot.waitUntil(at_last_place, timeout=5000)
    channel = window.viewer.channels.current
    other_z = 0 if last["z"] != 0 else 2
    window.sliders.slider("z").setValue(other_z)
    shown = window.viewer.image
    assert window.sliders.current_axes() == {**last, "channel": channel, "z": other_z}
    assert np.array_equal(shown, dataset.read_image(**window.sliders.current_axes()))


def test_acquisition_kept_in_memory_is_browsed_and_saved_later(qtbot, window, tmp_path):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(-1)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    panel.save_box.setChecked(False)  # keep the images in memory
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    acq = window.controller.acquisition
    assert acq.dataset_path is None and acq.get_viewer() is window.viewer
    ram = acq.get_dataset()
    assert panel.progress_label.text().startswith("Finished: 9 images kept in memory")
    last = dict(ram.get_image_coordinates_list()[-1])  # the sliders move to it in turn
    qtbot.waitUntil(lambda: window.sliders.current_axes() == last, timeout=5000)
    window.sliders.slider("time").setValue(1)
    window.sliders.slider("z").setValue(2)
    assert np.array_equal(window.viewer.image, ram.read_image(time=1, z=2))
    saved_to = window.datasets.save_memory_dataset(str(tmp_path / "later"))
    on_disk = open_dataset(saved_to)
    assert len(on_disk.index) == 9
    assert np.array_equal(on_disk.read_image(time=1, z=2), ram.read_image(time=1, z=2))


def test_a_plan_kept_in_memory_has_its_memory_made_ready_before_start(qtbot, window):
    """The first acquisition kept in memory of a process ran at half speed where fresh
    memory comes slowly: the window touches it while the plan is set (#21)."""
    memory = WarmMemory(block_bytes=1024**2, retained_bytes=0)
    set_warm_memory(memory)
    try:
        panel = window.acquisition_panel
        panel.time_box.setChecked(True)
        panel.time_points.setValue(20)
        qtbot.wait(700)  # saved to disk: nothing is made ready
        assert memory.ready_bytes == 0 and memory.free_bytes == 0

        def ready() -> bool:
            wanted = panel.estimate.bytes
            return panel.estimate.images == 20 and memory.free_bytes >= wanted > 0

        panel.save_box.setChecked(False)
        qtbot.waitUntil(ready, timeout=5000)
        panel.save_box.setChecked(True)  # saved after all: the memory goes back
        qtbot.waitUntil(lambda: memory.free_bytes == 0 == memory.ready_bytes, timeout=5000)
        panel.save_box.setChecked(False)
        qtbot.waitUntil(ready, timeout=5000)
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: _finished(window), timeout=30000)
        assert window.controller.acquisition.get_dataset().read_image(time=19) is not None
        assert memory.cold_blocks == 0  # every frame went into memory made ready
        qtbot.wait(700)
        assert memory.ready_bytes == 0  # used up, and not asked again for the same plan
        panel.time_points.setValue(21)  # a new plan: asked again
        qtbot.waitUntil(lambda: memory.ready_bytes > 0, timeout=5000)
        prepare_memory(0)  # a script's choice stands until the plan changes
        qtbot.wait(1200)
        assert memory.ready_bytes == 0
        panel.time_points.setValue(22)
        qtbot.waitUntil(lambda: memory.ready_bytes > 0, timeout=5000)
        window.close()  # the window's request ends with it
        assert memory.ready_bytes == 0
    finally:
        memory.make_ready(0)
        set_warm_memory(None)


def _mark_corner(image, metadata):
    image[:8, :8] = 4242
    return image, metadata


def test_enabling_a_processor_changes_saved_data(qtbot, window):
    window.registry.register(_mark_corner, "mark_corner", source="test")
    panel = window.acquisition_panel

    def acquire(name):
        panel.name.setText(name)
        panel.start_button.click()
        qtbot.waitUntil(lambda: _finished(window), timeout=30000)
        return open_dataset(window.controller.acquisition.dataset_path).read_image(time=0)

    assert (acquire("with")[:8, :8] == 4242).all()
    row = window.registry.names().index("mark_corner")
    window.processors_panel.table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
    assert window.registry.get("mark_corner").enabled is False
    assert not (acquire("without")[:8, :8] == 4242).any()
    assert window.registry.get("mark_corner").stats.frames_in == 1


def test_failing_processor_is_disabled_and_shown(qtbot, window):
    def broken(image, metadata):
        raise ValueError("bad threshold")

    window.registry.register(broken, "broken", source="test")
    window.acquisition_panel.time_box.setChecked(True)
    window.acquisition_panel.time_points.setValue(3)
    window.acquisition_panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    assert window.registry.get("broken").enabled is False
    assert window.controller.acquisition.counts.saved == 3  # passed through
    window.processors_panel.table.selectRow(0)
    qtbot.waitUntil(lambda: "bad threshold" in window.processors_panel.details.toPlainText())


def test_abort_stops_a_long_acquisition(qtbot, window):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(10000)
    panel.interval.setValue(0.05)
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.acquisition.counts.saved >= 2, timeout=10000)
    panel.abort_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=10000)
    saved = window.controller.acquisition.counts.saved
    assert 2 <= saved < 10000
    assert len(open_dataset(window.controller.acquisition.dataset_path).index) == saved
    assert panel.progress_label.text().startswith(f"Aborted: {saved} images saved in ")


def test_starts_acquisition_takes_the_microscope_once_the_viewer_is_laid_out(
    qtbot, window, monkeypatch
):
    """The engine of Start's acquisition waits for the viewer's layout for its plan
    (the browser's ``laid_out`` tells it): its threads, at full speed from the click,
    took the cores the layout needed."""
    from app.ui.acquiring import acquisition_actions

    monkeypatch.setattr(acquisition_actions, "LAYOUT_HOLD_S", 60.0)  # only the layout ends it
    browser = window.browser
    told: list[tuple[bool, int]] = []  # at the telling: sliders laid out, frames acquired
    browse = browser.browse

    def browse_noting(dataset, *, laid_out=lambda: None, **kwargs) -> None:
        def noted() -> None:
            acq = window.controller.acquisition
            told.append((browser.sliders.isVisibleTo(window), acq.counts.acquired))
            laid_out()

        browse(dataset, laid_out=noted, **kwargs)

    monkeypatch.setattr(browser, "browse", browse_noting)
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0)
    panel.start_button.click()
    time.sleep(0.3)  # the GUI thread busy: the plan's turns have not come
    acq = window.controller.acquisition
    assert acq.counts.acquired == 0
    qtbot.waitUntil(lambda: _finished(window), timeout=20000)  # not the minute held
    assert told == [(True, 0)]  # told once the sliders were laid out, before any frame
    assert acq.counts.saved == 3


def test_a_frame_from_before_start_does_not_lay_the_plan_out_at_once(qtbot, window, monkeypatch):
    """Live's last frame (or a composite of the dataset before), ready after Start, is
    not shown: the plan keeps its turns and the engine its hold, where laying the plan
    out for that frame released the engine in the click's turn."""
    import numpy as np

    from app.ui.acquiring import acquisition_actions
    from app.ui.display.frame_preparer import PreparedFrame

    monkeypatch.setattr(acquisition_actions, "LAYOUT_HOLD_S", 60.0)  # only the layout ends it
    router = window.display
    qtbot.waitUntil(lambda: router.preparer.source is not None, timeout=5000)
    camera = router.preparer.source  # what the router follows before Start
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0)
    panel.start_button.click()
    image = np.full((64, 64), 100, dtype=np.uint16)
    stale = PreparedFrame(np.zeros((64, 64), np.uint8), image, (0, 400), 1, {}, source=camera)
    router.preparer.prepared.put(stale, {})
    shown = router.displayed
    router.show_ready_frame()
    assert router.displayed == shown
    assert window.browser.plan_pending  # its turns still to come, the engine held
    qtbot.waitUntil(lambda: _finished(window), timeout=20000)
    assert window.controller.acquisition.counts.saved == 3


def test_pause_and_resume_from_the_panel(qtbot, window):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(40)
    panel.interval.setValue(0.02)
    panel.start_button.click()
    qtbot.waitUntil(lambda: window.controller.acquisition.counts.acquired >= 1, timeout=10000)
    panel.pause_button.setChecked(True)
    qtbot.wait(200)
    frozen = window.controller.acquisition.counts.acquired
    qtbot.wait(300)
    assert window.controller.acquisition.counts.acquired <= frozen + 1
    qtbot.waitUntil(lambda: "Paused" in panel.progress_label.text(), timeout=3000)
    panel.pause_button.setChecked(False)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    assert window.controller.acquisition.counts.saved == 40


def test_open_dataset_and_browse(qtbot, window, core, tmp_path):
    from app import Acquisition, multi_d_acquisition_events

    def stamp(image, metadata):
        image[:] = 100 * metadata["Axes"]["time"] + metadata["Axes"]["z"]
        return image, metadata

    with Acquisition(tmp_path, "browse", image_process_fn=stamp) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3, z_start=0, z_end=3, z_step=1))
    window.datasets.open_dataset(acq.dataset_path)
    assert window.viewer.image[0, 0] == 0
    # as it opens, before any slider moved, each label has its physical value
    opened = {
        label.text().split(":")[0]: label.text() for label in window.sliders.findChildren(QLabel)
    }
    assert re.match(r"time: 0, \d+\.\d s  \(1/3\)$", opened["time"]), opened["time"]
    assert opened["z"].startswith("z: 0, 0.00 µm"), opened["z"]
    window.sliders.slider("time").setValue(2)
    window.sliders.slider("z").setValue(3)
    assert window.viewer.image[0, 0] == 203
    # the labels give the physical values beside the indices
    labels = {
        label.text().split(":")[0]: label.text() for label in window.sliders.findChildren(QLabel)
    }
    assert labels["z"].startswith("z: 3, 3.00 µm")
    assert re.match(r"time: 2, \d+\.\d s  \(3/3\)$", labels["time"]), labels["time"]
    # back to the first values, known from the start too (a first look, before the
    # other axes were set, once left them without units for good)
    window.sliders.slider("time").setValue(0)
    window.sliders.slider("z").setValue(0)
    labels = {
        label.text().split(":")[0]: label.text() for label in window.sliders.findChildren(QLabel)
    }
    assert labels["z"].startswith("z: 0, 0.00 µm"), labels["z"]
    assert re.match(r"time: 0, \d+\.\d s  \(1/3\)$", labels["time"]), labels["time"]


def test_open_bad_dataset_shows_an_error(window, tmp_path):
    window.datasets.open_dataset(tmp_path)
    assert "not an NDTiff dataset" in window.statusBar().currentMessage()


def test_opening_the_data_folder_instead_of_a_dataset_names_the_datasets_in_it(
    window, core, tmp_path
):
    """A newcomer chose the data folder in File > Open dataset: told which datasets are
    in it, not only that it is none."""
    from app import Acquisition, multi_d_acquisition_events

    for name in ("beads", "cells"):
        with Acquisition(directory=str(tmp_path), name=name, core=core, show_display=False) as acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=1))
    (tmp_path / "notes").mkdir()  # not a dataset: not named
    window.datasets.open_dataset(tmp_path)
    assert (
        window.statusBar()
        .currentMessage()
        .endswith("is a folder of datasets, not one: open one of them (beads_1, cells_1)")
    )


def test_bad_configuration_shows_an_error_and_keeps_the_microscope(window, core, tmp_path):
    assert window.configurations.load_configuration(str(tmp_path / "missing.cfg")) is False
    assert "not found" in window.statusBar().currentMessage()
    assert window.core is core


def test_processor_can_show_a_named_view(qtbot, window):
    def publish(image, metadata):
        show_image("threshold", (image > image.mean()).astype(np.uint8))
        return image, metadata

    window.registry.register(publish, "publish", source="test")
    window.acquisition_panel.save_box.setChecked(False)
    window.acquisition_panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    qtbot.waitUntil(lambda: window.named_views.view("threshold") is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.named_views.view("threshold").image is not None, timeout=5000)
    assert set(np.unique(window.named_views.view("threshold").image)) <= {0, 1}


def test_layout_and_pipeline_are_remembered(qtbot, core, tmp_path):
    settings_path = str(tmp_path / "remember.json")
    registry = ProcessorRegistry()
    registry.register(_mark_corner, "a", source="test")
    registry.register(_mark_corner, "b", source="test")
    first = new_window(qtbot, core, settings_path, tmp_path, registry=registry)
    first.docks["Log"].setFloating(True)
    registry.move("b", 0)
    registry.set_enabled("a", False)
    first.close()

    again = ProcessorRegistry()
    again.register(_mark_corner, "a", source="test")
    again.register(_mark_corner, "b", source="test")
    second = new_window(qtbot, core, settings_path, tmp_path, registry=again)
    assert second.docks["Log"].isFloating()
    assert again.names() == ["b", "a"]
    assert again.get("a").enabled is False
    second.close()


def test_processor_enabled_for_live_changes_the_live_image(qtbot, window):
    def invert_marker(image, metadata):
        image[:4, :4] = 999
        return image, metadata

    window.registry.register(invert_marker, "marker", source="test")
    window.microscope_panel.live_button.setChecked(True)
    qtbot.waitUntil(lambda: window.display.displayed >= 3, timeout=10000)
    assert not (window.viewer.image[:4, :4] == 999).all()  # not enabled for Live yet
    row = window.registry.names().index("marker")
    window.processors_panel.table.item(row, 1).setCheckState(Qt.CheckState.Checked)
    assert window.registry.get("marker").live
    qtbot.waitUntil(lambda: (window.viewer.image[:4, :4] == 999).all(), timeout=10000)
    window.microscope_panel.live_button.setChecked(False)


def test_the_simulated_sample_follows_exposure_and_channel_during_live_and_after(
    qtbot, window, core
):
    """The demo beads brighten with exposure: a change made while Live streams shows in
    Live (the core's own signal skips a streaming camera), and a Snap after Live has
    the exposure and channel set then, not the ones before Live."""
    panel = window.microscope_panel
    panel.channel.setCurrentText("DAPI")
    panel.exposure.setValue(10)
    panel.live_button.setChecked(True)
    qtbot.waitUntil(lambda: window.display.displayed >= 2, timeout=10000)
    dim = int(window.viewer.image.max())
    panel.exposure.setValue(80)
    qtbot.waitUntil(lambda: int(window.viewer.image.max()) > 3 * dim, timeout=10000)
    panel.channel.setCurrentText("Cy5")
    panel.exposure.setValue(10)
    qtbot.wait(300)  # Live takes the change while streaming
    panel.live_button.setChecked(False)
    assert not core.isSequenceRunning()
    # Cy5 at 10 ms: a fifth of DAPI's beads at 10 ms, not DAPI's at 80 ms
    assert float(core.getProperty("Camera", "BeadBrightness")) == pytest.approx(0.2)
    core.snapImage()
    assert int(np.asarray(core.getImage()).max()) < dim


def test_processors_reorder_by_drag_and_buttons(qtbot, window):
    for name in ("a", "b", "c"):
        window.registry.register(_mark_corner, name, source="test")
    panel = window.processors_panel
    panel.table.selectRow(0)
    row_2 = panel.table.visualItemRect(panel.table.item(2, 0)).center()
    drop = QDropEvent(
        QPointF(row_2),
        Qt.DropAction.MoveAction,
        QMimeData(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    panel.table.dropEvent(drop)  # row 0 dragged onto row 2
    assert window.registry.names() == ["b", "c", "a"]
    assert panel.selected_name() == "a"
    panel.up_button.click()
    assert window.registry.names() == ["b", "a", "c"]
    assert [panel.table.item(r, 2).text() for r in range(3)] == ["b", "a", "c"]


def test_the_microscope_panel_follows_changes_made_elsewhere(qtbot, window, core):
    """The console, a script or an acquisition change the core: the panel shows it."""
    panel = window.microscope_panel
    core.setExposure(33.0)
    core.setConfig("Channel", "Cy5")
    core.setPosition(12.5)
    core.setXYPosition(40.0, -20.0)
    qtbot.waitUntil(lambda: panel.exposure.value() == 33.0, timeout=5000)
    qtbot.waitUntil(lambda: panel.channel.currentText() == "Cy5", timeout=5000)
    qtbot.waitUntil(lambda: panel.z_label.text() == "12.50 µm", timeout=5000)
    qtbot.waitUntil(lambda: panel.xy_label.text() == "40.0, -20.0 µm", timeout=5000)
    assert core.getExposure() == 33.0  # showing it did not set it back


def test_the_panel_follows_changes_made_on_another_thread(qtbot, window, core):
    import threading

    thread = threading.Thread(target=lambda: core.setExposure(21.0))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: window.microscope_panel.exposure.value() == 21.0, timeout=5000)


def test_changes_made_elsewhere_reach_the_window_together_and_the_latest_wins(qtbot, window, core):
    """An acquisition switching channels changes the preset, the exposure and the
    preset's properties at every frame: the window gets the latest of each kind, in a
    few deliveries, not every change queued on its own."""
    import threading

    events = window.microscope_panel.core_events
    told: list[tuple] = []
    events.exposureChanged.connect(lambda ms: told.append(("exposure", ms)))
    events.configSet.connect(lambda group, preset: told.append((group, preset)))
    events.propertyChanged.connect(lambda *change: told.append(change))
    group = core.getChannelGroup()
    presets = list(core.getAvailableConfigs(group))[:2]

    def like_an_acquisition() -> None:
        for i in range(100):
            core.setConfig(group, presets[i % 2])
            core.setExposure(1.0 + i)

    thread = threading.Thread(target=like_an_acquisition)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: ("exposure", 100.0) in told, timeout=5000)
    qtbot.wait(250)  # anything else on its way
    assert told.count(("exposure", 100.0)) == 1
    assert [t for t in told if t[0] == "exposure"] == [("exposure", 100.0)]  # only the latest
    assert [t for t in told if t[0] == group] == [(group, presets[1])]
    assert len(told) < 20  # the preset's properties once each, not 100 times
    assert window.microscope_panel.exposure.value() == 100.0
    # announced on the GUI thread (pymmcore-nano's core announces on a thread of its
    # own, but a core may announce on the caller's): told at once, and it overtakes an
    # older change still waiting
    camera = core.getCameraDevice()
    qtbot.wait(250)  # the core's own announcements all told
    thread = threading.Thread(target=lambda: core.events.exposureChanged.emit(camera, 50.0))
    thread.start()
    thread.join()
    told.clear()
    core.events.exposureChanged.emit(camera, 60.0)

    def exposures() -> list:
        return [t for t in told if t[0] == "exposure"]

    assert exposures() == [("exposure", 60.0)]
    qtbot.wait(250)
    assert exposures() == [("exposure", 60.0)]
    assert window.microscope_panel.exposure.value() == 60.0


def test_a_change_told_while_others_are_delivered_overtakes_them_and_a_swap_drops_them(
    qtbot, window, core
):
    """A slot that announces a change on the GUI thread while waiting changes are being
    delivered overtakes a waiting one of its kind; a microscope no longer followed has
    its waiting changes dropped (the widgets read the new one)."""
    import threading

    events = window.microscope_panel.core_events
    sizes: list[float] = []
    events.pixelSizeChanged.connect(sizes.append)

    def pixel_size_follows_exposure(_ms: float) -> None:  # as binning changes it
        core.events.pixelSizeChanged.emit(1.0)

    events.exposureChanged.connect(pixel_size_follows_exposure)
    camera = core.getCameraDevice()

    def elsewhere() -> None:
        core.events.exposureChanged.emit(camera, 10.0)
        core.events.pixelSizeChanged.emit(0.5)  # waits behind the exposure

    qtbot.wait(250)  # the core's own announcements all told
    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: 1.0 in sizes, timeout=5000)
    qtbot.wait(250)
    assert sizes[-1] == 1.0 and 0.5 not in sizes
    events.exposureChanged.disconnect(pixel_size_follows_exposure)

    exposures: list[float] = []
    events.exposureChanged.connect(exposures.append)
    thread = threading.Thread(target=lambda: core.events.exposureChanged.emit(camera, 55.0))
    thread.start()
    thread.join()
    events.disconnect_core()  # a configuration swap, before the change was delivered
    qtbot.wait(250)
    assert 55.0 not in exposures
    events.set_core(core)

    # told just after a delivery (it would wait for its turn on a timer), then dropped:
    # no timer of a microscope no longer followed fires (a closed window's, found by the
    # window lifecycle test), and the next change is told as ever
    def from_elsewhere(value: float) -> None:
        thread = threading.Thread(target=lambda: core.events.exposureChanged.emit(camera, value))
        thread.start()
        thread.join()

    from_elsewhere(60.0)
    qtbot.waitUntil(lambda: 60.0 in exposures, timeout=5000)
    fired: list[int] = []
    for timer in events.findChildren(QTimer):
        timer.timeout.connect(lambda: fired.append(1))
    from_elsewhere(61.0)
    events.disconnect_core()
    qtbot.wait(250)
    assert 61.0 not in exposures and fired == []
    events.set_core(core)
    from_elsewhere(65.0)
    qtbot.waitUntil(lambda: 65.0 in exposures, timeout=5000)


def _start_long_acquisition(window, tmp_path, points=40):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(points)
    panel.interval.setValue(0.05)
    panel.directory.setText(str(tmp_path / "quit"))
    panel.start_button.click()
    assert window.controller.running


@pytest.mark.parametrize("choice", ["cancel", "finish", "abort"])
def test_quitting_during_an_acquisition_asks_and_saves_what_was_acquired(
    qtbot, window, tmp_path, choice
):
    from app.acquisition.state import RunState
    from app.ui.shell.quitting import QuitChoice

    _start_long_acquisition(window, tmp_path)
    window.quitting.ask = lambda: QuitChoice[choice.upper()]
    acq = window.controller.acquisition
    qtbot.waitUntil(lambda: acq.status.counts["saved"] >= 2, timeout=10000)
    window.close()
    if choice == "cancel":
        assert window.isVisible() and window.controller.running
        acq.abort()
        qtbot.waitUntil(lambda: _finished(window), timeout=30000)
        return
    if choice == "finish":
        assert window.isVisible()  # still open while the acquisition runs on
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=30000)
        assert acq.status.state is RunState.FINISHED
        assert len(open_dataset(acq.dataset_path).index) == 40
    else:
        assert not window.isVisible()
        assert acq.status.state is RunState.ABORTED
    dataset = open_dataset(acq.dataset_path)
    assert len(dataset.index) == acq.status.counts["saved"] > 0  # closed properly, readable


def test_abort_and_quit_with_a_hung_processor_quits_without_a_dialog(
    qtbot, window, tmp_path, monkeypatch, caplog
):
    """A processor stuck in the user's code when the user quits with "Abort and quit":
    the window closes at once, and what the acquisition's end says comes after it, to
    the log, in no dialog (one shown after its window had closed kept Scopeflow running
    with nothing on screen: found by a newcomer trial)."""
    import threading

    from PyQt6.QtWidgets import QMessageBox

    from app.acquisition.state import RunState
    from app.ui.shell.quitting import QuitChoice

    release = threading.Event()

    def hangs(image, metadata):
        release.wait(30)  # as time.sleep(60), let go at the test's end
        return image, metadata

    def fails(image, metadata):
        raise ValueError("a bad frame")

    window.registry.register(fails, source="console")  # an error to say at the end
    window.registry.register(hangs, source="console")
    dialogs: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: dialogs.append(args[2]))
    window.quitting.ask = lambda: QuitChoice.ABORT
    try:
        _start_long_acquisition(window, tmp_path)
        acq = window.controller.acquisition
        qtbot.waitUntil(lambda: acq.status.counts["acquired"] >= 2, timeout=10000)
        # from here on, dialogs as a user gets them (none asked before the close)
        monkeypatch.delenv("SCOPEFLOW_NO_DIALOGS", raising=False)
        started = time.monotonic()
        window.close()
        assert not window.isVisible() and time.monotonic() - started < 10
        qtbot.waitUntil(lambda: acq.status.state is RunState.ABORTED, timeout=10000)
        qtbot.waitUntil(lambda: "hangs was still running" in caplog.text, timeout=10000)
        qtbot.wait(300)  # the acquisition's end reaches the closed window
    finally:
        release.set()
    assert dialogs == []
    # the error was said, to the log alone; the abandoned one is no error "raised"
    said = [r.getMessage() for r in caplog.records if r.name == "app.ui.shell.main_window"]
    assert any("fails" in t and "raised ValueError('a bad frame')" in t for t in said)
    assert not any("CallAbandonedError" in text for text in said)


def test_a_processor_long_on_one_image_is_named_while_the_run_waits_for_it(qtbot, window, tmp_path):
    """A run at its last frames that seems stuck says what it waits for, in the panel
    and the status bar (it said only "queues: processing 9": a newcomer trial)."""
    import threading

    release = threading.Event()

    def slow_denoise(image, metadata):
        release.wait(30)
        return image, metadata

    window.registry.register(slow_denoise, source="console")
    try:
        _start_long_acquisition(window, tmp_path, points=3)
        panel = window.acquisition_panel
        qtbot.waitUntil(
            lambda: "Waiting on image processor slow_denoise, " in panel.progress_label.text(),
            timeout=10000,
        )
        assert re.search(r"Waiting on image processor slow_denoise, \d+ s on one image$",
                         panel.progress_label.text())  # fmt: skip
        # the camera is done: no "remaining ~0:00:00" while the frames wait
        qtbot.waitUntil(lambda: "3 / 3 frames" in panel.progress_label.text(), timeout=10000)
        assert "all acquired; finishing the processing and saving" in panel.progress_label.text()
        assert "remaining" not in panel.progress_label.text()
        assert "waiting on image processor slow_denoise" in window.status_line.text.text()
    finally:
        release.set()
    qtbot.waitUntil(lambda: _finished(window), timeout=20000)
    assert window.controller.acquisition.status.long_call is None
    assert "Waiting on" not in panel.progress_label.text()


def test_buttons_say_what_they_do_now(qtbot, window):
    live = window.microscope_panel.live_button
    live.setChecked(True)
    assert live.text() == "Stop Live"
    live.setChecked(False)
    assert live.text() == "Live"
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(100)
    panel.interval.setValue(0.05)
    panel.save_box.setChecked(False)
    panel.start_button.click()
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    panel.abort_button.click()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30000)


def test_elapsed_time_stands_still_while_paused(window):
    import time

    panel = window.acquisition_panel
    panel.set_running(True)
    started = time.perf_counter() - 10.0  # started 10 s ago
    panel.show_progress(5, 100, started, paused=True)
    first = panel.progress_label.text()
    time.sleep(1.2)
    panel.show_progress(5, 100, started, paused=True)
    assert panel.progress_label.text() == first  # the clock does not run while paused
    assert first.startswith("Paused: 5 / 100 frames   elapsed 0:00:10")


def test_long_names_have_tooltips(window):
    def a_processor_with_a_long_descriptive_name(image, metadata):
        return image, metadata

    window.registry.register(a_processor_with_a_long_descriptive_name, source="test")
    table = window.processors_panel.table
    row = window.registry.names().index("a_processor_with_a_long_descriptive_name")
    from app.ui.processors.processors_panel import NAME

    assert table.item(row, NAME).toolTip() == "a_processor_with_a_long_descriptive_name"


def test_processor_rows_rebuilt_keep_their_columns_sized_to_their_contents(window):
    """Rows are filled with the columns' sizes held (measured once after, not at every
    cell): the columns must come back sized to what they now hold."""
    from app.ui.processors.processors_panel import ERRORS, FRAMES, LIVE, MEAN, ON, P99

    for number in range(6):
        window.registry.register(_mark_corner, f"processor_{number}", source="test")
    panel = window.processors_panel
    panel.refresh_stats()
    header = panel.table.horizontalHeader()
    for column in (ON, LIVE, FRAMES, MEAN, P99, ERRORS):
        assert header.sectionResizeMode(column) is QHeaderView.ResizeMode.ResizeToContents
        assert header.sectionSize(column) >= panel.table.sizeHintForColumn(column)
    assert panel.table.rowCount() == len(window.registry.names())


def test_live_switched_off_at_once_really_stops(qtbot, window, core):
    """Off before its thread ran: Live must not start afterwards, keep the camera and
    take the frames of the next acquisition."""
    from app import Acquisition, multi_d_acquisition_events

    for _ in range(5):
        window.microscope_panel.live_button.setChecked(True)
        window.microscope_panel.live_button.setChecked(False)
    qtbot.wait(300)
    assert not core.isSequenceRunning()
    with Acquisition(core=core) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=10))
    assert acq.status.counts["saved"] == 10


def test_an_empty_channel_selection_cannot_start_and_says_why(window):
    panel = window.acquisition_panel
    panel.channel_box.setChecked(True)
    for row in range(panel.channels.rowCount()):
        panel.set_channel(panel.channels.item(row, 0).text(), False)
    panel.start_button.click()
    assert not window.controller.running
    assert "no channel is ticked" in window.statusBar().currentMessage()


def test_the_view_menu_zooms_reopens_and_resets_the_layout(qtbot, window):
    menu = _menu(window, "&View")
    assert menu["&Fit image to window"].shortcut().toString() == "Ctrl+0"
    assert menu["&Actual size (1:1)"].shortcut().toString() == "Ctrl+1"
    window.docks["Processors"].close()
    assert not window.docks["Processors"].isVisible()
    menu["Processors"].trigger()  # closed panels reopen from the View menu
    assert window.docks["Processors"].isVisible()
    window.docks["Log"].setFloating(True)
    window.docks["Scripts"].close()
    menu["Reset &layout"].trigger()
    assert not window.docks["Log"].isFloating() and window.docks["Scripts"].isVisible()
    assert window.viewer.scale_bar.pixel_size_um == window.core.getPixelSizeUm()


def test_snap_saved_as_tiff_with_its_metadata_and_copied(qtbot, window, core, tmp_path):
    import json

    import tifffile
    from PyQt6.QtWidgets import QApplication

    window.microscope_panel.snap_button.click()
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    written = window.datasets.save_image(str(tmp_path / "snap"))
    assert written.endswith("snap.tif")
    with tifffile.TiffFile(written) as tif:
        pixels = tif.asarray()
        info = json.loads(tif.imagej_metadata["Info"])
        x_resolution = tif.pages[0].tags["XResolution"].value
    assert np.array_equal(pixels, window.viewer.image) and pixels.dtype == np.uint16
    assert info["Exposure-ms"] == core.getExposure() and info["Channel"] == "DAPI"
    assert x_resolution[0] / x_resolution[1] == pytest.approx(1 / core.getPixelSizeUm())
    window.datasets.copy_image()
    copied = QApplication.clipboard().image()
    assert (copied.width(), copied.height()) == (128, 96)


def test_file_dialogs_open_in_the_last_folder_used_or_the_data_folder(window, tmp_path):
    assert window.files.dialogs.folder() == window.acquisition_panel.data_directory
    window.files.dialogs.remember(str(tmp_path))
    assert window.files.dialogs.folder() == str(tmp_path)
    window.files.dialogs.remember(str(tmp_path / "gone"))  # deleted since: not offered
    assert window.files.dialogs.folder() == window.acquisition_panel.data_directory


def test_snap_live_start_and_abort_have_shortcuts_shown_in_menus_and_tooltips(qtbot, window):
    menu = _menu(window, "&Acquire")
    assert menu["&Snap"].shortcut().toString() == "F5"
    assert "F5" in window.microscope_panel.snap_button.toolTip()
    assert "Ctrl+Return" in window.acquisition_panel.start_button.toolTip()
    menu["&Snap"].trigger()  # the same as clicking Snap
    qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    panel = window.acquisition_panel
    panel.save_box.setChecked(False)
    panel.time_box.setChecked(True)
    panel.time_points.setValue(100)
    panel.interval.setValue(0.05)
    menu["S&tart acquisition"].trigger()
    assert window.controller.running
    menu["&Abort acquisition"].trigger()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30000)
    assert panel.progress_label.text().startswith("Aborted")


def test_before_start_the_panel_says_what_the_plan_takes_and_if_it_fits(qtbot, window, monkeypatch):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(10)
    panel.interval.setValue(1)
    assert panel.show_estimate()
    # the disk's free space is read off the GUI thread: said once read
    qtbot.waitUntil(
        lambda: panel.show_estimate() and "free on the disk" in panel.estimate_label.text()
    )
    text = panel.estimate_label.text()
    assert text.startswith("10 images, 245.8 KB (") and "free on the disk), about 9 s" in text
    monkeypatch.setattr(panel, "free_space", lambda folder: 100_000)
    assert not panel.show_estimate()  # a nearly full disk
    assert panel.estimate_label.text().startswith("Will not fit: 10 images, 245.8 KB")
    # kept in memory: what an acquisition may take (its default limit, half of what is
    # available), not all that is available
    panel.save_box.setChecked(False)
    assert panel.show_estimate() and "of memory it may take)" in panel.estimate_label.text()
    set_warm_memory(_MemoryAvailable(400_000))
    try:
        assert not panel.show_estimate()  # 200 kB it may take
        assert panel.estimate_label.text().startswith(
            "Will not fit: 10 images, 245.8 KB (200.0 KB of memory it may take)"
        )
    finally:
        set_warm_memory(None)


def test_start_asks_before_a_plan_that_will_not_fit(qtbot, window, monkeypatch):
    """The estimate says in red that the plan will not fit; Start then asks, and No
    starts nothing (a newcomer's run filled a small disk without a word before)."""
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(10)
    panel.name.setText("too_big")
    monkeypatch.setattr(panel, "free_space", lambda folder: 100_000)
    assert not panel.show_estimate()
    asked: list[str] = []
    window.acquisitions.ask_start_anyway = lambda text: asked.append(text) or False
    panel.start_button.click()
    assert asked and asked[0].startswith("The plan takes 245.8 KB, with 100.0 KB free on the disk.")
    assert "will stop when the disk is full, and keep the images saved until then" in asked[0]
    assert window.controller.acquisition is None and not window.controller.running

    window.acquisitions.ask_start_anyway = lambda text: asked.append(text) or True
    panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=20000)
    assert len(asked) == 2
    assert window.controller.acquisition.counts.snapshot()["acquired"] == 10

    monkeypatch.setattr(panel, "free_space", lambda folder: 10**12)
    assert panel.show_estimate()  # fits: Start asks nothing
    panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=20000)
    assert len(asked) == 2

    # the plan made larger, and Start clicked before the estimate's next tick: asked
    monkeypatch.setattr(panel, "free_space", lambda folder: 100_000)
    panel.time_points.setValue(1)
    assert panel.show_estimate()
    window.acquisitions.ask_start_anyway = lambda text: asked.append(text) or False
    panel.time_points.setValue(10)
    panel.start_button.click()
    assert len(asked) == 3 and asked[2].startswith("The plan takes 245.8 KB")
    assert not window.controller.running

    # kept in memory: its limit is the room, and what it keeps is said so
    panel.save_box.setChecked(False)
    set_warm_memory(_MemoryAvailable(400_000))
    try:
        panel.start_button.click()
    finally:
        set_warm_memory(None)
    assert len(asked) == 4 and asked[3].startswith(
        "The plan takes 245.8 KB, with 200.0 KB of memory it may take. The acquisition "
        "will stop at that limit, and keep the images in memory until then."
    )
    assert not window.controller.running


def test_a_name_that_cannot_name_a_folder_is_said_in_red_before_start(window):
    panel = window.acquisition_panel
    panel.name.setText("run: 1/2?")
    assert not panel.show_estimate()
    text = panel.estimate_label.text()
    assert text.startswith("Cannot start: the name 'run: 1/2?': it is a path, not one folder's")
    assert text.endswith("; 'run_ 1_2_' would work.")
    assert "color: #c0392b" in panel.estimate_label.styleSheet()
    panel.name.setText("run 1")
    assert panel.show_estimate()
    panel.save_box.setChecked(False)  # kept in memory: the name names no folder
    panel.name.setText("run: 1/2?")
    assert panel.show_estimate()


class _MemoryAvailable(WarmMemory):
    def __init__(self, available: int):
        super().__init__()
        self.available = available

    def available_bytes(self) -> int:
        return self.available


def test_the_status_line_says_the_free_disk_space_read_off_the_gui_thread(
    qtbot, window, monkeypatch
):
    """Reading it on the GUI thread took up to 15 ms while an acquisition wrote to the
    disk; a network share can take seconds. A slow disk never holds the window."""
    import threading
    import time

    from app.ui.common import free_space

    readers = set()

    def slow_free_disk_bytes(folder: str) -> int:
        readers.add(threading.current_thread().name)
        time.sleep(0.3)  # a slow disk
        return 123_400_000_000

    monkeypatch.setattr(free_space, "free_disk_bytes", slow_free_disk_bytes)
    window.status_line.free_space.stop()
    window.status_line.free_space = free_space.FreeSpaceWatch(interval_s=0.1)
    qtbot.waitUntil(lambda: "disk free 123.4 GB" in window.status_line.text.text(), timeout=5000)
    assert readers == {"scopeflow-free-space"}  # never the GUI thread


def test_the_estimate_makes_the_plans_events_again_only_when_the_plan_changed(
    qtbot, window, plans_made
):
    """The window asks for the estimate twice a second; a plan of 100,000 images took
    seconds to make, each time."""
    made = plans_made
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(20000)
    panel.interval.setValue(0)
    for _ in range(3):
        panel.show_estimate()
    assert len(made) == 1 and panel.estimate_label.text().startswith("20000 images")
    panel.time_points.setValue(30)
    panel.show_estimate()
    assert len(made) == 2 and panel.estimate_label.text().startswith("30 images")


def test_the_estimate_checks_the_events_it_made_in_a_turn_of_its_own(
    qtbot, window, plans_made, monkeypatch
):
    """Made and checked in one turn, a plan of 1,000 events held the window 5.5 to 9.3 ms
    at the first estimate after every acquisition (Start took the events before). A
    Start pressed between the two turns takes the events as made (``acquire`` checks
    them), without making them again."""
    from app.acquisition import events as events_module

    checked = []
    check = events_module.normalize_event
    monkeypatch.setattr(events_module, "normalize_event", lambda e: checked.append(e) or check(e))
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.interval.setValue(0)
    panel.time_points.setValue(7)
    assert panel.show_estimate() and checked == []  # made now, not checked yet
    qtbot.waitUntil(lambda: len(checked) == 7, timeout=5000)  # in the next turn
    panel.time_points.setValue(8)
    assert panel.show_estimate()
    made = len(plans_made)
    panel.start_button.click()  # before the turn that checks them
    assert len(plans_made) == made  # taken as made, not made again
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    dataset = window.controller.acquisition.get_dataset()
    assert sorted(c["time"] for c in dataset.get_image_coordinates_list()) == list(range(8))


def test_an_event_the_estimates_check_refuses_is_said_in_red_until_the_plan_changes(qtbot, window):
    import useq

    panel = window.acquisition_panel
    panel.set_plan(useq.MDASequence(stage_positions=[useq.Position(x=float("nan"), y=0)]))
    qtbot.waitUntil(lambda: panel.estimate_label.text().startswith("Cannot start"), timeout=5000)
    assert "finite" in panel.estimate_label.text()
    assert not panel.show_estimate()  # said again at each tick, not the estimate
    assert panel.estimate_label.text().startswith("Cannot start")
    panel.set_plan(useq.MDASequence())  # a plan that can start
    qtbot.waitUntil(lambda: not panel.estimate_label.text().startswith("Cannot"), timeout=5000)
    assert panel.show_estimate()


def test_start_takes_the_events_the_estimate_made_for_the_same_plan(
    qtbot, window, plans_made, monkeypatch
):
    """Start is pressed on the window's thread: the plan's events were made and checked
    there too (6-7 ms and 1.5 ms for 1,000, #21). The estimate shown before Start made
    and checked them already; Start takes those, once, when nothing they are made from
    changed since."""
    from app.acquisition import flow

    checked_in_click = []
    check = flow.normalize_event
    monkeypatch.setattr(flow, "normalize_event", lambda e: checked_in_click.append(e) or check(e))
    made = plans_made
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(5)
    panel.interval.setValue(0)
    qtbot.waitUntil(lambda: panel.estimate_label.text().startswith("5 images"), timeout=5000)
    assert len(made) == 1  # the window's status tick made the estimate
    qtbot.wait(50)  # and the turn after it, which checks its events
    panel.start_button.click()
    assert len(made) == 1  # Start took the estimate's events
    assert checked_in_click == []  # checked by the estimate, not again
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    dataset = window.controller.acquisition.get_dataset()
    assert sorted(c["time"] for c in dataset.get_image_coordinates_list()) == list(range(5))
    # taken once: the next estimate makes them again for the next Start
    qtbot.waitUntil(lambda: len(made) == 2, timeout=5000)
    events = panel.events()
    assert len(made) == 2 and [e["axes"]["time"] for e in events] == list(range(5))
    # a plan changed after the estimate: made anew at Start, as the panel says now
    panel.time_points.setValue(3)
    assert [e["axes"]["time"] for e in panel.events()] == [0, 1, 2]
    assert len(made) == 3


def test_the_sliders_units_while_following_come_from_the_frames_shown(qtbot, window, monkeypatch):
    """While the viewer follows an acquisition, the labels' µm and seconds come from
    the metadata of the frames it shows: reading them from the dataset meant reading
    a file on the disk being written, on the GUI thread (up to tens of ms, #21)."""
    import threading

    from app.storage.ndtiff_datasets import LiveNDTiffDataset as NDTiffDataset

    gui = threading.current_thread()
    read_on_gui_thread = []
    original = NDTiffDataset.read_metadata

    def watched(self, *args, **kwargs):
        if threading.current_thread() is gui:
            read_on_gui_thread.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NDTiffDataset, "read_metadata", watched)
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(4)
    panel.interval.setValue(0.2)
    panel.z_box.setChecked(True)
    panel.z_start.setValue(0)
    panel.z_end.setValue(1)
    panel.z_step.setValue(1)
    panel.start_button.click()
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    sliders = window.sliders
    qtbot.waitUntil(lambda: sliders.label("time").startswith("time: 3, 0."), timeout=5000)
    assert re.match(r"z: 1, 1\.00 µm", sliders.label("z")), sliders.label("z")
    assert read_on_gui_thread == []


def test_the_progress_and_status_said_while_acquiring_do_not_lay_the_window_out_again(
    qtbot, window
):
    """The progress line and the status bar are rewritten twice a second while an
    acquisition runs; as QLabels each rewrite laid the whole window out again (a
    LayoutRequest to the panel, its dock, the status bar and the main window, #21)."""
    from PyQt6.QtCore import QEvent, QObject
    from PyQt6.QtWidgets import QApplication

    class LayoutRequests(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.receivers: list[str] = []

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.LayoutRequest and watched in watched_widgets:
                self.receivers.append(type(watched).__name__)
            return False

    panel = window.acquisition_panel
    panel.save_box.setChecked(False)
    panel.time_box.setChecked(True)
    panel.time_points.setValue(40)
    panel.interval.setValue(0.1)  # four seconds
    watched_widgets = {window, window.statusBar(), panel}
    panel.start_button.click()
    # past the first frames (the viewer lays itself out for them)
    qtbot.waitUntil(
        lambda: bool(re.match(r"Acquiring: ([3-9]|\d\d) / 40", panel.progress_label.text())),
        timeout=10000,
    )
    said = panel.progress_label.text()
    requests = LayoutRequests()
    QApplication.instance().installEventFilter(requests)
    try:
        qtbot.wait(1200)  # two or three of the status ticks
    finally:
        QApplication.instance().removeEventFilter(requests)
    now = panel.progress_label.text()
    assert now != said and "Acquiring:" in now  # rewritten meanwhile, still running
    assert requests.receivers == []
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
