"""Live mode on a worker QThread: the camera streams, the GUI takes the latest frame."""

from __future__ import annotations

import logging
import time

import numpy as np
from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QThread, pyqtSignal

from app.acquisition.cameras import camera_names
from app.acquisition.frames import writable
from app.microscope.simulated import update_simulated_sample
from app.processing.display import LatestFrameSlot, camera_frame_metadata
from app.processing.errors import ErrorPolicy
from app.processing.pipeline import ProcessorPipeline
from app.processing.registry import ProcessorRegistry
from app.ui.common.lifecycle import finish_thread

logger = logging.getLogger(__name__)


class LiveWorker(QThread):
    """Reads frames from a continuous camera sequence into a display slot.

    The processors the user enabled for Live run here, on this thread; one that
    raises is disabled and frames pass through it. The GUI thread never touches the
    camera: it reads ``slot`` on a timer. ``stop`` returns once the camera stopped.
    """

    failed = pyqtSignal(str)

    def __init__(
        self, core: CMMCorePlus, slot: LatestFrameSlot, registry: ProcessorRegistry | None = None
    ) -> None:
        super().__init__()
        self.core = core
        self.slot = slot
        self.registry = registry
        self.frames = 0
        # set here, not in run(): a stop() that comes before the thread is scheduled
        # must win (run() setting it would start a Live no one can stop)
        self._running = True
        self._pipeline: ProcessorPipeline | None = None
        self._newest_by_camera: dict[str, np.ndarray] = {}  # several cameras: each one's
        #: the exposure or a preset changed while streaming: the simulated sample follows
        #: on this thread, which owns the camera (its signals skip a running sequence)
        self._sample_changed = False

    def _note_sample_change(self, *_: object) -> None:
        self._sample_changed = True

    def run(self) -> None:
        core = self.core
        if not self._running:
            return
        cameras = camera_names(core)  # several: each camera's newest frame, composed
        core.events.exposureChanged.connect(self._note_sample_change)
        core.events.configSet.connect(self._note_sample_change)
        try:
            core.startContinuousSequenceAcquisition(0)
            while self._running:
                if self._sample_changed:
                    self._sample_changed = False
                    update_simulated_sample(core)  # no-op on a real microscope
                if not core.getRemainingImageCount():
                    time.sleep(0.002)
                elif cameras:
                    self._show_cameras(cameras)
                else:
                    image = writable(core.getLastImage())
                    core.clearCircularBuffer()
                    self.frames += 1
                    self._show(image, {"Axes": {}, "Exposure": core.getExposure()})
        except Exception as exc:  # a camera error ends Live with a message, not a crash
            logger.exception("Live stopped")
            self.failed.emit(f"Live stopped: {exc}")
        finally:
            core.events.exposureChanged.disconnect(self._note_sample_change)
            core.events.configSet.disconnect(self._note_sample_change)
            if core.isSequenceRunning():
                core.stopSequenceAcquisition()
            update_simulated_sample(core)  # a change that came as Live stopped: for Snap

    def _show_cameras(self, cameras: tuple[str, ...]) -> None:
        """Every frame waiting, each camera's newest kept (the frames come interleaved,
        tagged with their camera); shown once every camera has one."""
        core = self.core
        newest = self._newest_by_camera
        while core.getRemainingImageCount():
            image, tags = core.popNextImageAndMD()
            camera = str(tags.get("Camera", ""))
            if camera in cameras:
                newest[camera] = writable(image)
        if len(newest) == len(cameras):
            self.frames += 1
            images = [newest[camera] for camera in cameras]
            metadata = camera_frame_metadata(cameras, images)
            self._show(images[-1], {**metadata, "Exposure": core.getExposure()})

    def _show(self, image, metadata) -> None:
        processors = self.registry.for_live() if self.registry is not None else []
        if processors:
            if self._pipeline is None or self._pipeline.processors != processors:
                # rebuilt only when the Live selection changes, not for every frame
                self._pipeline = ProcessorPipeline(
                    processors, on_error=ErrorPolicy.PASS_THROUGH, switch="live"
                )
            outputs = self._pipeline.process(image, metadata, None)
            if not outputs:
                return
            image, metadata = outputs[-1]
        self.slot.put(image, metadata)

    def stop(self) -> None:
        """End Live; returns once the camera stopped (or after 5 s, said in the log)."""
        self._running = False
        if not finish_thread(self, 5.0, "Live"):
            logger.error("The camera may still be running")
