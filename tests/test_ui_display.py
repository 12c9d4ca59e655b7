"""The viewer shows what an acquisition saved even when it started and ended between two
of the display's ticks (a few frames at full speed on a loaded machine: found by CI,
where the window then showed nothing)."""

from __future__ import annotations

import numpy as np

from app import Acquisition, multi_d_acquisition_events


def _shows(window, image: np.ndarray) -> bool:
    shown = window.viewer.image
    return shown is not None and np.array_equal(shown, image)


def test_an_acquisition_over_before_the_next_tick_shows_its_last_image(qtbot, window):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0)
    window.start_acquisition()
    acq = window.controller.acquisition
    acq.await_completion(timeout=20)  # the GUI thread is held: no tick while it runs
    last = acq.get_dataset().read_image(time=2)
    qtbot.waitUntil(lambda: _shows(window, last), timeout=5000)
    assert window.browser.sliders.current_axes()["time"] == 2


def test_one_from_the_console_over_before_the_next_tick_is_shown_too(qtbot, window, tmp_path):
    with Acquisition(str(tmp_path), "quick", show_display=True) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))
    last = acq.get_dataset().read_image(time=1)
    qtbot.waitUntil(lambda: _shows(window, last), timeout=5000)
    assert "quick" in window.viewer.title.text()
