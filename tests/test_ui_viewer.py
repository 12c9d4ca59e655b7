"""The viewer: contrast, lookup tables, zoomed-out drawing, pixel readout."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from app.ui.display.viewer import ImageViewer


def _viewer(qtbot) -> ImageViewer:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 500)
    viewer.show()
    return viewer


def test_auto_contrast_maps_min_to_black_and_max_to_white(qtbot):
    viewer = _viewer(qtbot)
    image = np.zeros((64, 64), np.uint16)
    image[:, 32:] = 1000
    image[0, 0] = 100
    viewer.set_image(image)
    assert viewer.levels == (0.0, 1000.0)
    drawn = viewer.item.image
    assert drawn[10, 10] == 0 and drawn[10, 40] == 255


def test_manual_levels_turn_auto_off_and_are_kept(qtbot):
    viewer = _viewer(qtbot)
    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    viewer.set_image(image)
    viewer.set_levels(100, 200)
    assert not viewer.auto_box.isChecked()
    viewer.set_image(image + 1)
    assert viewer.levels == (100, 200)
    assert viewer.item.image.max() == 255 and viewer.item.image.min() == 0
    viewer.auto_box.setChecked(True)
    assert viewer.levels[1] > 4000


def test_lookup_table_choice(qtbot):
    viewer = _viewer(qtbot)
    viewer.set_image(np.arange(256, dtype=np.uint16).reshape(16, 16))
    assert viewer.item.lut is None  # grays draw without a table
    viewer.lut_box.setCurrentText("Green")
    lut = viewer.item.lut
    assert lut is not None and lut.shape[0] == 256
    assert tuple(lut[-1][:3]) == (0, 255, 0)


def test_zoomed_out_large_image_draws_fewer_pixels_at_full_coordinates(qtbot):
    viewer = _viewer(qtbot)
    image = np.random.default_rng(1).integers(0, 4000, (2048, 2048), dtype=np.uint16)
    viewer.set_image(image)
    qtbot.wait(50)
    viewer.set_image(image)
    assert viewer.item.image.shape[0] < 2048  # strided: the screen is smaller than the image
    rect = viewer.item.boundingRect()
    assert viewer.item.mapRectToParent(rect).width() == 2048


def test_pixel_value_under_the_cursor(qtbot):
    viewer = _viewer(qtbot)
    image = np.zeros((32, 32), np.uint16)
    image[5, 7] = 1234
    viewer.set_image(image)
    seen = []
    viewer.pixelHovered.connect(lambda x, y, v: seen.append((x, y, v)))
    scene_point = viewer.view.mapViewToScene(pg.Point(7.5, 5.5))
    viewer._mouse_moved(scene_point)
    assert seen == [(7, 5, 1234.0)]


def test_the_widgets_follow_the_display_model(qtbot):
    from app.ui.display.viewer import ImageViewer

    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.settings.lookup_table = "Green"
    assert viewer.lut_box.currentText() == "Green"
    viewer.settings.auto_levels = False
    assert not viewer.auto_box.isChecked()
    viewer.auto_box.setChecked(True)
    assert viewer.settings.auto_levels


def test_frames_are_prepared_from_the_model_not_the_widget(qtbot):
    import numpy as np

    from app.processing.display import DisplaySettings, LatestFrameSlot
    from app.ui.display.frame_preparer import FramePreparer

    settings = DisplaySettings(levels=(100.0, 200.0), auto_levels=False, stride=2)
    preparer = FramePreparer(settings)
    source: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = source
    preparer.start()
    try:
        source.put(np.full((8, 8), 150, np.uint16), {"Axes": {}})
        qtbot.waitUntil(lambda: preparer.prepared.peek() is not None, timeout=5000)
    finally:
        preparer.stop()
    frame, _ = preparer.prepared.take()
    assert frame.levels == (100.0, 200.0) and frame.stride == 2
    assert frame.values.shape == (4, 4) and int(frame.values[0, 0]) == 127
    assert int(frame.display[0, 0]) == 0xFF7F7F7F  # grey 127 as the screen holds it


def test_a_channel_streamed_is_made_screen_pixels_in_its_colour_and_painted_as_such(qtbot):
    """The preparer colours a channel's frame into the screen's pixels (Qt converts
    nothing at paint: 0.64 ms instead of 5.8 for 8 bits with a table); the item paints
    exactly those; a table edited by hand in the histogram colours the 8-bit values."""
    import numpy as np
    import pyqtgraph as pg
    from PyQt6.QtGui import QImage, QPainter

    from app.processing.colour_tables import colour_table
    from app.processing.display import LatestFrameSlot
    from app.processing.screen_pixels import rgb_of
    from app.ui.display.frame_preparer import FramePreparer
    from app.ui.display.viewer import ImageViewer

    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.channels.add_names(["DAPI"])
    viewer.channels.set_look("DAPI", colour="Blue", auto_levels=False, levels=(0, 1000))
    preparer = FramePreparer(viewer.settings, viewer.channels)
    source: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = source
    preparer.start()
    try:
        ramp = np.arange(64, dtype=np.uint16).reshape(8, 8) * 15
        source.put(ramp, {"Axes": {"channel": "DAPI"}})
        qtbot.waitUntil(lambda: preparer.prepared.peek() is not None, timeout=5000)
    finally:
        preparer.stop()
    frame, _ = preparer.prepared.take()
    assert frame.channel == "DAPI" and not frame.composite
    expected = colour_table("Blue")[frame.values]
    assert np.array_equal(rgb_of(frame.display), expected)

    viewer.show_channel(frame.channel)
    viewer.show_prepared(frame)
    item = viewer.item
    assert item.showing_screen_pixels
    painted = QImage(8, 8, QImage.Format.Format_RGBA8888)
    painter = QPainter(painted)
    item.paint(painter)
    painter.end()
    assert np.array_equal(pg.functions.ndarray_from_qimage(painted)[..., :3], expected)

    viewer.histogram.gradient.setLength(123)  # resized: it signals, nobody edited it
    viewer.show_prepared(frame)
    assert item.showing_screen_pixels

    viewer.set_lookup_table("Red")  # changed while the frame was on its way
    viewer.show_prepared(frame)
    assert np.array_equal(item.screen_rgb(), colour_table("Red")[frame.values])

    viewer.histogram.gradient.loadPreset("thermal")  # a table edited by hand
    viewer.show_prepared(frame)
    assert not item.showing_screen_pixels and np.array_equal(item.image, frame.values)


def test_the_frame_rate_of_a_time_lapse_does_not_drop_to_zero_between_frames():
    from app.ui.shell.status import RateMeter

    meter = RateMeter()
    rates = []
    for tick in range(40):  # the status timer, every 0.5 s; a frame every 2 s
        now = tick * 0.5
        rates.append(meter.rate(value=int(now // 2), now=now))
    assert rates[8:] == [pytest.approx(0.5)] * 32
    assert meter.rate(value=10, now=20.0) == pytest.approx(0.5)  # the next frame
    assert meter.rate(value=10, now=27.0) == 0.0  # long past 3 frame intervals: stopped


def test_the_frame_rate_of_a_time_lapse_of_bursts_is_its_average_through_its_waits():
    """Five channels 0.1 s apart every 60 s: the rate seen in the waits is the
    time-lapse's (a wait is not a stop), and 0 once it stopped."""
    from app.ui.shell.status import RateMeter

    meter = RateMeter()
    frames, shown = 0, {}
    for tick in range(0, 2 * 600 + 1):  # 10 minutes of the status timer, every 0.5 s
        now = tick * 0.5
        point, into = divmod(now, 60.0)
        frames = int(point) * 5 + min(5, int(into / 0.1) + 1)
        shown[now] = meter.rate(value=frames, now=now)
    # from the third time point on, never 0 in a wait, and near 5 frames a minute
    settled = [rate for now, rate in shown.items() if now >= 125]
    assert min(settled) > 0
    assert all(0.05 < rate < 0.15 for now, rate in shown.items() if now >= 125 and now % 60 > 1)
    assert meter.rate(value=frames, now=600 + 3 * 60 + 1) == 0.0  # three waits long: stopped


def test_a_snap_after_live_is_no_frame_of_live_s_stream(qtbot):
    """The status line starts its rates again when what they count changes."""
    from PyQt6.QtWidgets import QStatusBar

    from app.ui.shell.status import StatusLine

    bar = QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    line.free_space.stop()
    image = np.zeros((4, 4), np.uint16)

    def said(live, live_frames, displayed, now) -> str:
        line.update(None, live_frames, displayed, image, "", live=live, now=now)
        return line.text.text()

    for tick in range(40):  # Live: 20 frames a second, all shown
        text = said(True, tick * 10, tick * 10, tick * 0.5)
    assert "camera 20 fps" in text and "displayed 20 fps" in text
    assert "displayed 0 fps" in said(False, 0, 390, 21.0)  # Live off
    # a Snap a tick later: one frame, no rate of Live's frames over the time between
    assert "displayed 0 fps" in said(False, 0, 391, 21.5)
    assert "displayed 0 fps" in said(False, 0, 391, 22.0)
    # frames one after the other again: a rate from the Snap on (40 frames in 2.5 s)
    for tick in range(4):
        text = said(False, 0, 391 + 10 * (tick + 1), 22.5 + 0.5 * tick)
    assert "displayed 16 fps" in text


def test_fit_one_to_one_and_reset(qtbot):
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 500)
    viewer.show()
    viewer.set_image(np.arange(2048 * 1024, dtype=np.uint16).reshape(1024, 2048))
    viewer.one_to_one()
    (x0, x1), _ = viewer.view.viewRange()
    assert x1 - x0 == pytest.approx(viewer.view.sceneBoundingRect().width(), rel=0.02)
    viewer.fit()
    (x0, x1), _ = viewer.view.viewRange()
    assert x1 - x0 == pytest.approx(2048, rel=0.05)
    viewer.set_levels(10, 20)
    viewer.reset_view()
    assert viewer.auto_levels


def test_scale_bar_in_micrometres_follows_the_zoom(qtbot):
    from app.ui.display.scale_bar import round_length

    assert [round_length(v) for v in (0.7, 1, 3.2, 7, 18, 450)] == [0.5, 1, 2, 5, 10, 200]
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 500)
    viewer.show()
    viewer.set_image(np.zeros((500, 1000), dtype=np.uint16))
    viewer.set_pixel_size(0.5)  # µm per pixel: 1000 px = 500 µm wide
    viewer.fit()
    bar = viewer.scale_bar
    assert bar.text.toPlainText() == "100 µm" and bar.size == pytest.approx(200)
    viewer.view.setRange(xRange=(0, 100), padding=0)  # zoom in: 50 µm wide
    assert bar.text.toPlainText() == "10 µm"
    viewer.scale_box.setChecked(False)
    assert not bar.isVisible()
    viewer.scale_box.setChecked(True)
    viewer.set_pixel_size(0)  # unknown: no bar rather than a wrong one
    assert not bar.isVisible()


def test_logarithmic_histogram(qtbot):
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    image = np.zeros((256, 256), dtype=np.uint16)
    image[:2, :2] = 1000  # a bright bead on a dim background
    viewer.set_image(image)
    viewer.log_box.setChecked(True)
    _, counts = viewer.histogram.plot.getData()
    assert counts.max() == pytest.approx(np.log10(1 + 256 * 256 - 4), rel=0.01)


def test_levels_and_colours_a_frame_brings_reach_the_histogram_at_its_pace(qtbot):
    """Moved at every frame, the histogram's region and gradient were repainted (and
    its ticks remade) at every frame; they follow on the histogram's own timer. What the
    user sets is shown at once."""
    viewer = _viewer(qtbot)
    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    viewer.set_image(image)  # the first frame: the histogram at once
    assert viewer.histogram.getLevels() == pytest.approx(viewer.levels)
    viewer.set_image(image + 500)  # automatic contrast: new levels with the frame
    assert viewer.levels == (500.0, 500.0 + 64 * 64 - 1)
    assert viewer.item.image.max() == 255  # the frame is drawn with them at once
    qtbot.waitUntil(
        lambda: viewer.histogram.getLevels() == pytest.approx(viewer.levels), timeout=3000
    )
    viewer.set_levels(700, 900)  # the user's: at once
    assert viewer.histogram.getLevels() == pytest.approx((700, 900))


def test_a_streams_first_frame_gets_its_histogram_in_the_next_turn(qtbot):
    """The first frame of an acquisition is fitted to the view and painted in one turn
    of the event loop; its histogram comes in the next (together they held the GUI
    thread up to 36 ms while the acquisition's threads started)."""
    from app.ui.display.frame_preparer import one_channel

    viewer = _viewer(qtbot)
    image = np.arange(128 * 128, dtype=np.uint16).reshape(128, 128)
    viewer.show_prepared(one_channel(image, (0.0, 16383.0), 1, "Grays", {}))
    assert viewer.item.screen_rgb() is not None  # the frame is drawn at once
    assert not len(viewer.histogram.plot.getData()[0])  # its histogram is not, yet
    qtbot.waitUntil(lambda: len(viewer.histogram.plot.getData()[0]) > 0, timeout=3000)
    centres, counts = viewer.histogram.plot.getData()
    assert counts.sum() == image.size and centres[-1] < image.max()


def test_the_view_keeps_its_place_whatever_the_histograms_range(qtbot):
    """The histogram's axis is as wide for an empty histogram as for a 16-bit frame's:
    sized to its labels, it moved the view at the first frame of every acquisition
    (the viewer laid out again and painted whole twice)."""
    viewer = _viewer(qtbot)
    qtbot.wait(50)
    placed = viewer.view.sceneBoundingRect()
    resized = []
    viewer.view.sigResized.connect(lambda _view: resized.append(1))
    for rows, top in ((64, 4095), (65, 65535), (66, 255)):  # a new shape: histogram now
        viewer.set_image(np.linspace(0, top, rows * 64).reshape(rows, 64).astype(np.uint16))
        qtbot.wait(50)  # a layout asked for is done in the next turn of the event loop
        assert viewer.view.sceneBoundingRect() == placed, top
    assert resized == []


def test_the_stream_is_prepared_no_more_often_than_shown_and_its_last_frame_is_kept(qtbot):
    """Frames coming faster than the viewer's interval are not all prepared (the extra
    work only took cores from the camera, the saver and the window); the newest one
    taken waits for its turn, so the last frame of a stream is prepared all the same."""
    import time

    import numpy as np

    from app.processing.display import DisplaySettings, LatestFrameSlot
    from app.ui.display.frame_preparer import FramePreparer

    settings = DisplaySettings(levels=(0.0, 100.0), auto_levels=False)
    preparer = FramePreparer(settings, min_interval_s=0.1)
    source: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = source
    preparer.start()
    try:
        began = time.perf_counter()
        for i in range(60):
            source.put(np.full((8, 8), i, np.uint16), {"Axes": {"time": i}})
            time.sleep(0.005)
        elapsed = time.perf_counter() - began

        def last_prepared() -> int | None:
            item = preparer.prepared.peek()
            return None if item is None else item[1]["Axes"]["time"]

        qtbot.waitUntil(lambda: last_prepared() == 59, timeout=5000)
    finally:
        preparer.stop()
    assert 2 <= preparer.prepared.version <= elapsed / 0.1 + 2


def test_a_channels_frame_not_prepared_is_still_in_the_next_composite(qtbot):
    import numpy as np

    from app.processing.channel_display import ChannelDisplay
    from app.processing.display import DisplaySettings, LatestFrameSlot
    from app.ui.display.frame_preparer import FramePreparer

    channels = ChannelDisplay()
    channels.add_names(["DAPI", "FITC"])
    preparer = FramePreparer(DisplaySettings(), channels, min_interval_s=0.5)
    source: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = source
    preparer.start()
    frame = np.arange(64, dtype=np.uint16).reshape(8, 8)
    try:
        source.put(frame, {"Axes": {"time": 0, "channel": "DAPI"}})
        qtbot.waitUntil(lambda: preparer.prepared.version == 1, timeout=5000)
        # within its interval: FITC is taken, not prepared, then replaced by DAPI's next
        source.put(frame * 2, {"Axes": {"time": 0, "channel": "FITC"}})
        qtbot.waitUntil(lambda: source.peek() is None, timeout=5000)
        source.put(frame * 3, {"Axes": {"time": 1, "channel": "DAPI"}})
        qtbot.waitUntil(lambda: preparer.prepared.version == 2, timeout=5000)
    finally:
        preparer.stop()
    prepared, metadata = preparer.prepared.take()
    assert metadata["Axes"] == {"time": 1, "channel": "DAPI"} and prepared.composite
    assert set(prepared.shown) == {"DAPI", "FITC"}  # FITC's frame, kept while waiting


def test_a_frame_waiting_for_its_turn_is_dropped_when_the_viewer_follows_another_source(qtbot):
    """Another acquisition followed: the old one's waiting frame is never prepared (its
    channel would show in the new composite), and the new one's first frame comes at
    once, not at the old stream's turn."""
    import numpy as np

    from app.processing.display import DisplaySettings, LatestFrameSlot
    from app.ui.display.frame_preparer import FramePreparer

    preparer = FramePreparer(DisplaySettings(), min_interval_s=30.0)
    old: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    new: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = old
    preparer.start()
    frame = np.zeros((8, 8), np.uint16)
    try:
        old.put(frame, {"Axes": {"time": 0}, "from": "old"})
        qtbot.waitUntil(lambda: preparer.prepared.version == 1, timeout=5000)
        old.put(frame, {"Axes": {"time": 1}, "from": "old"})  # waits for its turn, 30 s on
        qtbot.waitUntil(lambda: old.peek() is None, timeout=5000)
        preparer.source = new
        new.put(frame, {"Axes": {"time": 0}, "from": "new"})
        qtbot.waitUntil(lambda: preparer.prepared.version == 2, timeout=5000)
        qtbot.wait(100)
    finally:
        preparer.stop()
    assert preparer.prepared.version == 2
    assert preparer.prepared.take()[1]["from"] == "new"


def test_the_sliders_find_a_followed_frames_place_as_their_axes_grow(qtbot):
    """While following, each frame shown moves the sliders to its place; the places are
    looked up, not searched for, in axes that grow with the acquisition."""
    from sortedcontainers import SortedSet

    from app.ui.display.axis_sliders import AxisSliders

    sliders = AxisSliders()
    qtbot.addWidget(sliders)
    time_points = SortedSet(range(3))
    sliders.set_axes({"time": time_points, "channel": ["A", "B"]})
    assert sliders.knows({"time": 2, "channel": "B"})
    assert not sliders.knows({"time": 3})
    sliders.show_axes({"time": 1, "channel": "B"})
    assert sliders.current_axes() == {"time": 1, "channel": "B"}
    time_points.update(range(3, 2000))  # the dataset's own set, grown meanwhile
    assert not sliders.knows({"time": 1999})  # the sliders keep their own lists
    sliders.set_axes({"time": time_points, "channel": ["A", "B"]})
    sliders.show_axes({"time": 1999})
    assert sliders.current_axes() == {"time": 1999, "channel": "B"}
    assert sliders.label("time").startswith("time: 1999")
    sliders.clear()
    assert not sliders.knows({"time": 0})


def test_the_sliders_take_a_dataset_that_changed_otherwise_whole_again(qtbot):
    """Values known no longer where they were (a value in between, another taken away):
    the sliders' lists are made again, not appended to."""
    from app.ui.display.axis_sliders import AxisSliders

    sliders = AxisSliders()
    qtbot.addWidget(sliders)
    sliders.set_axes({"z": [0, 5]})
    sliders.set_axes({"z": [0, 2, 5]})  # a z between two known
    sliders.show_axes({"z": 5})
    assert sliders.current_axes() == {"z": 5} and sliders.label("z").endswith("(3/3)")
    sliders.set_axes({"z": [2, 5, 7]})  # one taken away, one added
    sliders.show_axes({"z": 2})
    assert sliders.current_axes() == {"z": 2} and not sliders.knows({"z": 0})
    sliders.set_axes({"z": {2, 5, 7, 9}})  # a set (OME-Zarr's axes): taken whole
    assert sliders.knows({"z": 9})


def test_the_first_image_takes_the_room_the_view_has(qtbot):
    """The hint of an empty viewer is in the image's place: the first image neither
    lays the viewer out again nor resizes the view (which then repainted whole, at an
    acquisition's first frame)."""
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(640, 480)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.hint.isVisible() and viewer.hint.geometry() == viewer.graphics.geometry()
    size = viewer.graphics.size()
    assert size.height() > 400  # the whole room, under the hint
    # over the view, it is clicked through (Explore's first tile is clicked there)
    centre = viewer.hint.geometry().center()
    assert viewer.childAt(centre) is viewer.graphics.viewport()
    viewer.set_image(np.arange(64 * 80, dtype=np.uint16).reshape(64, 80))
    qtbot.wait(50)  # a layout request would be handled by now
    assert viewer.hint.isHidden() and viewer.graphics.isVisible()
    assert viewer.graphics.size() == size


def test_the_frame_preparer_makes_the_histogram_and_the_viewer_draws_it(qtbot, monkeypatch):
    """The histogram of a stream is made on the frame preparer's thread, with the first
    frame and then at most every HISTOGRAM_EVERY_S; the viewer draws the newest one
    made (on the GUI thread it took 1.5-2 ms a refresh), and makes its own for an image
    set otherwise (a dataset browsed)."""
    import time

    from app.processing.contrast import histogram_of
    from app.processing.display import DisplaySettings, LatestFrameSlot
    from app.ui.display import frame_preparer
    from app.ui.display import viewer as viewer_module
    from app.ui.display.frame_preparer import FramePreparer

    monkeypatch.setattr(frame_preparer, "HISTOGRAM_EVERY_S", 30.0)
    preparer = FramePreparer(DisplaySettings(levels=(0.0, 4000.0), auto_levels=False))
    source: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    preparer.source = source
    preparer.start()
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 4000, (64, 64), dtype=np.uint16) for _ in range(2)]
    prepared = []
    try:
        for image in frames:
            source.put(image, {})
            qtbot.waitUntil(lambda: preparer.prepared.peek() is not None, timeout=3000)
            prepared.append(preparer.prepared.take()[0])
            time.sleep(0.01)
    finally:
        preparer.stop()
    first, second = prepared
    assert first.histogram is not None and second.histogram is None  # within 30 s
    assert np.array_equal(first.histogram.counts, histogram_of(frames[0]).counts)

    made_here = []
    monkeypatch.setattr(
        viewer_module, "histogram_of", lambda image: made_here.append(1) or histogram_of(image)
    )
    viewer = _viewer(qtbot)
    viewer.show_prepared(first)
    qtbot.waitUntil(lambda: len(viewer.histogram.plot.getData()[0]) > 0, timeout=3000)
    assert made_here == []  # the preparer's, drawn
    assert np.array_equal(viewer.histogram.plot.getData()[1], first.histogram.counts)
    viewer.set_image(frames[1][:32])  # another image, of another shape: made here
    assert made_here == [1]


def test_the_histograms_range_holds_while_a_live_images_noise_moves_its_ends(qtbot):
    """Following each refresh's darkest and brightest pixel, the range changed at every
    refresh of a noisy image, and each change drew the histogram's axis anew (about a
    millisecond of the GUI thread's CPU, twice a second, #21). It changes when the
    values leave it, or fill less than half of it."""
    viewer = _viewer(qtbot)
    ranges = []
    set_range = viewer.histogram.setHistogramRange
    viewer.histogram.setHistogramRange = lambda *a, **k: (ranges.append(a), set_range(*a, **k))
    rng = np.random.default_rng(0)

    def refreshed(image: np.ndarray) -> None:
        shown = viewer.histogram.plot.getData()[0]
        viewer.set_image(image)
        qtbot.waitUntil(lambda: viewer.histogram.plot.getData()[0] is not shown, timeout=3000)

    for _ in range(6):  # a bead on a noisy background: each frame's ends move a little
        image = rng.normal(400, 20, (64, 64)).clip(0).astype(np.uint16)
        image[30:34, 30:34] = rng.integers(2950, 3050)
        refreshed(image)
    assert len(ranges) == 1
    low, high = ranges[0]
    assert 0 <= low < 300 and 3050 < high < 3500
    refreshed((image * 4).astype(np.uint16))  # brighter than the range holds
    assert len(ranges) == 2 and ranges[1][1] > 4 * 3000
    refreshed(np.full((64, 64), 10, np.uint16) + np.eye(64, dtype=np.uint16) * 90)
    assert len(ranges) == 3 and ranges[2][1] < 200  # it filled too little of the range
