"""Live mode on a worker QThread: the camera streams, the GUI takes the latest frame."""

from __future__ import annotations

import time

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QThread, pyqtSignal

from app.processing.display import LatestFrameSlot


class LiveWorker(QThread):
    """Reads frames from a continuous camera sequence into a display slot.

    The GUI thread never touches the camera: it reads ``slot`` on a timer. ``stop``
    returns once the camera has stopped.
    """

    failed = pyqtSignal(str)

    def __init__(self, core: CMMCorePlus, slot: LatestFrameSlot) -> None:
        super().__init__()
        self.core = core
        self.slot = slot
        self.frames = 0
        self._running = False

    def run(self) -> None:
        core = self.core
        self._running = True
        try:
            core.startContinuousSequenceAcquisition(0)
            while self._running:
                if core.getRemainingImageCount():
                    image = core.getLastImage()
                    core.clearCircularBuffer()
                    self.slot.put(image, {"Axes": {}, "Exposure": core.getExposure()})
                    self.frames += 1
                else:
                    time.sleep(0.002)
        except Exception as exc:  # a camera error ends Live with a message, not a crash
            self.failed.emit(f"Live stopped: {exc}")
        finally:
            if core.isSequenceRunning():
                core.stopSequenceAcquisition()

    def stop(self) -> None:
        self._running = False
        self.wait(5000)
