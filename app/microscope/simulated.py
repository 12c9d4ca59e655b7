"""The simulated microscope: Micro-Manager's DemoCamera set up to look like a sample."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

from pymmcore_plus import CMMCorePlus

from app.resource_files import MissingResourceError, load_json_resource

CAMERA = "Camera"
SIMULATED_MICROSCOPE_FILE = "simulated_microscope.json"


@dataclass(frozen=True)
class SimulatedCameraSettings:
    """What the demo camera shows.

    ``mode="Fluorescent Beads"`` draws beads whose blur grows with the Z stage's
    distance from 0, so a Z-stack or a focus metric behaves as on a real sample.
    ``fast_image`` makes the camera reuse one generated frame; it then delivers
    several GB/s, which is what benchmarks need to see past the camera.
    """

    width: int = 512
    height: int = 512
    bit_depth: Literal[8, 16] = 16
    mode: str = "Fluorescent Beads"
    fast_image: bool = False
    exposure_ms: float = 10.0


def simulated_camera_from_resources() -> SimulatedCameraSettings:
    """What the app's simulated microscope shows: ``resources/simulated_microscope.json``."""
    camera = load_json_resource(SIMULATED_MICROSCOPE_FILE).get("camera")
    try:
        return SimulatedCameraSettings(**camera)  # type: ignore[arg-type]
    except TypeError as exc:
        raise MissingResourceError(
            f"resources/{SIMULATED_MICROSCOPE_FILE}: its 'camera' object must name only "
            f"{', '.join(f.name for f in fields(SimulatedCameraSettings))} ({exc})"
        ) from exc


#: how bright each channel's beads are, relative to DAPI (a sample's dyes differ)
CHANNEL_BRIGHTNESS = {"DAPI": 1.0, "FITC": 0.6, "Rhodamine": 0.35, "Cy5": 0.2}
REFERENCE_EXPOSURE_MS = 10.0

# the simulated microscopes' samples, by core (a weak map: a released core leaves)
_samples: weakref.WeakKeyDictionary[CMMCorePlus, Callable[[], None]] = weakref.WeakKeyDictionary()


def follow_exposure_and_channel(core: CMMCorePlus) -> None:
    """Make the demo camera's beads brighten with exposure and differ per channel, as
    a real sample does (the demo camera alone ignores both), by setting its
    ``BeadBrightness``. The core's signals keep it right for Snap (they come a moment
    after the change, and skip a camera that streams); Live's worker, which owns the
    streaming camera, calls ``update_simulated_sample`` when one comes; an acquisition calls
    ``update_simulated_sample`` once the hardware is set for an event, so each frame has
    its own channel's brightness.
    """
    group = core.getChannelGroup()

    def update() -> None:
        try:
            preset = core.getCurrentConfig(group) if group else ""
            scale = CHANNEL_BRIGHTNESS.get(preset, 1.0)
            brightness = core.getExposure() / REFERENCE_EXPOSURE_MS * scale
            core.setProperty(CAMERA, "BeadBrightness", min(8.0, max(0.125, brightness)))
        except Exception:  # a camera swapped out, or busy: the next change sets it
            return

    def update_when_idle(*_: object) -> None:
        # the signals come a moment after the change, maybe while a camera burst runs:
        # a property changed under it could disturb it (the acquisition updates the
        # sample itself, before the burst starts)
        if not core.isSequenceRunning():
            update()

    _samples[core] = update
    core.events.exposureChanged.connect(update_when_idle)
    core.events.configSet.connect(update_when_idle)
    update()


def update_simulated_sample(core: CMMCorePlus) -> None:
    """Bring the simulated sample in line with the exposure and channel now set (no-op
    for real hardware)."""
    update = _samples.get(core)
    if update is not None:
        update()


FAST_IMAGE_CONTENT_EXPOSURE_MS = 100.0


def configure_simulated_camera(core: CMMCorePlus, settings: SimulatedCameraSettings) -> None:
    """Apply ``settings`` to the demo camera of a core that loaded the demo configuration."""
    if not 1 <= settings.width <= 8192 or not 1 <= settings.height <= 8192:
        raise ValueError(
            f"Frame size must be 1..8192 pixels, got {settings.width}x{settings.height}"
        )
    if settings.bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {settings.bit_depth}")
    core.setProperty(CAMERA, "Mode", settings.mode)
    core.setProperty(CAMERA, "PixelType", f"{settings.bit_depth}bit")
    core.setProperty(CAMERA, "BitDepth", str(settings.bit_depth))
    core.setProperty(CAMERA, "OnCameraCCDXSize", settings.width)
    core.setProperty(CAMERA, "OnCameraCCDYSize", settings.height)
    core.setProperty(CAMERA, "FastImage", "0")
    core.setExposure(settings.exposure_ms)
    core.waitForSystem()
    if settings.fast_image:
        # FastImage repeats the last frame the camera generated: one is generated first,
        # else every frame of this size is all zeros (which a compressing or fill-value
        # skipping writer would not store, flattering it in a benchmark)
        # (at a longer exposure, so the repeated frame has the signal of a real sample)
        core.setExposure(max(settings.exposure_ms, FAST_IMAGE_CONTENT_EXPOSURE_MS))
        core.snapImage()
        core.getImage()
        core.setProperty(CAMERA, "FastImage", "1")
        core.setExposure(settings.exposure_ms)
        core.waitForSystem()


SECOND_CAMERA = "Camera2"
MULTI_CAMERA = "Multi Camera"


def add_second_simulated_camera(core: CMMCorePlus, mode: str = "Noise") -> None:
    """A second demo camera beside the first, both behind Micro-Manager's Multi Camera
    device (as two cameras behind an image splitter are): the core's camera is then the
    Multi Camera, and each image is taken by both. The second shows ``mode`` (another
    demo picture than the first's, so their images differ) at the first's size and
    pixel type, which Multi Camera needs."""
    core.loadDevice(SECOND_CAMERA, "DemoCamera", "DCam")
    core.initializeDevice(SECOND_CAMERA)
    core.loadDevice(MULTI_CAMERA, "Utilities", "Multi Camera")
    core.initializeDevice(MULTI_CAMERA)
    for name in ("OnCameraCCDXSize", "OnCameraCCDYSize", "PixelType", "BitDepth"):
        core.setProperty(SECOND_CAMERA, name, core.getProperty(CAMERA, name))
    core.setProperty(SECOND_CAMERA, "Mode", mode)
    core.setProperty(MULTI_CAMERA, "Physical Camera 1", CAMERA)
    core.setProperty(MULTI_CAMERA, "Physical Camera 2", SECOND_CAMERA)
    core.setCameraDevice(MULTI_CAMERA)
    core.waitForSystem()
