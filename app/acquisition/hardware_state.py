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


def _xy(core: CMMCorePlus) -> tuple[float, float]:
    x, y = core.getXYPosition()
    return float(x), float(y)
