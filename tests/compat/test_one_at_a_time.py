"""Acquisitions on one microscope run one after another, as in pycro-manager; a script
that ends without waiting for its acquisitions loses nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from app import Acquisition, multi_d_acquisition_events

WAIT = 30


def test_two_acquisitions_at_once_take_turns(core, directory):
    first = Acquisition(directory, "first")
    second = Acquisition(directory, "second")
    first.acquire([{"axes": {"time": t}, "z": 0.0} for t in range(20)])
    second.acquire([{"axes": {"time": t}, "z": 50.0} for t in range(10)])
    for acquisition in (first, second):
        acquisition.mark_finished()
        acquisition.await_completion(timeout=WAIT)
    for acquisition, z, count in ((first, 0.0, 20), (second, 50.0, 10)):
        dataset = acquisition.get_dataset()
        assert acquisition.counts.saved == count
        for t in range(count):  # each frame taken at its own acquisition's Z
            assert dataset.read_metadata(time=t)["ZPosition_um"] == pytest.approx(z, abs=0.01)


def test_a_waiting_acquisition_can_be_aborted(core, directory):
    running = Acquisition(directory, "running")
    running.acquire({"axes": {"time": 0}})  # not finished: it keeps the microscope
    waiting = Acquisition(directory, "waiting")
    waiting.acquire({"axes": {"time": 0}})
    waiting.abort()
    waiting.await_completion(timeout=WAIT)
    assert waiting.counts.acquired == 0
    running.mark_finished()
    running.await_completion(timeout=WAIT)
    assert running.counts.saved == 1


def test_a_script_that_does_not_wait_loses_nothing(tmp_path):
    script = tmp_path / "forgets_to_wait.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from app import Acquisition, multi_d_acquisition_events
            from app.microscope import SimulatedCameraSettings, configure_simulated_camera
            from app import Core
            configure_simulated_camera(Core().core, SimulatedCameraSettings(64, 64, exposure_ms=5))
            acq = Acquisition({str(tmp_path)!r}, "forgotten")
            acq.acquire(multi_d_acquisition_events(num_time_points=20))
            print(acq.dataset_path)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "still running: finishing them" in result.stderr
    from app import open_dataset

    assert len(open_dataset(result.stdout.strip()).index) == 20


def test_submit_is_acquire(core):
    with Acquisition() as acq:
        future = acq.submit(multi_d_acquisition_events(num_time_points=2))
    assert future.await_image_saved({"time": 1}, timeout=WAIT).shape == (96, 128)
