"""An acquisition's life as one state with a reason; the workers on a thread factory."""

from __future__ import annotations

import threading

import pytest
from PyQt6.QtCore import Qt, QThread

from app import Acquisition, multi_d_acquisition_events
from app.acquisition.state import FinishReason, RunState
from app.acquisition.threads import PythonThreads


def test_a_completed_acquisition(core):
    acq = Acquisition(show_display=False)
    assert acq.status.state is RunState.RUNNING and acq.status.reason == "running"
    acq.acquire(multi_d_acquisition_events(num_time_points=3))
    acq.mark_finished()
    acq.await_completion(timeout=20)
    status = acq.status
    assert status.state is RunState.FINISHED and status.finish_reason is FinishReason.COMPLETED
    assert status.counts["saved"] == 3 and status.events_submitted == 3
    assert status.is_over and status.error is None and status.elapsed_s > 0
    with pytest.raises(AttributeError):
        status.state = RunState.RUNNING  # a snapshot, not a handle


def test_pausing_finishing_and_aborting(core):
    release, entered = threading.Event(), threading.Event()

    def stuck(image, metadata):
        entered.set()
        release.wait(20)
        return image, metadata

    acq = Acquisition(show_display=False, image_process_fn=stuck)
    acq.acquire(multi_d_acquisition_events(num_time_points=50, time_interval_s=0.01))
    acq.pause()
    assert acq.status.state is RunState.PAUSING and acq.paused
    acq.mark_finished()
    assert acq.status.state is RunState.PAUSING  # finishing is remembered under the pause
    acq.resume()
    assert acq.status.state is RunState.FINISHING
    # a frame in the processor, stuck in user code: aborting waits for nothing, and
    # the run stays "aborting" until that code returns (a pause may have come before
    # the first frame: then none was in the processor yet)
    assert entered.wait(20)
    acq.abort()
    assert acq.status.state is RunState.ABORTING and acq.status.reason == "aborted by the user"
    release.set()
    acq.await_completion(timeout=20)
    assert acq.status.state is RunState.ABORTED
    assert acq.status.finish_reason is FinishReason.ABORTED


def test_a_failed_acquisition_keeps_its_error(core):
    def broken(image, metadata):
        raise ValueError("broken processor")

    acq = Acquisition(show_display=False, image_process_fn=broken)
    acq.acquire({"axes": {"time": 0}})
    acq.mark_finished()
    with pytest.raises(ValueError):
        acq.await_completion(timeout=20)
    status = acq.status
    assert status.state is RunState.FAILED and status.finish_reason is FinishReason.FAILED
    assert "broken processor" in status.reason and isinstance(status.error, ValueError)


class RecordingThreads(PythonThreads):
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, worker):
        self.started.append(worker.name)
        return super().start(worker)


def test_workers_run_on_the_thread_factory_given(core):
    threads = RecordingThreads()
    seen = []
    with Acquisition(
        show_display=False,
        threads=threads,
        image_process_fn=lambda im, md: (seen.append(threading.current_thread().name), (im, md))[1],
    ) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert threads.started == ["scopeflow-engine", "scopeflow-processing", "scopeflow-saving"]
    assert seen == ["scopeflow-processing"]


def test_the_window_runs_them_in_qthreads(qtbot, window):
    from app.ui.common.qt_threads import WorkerQThread

    seen = []

    def where(image, metadata):
        seen.append(isinstance(QThread.currentThread(), WorkerQThread))
        return image, metadata

    window.registry.register(where, "where", source="test")
    panel = window.acquisition_panel
    panel.time_box.setChecked(True)
    panel.time_points.setValue(2)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.running, timeout=20000)
    assert seen == [True, True]
    assert window.controller.acquisition.status.state is RunState.FINISHED
