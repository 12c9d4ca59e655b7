"""The viewer shows what an acquisition saved even when it started and ended between two
of the display's ticks (a few frames at full speed on a loaded machine: found by CI,
where the window then showed nothing)."""

from __future__ import annotations

import itertools
import time

import numpy as np
from superqt import QElidingLabel

from app import Acquisition, multi_d_acquisition_events


def _shows(window, image: np.ndarray) -> bool:
    shown = window.viewer.image
    return shown is not None and np.array_equal(shown, image)


def test_an_acquisition_over_before_the_next_tick_shows_its_last_image(qtbot, window):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0)
    window.acquisitions.start_acquisition()
    acq = window.controller.acquisition
    acq.await_completion(timeout=20)  # the GUI thread is held: no tick while it runs
    last = acq.get_dataset().read_image(time=2)
    # the simulated camera's frames may all be alike: the sliders say which one it is
    qtbot.waitUntil(
        lambda: _shows(window, last) and window.browser.sliders.current_axes().get("time") == 2,
        timeout=5000,
    )


def test_the_last_image_is_shown_when_the_display_followed_only_the_first(qtbot, window):
    """Following, the display showed an early frame and the acquisition's last frames
    were still waiting for their turn on the screen when it ended (the display then
    stops following it, and a frame of a source no longer followed is dropped): the
    last image saved is shown, the sliders at its place."""
    with Acquisition(show_display=True) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=4))
    browser = window.browser
    dataset = acq.get_dataset()
    browser.browse(dataset, follow=True)  # as the display does when it sees it
    first = dataset.read_image(time=0)
    browser.frame_shown({"time": 0}, dataset.read_metadata(time=0))  # the only one shown
    window.viewer.set_image(first)
    browser.acquisition_ended()
    assert browser.sliders.current_axes() == {"time": 3}
    assert np.array_equal(window.viewer.image, dataset.read_image(time=3))


def test_one_from_the_console_over_before_the_next_tick_is_shown_too(qtbot, window, tmp_path):
    with Acquisition(str(tmp_path), "quick", show_display=True) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    last = acq.get_dataset().read_image(time=1)
    qtbot.waitUntil(lambda: _shows(window, last), timeout=5000)
    assert "quick" in window.viewer.title.text()


def _frame(value: int) -> np.ndarray:
    return np.full((64, 80), value, dtype=np.uint16)


def test_a_prepared_frame_is_shown_and_one_the_display_could_not_keep_up_with_is_skipped(
    qtbot, window
):
    """The preparer says when it has a frame: shown without waiting for a timer; while
    the GUI thread is busy, newer frames replace the one waiting (never queued)."""
    router = window.display
    window.camera.snap_slot.put(_frame(100), {})
    qtbot.waitUntil(lambda: _shows(window, _frame(100)), timeout=5000)
    shown_before = router.displayed
    # the GUI thread is held (no events run) while two frames are prepared in turn
    window.camera.snap_slot.put(_frame(200), {})
    qtbot.waitUntil(lambda: router.preparer.source is not None, timeout=5000)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        prepared = router.preparer.prepared.peek()
        if prepared is not None and prepared[0].image[0, 0] == 200:
            break
        time.sleep(0.005)
    window.camera.snap_slot.put(_frame(300), {})
    while time.monotonic() < deadline:
        prepared = router.preparer.prepared.peek()
        if prepared is not None and prepared[0].image[0, 0] == 300:
            break
        time.sleep(0.005)
    qtbot.waitUntil(lambda: _shows(window, _frame(300)), timeout=5000)
    assert router.displayed == shown_before + 1  # 200 was replaced before its turn


def test_frames_are_shown_at_most_one_per_refresh(qtbot, window, monkeypatch):
    """A frame ready sooner than DISPLAY_INTERVAL_S after the last one waits for its
    turn (on a timer), and is then shown (a clock of the test's own: no timing)."""
    from app.ui.display import display_router
    from app.ui.display.frame_preparer import PreparedFrame

    router = window.display
    qtbot.waitUntil(lambda: router.preparer.source is not None, timeout=5000)
    now = {"t": 1000.0}
    monkeypatch.setattr(display_router.time, "perf_counter", lambda: now["t"])

    def prepared(value: int) -> None:
        image = _frame(value)
        display = np.full(image.shape, value // 4, dtype=np.uint8)
        frame = PreparedFrame(display, image, (0, 400), 1, {}, source=router.preparer.source)
        router.preparer.prepared.put(frame, {})  # as from the stream followed

    prepared(100)
    router._frame_ready()
    assert _shows(window, _frame(100))
    now["t"] += display_router.DISPLAY_INTERVAL_S / 3
    prepared(200)
    router._frame_ready()
    assert _shows(window, _frame(100))  # too soon: waits for its turn
    assert router._show_timer.isActive()
    now["t"] += display_router.DISPLAY_INTERVAL_S
    qtbot.waitUntil(lambda: _shows(window, _frame(200)), timeout=5000)


def _followed(window, time_points: int):
    """The window's browser following a dataset of ``time_points`` (nothing shown yet),
    and each time point's metadata, read beforehand (reading takes time)."""
    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=time_points))
    dataset = acq.get_dataset()
    window.browser.browse(dataset, follow=True)
    return window.browser, [dataset.read_metadata(time=t) for t in range(time_points)]


def test_following_moves_the_sliders_at_a_readable_pace_and_reaches_the_last_frame(
    qtbot, window, monkeypatch
):
    """Frames shown every few ms: the sliders move no more often than every
    SLIDERS_INTERVAL_S (moving them at every frame cost the GUI thread a quarter of its
    work per frame), and the place of the last frame shown is reached."""
    from app.ui.display import dataset_browser

    interval_s = 0.05
    monkeypatch.setattr(dataset_browser, "SLIDERS_INTERVAL_S", interval_s)
    browser, metadata = _followed(window, 40)
    browser.frame_shown({"time": 0}, metadata[0])  # the first frame moves them at once
    assert browser.sliders.current_axes() == {"time": 0}
    slider = browser.sliders.slider("time")
    moves: list[float] = []
    slider.valueChanged.connect(lambda _v: moves.append(time.perf_counter()))
    started = time.perf_counter()
    for t in range(1, 40):
        browser.frame_shown({"time": t}, metadata[t])
        qtbot.wait(5)  # the GUI thread runs between frames, as it does while acquiring
    spent = time.perf_counter() - started
    qtbot.waitUntil(lambda: browser.sliders.current_axes() == {"time": 39}, timeout=5000)
    assert browser.sliders.label("time").endswith("(40/40)")
    gaps = [b - a for a, b in itertools.pairwise(moves)]
    # a move's time is taken at the slider, after the move has begun (a refresh of the
    # sliders first, slower on a loaded machine), and a timer may fire a little early:
    # half the interval, still far above the 5 ms between frames shown
    assert all(gap >= interval_s * 0.5 for gap in gaps), gaps
    assert 1 <= len(moves) <= spent / interval_s + 2


def test_frames_shown_within_the_interval_owe_the_sliders_one_move(qtbot, window, monkeypatch):
    from app.ui.display import dataset_browser

    monkeypatch.setattr(dataset_browser, "SLIDERS_INTERVAL_S", 0.5)
    browser, metadata = _followed(window, 30)
    browser.frame_shown({"time": 0}, metadata[0])
    slider = browser.sliders.slider("time")
    moves: list[int] = []
    slider.valueChanged.connect(moves.append)
    for t in range(1, 30):  # well within 0.5 s, the event loop not running
        browser.frame_shown({"time": t}, metadata[t])
    assert browser.sliders.current_axes() == {"time": 0} and moves == []
    qtbot.waitUntil(lambda: moves == [29], timeout=5000)  # one move, to the last frame
    qtbot.wait(700)
    assert moves == [29] and browser.sliders.label("time").endswith("(30/30)")


def test_a_move_owed_to_the_sliders_never_overrides_the_users_own(qtbot, window, monkeypatch):
    """A frame shown within the interval owes the sliders a move; the user moves a
    slider before it is made: the sliders stay where the user put them."""
    from app.ui.display import dataset_browser

    monkeypatch.setattr(dataset_browser, "SLIDERS_INTERVAL_S", 0.5)
    browser, metadata = _followed(window, 5)
    browser.frame_shown({"time": 0}, metadata[0])  # moved at once
    browser.frame_shown({"time": 4}, metadata[4])  # owed
    assert browser.sliders.current_axes() == {"time": 0}
    browser.sliders.slider("time").setValue(2)  # the user's move: following stops
    qtbot.wait(1200)  # the owed move's time is over
    assert not browser.sliders.follow.isChecked()
    assert browser.sliders.current_axes() == {"time": 2}


def test_unchecking_follow_with_a_move_owed_puts_the_sliders_on_the_frame_shown(
    qtbot, window, monkeypatch
):
    """The user unchecks "Follow newest" (moving no slider): the frame shown stays, and
    the sliders say which it is at once (the Export of the image shown and a composite
    made again read them)."""
    from app.ui.display import dataset_browser

    monkeypatch.setattr(dataset_browser, "SLIDERS_INTERVAL_S", 0.5)
    browser, metadata = _followed(window, 5)
    browser.frame_shown({"time": 0}, metadata[0])
    browser.frame_shown({"time": 4}, metadata[4])  # shown; the sliders owe it a move
    assert browser.sliders.current_axes() == {"time": 0}
    browser.sliders.follow.click()
    assert not browser.sliders.follow.isChecked()
    assert browser.sliders.current_axes() == {"time": 4}
    qtbot.wait(1200)
    assert browser.sliders.current_axes() == {"time": 4}


def test_a_label_whose_text_did_not_change_is_not_set_again(qtbot, window):
    """Setting a slider's label elides and repaints it: the same place and count leave
    it alone."""
    sliders = window.browser.sliders
    sliders.set_axes({"time": [0, 1, 2]})
    (label,) = sliders.findChildren(QElidingLabel)  # the time slider's
    texts: list[str] = []
    original = label.setText
    label.setText = lambda text: (texts.append(text), original(text))  # type: ignore[method-assign]
    sliders.show_axes({"time": 2})
    assert texts == ["time: 2  (3/3)"]
    sliders.show_axes({"time": 2})
    sliders.set_axes({"time": [0, 1, 2]})
    assert texts == ["time: 2  (3/3)"] and sliders.label("time") == "time: 2  (3/3)"


def test_a_slider_moved_while_a_move_is_owed_changes_the_frame_shown_on_that_axis(
    qtbot, window, monkeypatch
):
    """The user sees time 3 (the sliders, owed a move, still say time 0) and moves the z
    slider: the image shown is time 3's at the new z, the sliders saying so."""
    from app.ui.display import dataset_browser

    monkeypatch.setattr(dataset_browser, "SLIDERS_INTERVAL_S", 0.5)
    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=4, z_start=0, z_end=2, z_step=1))
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True)
    browser.frame_shown({"time": 0, "z": 0}, dataset.read_metadata(time=0, z=0))
    browser.frame_shown({"time": 3, "z": 1}, dataset.read_metadata(time=3, z=1))  # owed
    window.viewer.set_image(dataset.read_image(time=3, z=1))  # as the display did
    assert browser.sliders.current_axes() == {"time": 0, "z": 0}
    browser.sliders.slider("z").setValue(2)  # the user's move
    assert browser.sliders.current_axes() == {"time": 3, "z": 2}
    assert np.array_equal(window.viewer.image, dataset.read_image(time=3, z=2))
    qtbot.wait(1200)  # the owed move's time is over: nothing moves them back
    assert browser.sliders.current_axes() == {"time": 3, "z": 2}
