"""The ordered scheduler: parallel stages run frames at once, frames leave in order."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import pytest

from app.processing.ordered_stages import OrderedStages


@dataclass
class FakeStage:
    """Records the order of its inputs and how many ran at once."""

    name: str
    workers: int = 1
    active: bool = True
    delay_s: float = 0.0
    fail_on: int | None = None
    seen: list[int] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, item):
        number, trail = item
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.seen.append(number)
        try:
            if self.delay_s:
                time.sleep(self.delay_s * random.random())
            if number == self.fail_on:
                raise ValueError(f"{self.name} failed on {number}")
            return [(number, [*trail, self.name])]
        finally:
            with self.lock:
                self.running -= 1


def _run(stages, frames: int):
    scheduler = OrderedStages(stages)
    finished = []
    try:
        for number in range(frames):
            finished.extend(scheduler.put(number, [(number, [])]))
        finished.extend(scheduler.drain())
    finally:
        scheduler.close()
    return finished


def test_a_parallel_stage_runs_frames_at_once_and_they_leave_in_order():
    heavy = FakeStage("heavy", workers=4, delay_s=0.01)
    after = FakeStage("stats")
    finished = _run([heavy, after], 40)
    assert [f.payload for f in finished] == list(range(40))
    assert all(f.items == [(f.payload, ["heavy", "stats"])] for f in finished)
    assert heavy.most_at_once > 1  # frames overlapped in the pool
    assert after.seen == list(range(40))  # the serial stage saw acquisition order
    assert after.most_at_once == 1


def test_serial_stages_only_is_a_straight_path():
    first, second = FakeStage("a"), FakeStage("b")
    scheduler = OrderedStages([first, second])
    assert not scheduler.parallel
    # each frame leaves as soon as it is put: nothing waits for a pool
    for number in range(5):
        (done,) = scheduler.put(number, [(number, [])])
        assert done.payload == number
    scheduler.close()


def test_the_window_bounds_frames_in_flight():
    heavy = FakeStage("heavy", workers=2, delay_s=0.005)
    scheduler = OrderedStages([heavy])
    most = 0
    for number in range(30):
        scheduler.put(number, [(number, [])])
        most = max(most, len(scheduler))
    scheduler.drain()
    scheduler.close()
    assert most <= scheduler.window == 4


@pytest.mark.parametrize("workers", [1, 3])
def test_an_error_stays_with_its_frame_in_order(workers):
    failing = FakeStage("failing", workers=workers, fail_on=5)
    after = FakeStage("after")
    finished = _run([failing, after], 10)
    assert [f.payload for f in finished] == list(range(10))
    errors = [f for f in finished if f.error is not None]
    assert [f.payload for f in errors] == [5]
    assert "failing failed on 5" in str(errors[0].error)
    assert 5 not in after.seen and errors[0].items == []


def test_an_inactive_stage_is_skipped_and_no_output_ends_a_frame():
    off = FakeStage("off", workers=2, active=False)

    class Drop(FakeStage):
        def run(self, item):
            return [] if item[0] % 2 else super().run(item)

    drop = Drop("drop", workers=2)
    finished = _run([off, drop], 6)
    assert off.seen == []
    assert [f.items for f in finished] == [
        [(0, ["drop"])],
        [],
        [(2, ["drop"])],
        [],
        [(4, ["drop"])],
        [],
    ]


def test_wake_is_called_from_the_pool_when_a_result_is_ready():
    woken = threading.Event()
    heavy = FakeStage("heavy", workers=2)
    scheduler = OrderedStages([heavy], wake=woken.set)
    finished = scheduler.put(0, [(0, [])])
    assert woken.wait(5)
    finished += scheduler.drain()
    assert [f.payload for f in finished] == [0]
    scheduler.close()
