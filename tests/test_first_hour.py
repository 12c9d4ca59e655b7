"""What a new user tripped on in the first hour (issue 23), each through the window."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

from app.ui.processors.processors_panel import FRAMES, LIVE, ON
from tests.windows import new_window


def _tick(window, name: str, column: int, on: bool) -> None:
    """The user's click on a processor's On or Live box."""
    panel = window.processors_panel
    row = window.registry.names().index(name)
    item = panel.table.item(row, column)
    item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


def test_a_processors_live_box_alone_runs_it_on_live(qtbot, window):
    def flatten(image, metadata):
        image[:] = 1234
        return image, metadata

    window.registry.register(flatten, source="console")
    _tick(window, "flatten", ON, False)  # off for acquisitions
    _tick(window, "flatten", LIVE, True)  # on for Live
    processor = window.registry.get("flatten")
    assert not processor.enabled and processor.live
    window.microscope_panel.live_button.setChecked(True)
    try:
        qtbot.waitUntil(lambda: processor.stats.frames_in >= 3, timeout=10000)
        qtbot.waitUntil(
            lambda: window.viewer.image is not None and (window.viewer.image == 1234).all(),
            timeout=10000,
        )
        row = window.registry.names().index("flatten")
        qtbot.waitUntil(
            lambda: int(window.processors_panel.table.item(row, FRAMES).text() or 0) > 0,
            timeout=5000,
        )
    finally:
        window.microscope_panel.live_button.setChecked(False)
    assert processor.live  # still on: it did not fail


def test_a_processors_on_box_alone_does_not_run_it_on_live(qtbot, window):
    def flatten(image, metadata):
        image[:] = 1234
        return image, metadata

    window.registry.register(flatten, source="console")  # On by default, Live off
    window.microscope_panel.live_button.setChecked(True)
    try:
        qtbot.waitUntil(lambda: window.display.displayed >= 5, timeout=10000)
        assert not (np.asarray(window.viewer.image) == 1234).all()
    finally:
        window.microscope_panel.live_button.setChecked(False)
    assert window.registry.get("flatten").stats.frames_in == 0


def test_a_processor_that_fails_on_live_is_switched_off_for_live_only(qtbot, window):
    def broken(image, metadata):
        raise ValueError("too dark")

    window.registry.register(broken, source="console")
    _tick(window, "broken", LIVE, True)
    window.microscope_panel.live_button.setChecked(True)
    try:
        processor = window.registry.get("broken")
        qtbot.waitUntil(lambda: not processor.live, timeout=10000)
        qtbot.waitUntil(lambda: window.display.displayed >= 3, timeout=10000)  # frames pass through
    finally:
        window.microscope_panel.live_button.setChecked(False)
    assert processor.enabled  # acquisitions still run it
    row = window.registry.names().index("broken")
    qtbot.waitUntil(
        lambda: (
            window.processors_panel.table.item(row, LIVE).checkState() == Qt.CheckState.Unchecked
        ),
        timeout=5000,
    )


def test_a_console_acquisition_runs_the_windows_pipeline_only_when_given_it(qtbot, window):
    from app import Acquisition, multi_d_acquisition_events

    ran: list[str] = []

    def counted(image, metadata):
        ran.append("counted")
        return image, metadata

    def switched_off(image, metadata):
        ran.append("switched_off")
        return image, metadata

    window.registry.register(counted, source="console")
    window.registry.register(switched_off, source="console")
    _tick(window, "switched_off", ON, False)
    with Acquisition(show_display=False) as acq:  # as pycro-manager: no processor
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    assert ran == []
    with Acquisition(
        show_display=False, image_process_fn=window.console.namespace["processors"]
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    assert ran == ["counted", "counted"]


def test_the_default_scripts_folder_is_the_users_with_the_examples_copied_once(
    qtbot, core, tmp_path, monkeypatch
):
    from app.resource_files import example_scripts_folder

    (tmp_path / "home" / "Documents").mkdir(parents=True)
    monkeypatch.setattr(  # the user's Documents folder, on every system
        "app.preferences.documents_folder", lambda: tmp_path / "home" / "Documents"
    )
    shipped = example_scripts_folder()
    assert shipped is not None
    names = sorted(p.name for p in shipped.glob("*.py"))

    def open_window():
        return new_window(qtbot, core, tmp_path / "settings.json")

    window = open_window()
    folder = tmp_path / "home" / "Documents" / "Scopeflow" / "scripts"
    assert window.scripts.path == folder  # not the installation's scripts/
    assert sorted(p.name for p in folder.glob("*.py")) == names
    mine = folder / names[0]
    mine.write_text("# my edit\n")
    (folder / names[1]).unlink()  # a user's choice to remove one
    window.close()
    open_window().close()
    assert mine.read_text() == "# my edit\n"  # never replaced
    assert not (folder / names[1]).exists()  # nor put back
    for script in folder.glob("*.py"):  # all of them deleted: they stay deleted
        script.unlink()
    open_window().close()
    assert not list(folder.glob("*.py"))
    assert (shipped / names[0]).read_text() != "# my edit\n"  # the originals untouched


def test_edit_and_open_folder_without_a_desktop_handler_offer_what_works(qtbot, window):
    from PyQt6.QtGui import QGuiApplication

    panel = window.scripts_panel
    panel.editor = lambda path: False  # the desktop has no program for .py files
    panel.opener = lambda url: False  # nor a file manager
    script = window.scripts.path / "tune.py"
    script.write_text(
        "from app import processor\n\n@processor\ndef tune(image, metadata):\n"
        "    return image, metadata\n",
        encoding="utf-8",
    )
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=15000)
    panel.table.selectRow(0)
    panel.edit_button.click()
    editor = panel.editors[str(script)]
    assert editor.isVisible()
    assert "def tune(image, metadata)" in editor.text.toPlainText()
    assert "No program is set to open .py files" in panel.message.text()
    assert str(script) in panel.message.text()
    # edited and saved in Scopeflow's editor: the script is loaded again
    editor.text.setPlainText(editor.text.toPlainText().replace("def tune", "def tuned"))
    editor.save_button.click()
    qtbot.waitUntil(lambda: "tuned" in window.registry, timeout=5000)
    assert "tune" not in window.registry
    assert not editor.text.document().isModified()
    qtbot.waitUntil(lambda: "Saved and loaded at" in editor.message.text(), timeout=5000)
    # a mistake saved: the editor itself says why it did not load, with the line
    editor.text.setPlainText(editor.text.toPlainText().replace("metadata):", "metadata)"))
    editor.save_button.click()
    qtbot.waitUntil(lambda: "did not load" in editor.message.text(), timeout=5000)
    assert "line 4" in editor.message.text()
    assert editor.position.text() == "Line 4, column 1"  # the cursor on the error's line
    editor.close()

    panel.open_folder()
    assert QGuiApplication.clipboard().text() == str(window.scripts.path)
    assert "copied to the clipboard" in panel.message.text()

    opened = []
    panel.editor = lambda path: opened.append(path) or True
    panel.edit_button.click()
    assert opened == [str(script)]
    assert "in your editor" in panel.message.text()


def test_an_acquisition_from_the_console_shows_in_the_panel_and_obeys_its_buttons(qtbot, window):
    from app import Acquisition, multi_d_acquisition_events
    from app.acquisition.state import RunState

    panel = window.acquisition_panel
    acq = Acquisition(name="from_console")  # kept in memory, shown: as in a notebook
    acq.acquire(multi_d_acquisition_events(num_time_points=2000, time_interval_s=0.02))
    try:
        qtbot.waitUntil(lambda: window.acquisitions.followed.other is acq, timeout=5000)
        qtbot.waitUntil(lambda: "Acquiring:" in panel.progress_label.text(), timeout=5000)
        assert panel.abort_button.isEnabled() and panel.pause_button.isEnabled()
        assert not panel.start_button.isEnabled()
        assert not window.microscope_panel.isEnabled()  # no Snap under it
        qtbot.waitUntil(
            lambda: (
                "acquiring 'from_console', started from the console or a script"
                in window.status_line.text.text()
            ),
            timeout=5000,
        )
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: acq.status.state is RunState.PAUSING, timeout=5000)
        qtbot.waitUntil(lambda: "Paused:" in panel.progress_label.text(), timeout=5000)
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: acq.status.state is RunState.RUNNING, timeout=5000)
        qtbot.mouseClick(panel.abort_button, Qt.MouseButton.LeftButton)
        acq.await_completion()
    finally:
        acq.abort()
    assert acq.status.state is RunState.ABORTED
    qtbot.waitUntil(lambda: window.acquisitions.followed.other is None, timeout=5000)
    said = panel.progress_label.text()
    assert said.startswith("Aborted:") and "started from the console or a script" in said
    assert panel.start_button.isEnabled() and not panel.abort_button.isEnabled()
    assert window.microscope_panel.isEnabled()


def test_what_a_script_left_changed_is_marked_with_one_click_to_put_it_back(qtbot, window, core):
    from app import Acquisition

    panel = window.acquisition_panel
    core.setExposure(10)
    with Acquisition(name="script") as acq:  # as the README's example: Z, FITC, 50 ms
        acq.acquire(
            {"axes": {"time": 0}, "z": 6.0, "config_group": ["Channel", "FITC"], "exposure": 50}
        )
    qtbot.waitUntil(
        lambda: window.acquisitions.followed.other is None and acq.is_finished(), timeout=10000
    )
    qtbot.waitUntil(lambda: panel.put_back_button.isVisible(), timeout=5000)
    said = panel.hardware_left.text()
    assert "Z 0.00 → 6.00 µm" in said
    assert "Channel DAPI → FITC" in said
    assert "exposure 10 → 50 ms" in said
    qtbot.mouseClick(panel.put_back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.put_back_button.isVisible(), timeout=5000)
    assert core.getPosition() == 0.0
    assert core.getCurrentConfig("Channel") == "DAPI"
    assert core.getExposure() == 10


def test_the_processors_panel_says_which_acquisitions_run_its_pipeline(window):
    panel = window.processors_panel
    assert "acquisitions started from this window" in panel.runs_where.text()
    assert "runs only what it is given" in panel.runs_where.text()
    assert "image_process_fn=processors" in panel.table.horizontalHeaderItem(ON).toolTip()
    assert "whether On is ticked or not" in panel.table.horizontalHeaderItem(LIVE).toolTip()


def test_a_fixed_script_says_it_loaded_again_with_the_time(qtbot, window):
    script = window.scripts.path / "brighten.py"
    good = (
        "from app import processor\n\n@processor\ndef brighten(image, metadata):\n"
        "    return image, metadata\n"
    )
    script.write_text(good, encoding="utf-8")
    panel = window.scripts_panel
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=15000)
    first = panel.table.item(0, 1).text()
    assert first.startswith("loaded ") and first.count(":") == 2  # loaded HH:MM:SS
    script.write_text(good.replace("metadata):", "metadata)"), encoding="utf-8")  # broken
    qtbot.waitUntil(lambda: "error" in panel.table.item(0, 1).text(), timeout=5000)
    qtbot.waitUntil(lambda: "SyntaxError" in window.log_panel.toPlainText(), timeout=5000)
    script.write_text(good + "\n# fixed\n", encoding="utf-8")
    qtbot.waitUntil(lambda: panel.table.item(0, 1).text().startswith("loaded "), timeout=5000)
    qtbot.waitUntil(
        lambda: (
            "brighten.py loaded again, its error fixed: brighten" in window.log_panel.toPlainText()
        ),
        timeout=5000,
    )
    panel.table.selectRow(0)
    assert panel.details.toPlainText().startswith("Loaded at ")


def test_the_empty_viewer_shows_no_scale_bar_nor_histogram_until_an_image(qtbot, window):
    viewer = window.viewer
    assert viewer.image is None
    assert not viewer.scale_bar.isVisible()
    assert viewer.histogram.opacity() == 0  # its room kept: the view does not move later
    qtbot.mouseClick(window.microscope_panel.snap_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.image is not None, timeout=5000)
    assert viewer.scale_bar.isVisible()
    # the histogram with its data, painted in a turn after the image's
    qtbot.waitUntil(lambda: viewer.histogram.opacity() == 1, timeout=1000)
    assert len(viewer.histogram.plot.getData()[0]) > 0
    assert viewer.hint.isHidden()


def test_the_scripting_api_reference_shows_no_notes_for_developers(window):
    dialog = window.help_menu.show_scripting_api()
    text = dialog.browser.toPlainText()
    assert "Scopeflow scripting API reference" in text
    assert "make_api_reference" not in text and "do not edit" not in text
    assert "app/processing/" not in text and "app/current.py" not in text
    dialog.close()


def test_a_reopened_time_lapse_shows_seconds_on_its_time_slider(qtbot, window, tmp_path):
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(directory=str(tmp_path), name="tl", show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5, time_interval_s=0.1))
    window.datasets.open_dataset(acq.dataset_path)
    sliders = window.browser.sliders
    qtbot.waitUntil(lambda: sliders.label("time").startswith("time: 0, 0.0 s"), timeout=5000)
    sliders.slider("time").setValue(4)
    qtbot.waitUntil(lambda: " s  (5/5)" in sliders.label("time"), timeout=5000)


def test_the_side_panels_take_the_windows_height(window):
    from PyQt6.QtCore import Qt as QtCore

    assert window.corner(QtCore.Corner.BottomLeftCorner) == QtCore.DockWidgetArea.LeftDockWidgetArea
    assert (
        window.corner(QtCore.Corner.BottomRightCorner) == QtCore.DockWidgetArea.RightDockWidgetArea
    )


def test_the_console_listing_says_what_each_switch_is(window):
    def flatten(image, metadata):
        return image, metadata

    window.registry.register(flatten, source="console")
    _tick(window, "flatten", ON, False)
    _tick(window, "flatten", LIVE, True)
    assert "flatten (off for acquisitions) [on Live]" in repr(window.registry)


def _script_moves_the_microscope(qtbot, window, z: float = 6.0):
    from app import Acquisition

    with Acquisition(name="script") as acq:
        acq.acquire({"axes": {"time": 0}, "z": z, "config_group": ["Channel", "FITC"]})
    qtbot.waitUntil(lambda: window.acquisition_panel.put_back_button.isVisible(), timeout=10000)
    return acq


def test_keep_forgets_where_the_microscope_was(qtbot, window, core):
    from app import Acquisition

    panel = window.acquisition_panel
    _script_moves_the_microscope(qtbot, window)
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert not panel.put_back_button.isVisible()
    assert window.acquisitions.followed.before is None
    with Acquisition(name="still") as acq:  # moves nothing: nothing to mark
        acq.acquire({"axes": {"time": 0}})
    qtbot.waitUntil(
        lambda: window.acquisitions.followed.other is None and acq.is_finished(), timeout=10000
    )
    qtbot.wait(600)  # a status tick or two
    assert not panel.put_back_button.isVisible()
    assert core.getPosition() == 6.0  # kept


def test_put_back_waits_for_a_running_acquisition(qtbot, window, core):
    from app import Acquisition, multi_d_acquisition_events

    panel = window.acquisition_panel
    _script_moves_the_microscope(qtbot, window)
    acq = Acquisition(name="long")
    acq.acquire(multi_d_acquisition_events(num_time_points=500, time_interval_s=0.02))
    try:
        qtbot.waitUntil(lambda: window.acquisitions.followed.other is acq, timeout=5000)
        assert not panel.put_back_button.isVisible()  # hidden while it runs
        assert window.acquisitions.followed.put_back() == ["an acquisition is running"]
        assert core.getPosition() == 6.0  # not moved under it
    finally:
        acq.abort()
        acq.await_completion()
    qtbot.waitUntil(lambda: panel.put_back_button.isVisible(), timeout=5000)  # marked again
    qtbot.mouseClick(panel.put_back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: core.getPosition() == 0.0, timeout=5000)  # the first one's start


def test_another_microscope_forgets_the_old_ones_positions(qtbot, own_window):
    window = own_window
    _script_moves_the_microscope(qtbot, window)
    assert window.configurations.load_configuration(None) is True  # the simulated microscope again
    assert window.acquisitions.followed.before is None
    assert not window.acquisition_panel.put_back_button.isVisible()


def test_the_own_editor_reads_the_file_again_and_never_overwrites_a_newer_one(qtbot, window):
    panel = window.scripts_panel
    panel.editor = lambda path: False
    script = window.scripts.path / "notes.py"
    script.write_text("x = 1\n", encoding="utf-8")
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=15000)
    panel.table.selectRow(0)
    panel.edit_button.click()
    editor = panel.editors[str(script)]
    editor.close()
    script.write_text("x = 2  # changed in another editor\n", encoding="utf-8")
    panel.edit_button.click()  # shown again: the file as it is now
    assert editor.text.toPlainText() == "x = 2  # changed in another editor\n"
    editor.text.setPlainText("x = 3\n")
    script.write_text("x = 4  # changed again elsewhere, meanwhile\n", encoding="utf-8")
    editor.overwrite_changed = lambda: False  # the user answers No
    assert not editor.save()
    assert script.read_text(encoding="utf-8").startswith("x = 4")
    assert "changed elsewhere" in editor.message.text()
    editor.overwrite_changed = lambda: True
    assert editor.save()
    assert script.read_text(encoding="utf-8") == "x = 3\n"
    assert not [p for p in script.parent.iterdir() if p.name.endswith(".tmp")]
    editor.close()


def test_a_relative_folder_lands_in_the_data_folder_and_is_said_in_full(
    core, tmp_path, monkeypatch
):
    from pathlib import Path

    from app import Acquisition, multi_d_acquisition_events
    from app.ui.shell import main

    monkeypatch.chdir(tmp_path / "..")  # wherever the app was started from; restored after
    monkeypatch.setattr("app.preferences.data_folder", lambda: tmp_path / "data")
    main._work_in_data_folder()  # as run_app does before the window opens
    assert Path.cwd() == tmp_path / "data"
    with Acquisition(directory="data", name="run", show_display=False) as acq:  # the README's
        acq.acquire(multi_d_acquisition_events(num_time_points=1))
    assert acq.dataset_path == str(tmp_path / "data" / "data" / "run_1")


def test_the_window_title_names_the_microscope_and_about_its_configuration(qtbot, own_window):
    from tests.mm_folders import demo_configuration

    window = own_window
    assert window.windowTitle() == "Scopeflow — the simulated microscope"
    copy = window.settings.path.parent / "MyScope.cfg"
    copy.write_text(demo_configuration().read_text())
    assert window.configurations.load_configuration(str(copy)) is True
    assert window.windowTitle() == "Scopeflow — MyScope.cfg"
    assert f"Configuration: {copy}" in window.help_menu.about_text()
