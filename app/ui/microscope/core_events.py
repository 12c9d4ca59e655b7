"""The microscope's own change signals, delivered on the GUI thread.

pymmcore-plus announces every change of the core (exposure, configuration preset,
stage positions, properties), whoever made it: the console, a script, an acquisition
or a panel. Scopeflow's cores use psygnal callbacks, which run on the thread that made
the change; this bridge re-emits them as Qt signals of an object that lives on the
GUI thread, so widgets update there (Qt queues signals across threads).
"""

from __future__ import annotations

from typing import Any

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QObject, pyqtSignal


class CoreEvents(QObject):
    exposureChanged = pyqtSignal(float)  # ms
    configSet = pyqtSignal(str, str)  # group, preset
    zChanged = pyqtSignal(float)  # µm, the focus device
    xyChanged = pyqtSignal(float, float)  # µm
    propertyChanged = pyqtSignal(str, str, str)  # device, property, value
    pixelSizeChanged = pyqtSignal(float)  # µm per pixel
    systemChanged = pyqtSignal()  # a configuration was (re)loaded: read everything again
    configDefined = pyqtSignal(str, str)  # group, preset: a preset was defined or changed
    roiSet = pyqtSignal(int, int, int, int)  # x, y, width, height (not sent by clearROI)

    def __init__(self, core: CMMCorePlus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._core: CMMCorePlus | None = None
        self._connections: list[tuple[Any, Any]] = []
        self.set_core(core)

    def set_core(self, core: CMMCorePlus) -> None:
        """Follow another microscope (and stop listening to the old one)."""
        self.disconnect_core()
        self._core = core
        events = core.events
        pairs = [
            (events.exposureChanged, self._on_exposure),
            (events.configSet, self._on_config),
            (events.stagePositionChanged, self._on_stage),
            (events.XYStagePositionChanged, self._on_xy),
            (events.propertyChanged, self._on_property),
            (events.pixelSizeChanged, self._on_pixel_size),
            (events.systemConfigurationLoaded, self._on_system),
            (events.channelGroupChanged, self._on_system),
            (events.configDefined, self._on_config_defined),
            (events.roiSet, self._on_roi),
        ]
        for signal, slot in pairs:
            signal.connect(slot)
            self._connections.append((signal, slot))

    def disconnect_core(self) -> None:
        connections, self._connections = self._connections, []
        for signal, slot in connections:
            signal.disconnect(slot)

    # psygnal calls these on the thread that changed the core: they only emit
    def _emit(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # this object's window was closed and deleted
            self.disconnect_core()

    def _on_exposure(self, camera: str, value: float) -> None:
        self._emit(self.exposureChanged, float(value))

    def _on_config(self, group: str, preset: str) -> None:
        self._emit(self.configSet, str(group), str(preset))

    def _on_stage(self, device: str, position: float) -> None:
        core = self._core
        if core is not None and device == core.getFocusDevice():
            self._emit(self.zChanged, float(position))

    def _on_xy(self, device: str, x: float, y: float) -> None:
        self._emit(self.xyChanged, float(x), float(y))

    def _on_property(self, device: str, prop: str, value: Any) -> None:
        self._emit(self.propertyChanged, str(device), str(prop), str(value))

    def _on_pixel_size(self, value: float) -> None:
        self._emit(self.pixelSizeChanged, float(value))

    def _on_system(self, *_: Any) -> None:
        self._emit(self.systemChanged)

    def _on_config_defined(self, group: str, preset: str, *_: Any) -> None:
        self._emit(self.configDefined, str(group), str(preset))

    def _on_roi(self, camera: str, x: int, y: int, width: int, height: int) -> None:
        self._emit(self.roiSet, int(x), int(y), int(width), int(height))
