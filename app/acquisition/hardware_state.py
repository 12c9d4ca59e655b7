"""Where the microscope was before an acquisition, to put it back afterwards.

An acquisition moves the focus, the stage, the channel preset, the exposure and the
shutter. Left there, the next relative Z-stack starts from the last plane of the
previous one and drifts through the sample; Micro-Manager returns the hardware to
where the user left it, and so does Scopeflow when asked (the window asks by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pymmcore_plus import CMMCorePlus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HardwareState:
    z: float | None
    xy: tuple[float, float] | None
    channel: tuple[str, str] | None  # (group, preset)
    exposure_ms: float | None
    auto_shutter: bool | None
    shutter_open: bool | None

    @classmethod
    def read(cls, core: CMMCorePlus) -> HardwareState:
        """What the devices are at now (a part the microscope lacks is None)."""
        group = core.getChannelGroup()
        preset = core.getCurrentConfig(group) if group else ""
        shutter = core.getShutterDevice()
        return cls(
            z=core.getPosition() if core.getFocusDevice() else None,
            xy=_xy(core) if core.getXYStageDevice() else None,
            channel=(group, preset) if group and preset else None,
            exposure_ms=core.getExposure() if core.getCameraDevice() else None,
            auto_shutter=core.getAutoShutter(),
            shutter_open=core.getShutterOpen() if shutter else None,
        )

    def changes_to(self, now: HardwareState, tolerance_um: float = 0.01) -> list[str]:
        """What differs in ``now``, each as a person reads it ("Z 0.00 → 6.00 µm")."""
        changes = []
        if self.z is not None and now.z is not None and abs(self.z - now.z) > tolerance_um:
            changes.append(f"Z {self.z:.2f} → {now.z:.2f} µm")
        if (
            self.xy is not None
            and now.xy is not None
            and max(abs(a - b) for a, b in zip(self.xy, now.xy, strict=True)) > tolerance_um
        ):
            changes.append(
                f"XY ({self.xy[0]:.1f}, {self.xy[1]:.1f}) → ({now.xy[0]:.1f}, {now.xy[1]:.1f}) µm"
            )
        if self.channel is not None and now.channel is not None and self.channel != now.channel:
            changes.append(f"{self.channel[0]} {self.channel[1]} → {now.channel[1]}")
        if (
            self.exposure_ms is not None
            and now.exposure_ms is not None
            and abs(self.exposure_ms - now.exposure_ms) > 1e-6
        ):
            changes.append(f"exposure {self.exposure_ms:g} → {now.exposure_ms:g} ms")
        if self.auto_shutter is not None and self.auto_shutter != now.auto_shutter:
            changes.append(f"auto shutter {_on(self.auto_shutter)} → {_on(now.auto_shutter)}")
        return changes

    def restore(self, core: CMMCorePlus) -> list[str]:
        """Put each device back; returns what could not be (each part is tried)."""
        problems: list[str] = []

        def attempt(what: str, action: Callable[[], object]) -> None:
            try:
                action()
            except Exception as exc:
                problems.append(f"{what}: {exc}")

        channel, exposure, z, xy = self.channel, self.exposure_ms, self.z, self.xy
        auto_shutter, shutter_open = self.auto_shutter, self.shutter_open
        if channel is not None:
            attempt(f"channel {channel[1]}", lambda: core.setConfig(*channel))
        if exposure is not None:
            attempt("exposure", lambda: core.setExposure(exposure))
        if z is not None:
            attempt("Z", lambda: core.setPosition(z))
        if xy is not None:
            attempt("XY", lambda: core.setXYPosition(*xy))
        if auto_shutter is not None:
            attempt("auto shutter", lambda: core.setAutoShutter(auto_shutter))
        if shutter_open is not None and not auto_shutter:
            attempt("shutter", lambda: core.setShutterOpen(shutter_open))
        attempt("waiting for the devices", core.waitForSystem)
        for problem in problems:
            logger.warning("Could not return the hardware to its state before: %s", problem)
        return problems


def _on(value: bool | None) -> str:
    return "on" if value else "off"


def _xy(core: CMMCorePlus) -> tuple[float, float]:
    x, y = core.getXYPosition()
    return float(x), float(y)
