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
        lambda: _shows(window, last) and window.browser.sliders.current_axes()["time"] == 2,
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


def test_following_moves_the_sliders_at_a_readable_pace_and_reaches_the_last_frame(qtbot, window):
    """Frames shown at 60 a second: the sliders move at most every SLIDERS_INTERVAL_S
    (moving them at every frame cost the GUI thread a quarter of its work per frame),
    and the place of the last frame shown is reached when the interval is over."""
    from app.ui.display.dataset_browser import SLIDERS_INTERVAL_S

    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=30))
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True)
    slider_moves: list[float] = []
    started = time.perf_counter()
    for t in range(30):
        browser.frame_shown({"time": t}, dataset.read_metadata(time=t))
        if t == 0:  # the first frame shown moves them at once (the slider appears)
            assert browser.sliders.current_axes() == {"time": 0}
            slider = browser.sliders.slider("time")
            slider.valueChanged.connect(lambda _v: slider_moves.append(time.perf_counter()))
        qtbot.wait(5)  # the GUI thread runs between frames, as it does while acquiring
    spent = time.perf_counter() - started
    qtbot.waitUntil(lambda: browser.sliders.current_axes() == {"time": 29}, timeout=5000)
    assert browser.sliders.label("time").endswith("(30/30)")
    # 30 frames over `spent` seconds: at most one move per interval (and one owed)
    assert 1 <= len(slider_moves) <= spent / SLIDERS_INTERVAL_S + 2 < 29
    gaps = [b - a for a, b in itertools.pairwise(slider_moves)]
    assert all(gap >= SLIDERS_INTERVAL_S * 0.9 for gap in gaps), gaps


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


def test_a_move_owed_to_the_sliders_never_overrides_the_users_own(qtbot, window):
    """A frame shown within the interval owes the sliders a move; the user moves a
    slider before it is made: the sliders stay where the user put them."""
    from app.ui.display.dataset_browser import SLIDERS_INTERVAL_S

    with Acquisition(show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=5))
    dataset = acq.get_dataset()
    browser = window.browser
    browser.browse(dataset, follow=True)
    browser.frame_shown({"time": 0}, dataset.read_metadata(time=0))  # moved at once
    browser.frame_shown({"time": 4}, dataset.read_metadata(time=4))  # owed
    assert browser.sliders.current_axes() == {"time": 0}
    browser.sliders.slider("time").setValue(2)  # the user's move: following stops
    qtbot.wait(int(3 * SLIDERS_INTERVAL_S * 1000))
    assert not browser.sliders.follow.isChecked()
    assert browser.sliders.current_axes() == {"time": 2}
