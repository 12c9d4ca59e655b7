"""Channels in the viewer: each in its colour, composite or one at a time, remembered by
name; and the play buttons of the axis sliders."""

from __future__ import annotations

import json
import logging

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtWidgets import QAbstractSlider

from app.processing.channel_display import (
    ChannelDisplay,
    ChannelLook,
    follow_current_channel,
)
from app.processing.colour_tables import COLOUR_TABLES, colour_table, default_colour
from app.processing.composite import ChannelComposer, ColourPlanes, Layer
from app.processing.contrast import to_uint8
from app.processing.display import DisplaySettings
from app.processing.screen_pixels import rgb_of
from tests.windows import new_window

# ------------------------------------------------------------------ the model, no Qt


def test_channels_start_with_the_colour_their_name_says():
    assert [default_colour(n, 0) for n in ("DAPI", "FITC", "Cy5", "Rhodamine")] == [
        "Blue",
        "Green",
        "Magenta",
        "Red",
    ]
    assert default_colour("EGFP", 3) == "Green" and default_colour("Hoechst 33342", 2) == "Blue"
    # a name that says nothing: the cycle, by the channel's place
    assert [default_colour("Chan", i) for i in range(3)] == ["Green", "Magenta", "Cyan"]
    assert colour_table("Green")[255].tolist() == [0, 255, 0]
    assert colour_table("Viridis").shape == (256, 3)


def test_colours_add_and_saturate_instead_of_wrapping():
    planes = ColourPlanes()
    full = np.full((4, 4), 1000, np.uint16)
    half = np.full((4, 4), 500, np.uint16)
    rgba = planes.rgba([(full, (0, 1000), "Green"), (half, (0, 1000), "Cyan")], (4, 4))
    assert rgba.shape == (4, 4, 4) and rgba.dtype == np.uint8
    red, green, blue, alpha = (int(rgba[0, 0, k]) for k in range(4))
    assert (red, green, alpha) == (0, 255, 255)  # 255 + 127 stops at 255
    assert blue == pytest.approx(127, abs=1)
    assert planes.rgba([], (4, 4))[..., :3].max() == 0  # nothing visible: black
    viridis = planes.rgba([(full, (0, 1000), "Viridis")], (4, 4))
    assert viridis[0, 0, :3].tolist() == colour_table("Viridis")[255].tolist()


def test_a_composite_maps_again_only_the_layers_that_changed_and_shows_what_a_fresh_one_does(
    monkeypatch,
):
    """While acquiring several channels each composite brings one new frame: the other
    layers' coloured planes are kept (not mapped again), and every composite is the one
    planes made afresh would show, whatever changed (a frame, levels, a colour, a layer
    gone or back)."""
    from app.processing import composite as composite_module

    mapped: list[str] = []
    real = composite_module._colour_planes

    def counting(image, levels, colour):
        mapped.append(colour)
        return real(image, levels, colour)

    monkeypatch.setattr(composite_module, "_colour_planes", counting)
    rng = np.random.default_rng(1)

    def frame():
        return rng.integers(0, 4000, (6, 5), dtype=np.uint16)

    a, b, c = frame(), frame(), frame()
    kept = ColourPlanes(for_screen=True)
    steps = [
        [(a, (0, 4000), "Blue", a), (b, (0, 4000), "Green", b), (c, (0, 4000), "Magenta", c)],
        [(a, (0, 4000), "Blue", a), (b, (0, 4000), "Green", b), (c, (0, 4000), "Magenta", c)],
        [
            (a, (0, 4000), "Blue", a),
            (b2 := frame(), (0, 4000), "Green", b2),
            (c, (0, 4000), "Magenta", c),
        ],
        [(a, (0, 2000), "Blue", a), (b2, (0, 4000), "Green", b2), (c, (0, 4000), "Magenta", c)],
        [(a, (0, 2000), "Blue", a), (b2, (0, 4000), "Viridis", b2), (c, (0, 4000), "Magenta", c)],
        [(a, (0, 2000), "Blue", a), (c, (0, 4000), "Magenta", c)],
        [(a, (0, 2000), "Blue", a), (c, (0, 4000), "Magenta", c), (b2, (0, 4000), "Green", b2)],
        [(a, (0, 2000), "Blue", a)],
        [],
    ]
    counts = []
    for layers in steps:
        before = len(mapped)
        shown = kept.screen(layers, (6, 5))
        counts.append(len(mapped) - before)
        fresh = ColourPlanes(for_screen=True).screen([layer[:3] for layer in layers], (6, 5))
        assert np.array_equal(shown, fresh)
    # mapped: all three; none; the new frame; the new levels; the new colour; the layer
    # now in second place; the one added back in third place; none; none
    assert counts == [3, 0, 1, 1, 1, 1, 1, 0, 0]


def test_a_composite_zoomed_to_another_stride_of_the_same_shape_is_mapped_again():
    """One pixel in 3 and one in 4 of a 5x5 frame are both 2x2: the layer kept from the
    first must not stand for the second."""
    rng = np.random.default_rng(2)
    a, b = (rng.integers(0, 4000, (5, 5), dtype=np.uint16) for _ in range(2))
    planes = ColourPlanes(for_screen=True)

    def layers(stride):
        return [
            Layer(f[::stride, ::stride], (0, 4000), c, f) for f, c in ((a, "Blue"), (b, "Green"))
        ]

    planes.screen(layers(3), (2, 2))
    shown = planes.screen(layers(4), (2, 2))
    fresh = ColourPlanes(for_screen=True).screen([layer[:3] for layer in layers(4)], (2, 2))
    assert np.array_equal(shown, fresh)


def test_another_dataset_lets_go_of_the_frames_kept_for_composites():
    """Frames kept in memory go back to their pool when the viewer shows another
    dataset: the composer's planes hold none of them."""
    import gc
    import weakref

    channels = ChannelDisplay()
    channels.add_names(["A", "B"])
    composer = ChannelComposer()
    frames = {name: np.full((8, 8), 10 * (i + 1), np.uint16) for i, name in enumerate("AB")}
    for name, image in frames.items():
        composer.remember({"time": 0, "channel": name}, image)
    composite = composer.compose(channels, {"time": 0, "channel": "A"}, 1, latest_ok=True)
    assert composite is not None
    gone = [weakref.ref(image) for image in frames.values()]
    del frames, image, composite
    composer.use_dataset(object())
    gc.collect()
    assert all(ref() is None for ref in gone)


def test_a_composite_reads_the_other_channels_where_the_current_one_is():
    images = {"A": np.full((8, 8), 10, np.uint16), "B": np.full((8, 8), 20, np.uint16)}

    class Dataset:  # the reading API of a dataset, two channels at time 0
        def has_image(self, channel, time):
            return time == 0

        def read_image(self, channel, time):
            return images[channel]

    channels = ChannelDisplay()
    channels.add_names(["A", "B"])
    channels.set_look("A", colour="Red", auto_levels=False, levels=(0, 10))
    channels.set_look("B", colour="Green", auto_levels=False, levels=(0, 20))
    composer = ChannelComposer()
    composer.use_dataset(Dataset())
    composite = composer.compose(channels, {"time": 0, "channel": "A"}, 1, latest_ok=False)
    assert composite is not None and composite.image is images["A"]
    assert rgb_of(composite.display)[0, 0].tolist() == [255, 255, 0]
    assert set(composite.shown) == {"A", "B"} and composite.levels == (0, 10)
    channels.set_look("B", visible=False)
    composite = composer.compose(channels, {"time": 0, "channel": "A"}, 2, latest_ok=False)
    assert composite.display.shape == (4, 4)  # screen pixels, one in 2 of each axis
    assert rgb_of(composite.display)[0, 0].tolist() == [255, 0, 0]
    # time 1 is not there: the latest frame of each channel stands in only when following
    channels.set_look("B", visible=True)
    later = np.full((8, 8), 5, np.uint16)
    composer.remember({"time": 1, "channel": "A"}, later)
    assert composer.compose(channels, {"time": 1, "channel": "A"}, 1, False).shown.keys() == {"A"}
    following = composer.compose(channels, {"time": 1, "channel": "A"}, 1, latest_ok=True)
    assert following.shown.keys() == {"A", "B"} and following.image is later


def test_the_viewer_settings_follow_the_current_channel_both_ways():
    settings = DisplaySettings(lookup_table="Inferno")
    channels = ChannelDisplay()
    follow_current_channel(channels, settings)
    channels.add_names(["DAPI", "FITC"])
    channels.current = "FITC"
    assert settings.lookup_table == "Green" and settings.auto_levels
    settings.auto_levels = False  # the Auto box unticked: the levels shown are kept
    settings.levels = (5.0, 50.0)  # the histogram dragged
    assert channels.look("FITC") == ChannelLook("Green", (5.0, 50.0), False, True)
    channels.set_look("FITC", colour="Magenta")  # from the channel strip
    assert settings.lookup_table == "Magenta"
    channels.current = "DAPI"
    assert settings.lookup_table == "Blue" and settings.auto_levels
    channels.clear_names()  # Live again: what Live had before
    assert settings.lookup_table == "Inferno"


def test_looks_saved_as_json_come_back_and_bad_entries_are_ignored(caplog):
    channels = ChannelDisplay()
    channels.set_look("DAPI", colour="Cyan", levels=(1.0, 2.0), auto_levels=False, visible=False)
    saved = json.loads(json.dumps(channels.looks_to_json()))
    again = ChannelDisplay()
    with caplog.at_level(logging.WARNING, "app.processing.channel_display"):
        again.restore_looks({**saved, "FITC": {"colour": "Plaid"}, "Cy5": [1, 2]})
    assert again.looks == {"DAPI": channels.look("DAPI")}
    assert "'FITC'" in caplog.text and "'Cy5'" in caplog.text


# ------------------------------------------------------------------ in the window


def _finished(window) -> bool:
    return not window.controller.running and window.acquisition_panel.start_button.isEnabled()


def _acquire_two_channels(
    qtbot, window, save: bool = False, time_points: int = 2, interval_s: float = 0.2, z=True
):
    """DAPI and FITC, 2 time points 0.2 s apart (the second is shown while followed:
    frames that all come before the display's first tick are never shown), 2 z, from
    the Acquisition panel."""
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(time_points)
    panel.interval.setValue(interval_s)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 2)
    panel.set_channel("FITC", True, 5)
    if z:
        panel.z_box.setChecked(True)
        panel.z_start.setValue(-1)
        panel.z_end.setValue(0)
        panel.z_step.setValue(1)
    panel.save_box.setChecked(save)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    return window.controller.acquisition


def _drawn(window) -> np.ndarray:
    """What the image item draws: RGB (h, w, 3) for the screen pixels the frame
    preparer made (a composite, or a frame of the stream), else the image pyqtgraph
    colours (8-bit values and the item's table)."""
    item = window.viewer.item
    screen = item.screen_rgb()
    return screen if screen is not None else item.image


def _painted(window) -> np.ndarray:
    """The pixels the image item paints (RGBA), through its own ``paint``."""
    from PyQt6.QtGui import QImage, QPainter

    item = window.viewer.item
    rect = item.boundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_RGBA8888)
    image.fill(0)
    painter = QPainter(image)
    item.paint(painter)
    painter.end()
    return pg.functions.ndarray_from_qimage(image).copy()  # a view: the image goes


def _wait_composite(qtbot, window, check=lambda rgba: True) -> np.ndarray:
    def shown() -> bool:
        drawn = _drawn(window)
        composite = window.viewer.item.showing_composite
        return composite and drawn is not None and check(drawn)

    qtbot.waitUntil(shown, timeout=5000)
    return _drawn(window)


def test_the_composite_shows_each_channel_in_its_colour(qtbot, window):
    acq = _acquire_two_channels(qtbot, window)
    channels = window.viewer.channels
    assert set(channels.names) == {"DAPI", "FITC"} and channels.composite_active
    assert channels.look("DAPI").colour == "Blue" and channels.look("FITC").colour == "Green"
    strip = window.channel_strip
    assert strip.isVisible() and set(strip.rows) == {"DAPI", "FITC"}
    assert strip.composite_button.isChecked()
    # followed while acquiring: the last frame shown is a composite of both
    rgba = _wait_composite(qtbot, window)
    assert rgba[..., 1].max() > 0 and rgba[..., 2].max() > 0

    # browse (0 first: the slider may already be at 1, and then the window keeps
    # following the acquisition, whose newest frame may be another one)
    window.sliders.slider("time").setValue(0)
    window.sliders.slider("time").setValue(1)
    axes = window.sliders.current_axes()
    dataset = acq.get_dataset()
    # the viewer's image stays the current channel's raw frame (measuring tools read it)
    assert np.array_equal(window.viewer.image, dataset.read_image(**axes))
    both = _wait_composite(qtbot, window, lambda rgba: rgba[..., 2].max() > 0)
    assert both[..., 1].max() > 0  # FITC's green
    painted = _painted(window)
    assert painted[..., 1].max() > 0 and painted[..., 2].max() > 0

    # FITC on fixed levels, DAPI hidden: only FITC's green, exactly its mapping
    strip.rows["FITC"].levels.setValue((10, 120))
    assert channels.look("FITC").levels == (10, 120) and not channels.look("FITC").auto_levels
    strip.rows["DAPI"].visible.setChecked(False)
    fitc = dataset.read_image(**{**axes, "channel": "FITC"})

    def fitc_alone(rgba: np.ndarray) -> bool:
        """The newest composite is FITC's mapping on its levels, and nothing else (a
        composite prepared before the last change may still be on screen a moment)."""
        stride = window.viewer.settings.stride
        expected = to_uint8(fitc[::stride, ::stride], 10, 120)
        return (
            rgba[..., 2].max() == 0
            and rgba.shape[:2] == expected.shape
            and np.abs(rgba[..., 1].astype(int) - expected).max() <= 1
        )

    green_only = _wait_composite(qtbot, window, fitc_alone)
    assert not np.array_equal(green_only, both)  # hiding a channel changed the image
    assert green_only[..., 0].max() == 0  # green has no red or blue
    assert green_only[..., 1].max() > 0
    painted = _painted(window)
    assert painted[..., 2].max() == 0 and painted[..., 1].max() > 0


def test_one_channel_mode_shows_only_the_current_channel(qtbot, window):
    acq = _acquire_two_channels(qtbot, window)
    dataset = acq.get_dataset()
    strip, sliders, viewer = window.channel_strip, window.sliders, window.viewer
    values = list(dataset.axes["channel"])
    sliders.slider("channel").setValue(values.index("FITC"))
    _wait_composite(qtbot, window)
    qtbot.mouseClick(strip.one_channel_button, Qt.MouseButton.LeftButton)
    assert not viewer.channels.composite and not viewer.channels.composite_active
    axes = sliders.current_axes()
    fitc = dataset.read_image(**axes)
    stride = viewer.settings.stride
    qtbot.waitUntil(lambda: _drawn(window).ndim == 2, timeout=5000)
    assert np.array_equal(_drawn(window), to_uint8(fitc[::stride, ::stride], *viewer.levels))
    assert viewer.item.lut[-1][:3].tolist() == [0, 255, 0]  # FITC in its green
    assert viewer.lut_box.currentText() == "Green" and strip.rows["FITC"].visible.font().bold()

    sliders.slider("channel").setValue(values.index("DAPI"))
    dapi = dataset.read_image(**sliders.current_axes())
    assert np.array_equal(viewer.image, dapi)
    assert np.array_equal(_drawn(window), to_uint8(dapi[::stride, ::stride], *viewer.levels))
    assert viewer.item.lut[-1][:3].tolist() == [70, 150, 255]  # DAPI in its blue
    # the LUT box changes the current channel's colour
    viewer.lut_box.setCurrentText("Cyan")
    assert viewer.channels.look("DAPI").colour == "Cyan"
    assert strip.rows["DAPI"].colour.currentText() == "Cyan"

    qtbot.mouseClick(strip.composite_button, Qt.MouseButton.LeftButton)
    rgba = _wait_composite(qtbot, window)
    assert rgba.shape[:2] == dapi[::stride, ::stride].shape


def test_colours_levels_and_visibility_are_remembered_by_channel_name(qtbot, core, tmp_path):
    settings_path = str(tmp_path / "remember.json")
    first = new_window(qtbot, core, settings_path, tmp_path)
    first.acquisition_panel.directory.setText(str(tmp_path / "data"))
    first.show()
    acq = _acquire_two_channels(qtbot, first, save=True)
    rows = first.channel_strip.rows
    rows["FITC"].colour.setCurrentIndex(COLOUR_TABLES.index("Magenta"))
    rows["FITC"].levels.setValue((10, 200))
    rows["DAPI"].visible.setChecked(False)
    qtbot.mouseClick(first.channel_strip.one_channel_button, Qt.MouseButton.LeftButton)
    first.close()

    second = new_window(qtbot, core, settings_path, tmp_path)
    second.show()
    channels = second.viewer.channels
    assert channels.look("FITC") == ChannelLook("Magenta", (10.0, 200.0), False, True)
    assert not channels.look("DAPI").visible and not channels.composite
    second.datasets.open_dataset(acq.dataset_path)  # another dataset with the same channel names
    strip = second.channel_strip
    assert strip.isVisible() and strip.one_channel_button.isChecked()
    assert strip.rows["FITC"].colour.currentText() == "Magenta"
    assert tuple(strip.rows["FITC"].levels.value()) == (10.0, 200.0)
    assert not strip.rows["FITC"].auto.isChecked()
    assert not strip.rows["DAPI"].visible.isChecked()
    # the NDTiff dataset in composite: FITC alone (DAPI hidden), in magenta
    qtbot.mouseClick(strip.composite_button, Qt.MouseButton.LeftButton)
    rgba = _wait_composite(qtbot, second)
    assert rgba[..., 0].max() > 0 and rgba[..., 2].max() > 0 and rgba[..., 1].max() == 0
    second.close()


def test_play_steps_through_time_loops_and_pauses(qtbot, window):
    acq = _acquire_two_channels(qtbot, window)
    dataset = acq.get_dataset()
    sliders = window.sliders
    time_slider = sliders.slider("time")
    player = sliders.player("time")
    assert sliders.player("z").button.isVisible()  # z plays too
    player.fps.setValue(30)
    seen: list[int] = []
    time_slider.valueChanged.connect(seen.append)
    start = time_slider.value()
    qtbot.mouseClick(player.button, Qt.MouseButton.LeftButton)
    assert player.playing
    # 2 time points: forward, then back to the first (looping), more than once
    qtbot.waitUntil(lambda: len(seen) >= 4, timeout=5000)
    assert seen[:4] == [1 - start, start, 1 - start, start]
    assert not sliders.follow.isChecked()  # browsing, as a move of the slider
    axes = sliders.current_axes()
    assert np.array_equal(window.viewer.image, dataset.read_image(**axes))

    qtbot.mouseClick(player.button, Qt.MouseButton.LeftButton)  # pause
    assert not player.playing
    stopped_at, count = time_slider.value(), len(seen)
    qtbot.wait(300)
    assert time_slider.value() == stopped_at and len(seen) == count

    # playing again, the user's own move of the slider pauses it
    qtbot.mouseClick(player.button, Qt.MouseButton.LeftButton)
    assert player.playing
    time_slider.triggerAction(QAbstractSlider.SliderAction.SliderSingleStepAdd)
    assert not player.playing and not player.button.isChecked()
    # and so does going back to the newest image
    qtbot.mouseClick(sliders.player("z").button, Qt.MouseButton.LeftButton)
    assert sliders.player("z").playing
    sliders.follow.setChecked(True)
    assert not sliders.player("z").playing


def test_following_a_composite_keeps_the_histograms_channel(qtbot, window, monkeypatch):
    """While a multi-channel acquisition is followed in composite mode, the frames come
    channel after channel; the histogram, its colours, the LUT box and the channel
    slider stay on one channel (they changed at every frame before)."""
    shown_channels = []
    real_show = window.viewer.show_prepared

    def recording(frame):
        if frame.display is not None and frame.composite:
            shown_channels.append(frame.channel)
        real_show(frame)

    monkeypatch.setattr(window.viewer, "show_prepared", recording)
    _acquire_two_channels(qtbot, window, time_points=40, interval_s=0.05, z=False)
    assert len(shown_channels) >= 5  # composites shown while following
    assert len(set(shown_channels)) == 1  # all on one channel
    current = shown_channels[0]
    # at the end, the last time point's composite, still on that channel (the last
    # image saved is the other channel's: showing it moved the histogram at the end)
    qtbot.waitUntil(lambda: window.sliders.current_axes().get("time") == 39, timeout=5000)
    assert window.viewer.channels.current == current
    assert window.sliders.current_axes() == {"time": 39, "channel": current}


def test_a_channel_arriving_adds_its_row_and_keeps_the_others(qtbot):
    """An acquisition brings its channels one by one: rows already made are kept (each
    costs milliseconds on the GUI thread), in the channels' order."""
    from app.processing.channel_display import ChannelDisplay
    from app.ui.display.channel_strip import ChannelStrip

    channels = ChannelDisplay()
    strip = ChannelStrip(channels)
    qtbot.addWidget(strip)
    channels.add_names(["DAPI"])
    dapi = strip.rows["DAPI"]
    channels.add_names(["DAPI", "FITC"])
    assert strip.rows["DAPI"] is dapi
    assert list(strip.rows) == ["DAPI", "FITC"]
    assert not strip.isHidden()  # two channels: the strip is shown


def test_channel_rows_are_made_ahead_and_go_from_channel_to_channel(qtbot):
    """A row is 7 ms of the GUI thread: rows wait, made in idle turns once the strip is
    made, so an acquisition's channels take rows already made; a channel gone gives its
    row back, and the row then speaks of the channel it is given to."""
    from app.processing.channel_display import ChannelDisplay
    from app.processing.colour_tables import COLOUR_TABLES
    from app.ui.display import channel_strip
    from app.ui.display.channel_strip import SPARE_ROWS, ChannelStrip

    channels = ChannelDisplay()
    strip = ChannelStrip(channels)
    qtbot.addWidget(strip)
    strip.show()
    qtbot.waitUntil(lambda: len(strip.spare_rows) == SPARE_ROWS, timeout=5000)
    made_ahead = list(strip.spare_rows)
    assert not any(widget.isVisible() for row in made_ahead for widget in row.widgets())

    made_now: list[object] = []
    real_row = channel_strip.ChannelRow

    class CountedRow(real_row):  # type: ignore[misc,valid-type]
        def __init__(self, *args, **kwargs) -> None:
            made_now.append(self)
            super().__init__(*args, **kwargs)

    channel_strip.ChannelRow = CountedRow  # type: ignore[misc]
    try:
        channels.add_names(["DAPI", "FITC", "Cy5"])
        assert made_now == []  # three channels, three rows made ahead
        assert [strip.rows[name] for name in ("DAPI", "FITC", "Cy5")] == made_ahead[:3]
        fitc = strip.rows["FITC"]
        assert fitc.visible.text() == "FITC" and "FITC" in fitc.levels.toolTip()
        assert all(widget.isVisible() for widget in fitc.widgets())

        # DAPI's row in another look (hidden, magenta, manual 12-bit levels, current)
        dapi_row = strip.rows["DAPI"]
        channels.set_look(
            "DAPI", visible=False, colour="Magenta", auto_levels=False, levels=(10.0, 3000.0)
        )
        channels.current = "DAPI"
        assert dapi_row.visible.font().bold() and dapi_row.levels.maximum() == 4095

        # a new dataset's channels: the rows go to them, speaking of them
        channels.clear_names()
        channels.add_names(["GFP", "mCherry"])
        assert made_now == []
        row = strip.rows["mCherry"]
        assert row is dapi_row  # the spare never used first, then the rows given back
        look = channels.look("mCherry")
        assert row.visible.text() == "mCherry" and row.visible.isChecked() == look.visible
        assert row.colour.currentIndex() == COLOUR_TABLES.index(look.colour)
        assert row.auto.isChecked() == look.auto_levels and not row.visible.font().bold()
        assert row.levels.maximum() == 255 and tuple(row.levels.value()) == (0.0, 255.0)
        assert all("mCherry" in widget.toolTip() for widget in row.widgets())
        assert channels.look("DAPI").levels == (10.0, 3000.0)  # giving the row wrote nothing
        # the user's choices on DAPI's old row are mCherry's
        row.levels.setValue((5.0, 100.0))
        assert channels.look("mCherry").levels == (5.0, 100.0)
        assert not channels.look("mCherry").auto_levels
        assert channels.look("DAPI").levels == (10.0, 3000.0)
        row.visible.setChecked(False)
        assert not channels.look("mCherry").visible and channels.look("GFP").visible

        # more channels than rows waiting: the rest are made then
        channels.add_names(["GFP", "mCherry", "A", "B", "C"])
        assert len(made_now) == 5 - SPARE_ROWS
        assert list(strip.rows) == ["GFP", "mCherry", "A", "B", "C"]
    finally:
        channel_strip.ChannelRow = real_row  # type: ignore[misc]


def test_start_lays_out_the_sliders_and_channel_rows_before_the_first_frame(
    qtbot, window, monkeypatch
):
    """Start shows the sliders and the channel rows of the acquisition's axes before its
    first frame, from its events: laid out at its first frames, they resized the view
    and repainted the whole window while frames came at full speed. The view keeps its
    size from the first frame to the end, and the sliders reach the images as they come."""
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(6)
    panel.interval.setValue(0.05)
    panel.channel_box.setChecked(True)
    panel.set_channel("DAPI", True, 2)
    panel.set_channel("FITC", True, 5)
    sliders, viewer = window.browser.sliders, window.viewer
    resized = _Resizes(viewer.graphics)
    at_first_frame: dict[str, object] = {}
    show_prepared = viewer.show_prepared

    def first_noted(frame) -> None:
        if not at_first_frame:
            resized.count = 0  # from here on, none
            at_first_frame.update(
                sliders=sliders.isVisibleTo(window),
                labels=(sliders.label("time"), sliders.label("channel")),
                movable=sliders.slider("time").isEnabled() or sliders.player("time").playing,
                channels=viewer.channels.names,
                rows=list(window.channel_strip.rows),
                strip=window.channel_strip.isVisibleTo(window),
            )
        show_prepared(frame)

    monkeypatch.setattr(viewer, "show_prepared", first_noted)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _finished(window), timeout=30000)
    assert at_first_frame == {
        "sliders": True,
        "labels": ("time: –", "channel: –"),
        "movable": False,  # nothing to move to yet
        "channels": ("DAPI", "FITC"),
        "rows": ["DAPI", "FITC"],
        "strip": True,
    }
    assert resized.count == 0  # from the first frame to the end, the view never moved
    qtbot.waitUntil(lambda: sliders.label("time").endswith("(6/6)"), timeout=5000)
    assert sliders.slider("time").isEnabled() and sliders.player("time").button.isEnabled()
    # the composite's channel: the histogram's, whichever the display showed first
    assert sliders.label("channel").endswith("/2)")


class _Resizes(QObject):
    """Counts the resize events ``widget`` gets from now on."""

    def __init__(self, widget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.count += 1
        return False


def test_an_axis_planned_but_acquired_at_one_value_hides_its_slider_at_the_end(qtbot, window):
    """Aborted after its first time point: the time slider made at Start goes, as for any
    dataset with one time point. With nothing kept, the channels get their rows at Start
    and no slider is made (there is nothing to browse)."""
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=1))
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True, planned={"time": [0, 1, 2], "z": [0]})
    qtbot.waitUntil(lambda: browser.sliders.isVisibleTo(window))  # the next turn
    assert browser.sliders.label("time") == "time: –"
    browser.frame_shown({"time": 0}, dataset.read_metadata(time=0))
    assert browser.sliders.label("time").startswith(
        "time: 0, "
    ) and "(1/1)" in browser.sliders.label("time")
    browser.acquisition_ended()
    assert not browser.sliders.isVisibleTo(window)

    browser.browse(None, follow=True, planned={"time": [0, 1], "channel": ["DAPI", "Cy5"]})
    qtbot.waitUntil(lambda: window.viewer.channels.names == ("DAPI", "Cy5"))
    assert not browser.sliders.isVisibleTo(window)


def test_channels_planned_but_not_acquired_lose_their_rows_at_the_end(qtbot, window):
    """Stopped before its second channel (or a processor renamed the channels): at the
    end the strip keeps the channels the dataset has."""
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2, channel_group="Channel", channels=["DAPI"]
            )
        )
    browser = window.browser
    planned = {"time": [0, 1], "channel": ["DAPI", "FITC"]}
    browser.browse(acq.get_dataset(), follow=True, planned=planned)
    qtbot.waitUntil(lambda: list(window.channel_strip.rows) == ["DAPI", "FITC"])
    browser.acquisition_ended()
    assert window.viewer.channels.names == ("DAPI",)
    assert not window.channel_strip.isVisibleTo(window)  # one channel: no strip


def test_a_composite_ended_between_channels_shows_the_last_image_there_is(qtbot, window):
    """The histogram's channel is FITC; the acquisition stopped after time 1's DAPI: the
    end shows time 1 (DAPI, its only image there), the sliders saying so, rather than
    sliders on an image that does not exist."""
    from app import Acquisition, multi_d_acquisition_events

    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
    )
    with Acquisition(show_display=False) as acq:
        acq.acquire(events[:-1])  # no FITC at time 1
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True)
    window.viewer.channels.add_names(["DAPI", "FITC"])
    metadata = dataset.read_metadata(time=0, channel="FITC")
    browser.frame_shown({"time": 0, "channel": "FITC"}, metadata)
    browser.acquisition_ended()
    assert browser.sliders.current_axes() == {"time": 1, "channel": "DAPI"}
    assert np.array_equal(window.viewer.image, dataset.read_image(time=1, channel="DAPI"))


def test_the_plan_is_laid_out_in_two_turns_rows_then_sliders(qtbot, window):
    """The channel rows in the turn after Start, the sliders in the one after: each part
    lays the window out and repaints it, and both in one turn held the GUI thread the
    longest of Start (``scopeflow bench gui``)."""
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
            )
        )
    browser = window.browser
    turns: list[str] = []  # what each turn of the event loop found laid out

    def note_turn() -> None:
        rows = list(window.channel_strip.rows)
        turns.append(f"rows {rows}, sliders {browser.sliders.isVisibleTo(window)}")
        if len(turns) == 4:
            ticker.stop()

    ticker = QTimer(window)  # a turn's timer, as the plan's: its turns after the plan's
    ticker.setInterval(0)
    ticker.timeout.connect(note_turn)
    browser.browse(
        acq.get_dataset(), follow=True, planned={"time": [0, 1], "channel": ["DAPI", "FITC"]}
    )
    ticker.start()
    try:
        qtbot.waitUntil(lambda: len(turns) == 4)
    finally:
        ticker.stop()
    rows_only, both = "rows ['DAPI', 'FITC'], sliders False", "rows ['DAPI', 'FITC'], sliders True"
    # the rows in the first turn, the sliders in a later one, within two more
    assert turns[0] == rows_only
    first_with_sliders = turns.index(both)
    assert first_with_sliders in (1, 2)
    assert turns == [rows_only] * first_with_sliders + [both] * (4 - first_with_sliders)


def test_what_waits_for_the_plan_is_told_in_a_turn_after_the_sliders(qtbot, window, monkeypatch):
    """Start's acquisition waits for the plan's layout (``laid_out``): told in a turn
    after the sliders', whose layout the window repaints in its own turn; at once with
    nothing planned; and when another dataset is browsed before its turn came."""
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
            )
        )
    browser = window.browser
    order: list[str] = []  # the sliders laid out, the telling, and other turns of the loop
    plan_sliders = browser.sliders.plan

    def sliders_planned(names) -> None:
        plan_sliders(names)
        order.append("sliders")

    monkeypatch.setattr(browser.sliders, "plan", sliders_planned)
    ticker = QTimer(window)  # a turn's timer, as the plan's
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: order.append("turn"))
    browser.browse(
        acq.get_dataset(),
        follow=True,
        planned={"time": [0, 1], "channel": ["DAPI", "FITC"]},
        laid_out=lambda: order.append(f"told, sliders {browser.sliders.isVisibleTo(window)}"),
    )
    ticker.start()
    try:
        qtbot.waitUntil(lambda: "told, sliders True" in order)
    finally:
        ticker.stop()
    sliders, told = order.index("sliders"), order.index("told, sliders True")
    assert "turn" in order[sliders:told]  # another turn came between them
    assert order.count("sliders") == 1
    assert len([o for o in order if o.startswith("told")]) == 1

    told_now: list[str] = []
    browser.browse(None, follow=True, laid_out=lambda: told_now.append("nothing planned"))
    assert told_now == ["nothing planned"]  # at once

    browser.browse(
        acq.get_dataset(),
        follow=True,
        planned={"time": [0, 1]},
        laid_out=lambda: told_now.append("browsed away"),
    )
    browser.browse(None, follow=True)  # before the plan's turn
    assert told_now == ["nothing planned", "browsed away"]


def test_a_frame_shown_before_the_plans_turn_lays_the_plan_out_first(qtbot, window):
    """The plan is laid out in the turn after Start; a frame shown sooner (or the end)
    finds it laid out all the same."""
    from app import Acquisition, multi_d_acquisition_events

    with Acquisition(show_display=False) as acq:
        acq.acquire(
            multi_d_acquisition_events(
                num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
            )
        )
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True, planned={"time": [0, 1], "channel": ["DAPI", "FITC"]})
    assert not browser.sliders.isVisibleTo(window)  # its turn has not come
    axes = {"time": 0, "channel": "DAPI"}
    browser.frame_shown(axes, dataset.read_metadata(**axes))
    assert browser.sliders.isVisibleTo(window)
    assert window.viewer.channels.names == ("DAPI", "FITC")
    assert browser.sliders.label("channel") == "channel: DAPI  (1/2)"
