"""The Acquisition panel's Start, and what the window does as an acquisition runs and
ends: the microscope's controls wait, the viewer follows the new dataset, the panel
shows progress and then how it ended.

An acquisition started elsewhere (the console, a script) is followed by the panel
too (``FollowedAcquisition``): its Pause and Abort, and Put back or Keep for what it
left changed on the microscope.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PyQt6.QtWidgets import QMessageBox, QWidget

from app.acquisition.bounded_call import CallAbandonedError
from app.acquisition.cameras import camera_names
from app.acquisition.planned_axes import planned_axes
from app.acquisition.state import RunState
from app.acquisition.summary import describe_end
from app.appstate import AppState
from app.storage.warm_memory import warm_memory
from app.ui.acquiring.acquisition_controller import AcquisitionController
from app.ui.acquiring.acquisition_panel import AcquisitionPanel
from app.ui.acquiring.followed_acquisition import FollowedAcquisition
from app.ui.common.progress_task import run_with_progress
from app.ui.common.seams import Messages
from app.ui.display.dataset_browser import DatasetBrowser

logger = logging.getLogger(__name__)

#: Start's acquisition takes the microscope once the viewer is laid out for its plan
#: (``DatasetBrowser.browse``'s ``laid_out``), a few turns of the event loop after the
#: click, or after this long at most. Its threads, started at full speed with the
#: layout, took the two cores it needed: the composite's longest block from the click
#: to its first frame was 20.6 ms, and 10.5 ms held (medians of ten 300-frame Starts of
#: each, in turn in one process with ``bench gui``'s code; 11.7 and 9.6 ms saving).
LAYOUT_HOLD_S = 0.3


class AcquisitionActions:
    """Start, progress and end for ``panel`` and ``controller``.

    ``stop_live`` stops Live before an acquisition; ``microscope_free(free)`` enables
    or disables the microscope's controls; ``exploring`` says whether Explore has the
    microscope (nothing else starts then).
    """

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        panel: AcquisitionPanel,
        controller: AcquisitionController,
        browser: DatasetBrowser,
        messages: Messages,
        *,
        stop_live: Callable[[], None],
        microscope_free: Callable[[bool], None],
        exploring: Callable[[], bool],
    ) -> None:
        self.parent = parent
        self.state = state
        self.panel = panel
        self.controller = controller
        self.browser = browser
        self.messages = messages
        self.stop_live = stop_live
        self.microscope_free = microscope_free
        self.exploring = exploring
        #: the bytes memory was last made ready for (``_make_memory_ready``): none yet,
        #: so a script's request made before the window's first tick stands; and
        #: ``WarmMemory.request`` after the window's ask (-1: Start used it up)
        self._memory_asked = 0
        self._memory_request = -1
        #: asked before a plan the estimate says will not fit starts (tests answer it)
        self.ask_start_anyway: Callable[[str], bool] = self._ask_start_anyway
        # the panel speaks for its own acquisition, else one the console or a script runs
        self.followed = FollowedAcquisition(
            panel,
            controller,
            state.shown,
            lambda text: messages.show_status(text),
            self._busy_elsewhere,
        )
        panel.startRequested.connect(self.start_acquisition)
        panel.pauseToggled.connect(self.followed.pause)
        panel.abortRequested.connect(self.followed.abort)
        panel.putBackRequested.connect(self._put_back_hardware)
        panel.keepRequested.connect(self.followed.forget_changes)
        panel.failed.connect(messages.show_error_message)
        controller.finished.connect(self._acquisition_finished)

    def start_acquisition(self) -> None:
        if self.exploring():
            self.messages.show_error_message(
                "Explore is open: close its window to start an acquisition (the stage and "
                "camera are the map's until then)"
            )
            return
        panel = self.panel
        try:
            events, tile_layout = panel.start_plan()
            # of the events made now: the plan may have changed since the estimate's tick
            shortage = panel.room_shortage(len(events))
        except Exception as exc:
            self.messages.show_error_message(f"Could not start the acquisition: {exc}")
            return
        if shortage is not None and not self.ask_start_anyway(f"{shortage}\n\nStart anyway?"):
            return
        self.stop_live()
        try:
            target = panel.save_target()
            # read before the acquisition runs: its engine makes each camera the
            # core's in turn as it starts, and a camera read then could be any
            planned = planned_axes(events, camera_names(self.state.core))
            acq = self.controller.start(
                events,
                target,
                panel.return_hardware.isChecked(),
                panel.storage_format,
                tile_layout=tile_layout,
                hold_start_s=LAYOUT_HOLD_S,
            )
        except Exception as exc:
            self.messages.show_error_message(f"Could not start the acquisition: {exc}")
            return
        self.browser.browse(acq.get_dataset(), follow=True, planned=planned, laid_out=acq.start_now)
        if target is None and warm_memory().ready_bytes > 0:
            self._memory_request = -1  # it uses the request up: asked again once the plan changes
        self.followed.forget_changes()
        panel.set_running(True)
        self.microscope_free(False)
        logger.info(
            "Acquisition started: %d events%s",
            len(events),
            f", saving to {acq.dataset_path}" if acq.dataset_path else "",
        )

    def _ask_start_anyway(self, question: str) -> bool:
        if os.environ.get("SCOPEFLOW_NO_DIALOGS"):  # nobody to ask: as the plan says
            return True
        answer = QMessageBox.question(
            self.parent,
            "The plan will not fit",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def tick(self) -> None:
        """The window's status tick: before Start, the estimate (will it fit, how long);
        while the panel's acquisition runs, its progress."""
        acq = self.state.shown.newest()
        if acq is None and self.panel.isVisible():
            self._make_memory_ready(self.panel.show_estimate())
        if acq is not None and acq is self.controller.acquisition:
            status = acq.status
            self.panel.show_progress(
                status.counts["acquired"],
                status.events_submitted,
                self.controller.started_at,
                status.state is RunState.PAUSING,
                status.long_call,
            )
            self.browser.refresh()
        self.followed.tick()

    def _make_memory_ready(self, fits: bool) -> None:
        """A plan kept in memory gets its memory touched while it is set, so that
        Start's acquisition runs as fast as the ones after it (``WarmMemory.make_ready``:
        memory it would take anyway, for that one Start). Asked again when the plan
        changes, or after an acquisition from the console or a script (which used the
        request up); a plan saved to disk gives it up. Told at the status tick, while
        the panel is shown and no acquisition runs; the window's closing gives it up
        too."""
        kept = (
            fits and self.panel.save_target() is None and self.controller.unsaved_storage == "ram"
        )
        wanted = self.panel.estimate.bytes if kept else 0
        memory = warm_memory()
        # used up by another acquisition: not asked for since, and nothing left of it
        # (a script's own ask, ``prepare_memory(0)`` too, stands until the plan changes)
        used_elsewhere = (
            wanted and memory.request == self._memory_request and memory.ready_bytes == 0
        )
        if wanted != self._memory_asked or used_elsewhere:
            self._memory_asked = wanted
            memory.make_ready(wanted)
            self._memory_request = memory.request

    def give_up_memory(self) -> None:
        """No more memory made ready for the panel's plan (the window closes)."""
        self._memory_asked = 0
        warm_memory().make_ready(0)

    def _busy_elsewhere(self, busy: bool) -> None:
        """An acquisition from the console or a script runs (or ended): Live stops and
        the microscope's controls wait for it, as for the panel's own."""
        if busy:
            self.stop_live()
        self.microscope_free(not busy)

    def _put_back_hardware(self) -> None:
        def moving(work: Callable[[], list[str]]) -> list[str]:
            result = run_with_progress(
                self.parent,
                "Put back",
                "Moving the microscope back…",
                lambda on_progress, should_stop: work(),
                busy=True,
            )
            if result.exception is not None:
                return [str(result.exception)]
            return list(result.value or [])

        self.followed.put_back(moving)

    def _acquisition_finished(self, error: str) -> None:
        acq = self.controller.acquisition
        self.panel.set_running(False)
        self.microscope_free(True)
        if acq is None:
            return
        status = acq.status
        counts = status.counts
        if acq.dataset_path is not None:
            text = describe_end(status, f" in {acq.dataset_path}")
        elif acq.sink.stores_images:
            where = " in memory (File > Save acquisition as NDTiff… writes them to disk)"
            text = describe_end(status, where, kept="kept")
        else:
            text = describe_end(status, "", kept="passed on, none kept")
        # the panel and the viewer say the end first: an error's dialog waits for the
        # user, and the progress line said the run before it meanwhile
        self.panel.show_result(text, counts.get("acquired", 0), status.events_submitted)
        self.browser.acquisition_ended()
        failures = [e for e in acq.errors if e.exception is not None]
        # a processor abandoned at Abort (still in the user's code, maybe only slow)
        # raised nothing and stays on: said in the status line (the Log has it), not
        # as an error it was switched off for, nor in a dialog after every Abort
        abandoned = [e for e in failures if isinstance(e.exception, CallAbandonedError)]
        raised = [e for e in failures if not isinstance(e.exception, CallAbandonedError)]
        if raised and status.state is not RunState.FAILED:
            self.messages.show_error_message(
                f"{len(raised)} error(s) in processors or callbacks; a failing processor "
                f"was disabled and frames passed through it. First: {raised[0]}"
            )
        if abandoned:
            self.messages.show_status(
                f"{abandoned[0].exception}. It is still on: if it hangs, untick it in the "
                "Processors panel before the next Start.",
                0,
            )
        if status.state is RunState.FAILED:
            self.messages.show_error_message(text)
