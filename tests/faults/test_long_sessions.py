"""#20, long runs: acquisition after acquisition from the window, the files of the ones
before are not held open (they piled up until a full garbage collection, and a dataset
deleted meanwhile kept its disk space: found by ``scopeflow bench soak``)."""

from __future__ import annotations

import os
import sys

import pytest


def _open_under(folder: str) -> list[str]:
    fd_dir = "/proc/self/fd"
    found = []
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith(folder):
            found.append(target)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_the_files_of_earlier_acquisitions_are_not_held_open(qtbot, window, tmp_path):
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(3)
    panel.interval.setValue(0)
    paths = []
    for _ in range(3):
        window.acquisitions.start_acquisition()
        acq = window.controller.acquisition
        paths.append(acq.dataset_path)
        qtbot.waitUntil(lambda: not window.controller.running, timeout=20000)
        qtbot.waitUntil(lambda: window.viewer.image is not None, timeout=5000)
    assert len(set(paths)) == 3
    for earlier in paths[:2]:  # closed on a thread of their own, soon after
        qtbot.waitUntil(lambda earlier=earlier: _open_under(earlier) == [], timeout=5000)
    # the one shown stays readable
    assert window.browser.dataset.read_image(time=2).shape == (96, 128)
