"""#20 item 3: every failure path stops what it started.

A hook that raises, a processor that aborts the acquisition, an abort, a setting the
hardware refuses: whichever happens while a hardware-sequenced camera burst is set up
or running, the acquisition ends (FAILED or ABORTED, the error named), the camera's
sequence is stopped, so are the stage, exposure and property sequences the engine
started, and the next acquisition and Live work.

The demo hardware sequences what it is told to: the focus stage with ``UseSequences``,
the camera's exposure with ``UseExposureSequences``, and the objective turret's state
always (10 values at most: a longer burst is cut to fit). A spy on the core counts each
sequence started and stopped.
"""

from __future__ import annotations

import threading
import time

import pytest

from app import Acquisition, multi_d_acquisition_events
from app.acquisition.mda_engine import HardwareRefusedError
from app.acquisition.state import RunState

SEQUENCES = {  # start method -> stop method
    "startStageSequence": "stopStageSequence",
    "startXYStageSequence": "stopXYStageSequence",
    "startExposureSequence": "stopExposureSequence",
    "startPropertySequence": "stopPropertySequence",
}


class SequenceSpy:
    """The stage, exposure and property sequences started on the core and not stopped."""

    def __init__(self, core) -> None:
        self.core = core
        self.running: set[tuple[str, ...]] = set()
        self.started: list[tuple[str, ...]] = []
        for start, stop in SEQUENCES.items():
            self._wrap(start, start, adds=True)
            self._wrap(stop, start, adds=False)

    def _wrap(self, method: str, kind: str, *, adds: bool) -> None:
        original = getattr(self.core, method)

        def spy(*args):
            result = original(*args)
            key = (kind, *args)
            if adds:
                self.running.add(key)
                self.started.append(key)
            else:
                self.running.discard(key)
            return result

        setattr(self.core, method, spy)

    def remove(self) -> None:
        for method in (*SEQUENCES, *SEQUENCES.values()):
            vars(self.core).pop(method, None)


@pytest.fixture
def spy(core):
    watcher = SequenceSpy(core)
    yield watcher
    watcher.remove()
    for kind, *args in watcher.running:  # leave no sequence to the next test
        getattr(core, SEQUENCES[kind])(*args)


@pytest.fixture
def sequencing_core(core):
    """The demo with its focus stage, exposure and objective sequenceable."""
    state = core.getProperty("Objective", "State")
    core.setProperty("Z", "UseSequences", "Yes")
    core.setProperty("Camera", "UseExposureSequences", "Yes")
    yield core
    if core.isSequenceRunning():
        core.stopSequenceAcquisition()
    core.setProperty("Z", "UseSequences", "No")
    core.setProperty("Camera", "UseExposureSequences", "No")
    core.setProperty("Objective", "State", state)
    core.waitForSystem()


def plain_burst(frames=20):
    """Time points that merge into one camera burst on the demo camera."""
    return [{**e, "exposure": 2.0} for e in multi_d_acquisition_events(num_time_points=frames)]


def sequenced_burst(frames=10, start=0):
    """A burst with a focus, an exposure and an objective sequence (the objective takes
    sequences of 10 at most)."""
    return [
        {
            "axes": {"time": t},
            "z": float(t % 5),
            "exposure": 1.0 + t % 2,
            "properties": [["Objective", "State", str(1 + t % 2)]],
        }
        for t in range(start, start + frames)
    ]


def focus_burst(frames):
    """A long burst with a focus sequence."""
    return [{"axes": {"time": t}, "z": float(t % 5), "exposure": 2.0} for t in range(frames)]


def assert_hardware_stopped(core, spy=None):
    assert not core.isSequenceRunning(), "the camera's sequence was left running"
    if spy is not None:
        assert spy.running == set(), f"sequences left running: {sorted(spy.running)}"


def assert_microscope_works(core):
    """The next acquisition (a burst) and Live both run."""
    saved = []
    with Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_saved_fn=lambda axes, _dataset: saved.append(axes["time"]),
    ) as acq:
        acq.acquire(plain_burst(5))
    assert acq.status.state is RunState.FINISHED
    assert sorted(saved) == list(range(5))
    assert not core.isSequenceRunning()

    core.startContinuousSequenceAcquisition(0)  # Live
    try:
        deadline = time.monotonic() + 5
        while core.getRemainingImageCount() == 0:
            assert time.monotonic() < deadline, "Live delivered no frame"
            time.sleep(0.01)
        assert core.popNextImage().shape == (core.getImageHeight(), core.getImageWidth())
    finally:
        core.stopSequenceAcquisition()
    assert not core.isSequenceRunning()


def run_failing(core, events, error, **kwargs):
    with (
        pytest.raises(error),
        Acquisition(core=core, storage="ram", show_display=False, **kwargs) as acq,
    ):
        if isinstance(events, list) and events and isinstance(events[0], list):
            for batch in events:
                acq.acquire(batch)
        else:
            acq.acquire(events)
    return acq


class FlashFailed(RuntimeError):
    pass


def test_a_post_camera_hook_raising_in_a_burst_stops_the_camera(core, spy):
    seen = []

    def hook(events):
        seen.append(events)
        raise FlashFailed("the flash lamp did not fire")

    acq = run_failing(core, plain_burst(20), FlashFailed, post_camera_hook_fn=hook)
    assert len(seen) == 1 and isinstance(seen[0], list) and len(seen[0]) == 20  # one burst
    assert acq.status.state is RunState.FAILED
    assert "flash lamp" in str(acq.status.error)
    assert any("post_camera_hook_fn" in e.where for e in acq.errors)
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_a_post_camera_hook_raising_stops_the_stage_and_property_sequences(sequencing_core, spy):
    core = sequencing_core

    def hook(events):
        assert isinstance(events, list)
        raise FlashFailed("the flash lamp did not fire")

    acq = run_failing(core, sequenced_burst(), FlashFailed, post_camera_hook_fn=hook)
    started = {kind for kind, *_ in spy.started}
    assert {"startStageSequence", "startExposureSequence", "startPropertySequence"} <= started
    assert acq.status.state is RunState.FAILED
    assert "flash lamp" in str(acq.status.error)
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_a_post_hardware_hook_raising_in_a_sequence_stops_what_setup_started(sequencing_core, spy):
    core = sequencing_core

    def hook(events):
        assert isinstance(events, list)  # the burst, set up: its sequences started
        raise FlashFailed("the shutter did not open")

    acq = run_failing(core, sequenced_burst(), FlashFailed, post_hardware_hook_fn=hook)
    assert spy.started, "the burst started no sequence: nothing tested"
    assert acq.status.state is RunState.FAILED
    assert "shutter did not open" in str(acq.status.error)
    assert any("post_hardware_hook_fn" in e.where for e in acq.errors)
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_a_pre_hardware_hook_raising_before_the_second_burst(sequencing_core, spy):
    core = sequencing_core
    calls = []

    def hook(events):
        calls.append(events)
        if len(calls) == 2:
            raise FlashFailed("the incubator door opened")
        return events

    batches = [sequenced_burst(), sequenced_burst(start=10)]
    acq = run_failing(core, batches, FlashFailed, pre_hardware_hook_fn=hook)
    assert all(isinstance(c, list) and len(c) == 10 for c in calls)  # two bursts
    assert acq.status.state is RunState.FAILED
    assert "incubator door" in str(acq.status.error)
    assert acq.status.counts["saved"] == 10  # the first burst
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_a_refused_setting_after_the_sequences_started_stops_them(sequencing_core, spy):
    core = sequencing_core
    events = sequenced_burst()
    for event in events:  # a static property the camera refuses, set after the loading
        event["properties"].append(["Camera", "Binning", "7"])
    acq = run_failing(core, events, HardwareRefusedError)
    assert acq.status.state is RunState.FAILED
    assert "Binning" in str(acq.status.error)
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


@pytest.fixture(params=["camera", "focus sequence"])
def long_burst(request, core):
    """300 events in one burst: the camera alone, or with the focus stage sequenced."""
    if request.param == "camera":
        yield plain_burst(300)
        return
    core.setProperty("Z", "UseSequences", "Yes")
    try:
        yield focus_burst(300)
    finally:
        core.setProperty("Z", "UseSequences", "No")


def slow(image, metadata):
    time.sleep(0.005)  # slower than the camera: the burst is still running
    return image, metadata


def test_a_processor_aborting_mid_burst_stops_the_hardware(core, spy, long_burst):
    def segment(image, metadata):
        if metadata["Axes"]["time"] == 5:
            raise ValueError("segmentation found no cell")
        return image, metadata

    with (
        pytest.raises(ValueError, match="no cell"),
        Acquisition(
            core=core,
            storage="ram",
            show_display=False,
            image_process_fn=[slow, segment],
            on_error="abort",
        ) as acq,
    ):
        acq.acquire(long_burst)
    assert acq.status.state is RunState.FAILED
    assert "segmentation found no cell" in str(acq.status.error)
    assert acq.status.counts["acquired"] < 300  # stopped mid-burst
    assert bool(spy.started) == ("z" in long_burst[0])  # the focus sequence ran
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_an_abort_mid_burst_stops_the_hardware(core, spy, long_burst):
    first_saved = threading.Event()
    acq = Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_process_fn=slow,
        image_saved_fn=lambda _axes, _dataset: first_saved.set(),
    )
    acq.acquire(long_burst)
    assert first_saved.wait(30)
    acq.abort()
    acq.await_completion(timeout=30)
    assert acq.status.state is RunState.ABORTED
    assert acq.status.counts["acquired"] < 300  # stopped mid-burst
    assert bool(spy.started) == ("z" in long_burst[0])  # the focus sequence ran
    assert_hardware_stopped(core, spy)
    assert_microscope_works(core)


def test_an_abort_while_the_post_camera_hook_hangs_stops_the_camera(core, spy):
    release = threading.Event()
    entered = threading.Event()

    def hanging(events):
        entered.set()
        release.wait(30)  # a trigger box that does not answer

    acq = Acquisition(core=core, storage="ram", show_display=False, post_camera_hook_fn=hanging)
    try:
        acq.acquire(plain_burst(3000))  # 6 s of camera
        assert entered.wait(30)
        acq.abort()
        acq.await_completion(timeout=30)
        assert acq.status.state is RunState.ABORTED
        assert_hardware_stopped(core, spy)
    finally:
        release.set()
    assert_microscope_works(core)


def test_a_sequence_that_will_not_stop_hides_neither_the_error_nor_the_others(sequencing_core, spy):
    core = sequencing_core
    stuck = ("startStageSequence", "Z")

    def will_not_stop(*args):
        raise RuntimeError("Z: the controller does not answer")

    core.stopStageSequence = will_not_stop  # the spy's own is put back after the test

    def hook(events):
        raise FlashFailed("the flash lamp did not fire")

    with (
        pytest.raises(FlashFailed) as raised,
        Acquisition(core=core, storage="ram", show_display=False, post_camera_hook_fn=hook) as acq,
    ):
        acq.acquire(sequenced_burst())
    assert acq.status.state is RunState.FAILED
    assert "flash lamp" in str(acq.status.error)  # not the teardown's error
    assert any("controller does not answer" in note for note in raised.value.__notes__)
    assert not core.isSequenceRunning()
    assert spy.running == {stuck}  # the exposure and the objective were stopped


def test_a_burst_longer_than_a_device_takes_is_cut_to_fit_not_failed(sequencing_core, spy):
    """pymmcore-plus merges one event too many when values alternate (the objective
    takes sequences of 10): loading it failed with "Sequence is too large"."""
    core = sequencing_core
    assert core.getPropertySequenceMaxLength("Objective", "State") == 10
    bursts = []

    def count(events):
        bursts.append(len(events) if isinstance(events, list) else 1)
        return events

    events = [
        {"axes": {"time": t}, "properties": [["Objective", "State", str(1 + t % 2)]]}
        for t in range(25)
    ]
    with Acquisition(
        core=core, storage="ram", show_display=False, pre_hardware_hook_fn=count
    ) as acq:
        acq.acquire(events)
    assert acq.status.state is RunState.FINISHED
    assert acq.status.counts["saved"] == 25
    assert sum(bursts) == 25 and max(bursts) <= 10 and min(bursts) > 1
    assert_hardware_stopped(core, spy)
