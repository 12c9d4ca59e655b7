"""The window's slow refreshes take turns (``app/ui/common/pacer.py``)."""

from __future__ import annotations

import gc
import itertools
import time
import weakref

from PyQt6.QtWidgets import QWidget

from app.ui.common.pacer import Pacer


class Recorder:
    def __init__(self) -> None:
        self.runs: list[float] = []

    def run(self) -> None:
        self.runs.append(time.perf_counter())


def test_jobs_of_one_period_never_run_in_the_same_turn(qtbot):
    pacer = Pacer(spacing_ms=20)
    jobs = [Recorder() for _ in range(3)]
    for job in jobs:
        pacer.every(40, job.run)
    qtbot.waitUntil(lambda: all(len(job.runs) >= 4 for job in jobs), timeout=10000)
    every_run = sorted(t for job in jobs for t in job.runs)
    turns = [b - a for a, b in itertools.pairwise(every_run)]
    assert min(turns) >= 0.019  # a turn of its own each (1 ms for the clock's)
    for job in jobs:  # and each no sooner than its period
        assert min(b - a for a, b in itertools.pairwise(job.runs)) >= 0.039
    pacer.deleteLater()


def test_a_job_that_raises_keeps_its_place_and_the_others_run_on(qtbot):
    pacer = Pacer(spacing_ms=5)
    steady = Recorder()
    failures = []

    def broken() -> None:
        failures.append(time.perf_counter())
        raise ValueError("a refresh that fails")

    pacer.every(20, broken)
    pacer.every(20, steady.run)
    with qtbot.capture_exceptions() as exceptions:
        qtbot.waitUntil(lambda: len(failures) >= 3 and len(steady.runs) >= 3, timeout=10000)
    assert exceptions and all(isinstance(e[1], ValueError) for e in exceptions)
    pacer.deleteLater()


class Ticking(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1


def test_a_widgets_refresh_holds_it_as_a_connection_would_and_ends_with_it(qtbot):
    pacer = Pacer(spacing_ms=5)
    widget = Ticking()
    job = pacer.every(10, widget.tick)
    gone = weakref.ref(widget)
    qtbot.waitUntil(lambda: gone().ticks >= 2, timeout=10000)
    del widget
    gc.collect()
    assert gone() is None  # the pacer did not keep it alive
    qtbot.waitUntil(lambda: not job.active, timeout=5000)
    kept = Ticking()
    other = pacer.every(10, kept.tick)
    kept.deleteLater()  # destroyed by Qt while Python still holds it
    qtbot.waitUntil(lambda: not other.active, timeout=5000)
    assert job not in pacer.jobs and other not in pacer.jobs  # forgotten, not kept
    pacer.deleteLater()


def test_the_windows_parts_take_turns_on_the_windows_pacer(qtbot, window):
    names = {job.name for job in window.pacer.jobs if job.active}
    assert {
        "histogram",
        "channel levels",
        "processors' statistics",
        "stage position",
        "status line",
    } <= names
    # and each runs in its turns
    jobs = [job for job in window.pacer.jobs if job.active]
    before = {job: job.due for job in jobs}
    qtbot.waitUntil(lambda: all(job.due > before[job] for job in jobs), timeout=10000)


def test_a_closed_windows_refreshes_stay_stopped(qtbot, window):
    jobs = list(window.pacer.jobs)
    assert jobs and all(job.active for job in jobs)
    window.close()
    assert not any(job.active for job in jobs)
