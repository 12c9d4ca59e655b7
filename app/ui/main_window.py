"""The main window: the image in the middle, microscope controls beside it."""

from __future__ import annotations

import time

import numpy as np
from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.processing.display import LatestFrameSlot
from app.ui.live import LiveWorker
from app.ui.viewer import ImageViewer

DISPLAY_INTERVAL_MS = 16  # at most ~60 displayed frames per second


class MainWindow(QMainWindow):
    """Snap and Live on the current microscope, shown with pyqtgraph."""

    def __init__(self, core: CMMCorePlus) -> None:
        super().__init__()
        self.core = core
        self.slot = LatestFrameSlot()
        self._live: LiveWorker | None = None
        self._displayed = 0
        self._fps_mark = (time.perf_counter(), 0, 0)
        self.setWindowTitle("Scopeflow")
        self.resize(1200, 800)

        self.viewer = ImageViewer()
        self.viewer.pixelHovered.connect(self._show_pixel)
        self.setCentralWidget(self.viewer)
        self._add_controls()

        self.status = QLabel()
        self.pixel = QLabel()
        self.statusBar().addWidget(self.status)
        self.statusBar().addPermanentWidget(self.pixel)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._show_latest)
        self._timer.start(DISPLAY_INTERVAL_MS)

    # ------------------------------------------------------------ controls
    def _add_controls(self) -> None:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        form = QFormLayout()
        self.exposure = QDoubleSpinBox()
        self.exposure.setRange(0.01, 10000)
        self.exposure.setSuffix(" ms")
        self.exposure.setValue(self.core.getExposure())
        self.exposure.valueChanged.connect(self.core.setExposure)
        form.addRow("Exposure", self.exposure)
        self.channel = QComboBox()
        group = self.core.getChannelGroup()
        if group:
            self.channel.addItems(self.core.getAvailableConfigs(group))
            self.channel.setCurrentText(self.core.getCurrentConfig(group))
            self.channel.currentTextChanged.connect(lambda name: self.core.setConfig(group, name))
        form.addRow("Channel", self.channel)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.snap_button = QPushButton("Snap")
        self.snap_button.clicked.connect(self.snap)
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.toggled.connect(self.set_live)
        buttons.addWidget(self.snap_button)
        buttons.addWidget(self.live_button)
        layout.addLayout(buttons)
        layout.addStretch()
        dock = QDockWidget("Microscope", self)
        dock.setObjectName("microscope_dock")
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

    # ------------------------------------------------------------ actions
    def snap(self) -> None:
        if self._live is not None:
            return
        self.core.snapImage()
        self.slot.put(self.core.getImage(), {"Axes": {}})

    def set_live(self, on: bool) -> None:
        if on and self._live is None:
            self._live = LiveWorker(self.core, self.slot)
            self._live.failed.connect(self._live_failed)
            self._live.start()
            self.snap_button.setEnabled(False)
        elif not on and self._live is not None:
            self._live.stop()
            self._live = None
            self.snap_button.setEnabled(True)

    def _live_failed(self, message: str) -> None:
        self.live_button.setChecked(False)
        self.statusBar().showMessage(message, 10000)

    # ------------------------------------------------------------ display
    def _show_latest(self) -> None:
        item = self.slot.take()
        if item is not None:
            self.viewer.set_image(item[0])
            self._displayed += 1
        self._update_status()

    def _update_status(self) -> None:
        now = time.perf_counter()
        mark_time, mark_displayed, mark_camera = self._fps_mark
        if now - mark_time < 0.5:
            return
        camera = self._live.frames if self._live is not None else mark_camera
        shown_fps = (self._displayed - mark_displayed) / (now - mark_time)
        camera_fps = max(0, camera - mark_camera) / (now - mark_time)
        self._fps_mark = (now, self._displayed, camera)
        image = self.viewer.image
        size = (
            f"{image.shape[0]}x{image.shape[1]} {image.dtype}"
            if isinstance(image, np.ndarray)
            else "no image"
        )
        self.status.setText(f"{size}   camera {camera_fps:.0f} fps   displayed {shown_fps:.0f} fps")

    def _show_pixel(self, x: int, y: int, value: float) -> None:
        self.pixel.setText(f"x {x}  y {y}  value {value:g}")

    def closeEvent(self, event) -> None:
        self.set_live(False)
        super().closeEvent(event)
