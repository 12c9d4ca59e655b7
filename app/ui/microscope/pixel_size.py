"""Pixel size: the configurations that give the µm per pixel, and which one is in use.

Each pixel size configuration ties a size (of an unbinned camera pixel, in the sample)
to device settings, usually the objective; the core uses the one the devices match and
multiplies it by the camera's binning. Two gaps in what the core announces are filled
here, so that the scale bar and the measurements stay true: pymmcore-plus announces
the size just edited even when another configuration is in use, and nothing at all
when the binning changes.
"""

from __future__ import annotations

import logging

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.ui.common.message_label import MessageLabel
from app.ui.microscope.core_events import CoreEvents
from app.ui.microscope.device_dialog import DeviceDialog

logger = logging.getLogger(__name__)

BINNING = "Binning"


def announce_pixel_size(core: CMMCorePlus) -> None:
    """Tell everyone following the core the pixel size of the image now."""
    try:
        size = core.getPixelSizeUm()
    except Exception:  # a device that does not answer: the next change tells
        return
    core.events.pixelSizeChanged.emit(size)


def camera_binning(core: CMMCorePlus, cached: bool = False) -> str:
    camera = core.getCameraDevice()
    if not camera or not core.hasProperty(camera, BINNING):
        return "1"
    if cached:
        return str(core.getPropertyFromCache(camera, BINNING))
    return str(core.getProperty(camera, BINNING))


class BinningFollower(QObject):
    """A binning changed by anyone (a panel, the console, a script) changes the size of
    the image's pixels: announce it, as the core does not."""

    def __init__(self, core: CMMCorePlus, events: CoreEvents, parent: QObject | None = None):
        super().__init__(parent)
        self.core = core
        events.propertyChanged.connect(self._property_changed)

    def set_core(self, core: CMMCorePlus) -> None:
        self.core = core

    def _property_changed(self, device: str, prop: str, value: str) -> None:
        if prop == BINNING and device == self.core.getCameraDevice():
            announce_pixel_size(self.core)


def _settings_text(core: CMMCorePlus, config: str) -> str:
    try:
        data = core.getPixelSizeConfigData(config)
    except Exception as exc:
        return f"unreadable ({exc})"
    return ", ".join(f"{device} · {prop} = {value}" for device, prop, value in data) or "—"


class PixelSizeDialog(DeviceDialog):
    """Devices > Pixel size…: each configuration's µm per pixel, editable; the one in use."""

    title = "Pixel size"

    def build(self) -> None:
        events = self.events
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.in_use = QLabel()
        self.in_use.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Configuration", "µm per pixel", "Used when"])
        vertical = self.table.verticalHeader()
        if vertical is not None:
            vertical.hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
        self.note = QLabel(
            "The size of one camera pixel in the sample at binning 1 (the core multiplies "
            "it by the binning). A change lasts until a configuration is loaded: Scopeflow "
            "does not write it into the configuration file."
        )
        self.note.setWordWrap(True)
        self.message = MessageLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.in_use)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._refresh_timer = QTimer(self)  # a burst of announcements is read once
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(lambda: self.refresh(cached=True))
        events.pixelSizeChanged.connect(self._schedule_refresh)
        events.configSet.connect(self._schedule_refresh)
        events.propertyChanged.connect(self._schedule_refresh)
        events.systemChanged.connect(self.rebuild)
        self.rebuild()
        self.resize(640, 280)

    def _schedule_refresh(self, *_: object) -> None:
        if self.isVisible():
            self._refresh_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def show_core(self) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """One row per pixel size configuration."""
        core = self.core
        configs = list(core.getAvailablePixelSizeConfigs())
        self.table.setRowCount(len(configs))
        self.spins = {}
        for row, config in enumerate(configs):
            self.table.setItem(row, 0, QTableWidgetItem(config))
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(0.0001, 100000.0)
            spin.setSingleStep(0.01)
            spin.setSuffix(" µm")
            spin.setKeyboardTracking(False)  # applied when typed in, not at each digit
            spin.setValue(core.getPixelSizeUmByID(config))
            spin.valueChanged.connect(lambda um, c=config: self.set_size(c, um))
            self.table.setCellWidget(row, 1, spin)
            settings = _settings_text(core, config)
            item = QTableWidgetItem(settings)
            item.setToolTip(settings)
            self.table.setItem(row, 2, item)
            self.spins[config] = spin
        self.refresh()

    def refresh(self, cached: bool = False) -> None:
        """The sizes and the configuration in use, as the core has them now (``cached``:
        from the core's cache of property values, which never waits on a busy device)."""
        core = self.core
        try:
            current = core.getCurrentPixelSizeConfig(cached)
            size = core.getPixelSizeUm(cached)
            binning = camera_binning(core, cached)
        except Exception as exc:
            self.in_use.setText(f"The pixel size cannot be read now: {exc}")
            return
        if not self.spins:
            self.in_use.setText(
                "This configuration defines no pixel size, so images have no scale. "
                "Define one in Micro-Manager (MMStudio: Devices > Pixel Size "
                "Calibration…) and save it in the configuration file."
            )
        elif not current:
            self.in_use.setText(
                "The devices match none of these configurations now: images have no scale."
            )
        else:
            binned = ""
            if binning != "1":
                unbinned = core.getPixelSizeUmByID(current)
                binned = f" ({unbinned:.4g} µm × binning {binning})"
            self.in_use.setText(
                f"In use: <b>{current}</b>. The image's pixels are {size:.4g} µm{binned}."
            )
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is None:
                continue
            config = item.text()
            font = QFont(item.font())
            font.setBold(config == current)
            item.setFont(font)
            item.setToolTip("In use" if config == current else "")
            spin = self.spins.get(config)
            if spin is not None and not spin.hasFocus():
                spin.blockSignals(True)
                spin.setValue(core.getPixelSizeUmByID(config))
                spin.blockSignals(False)

    def set_size(self, config: str, um: float) -> bool:
        """Change a configuration's µm per pixel; a refusal is said, never raised."""
        try:
            self.core.setPixelSizeUm(config, um)
        except Exception as exc:
            logger.warning("Setting the pixel size of %s failed: %s", config, exc)
            self.message.say(f"Could not set the pixel size of {config}: {exc}", error=True)
            return False
        self.message.say("")
        announce_pixel_size(self.core)  # the size in use, whichever was edited
        self.refresh()
        return True
