"""The window's slow refreshes take turns.

The histogram, the processors' statistics and time plot, the status line, the channel
strip's levels and the stage position each follow the acquisition a few times a second.
With a timer of their own, timers of the same period fired in the same turn of the
event loop (Qt even lines coarse timers up on purpose), and their costs added up in one
block of the GUI thread: 22-31 ms while saving 2048x2048 frames, with a frame to paint
in the same turn (``scopeflow bench gui``, the events of each long gap timed).

A ``Pacer`` runs them from one timer instead: at most one job per turn, turns at least
``spacing_ms`` apart, the most overdue job first. A job's period is then a floor (it
runs no sooner), and a busy window delays the slow refreshes rather than the frames.
A job that raises keeps its place (its exception goes where a timer's slot's goes:
``sys.excepthook``); the others run on.
"""

from __future__ import annotations

import inspect
import math
import time
import weakref
from collections.abc import Callable

from PyQt6.QtCore import QObject, Qt, QTimer

#: a turn of its own for each slow refresh: a frame paint (~2-5 ms) and one job fit in
#: a 60 Hz refresh; the window's five jobs at 2-4 Hz need 14 turns a second of the 40
SPACING_MS = 25


class PacedJob:
    """One slow refresh of a ``Pacer``: ``job`` every ``interval_ms`` at the soonest.

    Held as a Qt connection holds its slot: a method only weakly, and stopped when its
    widget is destroyed. A strong hold made a widget's own pacer keep the widget's
    Python side alive after Qt deleted it (a viewer's pyqtgraph view then got a resize
    event with its layout gone, and the process died: seen in the window tests)."""

    def __init__(self, pacer: Pacer, interval_ms: int, job: Callable[[], None], name: str) -> None:
        self.pacer = pacer
        self.interval_s = interval_ms / 1000
        self._job: Callable[[], Callable[[], None] | None] = (
            weakref.WeakMethod(job) if inspect.ismethod(job) else lambda: job
        )
        self.name = name
        self.active = False
        self.due = 0.0  # perf_counter
        owner = getattr(job, "__self__", None)
        if isinstance(owner, QObject):
            owner.destroyed.connect(self.forget)

    @property
    def job(self) -> Callable[[], None] | None:
        """What to run (None: its object is gone)."""
        return self._job()

    def start(self) -> None:
        """Runs from one period from now on (again, if it was stopped)."""
        self.active = True
        self.due = time.perf_counter() + self.interval_s
        self.pacer.reschedule()

    def stop(self) -> None:
        self.active = False

    def forget(self) -> None:
        """Stopped for good: its object is gone."""
        self.stop()
        if self in self.pacer.jobs:
            self.pacer.jobs.remove(self)


class Pacer(QObject):
    """Runs its jobs in turns on the thread it lives on (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, spacing_ms: int = SPACING_MS) -> None:
        super().__init__(parent)
        self.spacing_s = spacing_ms / 1000
        self.jobs: list[PacedJob] = []
        self._last_turn = 0.0
        # a child of the pacer: ``lifecycle.stop_timers`` of the window stops it too
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # never lined up with others
        self._timer.timeout.connect(self._turn)

    def every(self, interval_ms: int, job: Callable[[], None], name: str = "") -> PacedJob:
        """``job`` every ``interval_ms`` or later, started."""
        paced = PacedJob(self, interval_ms, job, name or getattr(job, "__qualname__", "job"))
        self.jobs.append(paced)
        paced.start()
        return paced

    def stop(self) -> None:
        """Every job stopped (the window closes): none runs again unless started."""
        for job in self.jobs:
            job.stop()
        self._timer.stop()

    def reschedule(self) -> None:
        """The timer set for the soonest due job (no sooner than the spacing allows)."""
        due = [job.due for job in self.jobs if job.active]
        if not due:
            self._timer.stop()
            return
        wake = max(min(due), self._last_turn + self.spacing_s)
        wait_ms = max(0, math.ceil((wake - time.perf_counter()) * 1000))
        self._timer.start(wait_ms)

    def _turn(self) -> None:
        now = time.perf_counter()
        ready = [job for job in self.jobs if job.active and job.due <= now]
        if ready:
            job = min(ready, key=lambda j: j.due)  # the most overdue
            job.due = now + job.interval_s
            run = job.job
            if run is None:
                job.forget()
                self.reschedule()
                return
            try:
                run()  # one that raises goes where a timer's slot's would go
            finally:
                self._last_turn = time.perf_counter()
                self.reschedule()
            return
        self.reschedule()
