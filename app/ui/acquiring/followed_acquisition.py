"""The acquisition the Acquisition panel speaks for, however it was started.

The panel starts acquisitions of its own (through the ``AcquisitionController``); the
console and the scripts panel's Run start others, with ``Acquisition(...)`` as in
pycro-manager. The window must show whichever is running: its progress in the panel,
Pause and Abort acting on it, and who started it. The rule kept here: **the panel's own
acquisition first; else the newest running one that asked to be shown**
(``show_display=True``, pycro-manager's default). Explore's runs are its window's.

A script's acquisition leaves the microscope where it ended, as pycro-manager's do (the
window's own put it back): what it left changed is marked in the panel, with one click
to put it back, so that the next acquisition does not start out of focus unnoticed.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymmcore_plus import CMMCorePlus

from app.acquisition.acquisition import Acquisition
from app.acquisition.active import ShownAcquisitions
from app.acquisition.hardware_state import HardwareState
from app.acquisition.state import RunState
from app.acquisition.summary import describe_end
from app.ui.acquiring.acquisition_controller import AcquisitionController
from app.ui.acquiring.acquisition_panel import AcquisitionPanel

logger = logging.getLogger(__name__)

#: who started an acquisition the panel did not start
STARTED_ELSEWHERE = "started from the console or a script"


class FollowedAcquisition:
    """Called at each status tick (``tick``); ``pause``/``abort`` are the panel's
    buttons. ``say`` puts a sentence in the status bar; ``set_busy(True)`` while one
    started elsewhere runs (the microscope's controls are not for Snap then)."""

    def __init__(
        self,
        panel: AcquisitionPanel,
        controller: AcquisitionController,
        shown: ShownAcquisitions,
        say: Callable[[str], None],
        set_busy: Callable[[bool], None],
    ) -> None:
        self._panel = panel
        self._controller = controller
        self._shown = shown
        self._say = say
        self._set_busy = set_busy
        #: the acquisition started elsewhere that the panel shows now, if any
        self.other: Acquisition | None = None
        self._other_started = 0.0
        #: where the microscope was before the acquisitions from elsewhere started,
        #: kept while their changes are marked (None: nothing to put back)
        self.before: Before | None = None
        #: where it was as each shown acquisition started (read on its starting thread,
        #: before it moved anything: a short one may come and go between two ticks).
        #: One queued behind another on the same microscope is read as it is queued,
        #: while the one before may still move it.
        self._state_at_start: weakref.WeakKeyDictionary[Any, Before] = weakref.WeakKeyDictionary()
        self._reported: weakref.WeakSet[Any] = weakref.WeakSet()
        shown.set_on_added(self._added)

    def detach(self) -> None:
        """The window closes: stop reading the microscope as acquisitions start."""
        self._shown.set_on_added(None)

    def set_core(self, core: CMMCorePlus) -> None:
        """Another microscope (a configuration was loaded): nothing of the old one's is
        to be put back on it."""
        self.forget_changes()

    def _added(self, acquisition: Any) -> None:
        core = getattr(acquisition, "core", None) or self._controller.core
        try:
            self._state_at_start[acquisition] = Before(core, HardwareState.read(core))
        except Exception:  # a device that does not answer: nothing to compare with
            logger.debug("Could not read the microscope as an acquisition started", exc_info=True)

    def target(self) -> Acquisition | None:
        """What Pause and Abort act on."""
        if self._controller.running:
            return self._controller.acquisition
        return self.other

    def pause(self, paused: bool) -> None:
        acquisition = self.target()
        if acquisition is not None:
            (acquisition.pause if paused else acquisition.resume)()

    def abort(self) -> None:
        acquisition = self.target()
        if acquisition is not None:
            acquisition.abort()

    def origin(self, acquisition: Any) -> str:
        """Who started ``acquisition``, for the status line."""
        if acquisition is not None and acquisition is self._controller.acquisition:
            return "started from the Acquisition panel"
        return STARTED_ELSEWHERE

    def running(self) -> bool:
        """An acquisition runs, the panel's or another shown one."""
        return self._controller.running or self._shown.newest() is not None

    def tick(self) -> None:
        other = self.other
        if other is not None and other.is_finished():
            self._ended(other)
        last = self._shown.last_added()
        if (  # came and went between two ticks
            last is not None
            and last is not self.other
            and last is not self._controller.acquisition
            and isinstance(last, Acquisition)
            and last.is_finished()
            and last not in self._reported
        ):
            self._ended(last)
        newest = self._shown.newest()  # read after the ends: one just ended is not begun
        if (
            newest is None
            or newest is self._controller.acquisition
            or self._controller.running
            or not isinstance(newest, Acquisition)
            or newest.is_finished()
        ):
            return
        if newest is not self.other:
            self._begin(newest)
        status = newest.status
        self._panel.show_progress(
            status.counts.get("acquired", 0),
            status.events_submitted,
            self._other_started,
            status.state is RunState.PAUSING,
            status.long_call,
        )

    def put_back(
        self, run: Callable[[Callable[[], list[str]]], list[str]] = lambda work: work()
    ) -> list[str]:
        """The microscope back to where it was before the acquisition from elsewhere;
        what could not be put back (said in the panel). ``run`` runs the moves (the
        window's runs them off the GUI thread: a stage may take seconds). Refused while
        an acquisition runs: the stage is its."""
        if self.running():
            self._say("Not put back: an acquisition is running on the microscope")
            return ["an acquisition is running"]
        before, self.before = self.before, None
        problems = run(lambda: before.state.restore(before.core)) if before is not None else []
        self._panel.show_hardware_left(
            [f"could not put back {problem}" for problem in problems], STARTED_ELSEWHERE
        )
        return problems

    def forget_changes(self) -> None:
        """Keep the microscope as it is (the user's Keep, an acquisition of the window's
        own, another microscope): nothing to put back."""
        self.before = None
        self._panel.show_hardware_left([])

    def _begin(self, acquisition: Acquisition) -> None:
        self.other = acquisition
        self._other_started = time.perf_counter() - acquisition.status.elapsed_s
        self._panel.show_hardware_left([])  # no Put back under a running acquisition
        self._panel.set_running(True)
        self._set_busy(True)
        self._say(
            f"Acquisition '{acquisition.name}' {STARTED_ELSEWHERE}: its progress is in the "
            "Acquisition panel, where Pause and Abort act on it"
        )

    def _ended(self, acquisition: Acquisition) -> None:
        self._reported.add(acquisition)
        began = self.other is acquisition
        if began:
            self.other = None
        if self.before is None:  # marked already: keep the state before the first one
            self.before = self._state_at_start.get(acquisition)
        if self._controller.running:  # the panel shows its own meanwhile
            return
        status = acquisition.status
        if acquisition.dataset_path is not None:
            text = describe_end(status, f" in {acquisition.dataset_path}")
        elif acquisition.sink.stores_images:
            text = describe_end(status, " in memory", kept="kept")
        else:
            text = describe_end(status, "", kept="passed on, none kept")
        if began:
            self._panel.set_running(False)
            self._set_busy(False)
        self._say(f"Acquisition '{acquisition.name}' ({STARTED_ELSEWHERE}): {text}")
        self._panel.show_result(
            f"{text} ({STARTED_ELSEWHERE})",
            status.counts.get("acquired", 0),
            status.events_submitted,
        )
        self._mark_changes()

    def _mark_changes(self) -> None:
        before = self.before
        if before is None:
            return
        try:
            changes = before.state.changes_to(HardwareState.read(before.core))
        except Exception:
            changes = []
        if not changes:
            self.before = None
        self._panel.show_hardware_left(changes, STARTED_ELSEWHERE)


@dataclass(frozen=True)
class Before:
    """Where a microscope was: the one an acquisition ran on, and its state."""

    core: CMMCorePlus
    state: HardwareState
