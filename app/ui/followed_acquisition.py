"""The acquisition the Acquisition panel speaks for, however it was started.

The panel starts acquisitions of its own (through the ``AcquisitionController``); the
console and the scripts panel's Run start others, with ``Acquisition(...)`` as in
pycro-manager. The window must show whichever is running: its progress in the panel,
Pause and Abort acting on it, and who started it. The rule kept here: **the panel's own
acquisition first; else the newest running one that asked to be shown**
(``show_display=True``, pycro-manager's default). Explore's runs are its window's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.acquisition.acquisition import Acquisition
from app.acquisition.active import ShownAcquisitions
from app.acquisition.state import RunState
from app.acquisition.summary import describe_end
from app.ui.acquisition_controller import AcquisitionController
from app.ui.acquisition_panel import AcquisitionPanel

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

    def tick(self) -> None:
        newest = self._shown.newest()
        other = self.other
        if other is not None and other.is_finished():
            self._ended(other)
        if (
            newest is None
            or newest is self._controller.acquisition
            or self._controller.running
            or not isinstance(newest, Acquisition)
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
        )

    def _begin(self, acquisition: Acquisition) -> None:
        self.other = acquisition
        self._other_started = time.perf_counter() - acquisition.status.elapsed_s
        self._panel.set_running(True)
        self._set_busy(True)
        self._say(
            f"Acquisition '{acquisition.name}' {STARTED_ELSEWHERE}: its progress is in the "
            "Acquisition panel, where Pause and Abort act on it"
        )

    def _ended(self, acquisition: Acquisition) -> None:
        self.other = None
        status = acquisition.status
        if acquisition.dataset_path is not None:
            text = describe_end(status, f" in {acquisition.dataset_path}")
        elif acquisition.sink.stores_images:
            text = describe_end(status, " in memory", kept="kept")
        else:
            text = describe_end(status, "", kept="passed on, none kept")
        self._panel.set_running(False)
        self._set_busy(False)
        self._panel.show_result(
            f"{text} ({STARTED_ELSEWHERE})",
            status.counts.get("acquired", 0),
            status.events_submitted,
        )
