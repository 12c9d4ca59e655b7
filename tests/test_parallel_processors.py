"""Processors that run on several frames at once (``workers=N``), frames in order."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from app import Acquisition, Processor, multi_d_acquisition_events, processor
from app.processing.registry import ProcessorRegistry
from app.scripting.decorator import set_current_registry
from app.scripting.scripts_folder import ScriptsFolder


class Overlap:
    """Counts how many calls run at once; sleeps a random while (releasing the GIL, as
    a numpy or scipy filter does), so frames finish out of order in the pool."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def __call__(self, image, metadata):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.002 + 0.01 * random.random())
            image[0, 0] = metadata["Axes"]["time"]  # the output says which frame it is
            return image, metadata
        finally:
            with self.lock:
                self.running -= 1


def test_frames_run_at_once_and_are_saved_in_acquisition_order(acquire_in_memory, core):
    heavy = Overlap()
    seen_by_serial = []

    def running_total(image, metadata):  # keeps state: serial, sees acquisition order
        seen_by_serial.append(metadata["Axes"]["time"])
        return image, metadata

    acq, saved = acquire_in_memory([Processor(heavy, workers=4), running_total])
    assert heavy.most > 1
    assert saved == list(range(30))
    assert seen_by_serial == list(range(30))
    dataset = acq.get_dataset()
    assert [int(dataset.read_image(time=t)[0, 0]) for t in range(30)] == list(range(30))
    assert acq.counts.snapshot()["lost"] == 0


def test_one_worker_is_the_serial_path(acquire_in_memory, core):
    heavy = Overlap()
    _, saved = acquire_in_memory([Processor(heavy, workers=1)], frames=8)
    assert heavy.most == 1 and saved == list(range(8))


def test_a_parallel_processor_that_raises_stops_the_acquisition_with_its_error(
    acquire_in_memory, core
):
    def fails_on_five(image, metadata):
        time.sleep(0.005 * random.random())
        if metadata["Axes"]["time"] == 5:
            raise ValueError("bad frame 5")
        return image, metadata

    with pytest.raises(ValueError, match="bad frame 5"):
        acquire_in_memory([Processor(fails_on_five, workers=3)], frames=20)


def test_skip_policy_in_a_pool_loses_only_the_failing_frame(acquire_in_memory, core):
    def fails_on_odd(image, metadata):
        time.sleep(0.004 * random.random())
        if metadata["Axes"]["time"] % 2:
            raise ValueError("odd")
        return image, metadata

    acq, saved = acquire_in_memory([Processor(fails_on_odd, workers=3)], frames=12, on_error="skip")
    assert saved == [0, 2, 4, 6, 8, 10]
    assert acq.counts.snapshot()["failed"] == 6


def test_abort_with_frames_in_the_pool_ends_and_keeps_what_was_acquired(core):
    def slow(image, metadata):
        time.sleep(0.02)
        return image, metadata

    acq = Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_process_fn=Processor(slow, workers=2),
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=200))
    time.sleep(0.2)
    acq.abort()
    acq.await_completion()
    counts = acq.counts.snapshot()
    dataset = acq.get_dataset()
    stored = len(dataset.get_image_coordinates_list())
    assert stored >= 1
    assert stored + counts["lost"] >= counts["acquired"]  # every frame accounted for


def test_the_decorator_declares_workers_in_the_console_and_in_a_script(tmp_path):
    registry = ProcessorRegistry()
    set_current_registry(registry)
    try:

        @processor(workers=3)
        def smooth(image, metadata):
            return image, metadata

        assert registry.get("smooth").workers == 3
        script = tmp_path / "filters.py"
        script.write_text(
            "from app import processor\n\n"
            "@processor(workers=2)\n"
            "def sharpen(image, metadata):\n"
            "    return image, metadata\n",
            encoding="utf-8",
        )
        ScriptsFolder(tmp_path, registry).scan()
        assert registry.get("sharpen").workers == 2
        with pytest.raises(ValueError, match="workers must be a whole number of 1 or more"):
            processor(workers=0)(lambda image, metadata: (image, metadata))
    finally:
        set_current_registry(None)


def test_replaying_a_dataset_keeps_order_with_a_parallel_processor(core, tmp_path):
    from app.processing.replay import process_dataset

    with Acquisition(tmp_path, "source", core=core, show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=12))
    heavy = Overlap()
    result = process_dataset(acq.dataset_path, [Processor(heavy, workers=3)], tmp_path, "replayed")
    from app import open_dataset

    replayed = open_dataset(result)
    assert [int(replayed.read_image(time=t)[0, 0]) for t in range(12)] == list(range(12))
    assert heavy.most > 1
    np.testing.assert_array_equal(
        replayed.read_image(time=3)[1:], open_dataset(acq.dataset_path).read_image(time=3)[1:]
    )


def test_skipping_is_counted_per_frame_when_an_earlier_processor_renamed_it(
    acquire_in_memory, core
):
    """The failure's axes are the renamed ones: the frame is still the one skipped."""

    def rename(image, metadata):
        metadata = dict(metadata, Axes={**metadata["Axes"], "channel": "renamed"})
        return image, metadata

    def boom(image, metadata):
        raise ValueError("boom")

    acq, saved = acquire_in_memory([rename, Processor(boom, workers=2)], frames=4, on_error="skip")
    counts = acq.counts.snapshot()
    assert saved == [] and counts["failed"] == 4 and counts["dropped_by_processors"] == 0


def test_a_call_long_on_one_frame_is_named_while_the_pool_s_other_calls_end(core):
    """Four workers, the first frame's call stuck, the others done: the status names
    the stuck call, with how long (one field for all the calls lost it when another
    call ended), and names none once the acquisition has ended."""
    release = threading.Event()

    def stuck_on_the_first(image, metadata):
        if metadata["Axes"]["time"] == 0:
            release.wait(30)
        return image, metadata

    acq = Acquisition(
        core=core,
        storage="ram",
        show_display=False,
        image_process_fn=[Processor(stuck_on_the_first, workers=4)],
    )
    try:
        acq.acquire(multi_d_acquisition_events(num_time_points=6))
        deadline = time.monotonic() + 20
        while acq.status.long_call is None and time.monotonic() < deadline:
            time.sleep(0.1)
        said = acq.status.long_call
        assert said is not None and said.startswith("image processor stuck_on_the_first, ")
        assert said.endswith(" s on one image")
    finally:
        release.set()
        acq.mark_finished()
        acq.await_completion(timeout=30)
    assert acq.status.counts["saved"] == 6 and acq.status.long_call is None
