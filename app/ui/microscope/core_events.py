"""The microscope's own change signals, delivered on the GUI thread.

pymmcore-plus announces every change of the core (exposure, configuration preset,
stage positions, properties), whoever made it: the console, a script, an acquisition
or a panel. Its psygnal callbacks run on the thread that announces: pymmcore-nano's
core announces most changes (exposure, stages, most properties) on a thread of its
own, a preset set or a property set through pymmcore-plus on the caller's. This bridge
re-emits them as Qt signals of an object that lives on the GUI thread, so widgets
update there.

A change announced on the GUI thread is re-emitted at once. Changes announced on other
threads are gathered, the latest of each kind kept, and delivered together, at most
every ``FOLLOW_INTERVAL_MS`` (so a change the user makes in a panel may reach the other
widgets up to that late): an acquisition switching channels announced about thirteen
changes a frame (the preset, the exposure, each property of the preset), and each,
queued on its own, woke the GUI thread and had it wait for Python's GIL (14,050 queued
calls in a 1000-frame composite of ``scopeflow bench gui``, 1,254 gathered), and the
Microscope panel repainted at every frame.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

#: changes made on other threads reach the widgets at most this often (and this late)
FOLLOW_INTERVAL_MS = 100


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
    #: emitted on a changing thread when its first change is waiting: queued to this one
    _changes_waiting = pyqtSignal()

    def __init__(self, core: CMMCorePlus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._core: CMMCorePlus | None = None
        self._connections: list[tuple[Any, Any]] = []
        self._home = threading.get_ident()  # the GUI thread's, where this object lives
        self._lock = threading.Lock()
        #: the latest change of each kind made elsewhere, in the order of their last change
        self._waiting: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}
        self._told = False  # a delivery is on its way for what is waiting
        self._delivered_at = 0.0  # perf_counter
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._deliver)
        self._changes_waiting.connect(self._deliver_soon)
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
        """Stop following the microscope: its changes still waiting are never told (the
        widgets read the next microscope instead)."""
        connections, self._connections = self._connections, []
        for signal, slot in connections:
            signal.disconnect(slot)
        with self._lock:
            self._waiting.clear()

    # psygnal calls these on the thread that changed the core: they only emit or gather
    def _emit(self, kind: tuple[Any, ...], signal: Any, *args: Any) -> None:
        """``signal(*args)`` now on the GUI thread; from elsewhere, as the latest change
        of its ``kind``, delivered with the others waiting."""
        if threading.get_ident() == self._home:
            with self._lock:  # a change waiting of this kind is older than this one
                self._waiting.pop(kind, None)
            self._emit_now(signal, args)
            return
        with self._lock:
            self._waiting.pop(kind, None)  # to the end: the order of the last changes
            self._waiting[kind] = (signal, args)
            if self._told:
                return
            self._told = True
        self._emit_now(self._changes_waiting, ())

    def _emit_now(self, signal: Any, args: tuple[Any, ...]) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # this object's window was closed and deleted
            self.disconnect_core()

    def _deliver_soon(self) -> None:
        with self._lock:
            if not self._waiting:  # dropped meanwhile (``disconnect_core``): no timer
                self._told = False
                return
        wait_s = self._delivered_at + FOLLOW_INTERVAL_MS / 1000 - time.perf_counter()
        if wait_s > 0:
            self._later.start(math.ceil(wait_s * 1000))
        else:
            self._deliver()

    def _deliver(self) -> None:
        """The changes waiting, each taken out only when its turn comes: one a slot
        announces meanwhile on this thread overtakes a waiting one of its kind."""
        with self._lock:
            kinds = list(self._waiting)  # what came later waits for the next delivery
            self._told = False
        self._delivered_at = time.perf_counter()
        for kind in kinds:
            with self._lock:
                waiting = self._waiting.pop(kind, None)
            if waiting is not None:
                self._emit_now(*waiting)

    def _on_exposure(self, camera: str, value: float) -> None:
        self._emit(("exposure",), self.exposureChanged, float(value))

    def _on_config(self, group: str, preset: str) -> None:
        self._emit(("preset", group), self.configSet, str(group), str(preset))

    def _on_stage(self, device: str, position: float) -> None:
        core = self._core
        if core is not None and device == core.getFocusDevice():
            self._emit(("z",), self.zChanged, float(position))

    def _on_xy(self, device: str, x: float, y: float) -> None:
        self._emit(("xy",), self.xyChanged, float(x), float(y))

    def _on_property(self, device: str, prop: str, value: Any) -> None:
        self._emit(
            ("property", device, prop), self.propertyChanged, str(device), str(prop), str(value)
        )

    def _on_pixel_size(self, value: float) -> None:
        self._emit(("pixel size",), self.pixelSizeChanged, float(value))

    def _on_system(self, *_: Any) -> None:
        self._emit(("system",), self.systemChanged)

    def _on_config_defined(self, group: str, preset: str, *_: Any) -> None:
        self._emit(("defined", group, preset), self.configDefined, str(group), str(preset))

    def _on_roi(self, camera: str, x: int, y: int, width: int, height: int) -> None:
        self._emit(("roi",), self.roiSet, int(x), int(y), int(width), int(height))
