"""Microscope controls: exposure, channel, Z and XY with step buttons, Snap and Live."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.common.pacer import Pacer
from app.ui.microscope.config_groups import PresetCombos
from app.ui.microscope.core_events import CoreEvents

logger = logging.getLogger(__name__)


def _spin(low: float, high: float, value: float, suffix: str, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setValue(value)
    box.setKeyboardTracking(False)
    return box


POSITION_INTERVAL_MS = 250  # a joystick's moves followed within this


class MicroscopePanel(QWidget):
    """Drives the core directly for small, instant settings; Snap and Live are signals
    because the window decides where frames are acquired (never the GUI thread)."""

    snapRequested = pyqtSignal()
    liveToggled = pyqtSignal(bool)
    failed = pyqtSignal(str)

    def __init__(
        self,
        core: CMMCorePlus,
        acquiring: Callable[[], bool] = lambda: False,
        parent: QWidget | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self._acquiring = acquiring  # the app's: any acquisition, whoever started it
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_camera())
        layout.addWidget(self._build_stage())
        layout.addStretch()
        # whoever changes the microscope (console, script, acquisition, this panel),
        # the controls follow: nothing shown is stale
        self.core_events = CoreEvents(core, self)
        self.core_events.exposureChanged.connect(self._show_exposure)
        self.core_events.configSet.connect(self._show_preset)
        self.core_events.zChanged.connect(self._show_z)
        self.core_events.xyChanged.connect(self._show_xy)
        self.core_events.systemChanged.connect(self.refresh)
        self.core_events.configDefined.connect(self.refresh)  # a new preset to offer
        # the other configuration groups' presets (objective, light path…), under the camera
        presets = QGroupBox("Presets")
        self.presets = PresetCombos(
            core, self.core_events, skip_channel_group=True, empty_text="No other groups."
        )
        self.presets.failed.connect(self.failed)
        QVBoxLayout(presets).addWidget(self.presets)
        layout.insertWidget(1, presets)
        self.refresh()
        # A stage moved by its joystick announces nothing: while no acquisition keeps
        # the core busy, ask where the stages are a few times a second.
        (pacer or Pacer(self)).every(POSITION_INTERVAL_MS, self._poll_positions, "stage position")

    def _build_camera(self) -> QGroupBox:
        camera = QGroupBox("Camera")
        form = QFormLayout(camera)
        self.exposure = _spin(0.01, 10000, self.core.getExposure(), " ms")
        self.exposure.valueChanged.connect(lambda v: self._safely(self.core.setExposure, v))
        form.addRow("Exposure", self.exposure)
        self.channel = QComboBox()
        form.addRow("Channel", self.channel)
        buttons = QHBoxLayout()
        self.snap_button = QPushButton("Snap")
        self.snap_button.clicked.connect(self.snapRequested)
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.toggled.connect(self.liveToggled)
        buttons.addWidget(self.snap_button)
        buttons.addWidget(self.live_button)
        form.addRow(buttons)
        return camera

    def _build_stage(self) -> QGroupBox:
        stage = QGroupBox("Stage")
        grid = QGridLayout(stage)
        self.z_label = QLabel()
        self.z_step = _spin(0.01, 1000, 1.0, " µm")
        z_down, z_up = QPushButton("Z −"), QPushButton("Z +")
        z_down.clicked.connect(lambda: self.move_z(-self.z_step.value()))
        z_up.clicked.connect(lambda: self.move_z(self.z_step.value()))
        grid.addWidget(QLabel("Z"), 0, 0)
        grid.addWidget(self.z_label, 0, 1)
        grid.addWidget(z_down, 1, 0)
        grid.addWidget(z_up, 1, 1)
        grid.addWidget(QLabel("step"), 1, 2)
        grid.addWidget(self.z_step, 1, 3)
        self.xy_label = QLabel()
        self.xy_step = _spin(0.01, 100000, 100.0, " µm")
        arrows = {"←": (-1, 0), "→": (1, 0), "↑": (0, -1), "↓": (0, 1)}
        self.xy_buttons: dict[str, QPushButton] = {}
        for col, (text, (dx, dy)) in enumerate(arrows.items()):
            button = QPushButton(text)
            button.setFixedWidth(36)
            button.clicked.connect(lambda _c=False, dx=dx, dy=dy: self.move_xy(dx, dy))
            grid.addWidget(button, 3, col)
            self.xy_buttons[text] = button
        grid.addWidget(QLabel("XY"), 2, 0)
        grid.addWidget(self.xy_label, 2, 1, 1, 3)
        grid.addWidget(QLabel("step"), 4, 0)
        grid.addWidget(self.xy_step, 4, 1, 1, 3)
        return stage

    def _poll_positions(self) -> None:
        # During an acquisition the core is busy with the camera and stages: asking it
        # for positions would make the GUI thread wait for it (seen: 136 ms).
        if self.isVisible() and self.isEnabled() and not self._acquiring():
            self._show_positions()

    def set_core(self, core: CMMCorePlus) -> None:
        """Drive another microscope (a configuration was loaded): show its state."""
        self.core = core
        self.core_events.set_core(core)
        self.presets.set_core(core)
        self.refresh()

    def _show_exposure(self, ms: float) -> None:
        self.exposure.blockSignals(True)
        self.exposure.setValue(ms)
        self.exposure.blockSignals(False)

    def _show_preset(self, group: str, preset: str) -> None:
        if group != self.core.getChannelGroup():
            return
        self.channel.blockSignals(True)
        self.channel.setCurrentText(preset)
        self.channel.blockSignals(False)

    def _show_z(self, z: float) -> None:
        self.z_label.setText(f"{z + 0.0:.2f} µm")

    def _show_xy(self, x: float, y: float) -> None:
        self.xy_label.setText(f"{x + 0.0:.1f}, {y + 0.0:.1f} µm")

    def show_live(self, on: bool) -> None:
        """Live's state: the Live button down, Snap unavailable while it runs."""
        self.live_button.blockSignals(True)
        self.live_button.setChecked(on)
        self.live_button.blockSignals(False)
        self.live_button.setText("Stop Live" if on else "Live")
        self.snap_button.setEnabled(not on)

    def refresh(self) -> None:
        """Read the hardware's state into the controls (after loading a configuration)."""
        core = self.core
        self.exposure.blockSignals(True)
        self.exposure.setValue(core.getExposure())
        self.exposure.blockSignals(False)
        self.channel.blockSignals(True)
        self.channel.clear()
        group = core.getChannelGroup()
        if group:
            self.channel.addItems(core.getAvailableConfigs(group))
            self.channel.setCurrentText(core.getCurrentConfig(group))
        self.channel.blockSignals(False)
        with contextlib.suppress(TypeError):  # nothing connected yet
            self.channel.currentTextChanged.disconnect()
        if group:
            self.channel.currentTextChanged.connect(
                lambda name: self._safely(core.setConfig, group, name)
            )
        self._show_positions()

    def move_z(self, delta: float) -> None:
        if self.core.getFocusDevice():
            self._safely(self.core.setRelativePosition, delta)
        self._show_positions()

    def move_xy(self, dx: int, dy: int) -> None:
        if self.core.getXYStageDevice():
            step = self.xy_step.value()
            self._safely(self.core.setRelativeXYPosition, dx * step, dy * step)
        self._show_positions()

    def _show_positions(self) -> None:
        core = self.core
        try:
            z = f"{core.getPosition() + 0.0:.2f} µm" if core.getFocusDevice() else "no focus stage"
            xy = (
                "{:.1f}, {:.1f} µm".format(*(v + 0.0 for v in core.getXYPosition()))
                if core.getXYStageDevice()
                else "no XY stage"
            )
        except Exception as exc:
            z = xy = f"unavailable ({exc})"
        self.z_label.setText(z)
        self.xy_label.setText(xy)

    def _safely(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a device error is a message, not a crash
            logger.error("%s%s failed: %s", fn.__name__, args, exc)
            self.failed.emit(f"{fn.__name__} failed: {exc}")
