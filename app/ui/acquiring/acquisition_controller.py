"""Runs an Acquisition for the window, and tells the GUI thread when it ends.

The acquisition's own threads do the work; this only waits for its completion on a
QThread and hands the outcome to the GUI thread as a queued Qt signal. A grid from the
Acquisition panel runs as pycro-manager's ``XYTiledAcquisition``, which saves the tiles
as one stitchable map (a multi-resolution NDTiff pyramid).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QObject, QThread, pyqtSignal

from app.acquisition.acquisition import Acquisition
from app.acquisition.tiled_acquisition import XYTiledAcquisition
from app.acquisition.tiles import TileLayout
from app.processing.errors import ErrorPolicy
from app.processing.registry import ProcessorRegistry
from app.ui.common.lifecycle import finish_thread
from app.ui.common.qt_threads import QtThreads

logger = logging.getLogger(__name__)


class _CompletionWaiter(QThread):
    done = pyqtSignal(str)

    def __init__(self, acq: Acquisition) -> None:
        super().__init__()
        self.acq = acq

    def run(self) -> None:
        try:
            self.acq.await_completion()
        except Exception as exc:
            logger.error(
                "Acquisition stopped on an error:\n%s", "".join(traceback.format_exception(exc))
            )
            self.done.emit(f"{type(exc).__name__}: {exc}")
            return
        self.done.emit("")


class AcquisitionController(QObject):
    """Starts acquisitions with the registry's processors (errors disable a processor
    and frames pass through it, as the GUI's policy) and reports their end."""

    started = pyqtSignal()
    finished = pyqtSignal(str)  # empty, or the error that stopped it

    def __init__(self, core: CMMCorePlus, registry: ProcessorRegistry) -> None:
        super().__init__()
        self.core = core
        self.registry = registry
        self.acquisition: Acquisition | None = None
        #: where images go when the panel does not save them: kept in memory (browsable
        #: in the viewer afterwards, as pycro-manager does), or "none" (benchmarks)
        self.unsaved_storage = "ram"
        self.started_at = 0.0
        self._waiter: _CompletionWaiter | None = None

    def set_core(self, core: CMMCorePlus) -> None:
        """Acquire with another microscope (a configuration was loaded)."""
        self.core = core

    @property
    def running(self) -> bool:
        return self.acquisition is not None and not self.acquisition.is_finished()

    def start(
        self,
        events: Sequence[dict[str, Any]],
        save_target: tuple[str, str] | None,
        restore_hardware: bool = True,
        storage_format: str = "ndtiff",
        tile_layout: TileLayout | None = None,
        hold_start_s: float | None = None,
    ) -> Acquisition:
        """Start ``events``; with ``tile_layout`` (the panel's grid) as a tiled
        acquisition, whose events carry ``row`` and ``column`` axes. With
        ``hold_start_s``, its engine waits up to that long for ``start_now()``."""
        if self.running:
            raise RuntimeError("An acquisition is already running")
        directory, name = save_target if save_target else (None, "acquisition")
        arguments: dict[str, Any] = {
            "image_process_fn": self.registry.for_acquisition(),
            "core": self.core,
            "storage": storage_format if save_target else self.unsaved_storage,
            "on_error": ErrorPolicy.PASS_THROUGH,
            "threads": QtThreads(),
            "restore_hardware": restore_hardware,
            "hold_start_s": hold_start_s,
        }
        if tile_layout is None:
            acq = Acquisition(directory, name, **arguments)
        else:
            overlap = (tile_layout.overlap_x, tile_layout.overlap_y)
            acq = XYTiledAcquisition(overlap, directory, name, layout=tile_layout, **arguments)
        try:
            acq.acquire(events)
        except BaseException:
            # refused events (nothing of them queued): the acquisition made for them
            # ends now, or its threads would wait for events forever, holding the
            # microscope
            acq.abort()
            raise
        acq.mark_finished()
        self._close_files_of(self.acquisition)
        self.acquisition = acq
        self.started_at = time.perf_counter()
        self._waiter = _CompletionWaiter(acq)
        self._waiter.done.connect(self._done)
        self._waiter.start()
        self.started.emit()
        return acq

    @staticmethod
    def _close_files_of(previous: Acquisition | None) -> None:
        """The window shows the new acquisition from now on: the files the previous
        one's dataset holds open for reading are closed (File > Open dataset reads it
        again). Left to the garbage collector, they piled up over a long session, and a
        dataset deleted meanwhile kept its disk space (found by ``bench soak``).

        They are closed on a thread of their own: closing the last handle of a deleted
        file frees its blocks, which for gigabytes took the GUI thread up to 3.9 s."""
        if previous is None or not previous.is_finished() or previous.dataset_path is None:
            return
        dataset = previous.get_dataset()
        if dataset is not None:
            threading.Thread(
                target=_close_quietly, args=(dataset,), name="scopeflow-close-dataset", daemon=True
            ).start()

    def _done(self, error: str) -> None:
        if self._waiter is not None:
            self._waiter.wait()
            self._waiter = None
        self.finished.emit(error)

    def pause(self, paused: bool) -> None:
        if self.acquisition is not None:
            (self.acquisition.pause if paused else self.acquisition.resume)()

    def abort(self) -> None:
        if self.acquisition is not None:
            self.acquisition.abort()

    def wait(self, timeout_s: float = 30) -> None:
        """Block until the running acquisition has ended (used when the window closes)."""
        if self._waiter is not None:
            self._waiter.wait(int(timeout_s * 1000))

    def close(self, timeout_s: float = 30) -> None:
        """The window closes: abort a running acquisition and wait for its end, and for
        the thread that waits for it, which outlives ``running`` by a moment (the end is
        told to the GUI thread after it). A thread still running is kept referenced until
        it ends: Qt aborts the process when a running QThread is destroyed."""
        if self.running:
            self.abort()
        waiter = self._waiter
        if waiter is not None:
            finish_thread(waiter, timeout_s, "The acquisition")


def _close_quietly(dataset: Any) -> None:
    try:
        dataset.close()
    except Exception:  # a reader's error at close loses nothing: the files are saved
        logger.exception("Closing the files of %s failed", getattr(dataset, "path", dataset))
