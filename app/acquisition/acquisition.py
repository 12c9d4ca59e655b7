"""Acquisition: pycro-manager's scripting API over Scopeflow's in-process engine."""

from __future__ import annotations

import atexit
import datetime
import logging
import math
import os
import sys
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pymmcore_plus import CMMCorePlus

from app.acquisition import active
from app.acquisition.bounded_call import (
    DEFAULT_CALLBACK_TIMEOUT_S,
    BoundedCall,
    CallAbandonedError,
)
from app.acquisition.cameras import camera_names, check_cameras_match
from app.acquisition.context import ErrorSource, WorkerContext
from app.acquisition.counts import FrameCounts
from app.acquisition.engine import EngineWorker
from app.acquisition.event_queue import EventQueue
from app.acquisition.events import HardwareEventChecker
from app.acquisition.flow import AcquisitionFlow
from app.acquisition.frames import Frame
from app.acquisition.futures import AcquisitionFuture, LiveFutures
from app.acquisition.handoff import HandoffQueue
from app.acquisition.hooks import UserCallable, UserFunction
from app.acquisition.napari_display import check_napari_viewer, show_in_napari
from app.acquisition.notifications import (
    AcqNotification,
    AcquisitionMilestone,
    ImageMilestone,
    NotificationDispatcher,
)
from app.acquisition.state import AcquisitionStatus, FinishReason
from app.acquisition.threads import PythonThreads, ThreadFactory, Worker, WorkerHandle
from app.acquisition.waiting import wait_for
from app.acquisition.workers import ProcessingWorker, SaveItem, SavingWorker
from app.processing.colour_tables import SINGLE_COLOURS, default_colour
from app.processing.display import LatestFrameSlot
from app.processing.errors import ErrorPolicy
from app.processing.pipeline import Processor, ProcessorFailure, ProcessorPipeline
from app.processing.registry import ProcessorRegistry
from app.storage.dataset_names import check_dataset_name
from app.storage.discard_sink import DiscardSink
from app.storage.ndtiff_sink import NDTiffSink
from app.storage.ome_zarr_sink import OMEZarrSink
from app.storage.ram_sink import RAMSink
from app.storage.sink import ImageSink, ReadableDataset

logger = logging.getLogger(__name__)

ProcessorLike = Callable[..., Any] | Processor
LATENCY_SAMPLES = 100_000
DEFAULT_NAME = "default_acq_name"  # pycro-manager's, with a directory or without
QUEUE_BYTES = 256 * 1024**2
#: how long a processor may still run once the acquisition is aborted before it is
#: abandoned (abort waits for no user code)
ABANDON_AFTER_S = 0.5
#: a processor's call on one image longer than this is said in the status (a run that
#: seems stuck names what it waits for)
LONG_CALL_S = 2.0


def default_queue_size(frame_bytes: int) -> int:
    """Frames per queue: what fits in ``QUEUE_BYTES``, at least 4 and at most 64."""
    return max(4, min(64, QUEUE_BYTES // max(1, frame_bytes)))


class AcqAlreadyCompleteException(RuntimeError):
    """Events were submitted to an acquisition that was marked finished (pycro-manager's name)."""


class Acquisition:
    """Acquire images, run them through processors, store them (NDTiff, RAM, or not at all).

    Arguments follow pycro-manager's ``Acquisition``, in its order; a script written
    for it runs after changing the import. With a ``directory`` images are saved as
    NDTiff in ``directory/name_N``; without one they are kept in memory and read back
    from ``get_dataset()`` the same way. Scopeflow adds, as keywords:

    ``storage``        ``"ndtiff"`` (the default with a directory), ``"ome-zarr"``
                       (OME-NGFF 0.5, Zarr v3, in ``directory``), ``"ram"`` (the
                       default without), ``"none"`` to keep nothing (processors that
                       divert every frame, benchmarks), or any ``ImageSink``.
    ``ram_limit_gb``   the most memory in-memory images may take; by default half the
                       memory available at the start. Reaching it stops the acquisition
                       with a clear error (``StorageFullError``); what was kept stays.
    ``on_error``       what a processor error does: ``"abort"`` (default: stop, and
                       re-raise from ``await_completion``), ``"skip"`` (drop the frame)
                       or ``"pass_through"`` (disable that processor).
    ``queue_size``     frames that may wait between two threads; by default as many as
                       fit in 256 MB (4 to 64), so large frames cannot fill memory.
    ``full_queue``     ``"block"`` (default: the camera readout waits for processors)
                       or ``"drop"`` (the frame is dropped and counted as lost).
    ``hardware_sequencing`` merge events into camera bursts when the hardware allows.
    ``core``           the microscope (default: the current one).
    ``threads``        where the workers run (a ``ThreadFactory``): plain threads by
                       default; the window passes one that makes QThreads.
    ``callback_timeout_s`` how long ``image_saved_fn`` or the notification callback
                       may take (60 s by default; None: no limit). One that does not
                       return in time is reported as its error and no longer called,
                       so it cannot hang abort, ``with`` or a future.
    ``hook_timeout_s`` the same for hooks, none by default (a hook may wait for the
                       sample); abort never waits for a hook.
    ``restore_hardware`` put Z, XY, the channel preset, the exposure and the shutter
                       back where they were before, once the acquisition ends (as
                       Micro-Manager does; pycro-manager leaves them; the window asks
                       for it unless the user chose otherwise).
    ``hold_start_s``   the engine waits up to this many seconds (finite) for
                       ``start_now()`` before it takes the microscope (None: it does
                       not wait). The window uses it to lay its viewer out for the
                       plan before the engine's threads compete for the CPU.

    pycro-manager's Java-bridge settings (``port``, ``timeout``, ``core_log_debug``)
    are accepted and have no effect: there is no bridge; ``saving_queue_size`` sets
    the saving queue's length.

    The acquisition starts at construction (with ``hold_start_s``, its engine first
    waits for ``start_now()``). It ends when it is marked finished (the
    end of a ``with`` block, ``mark_finished()``, or ``event_queue.put(None)``), no
    event is pending and no frame is still being processed or saved.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        name: str = DEFAULT_NAME,
        image_process_fn: ProcessorLike | Sequence[ProcessorLike] | ProcessorRegistry | None = None,
        event_generation_hook_fn: Callable[..., Any] | None = None,
        pre_hardware_hook_fn: Callable[..., Any] | None = None,
        post_hardware_hook_fn: Callable[..., Any] | None = None,
        post_camera_hook_fn: Callable[..., Any] | None = None,
        notification_callback_fn: Callable[..., Any] | None = None,
        image_saved_fn: Callable[..., Any] | None = None,
        napari_viewer: Any = None,
        debug: bool = False,
        show_display: bool = True,
        *,
        core: CMMCorePlus | None = None,
        storage: str | ImageSink | None = None,
        ram_limit_gb: float | None = None,
        on_error: ErrorPolicy | str = ErrorPolicy.ABORT,
        queue_size: int | None = None,
        full_queue: str = "block",
        hardware_sequencing: bool = True,
        saving_queue_size: int | None = None,
        threads: ThreadFactory | None = None,
        callback_timeout_s: float | None = DEFAULT_CALLBACK_TIMEOUT_S,
        hook_timeout_s: float | None = None,
        restore_hardware: bool = False,
        hold_start_s: float | None = None,
        port: Any = None,
        timeout: Any = None,
        core_log_debug: Any = None,
    ) -> None:
        # 1. Check everything the caller gave, so a mistake fails in the caller's line.
        if full_queue not in ("block", "drop"):
            raise ValueError(f"full_queue must be 'block' or 'drop', got {full_queue!r}")
        for label, size in (("queue_size", queue_size), ("saving_queue_size", saving_queue_size)):
            if size is not None and size < 1:
                raise ValueError(f"{label} must be at least 1")
        if napari_viewer is not None:
            check_napari_viewer(napari_viewer)
        # the folder name on disk, now or when a dataset kept in memory is saved
        check_dataset_name(name if name is not None else DEFAULT_NAME)
        self.pipeline = _pipeline_of(image_process_fn, on_error)
        for label, limit in (
            ("callback_timeout_s", callback_timeout_s),
            ("hook_timeout_s", hook_timeout_s),
        ):
            if limit is not None and not limit > 0:
                raise ValueError(f"{label} must be positive or None: {limit}")
        if hold_start_s is not None and not (math.isfinite(hold_start_s) and hold_start_s > 0):
            # a hold for ever would be a hang: start_now() may never come
            raise ValueError(
                f"hold_start_s must be a finite number of seconds above 0 or None: {hold_start_s}"
            )
        given_hooks = {
            "event_generation_hook_fn": event_generation_hook_fn,
            "pre_hardware_hook_fn": pre_hardware_hook_fn,
            "post_hardware_hook_fn": post_hardware_hook_fn,
            "post_camera_hook_fn": post_camera_hook_fn,
        }
        hooks: dict[str, UserFunction | None] = {
            role: _bounded(UserCallable.hook(fn, role), hook_timeout_s, self._aborting)
            for role, fn in given_hooks.items()
        }
        # abort waits for none of them: a stuck one is abandoned, and said by name
        image_saved = _bounded(
            UserCallable.image_saved(image_saved_fn), callback_timeout_s, self._aborting
        )
        notification_fn = _bounded(
            UserCallable.notification(notification_callback_fn), callback_timeout_s, self._aborting
        )
        self._bounded_calls = [
            c for c in (*hooks.values(), image_saved, notification_fn) if isinstance(c, BoundedCall)
        ]
        # Processors that need something before the first frame (on_dask: a connection
        # to its cluster) get it now; one that cannot be had fails here, in the caller's
        # line, before any frame is acquired or any file written.
        for processor in self.pipeline.processors:
            before_first_frame = getattr(processor.fn, "before_first_frame", None)
            if processor.enabled and callable(before_first_frame):
                before_first_frame()

        # 2. Build: the state, the storage, the queues and the workers; nothing runs yet.
        if core is None:
            from app.microscope.session import current_core

            core = current_core()
        self.core = core
        # read before the engine runs: pymmcore-plus's summary of a run makes each
        # camera the core's camera in turn, so one read meanwhile may see another
        self._cameras = camera_names(core)
        check_cameras_match(core, self._cameras)  # before any file is made
        self.name = name if name is not None else DEFAULT_NAME
        self.show_display = show_display
        self.debug = debug
        self.napari_viewer = napari_viewer
        self.counts = FrameCounts()
        self.display: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
        self._other_errors: list[ProcessorFailure] = []  # hooks, callbacks, engine, writer
        # the most recent latencies (bounded: a 12-hour acquisition must not grow them)
        self.latency_to_processor_ns: deque[int] = deque(maxlen=LATENCY_SAMPLES)
        self.latency_to_saved_ns: deque[int] = deque(maxlen=LATENCY_SAMPLES)
        self._exception: BaseException | None = None
        self._lock = threading.Lock()
        self._futures = LiveFutures()
        self._done = threading.Event()
        self._started_at = time.perf_counter()
        self._ended_at: float | None = None
        self._sink = self._make_sink(storage, directory, self.name, ram_limit_gb)
        if image_saved is not None and not self._sink.stores_images:
            raise ValueError("image_saved_fn needs images to be stored; not with storage='none'")
        self._notifications = self._make_notifications(notification_fn, debug)
        # Events are checked against the hardware when submitted, so that a typo fails
        # in the caller's line. A pre-hardware or event-generation hook may rewrite or
        # cancel events, so with one the check runs after it, before the hardware moves.
        checker = HardwareEventChecker(core)
        rewriting = pre_hardware_hook_fn is not None or event_generation_hook_fn is not None
        # Events are placed (a tile on the stage) before the check; with an
        # event-generation hook, after it, as pycro-manager does: it may make new tiles.
        placement = self._event_placement()
        generating = event_generation_hook_fn is not None
        self._flow = AcquisitionFlow(
            check=None if rewriting else checker,
            on_discard=_weakly(self._events_discarded),
            place=None if generating else placement,
        )
        self.event_queue = EventQueue(self._flow)
        context = WorkerContext(
            self._flow,
            self.counts,
            self._notifications.post,
            _weakly(self._report_error),
            self.event_queue,
        )
        self.queue_size = queue_size or default_queue_size(core.getImageBufferSize())
        self._frames: HandoffQueue[Frame] = HandoffQueue(self._flow, self.queue_size)
        self._to_save: HandoffQueue[SaveItem] | None = (
            HandoffQueue(self._flow, saving_queue_size or self.queue_size)
            if self._sink.stores_images
            else None
        )
        self.saving_queue_size = self._to_save.maxsize if self._to_save is not None else 0
        self._workers: list[Worker] = [
            EngineWorker(
                context,
                core,
                self._frames,
                hooks=hooks,
                check_event=checker if rewriting else None,
                place_event=placement if generating else None,
                drop_when_full=full_queue == "drop",
                hardware_sequencing=hardware_sequencing,
                restore_hardware=restore_hardware,
                frame_memory=(
                    self._sink.camera_frames() if isinstance(self._sink, RAMSink) else None
                ),
            ),
            ProcessingWorker(
                context,
                self._frames,
                self._to_save,
                self.pipeline,
                self.display,
                self.latency_to_processor_ns,
            ),
        ]
        if self._to_save is not None:
            self._workers.append(
                SavingWorker(
                    context, self._to_save, self._sink, image_saved, self.latency_to_saved_ns
                )
            )
        try:
            self._napari_worker = (
                show_in_napari(napari_viewer, self) if napari_viewer is not None else None
            )
        except BaseException:
            # nothing started yet: close what was opened, so no file or thread is left
            self._notifications.close()
            if self._listener_notes is not None:
                self._listener_notes.close()
            self._sink.finish()
            raise

        # 3. Start (the engine held, when asked, until ``start_now``).
        if hold_start_s is not None:
            self._flow.hold_start(hold_start_s)
        self._start(threads or PythonThreads())

    def _event_placement(self) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        """What completes each event before it is checked (a tiled acquisition places
        tiles on the stage); None here."""
        return None

    def _make_notifications(
        self, listener: BoundedCall | None, debug: bool
    ) -> NotificationDispatcher:
        notifications = NotificationDispatcher()
        notifications.connect_direct(self._futures.notify)  # holds no acquisition: no cycle
        # the user's listener on a thread of its own: futures never wait for it
        self._listener_notes: NotificationDispatcher | None = None
        if listener is not None:
            self._listener_notes = NotificationDispatcher()
            self._listener_notes.connect(self._listener_reporting_errors(listener))
            notifications.connect(self._listener_notes.post)
        if debug:
            notifications.connect(_log_notification)
            logger.setLevel(logging.DEBUG)
        return notifications

    def _start(self, threads: ThreadFactory) -> None:
        _finish_at_exit.follow(self)
        if self.show_display:
            active.add(self)
        self._handles: list[WorkerHandle] = [threads.start(w) for w in self._workers]
        self._closer = threading.Thread(
            target=self._close_when_done, name="scopeflow-closer", daemon=True
        )
        self._closer.start()

    def _make_sink(
        self,
        storage: str | ImageSink | None,
        directory: str | os.PathLike[str] | None,
        name: str,
        ram_limit_gb: float | None,
    ) -> ImageSink:
        if storage is not None and not isinstance(storage, str):
            if directory is not None:
                raise ValueError("Give a directory or a storage object, not both")
            return storage
        kind = storage or ("ndtiff" if directory is not None else "ram")
        if kind in ("ndtiff", "ome-zarr"):
            if directory is None:
                raise ValueError(f"storage={kind!r} needs a directory to save in")
            if kind == "ome-zarr":
                return OMEZarrSink(directory, name, self._summary_metadata(), hex_colour)
            return NDTiffSink(directory, name, self._summary_metadata())
        if directory is not None:
            raise ValueError(f"storage={kind!r} saves nothing to disk: remove directory=")
        if kind == "ram":
            limit = int(ram_limit_gb * 1e9) if ram_limit_gb is not None else None
            return RAMSink(name, self._summary_metadata(), limit_bytes=limit)
        if kind == "none":
            return DiscardSink()
        raise ValueError(
            f"storage must be 'ndtiff', 'ome-zarr', 'ram', 'none' or an ImageSink, got {kind!r}"
        )

    # ------------------------------------------------------------ public API
    def acquire(self, events: Any) -> AcquisitionFuture | None:
        """Queue events (a dict, a list, a generator, a useq sequence or event).

        Returns at once, with a future to wait on. Invalid events (or none at all)
        raise ``InvalidEventError`` here, and none of the events given is queued; a
        generator is read as the acquisition reaches it (each event checked then); after
        ``mark_finished`` it raises ``AcqAlreadyCompleteException``. Only the events of
        one call may be merged into a hardware sequence. ``acquire(None)`` ends the
        acquisition once the events before it have run.
        """
        if events is None:  # pycro-manager's way to end the acquisition
            self.event_queue.put(None)
            return None
        if self._done.is_set() or self._flow.finish_requested:
            raise AcqAlreadyCompleteException(
                "Cannot submit more events: this acquisition was marked finished "
                "(mark_finished, the end of its with block, or event_queue.put(None)); "
                "create a new Acquisition"
            )
        # The future exists before its events are queued, so it sees all their milestones.
        batch = self._flow.prepare(events)
        cameras = self._cameras  # several: an image per camera and event
        if batch.lazy:
            future = AcquisitionFuture([], self.get_dataset, from_generator=True, cameras=cameras)
            flow = self._flow

            def follow(event: dict[str, Any]) -> None:
                future.expect(event["axes"])
                flow.count(1)

            batch.on_pull = follow
            batch.on_exhausted = future.generator_done  # with why, when cut short
        else:
            future = AcquisitionFuture(batch.pending_events(), self.get_dataset, cameras=cameras)
        self._futures.add(future)
        self._flow.enqueue(batch)
        return future

    #: the name some of pycro-manager's documentation uses for ``acquire``
    submit = acquire

    def mark_finished(self) -> None:
        """No more events will come from the caller; end once the pending ones are done."""
        self._flow.request_finish()

    def abort(
        self, exception: BaseException | None = None, *, discard_unprocessed: bool = False
    ) -> None:
        """Stop as soon as possible: no event starts, a camera burst is cancelled, and
        frames still waiting for the processors skip them: they are saved as acquired,
        marked ``ScopeflowUnprocessed`` in their metadata (``discard_unprocessed=True``
        drops them instead). Returns at once; ``await_completion`` waits for the end.

        ``exception``: the error that is the reason (then the acquisition *failed*, and
        ``await_completion`` raises it)."""
        if exception is not None:
            with self._lock:
                self._exception = self._exception or exception
            self._flow.abort(FinishReason.FAILED, f"failed: {exception!r}", discard_unprocessed)
        else:
            self._flow.abort(FinishReason.ABORTED, "aborted by the user", discard_unprocessed)

    def start_now(self) -> None:
        """End the wait ``hold_start_s`` asked for: the engine goes on to take the
        microscope now (nothing changes if it was not held, or its hold had run out)."""
        self._flow.release_start()

    def pause(self) -> None:
        """Hold the hardware before the next event (a running camera burst finishes)."""
        self._flow.pause()

    def resume(self) -> None:
        self._flow.resume()

    @property
    def paused(self) -> bool:
        return self._flow.paused

    @property
    def status(self) -> AcquisitionStatus:
        """An immutable snapshot: state, why it ended, counts, progress, queues."""
        flow = self._flow
        end = self._ended_at if self._ended_at is not None else time.perf_counter()
        return AcquisitionStatus(
            state=flow.state,
            finish_reason=flow.finish_reason,
            reason=flow.reason,
            counts=self.counts.snapshot(),
            events_submitted=flow.submitted_events,
            events_pending=flow.pending,
            queue_depths=self.queue_depths(),
            error=self._exception,
            elapsed_s=end - self._started_at,
            long_call=self._long_call(),
        )

    def _long_call(self) -> str | None:
        """The processor on one image for longer than ``LONG_CALL_S``, said with how
        long; None once the acquisition has ended (a processor abandoned at Abort may
        still be in its call, no longer waited for)."""
        oldest = self.pipeline.oldest_call()
        if oldest is None or self._ended_at is not None:
            return None
        who, started = oldest
        seconds = time.perf_counter() - started
        return f"{who}, {seconds:.0f} s on one image" if seconds > LONG_CALL_S else None

    @property
    def errors(self) -> list[ProcessorFailure]:
        """Every error so far, processors' first, each with its traceback."""
        return [*self.pipeline.failures, *self._other_errors]

    @property
    def bytes_saved(self) -> int:
        return self._sink.bytes_written

    @property
    def sink(self) -> ImageSink:
        """Where the images go (NDTiff, RAM, nowhere, or the sink given)."""
        return self._sink

    @property
    def events_submitted(self) -> int:
        """Events queued so far: with ``counts.acquired``, the progress of the acquisition."""
        return self._flow.submitted_events

    def queue_depths(self) -> dict[str, int]:
        """Frames waiting between threads, and events not yet run."""
        return {
            "events": self._flow.pending,
            "processing": self._frames.qsize(),
            "saving": self._to_save.qsize() if self._to_save is not None else 0,
        }

    def await_completion(self, timeout: float | None = None) -> None:
        """Wait for the end; re-raise the first error of a processor, hook or callback."""
        if not wait_for(self._done, timeout):
            raise TimeoutError(f"The acquisition did not finish within {timeout} s")
        if self._exception is not None:
            raise self._exception

    def is_finished(self) -> bool:
        return self._done.is_set()

    def get_dataset(self) -> ReadableDataset | None:
        """The dataset being written, readable now and after: an ``ndtiff`` dataset on
        disk, a ``RAMDataset`` in memory; None with ``storage="none"``."""
        return self._sink.dataset

    def get_viewer(self) -> Any:
        """The napari viewer given, else the window's viewer showing this acquisition,
        or None (headless, or ``show_display=False``)."""
        if self.napari_viewer is not None:
            return self.napari_viewer
        if not self.show_display:
            return None
        return active.viewer_for(self)

    @property
    def dataset_path(self) -> str | None:
        """Where the images are saved, in full (a relative ``directory`` is said as the
        folder it is in: "data/run_1" told a user nothing of where it was)."""
        return os.path.abspath(self._sink.path) if self._sink.path is not None else None

    def __enter__(self) -> Acquisition:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.abort()
            wait_for(self._done)
            return  # the block's own exception propagates
        self.mark_finished()
        self.await_completion()

    # ------------------------------------------------------------ internals
    def _wait_for_processing(self, engine: WorkerHandle, processing: WorkerHandle) -> bool:
        """Wait for the processing thread; once the acquisition is aborted, not longer
        than ``ABANDON_AFTER_S``: a processor stuck in user code then is abandoned
        (said by name), the frames after it saved unprocessed. True if abandoned."""
        stopped_at: float | None = None
        while processing.is_alive():
            processing.join(0.05)
            if not self._flow.stopping:
                continue
            stopped_at = stopped_at or time.monotonic()
            if processing.is_alive() and time.monotonic() - stopped_at > ABANDON_AFTER_S:
                worker = self._workers[1]
                assert isinstance(worker, ProcessingWorker)
                oldest = self.pipeline.oldest_call()  # the one stuck, of a parallel stage
                running = oldest[0] if oldest else self.pipeline.running or "an image processor"
                lost = worker.abandon(engine.is_alive)
                why = CallAbandonedError(
                    f"{running} was still running {ABANDON_AFTER_S:g} s after the acquisition "
                    f"stopped, on the image {worker.current}; it was not waited for "
                    f"({lost} image(s) in its hands are not saved; the images after them "
                    "were saved unprocessed)"
                )
                self._report_error(ErrorSource.PROCESSOR, running, why, "")
                return True
        return False

    def _report_error(
        self, source: ErrorSource, where: str, exception: BaseException, traceback_text: str
    ) -> bool:
        """Record an error from a worker thread; return True if the acquisition stops.

        The hardware, the storage and hooks always stop it; processors and image-saved
        callbacks under the ``"abort"`` policy (see ``ErrorSource``).
        """
        if isinstance(exception, CallAbandonedError):
            # abandoned because the acquisition stops: said once, by name, not its cause
            if not any(e.where == where for e in self._other_errors):
                self._other_errors.append(ProcessorFailure(where, None, exception, ""))
                logger.warning("%s", exception)
            return True
        if not any(f.exception is exception for f in self.pipeline.failures):
            self._other_errors.append(ProcessorFailure(where, None, exception, traceback_text))
            logger.error("Error in %s:\n%s", where, traceback_text)
        stops = source.always_stops or (
            source.follows_policy and self.pipeline.on_error is ErrorPolicy.ABORT
        )
        if stops:
            self._notifications.post(AcqNotification(AcquisitionMilestone.ACQ_ERROR, where))
            self.abort(exception)
        return stops

    def _aborting(self) -> bool:
        """Hooks are not waited for once the acquisition stops (set before the flow
        exists: hooks only run once it does)."""
        flow = getattr(self, "_flow", None)
        return flow is not None and flow.stopping

    def _listener_reporting_errors(
        self, listener: BoundedCall
    ) -> Callable[[AcqNotification], None]:
        """The user's notification callback; its exceptions are recorded among the
        acquisition's errors without stopping it (a timeout once: it is not called
        again)."""

        def deliver(note: AcqNotification) -> None:
            if listener.given_up:
                return
            try:
                listener(note)
            except Exception as exc:
                self._report_error(
                    ErrorSource.LISTENER, listener.where, exc, traceback.format_exc()
                )

        return deliver

    def _events_discarded(self, events: list[dict[str, Any]], why: str) -> None:
        for event in events:
            self._notifications.post(
                AcqNotification(ImageMilestone.IMAGE_NOT_SAVED, dict(event["axes"]), why)
            )

    def _close_when_done(self) -> None:
        engine, processing, *saving = self._handles
        abandoned = self._wait_for_processing(engine, processing)
        for handle in (engine, *saving) if abandoned else self._handles:
            handle.join()
        self._flow.close()
        self._ended_at = time.perf_counter()
        self._notifications.post(AcqNotification(AcquisitionMilestone.ACQ_FINISHED))
        self._notifications.close()
        if self._listener_notes is not None:
            self._listener_notes.close()  # the listener's last notifications (bounded)
        for call in self._bounded_calls:
            call.close()
        active.remove(self)
        self._done.set()
        if self.counts.snapshot()["lost"]:
            logger.warning("Frames lost in this acquisition: %s", self.counts.snapshot())

    def _summary_metadata(self) -> dict[str, Any]:
        core = self.core
        group = core.getChannelGroup()
        return {
            "Software": "Scopeflow",
            "StartTime": datetime.datetime.now().astimezone().isoformat(),
            "MicroManagerVersion": core.getVersionInfo(),
            "Camera": core.getCameraDevice(),
            "Width": core.getImageWidth(),
            "Height": core.getImageHeight(),
            "PixelType": "GRAY8" if core.getBytesPerPixel() == 1 else "GRAY16",
            "BitDepth": core.getImageBitDepth(),
            "PixelSize_um": core.getPixelSizeUm(),
            "ChannelGroup": group,
            "Processors": [p.name for p in self.pipeline.processors],
            "SystemState": {
                f"{device}-{prop}": value for device, prop, value in core.getSystemStateCache()
            },
        }


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, called while its acquisition lives: the parts an acquisition is made
    of hold it without keeping it alive. Held strongly, they made every acquisition a
    cycle that only the garbage collector freed, and an acquisition kept in memory held
    its gigabytes until then, after the user had let go of it."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        return None if bound is None else bound(*args, **kwargs)

    return call


class _FinishAtExit:
    """A script that ends without waiting for its acquisitions must not lose them
    (their workers are daemon threads, killed at exit): at exit, each one still running
    is marked finished, so its pending events run and its images are stored, and the
    interpreter waits for it. Ctrl+C aborts them instead (what was stored stays)."""

    def __init__(self) -> None:
        self._running: weakref.WeakSet[Acquisition] = weakref.WeakSet()
        self._made: list[weakref.ref[Acquisition]] = []  # in order, for reports
        self._registered = False

    def follow(self, acquisition: Acquisition) -> None:
        if not self._registered:  # on the first acquisition, not at import
            atexit.register(self.finish)
            self._registered = True
        self._running.add(acquisition)
        self._made.append(weakref.ref(acquisition))

    def made(self) -> list[Acquisition]:
        """The acquisitions made so far in this process (those still referenced)."""
        return [a for ref in self._made if (a := ref()) is not None]

    def finish(self) -> None:
        running = [a for a in list(self._running) if not a.is_finished()]
        if not running:
            return
        print(
            f"scopeflow: the script ended with {len(running)} acquisition(s) still running: "
            "finishing them (their pending events run and their images are stored). "
            "Ctrl+C aborts them.",
            file=sys.stderr,
        )
        try:
            for acquisition in running:
                acquisition.mark_finished()
            for acquisition in running:
                self._wait(acquisition)
        except KeyboardInterrupt:
            for acquisition in running:
                acquisition.abort()
            for acquisition in running:
                self._wait(acquisition)

    @staticmethod
    def _wait(acquisition: Acquisition) -> None:
        try:
            acquisition.await_completion()
        except Exception as exc:
            print(f"scopeflow: an acquisition ended on an error: {exc!r}", file=sys.stderr)


_finish_at_exit = _FinishAtExit()


def finish_all_and_report() -> list[tuple[Acquisition, AcquisitionStatus]]:
    """Finish the acquisitions still running (as at exit), then each one made in this
    process with its final status, in order. ``scopeflow run`` reports these."""
    _finish_at_exit.finish()
    return [(a, a.status) for a in _finish_at_exit.made()]


def _log_notification(note: AcqNotification) -> None:
    logger.debug("%s", note.to_json())


def _pipeline_of(
    image_process_fn: ProcessorLike | Sequence[ProcessorLike] | ProcessorRegistry | None,
    on_error: ErrorPolicy | str,
) -> ProcessorPipeline:
    """The processors in order, each checked now (a wrong signature fails here). The
    window's registry (the console's ``processors``) gives its pipeline as the window's
    own acquisitions run it: its entries now, each run while its On box is ticked."""
    if image_process_fn is None:
        processors: list[ProcessorLike] = []
    elif isinstance(image_process_fn, ProcessorRegistry):
        processors = list(image_process_fn.for_acquisition())
    elif isinstance(image_process_fn, Sequence):
        processors = list(image_process_fn)
    else:
        processors = [image_process_fn]
    return ProcessorPipeline(
        [p if isinstance(p, Processor) else Processor(p, source="script") for p in processors],
        on_error=on_error,
    )


def _bounded(
    callable_: UserCallable | None,
    timeout_s: float | None,
    stop_waiting: Callable[[], bool] | None = None,
) -> BoundedCall | None:
    return BoundedCall(callable_, timeout_s, stop_waiting) if callable_ is not None else None


def hex_colour(channel: str, index: int) -> str:
    """A channel's first display colour (DAPI blue, FITC green...) as RRGGBB, for the
    OME metadata viewers read."""
    red, green, blue = SINGLE_COLOURS.get(default_colour(channel, index), (255, 255, 255))
    return f"{red:02X}{green:02X}{blue:02X}"
