"""Snap and Live: the camera's image in the viewer, outside acquisitions.

Snap reads the camera once on the GUI thread (one exposure); Live streams on a worker
thread (``LiveWorker``) into ``live_slot``, which the display reads. Neither runs while
an acquisition does (``acquiring``): the camera is the acquisition's then.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QObject

from app.acquisition.cameras import camera_names
from app.appstate import AppState
from app.processing.display import LatestFrameSlot, camera_frame_metadata
from app.ui.common.seams import Messages
from app.ui.microscope.live import LiveWorker
from app.ui.microscope.microscope_panel import MicroscopePanel


class CameraControl(QObject):
    """The Microscope panel's Snap and Live. ``show_camera(title)`` puts the viewer back
    on the camera's image (off any dataset) under ``title``. A QObject of the window's:
    Live's failure, queued from its thread, is dropped once the window is deleted (a
    Live thread that outlived its stop may still fail after)."""

    def __init__(
        self,
        parent: QObject,
        state: AppState,
        panel: MicroscopePanel,
        messages: Messages,
        show_camera: Callable[[str], None],
        acquiring: Callable[[], bool],
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.panel = panel
        self.messages = messages
        self.show_camera = show_camera
        self.acquiring = acquiring
        self.snap_slot: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
        self.live_slot: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
        self._live: LiveWorker | None = None
        panel.snapRequested.connect(self.snap)
        panel.liveToggled.connect(self.set_live)

    @property
    def live(self) -> bool:
        return self._live is not None

    @property
    def live_frames(self) -> int:
        """Frames Live has read since it was switched on (0 when off)."""
        return self._live.frames if self._live is not None else 0

    def slot(self) -> LatestFrameSlot[np.ndarray]:
        """Where the camera's newest image is: Live's while it runs, else Snap's."""
        return self.live_slot if self._live is not None else self.snap_slot

    def snap(self) -> None:
        if self._live is not None or self.acquiring():
            return
        core = self.state.core
        cameras = camera_names(core)  # several: one image each, a composite
        try:
            core.snapImage()
            images = [core.getImage(i) for i in range(len(cameras))] or [core.getImage()]
        except Exception as exc:
            self.messages.show_error_message(f"Snap failed: {exc}")
            return
        self.show_camera("Snap (not saved)")
        self.snap_slot.put(images[-1], camera_frame_metadata(cameras, images))

    def set_live(self, on: bool) -> None:
        if on and self._live is None:
            if self.acquiring():
                self.panel.show_live(False)
                return
            self.show_camera("Live (not saved)")
            self._live = LiveWorker(self.state.core, self.live_slot, self.state.registry)
            self._live.failed.connect(self.live_failed)
            self._live.start()
        elif not on and self._live is not None:
            self._live.failed.disconnect(self.live_failed)  # what it says now is not news
            self._live.stop()
            self._live = None
        self.panel.show_live(self._live is not None)

    def stop_live(self) -> None:
        self.set_live(False)

    def live_failed(self, message: str) -> None:
        """Live's thread says it failed (queued to the GUI thread): Live is off."""
        self.set_live(False)
        self.messages.show_error_message(message)
