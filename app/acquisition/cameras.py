"""Several cameras at once (Micro-Manager's Utilities "Multi Camera" device): each
camera's image of an event is kept apart under a channel name that names the camera.

With a Multi Camera device as the core's camera, one event gives one image per
physical camera. Saved under the event's axes, the second was taken for a repeat of
the first. MMStudio folds the camera into the channel: ``<preset>-<camera>`` ("DAPI-
Camera2"), the camera's name alone when there is no channel; pycro-manager's engine
did the same with an underscore before it dropped it. Scopeflow follows MMStudio: a
dataset then opens in MMStudio and Fiji with one channel per camera and preset, every
format keeps it (OME-Zarr has no dimension for a camera), and the viewer's composite
puts the cameras side by side in their colours as it does channels. Each image's
metadata also says its camera (``Camera``, ``CameraChannelIndex``).

Hooks see events (the event's axes, as pycro-manager's hooks); processors,
``image_saved_fn``, notifications of images and futures see each image's axes.
"""

from __future__ import annotations

from typing import Any, Protocol

#: channel names that stand for "no channel" (MMStudio's "Default" preset)
NO_CHANNEL = (None, "", "Default")


class CameraCore(Protocol):
    def getNumberOfCameraChannels(self) -> int: ...

    def getCameraChannelName(self, channel: int) -> str: ...


def camera_names(core: CameraCore) -> tuple[str, ...]:
    """The physical cameras each event is imaged by, in Multi Camera's order; empty for
    one camera (nothing to tell apart)."""
    count = core.getNumberOfCameraChannels()
    if count < 2:
        return ()
    return tuple(core.getCameraChannelName(index) for index in range(count))


def camera_channel(channel: Any, camera: str) -> str:
    """The channel an image of ``camera`` is saved under, for an event of ``channel``."""
    return camera if channel in NO_CHANNEL else f"{channel}-{camera}"


def image_axes(axes: dict[str, Any], camera: str) -> dict[str, Any]:
    """The axes of ``camera``'s image of an event with ``axes``."""
    return {**axes, "channel": camera_channel(axes.get("channel"), camera)}


def images_of(axes: dict[str, Any], cameras: tuple[str, ...]) -> list[dict[str, Any]]:
    """The axes of every image an event with ``axes`` gives (itself, with one camera)."""
    return [image_axes(axes, camera) for camera in cameras] if cameras else [axes]


class CamerasDifferError(ValueError):
    """The cameras behind Multi Camera give images of different sizes or pixel types,
    which it cannot take together."""


class SwitchableCore(CameraCore, Protocol):
    def getCameraDevice(self) -> str: ...

    def setCameraDevice(self, label: str) -> None: ...

    def isSequenceRunning(self) -> bool: ...

    def getImageWidth(self) -> int: ...

    def getImageHeight(self) -> int: ...

    def getBytesPerPixel(self) -> int: ...

    def getImageBitDepth(self) -> int: ...


def check_cameras_match(core: SwitchableCore, cameras: tuple[str, ...]) -> None:
    """Raise ``CamerasDifferError`` naming each camera's image when they differ: said
    before the first frame (the Multi Camera device refuses at the first image, and a
    burst's buffer will not start). Each camera is made the core's camera in turn to be
    asked, as pymmcore-plus's run summary does; not while a camera runs (Live)."""
    if len(cameras) < 2 or core.isSequenceRunning():
        return
    selected = core.getCameraDevice()
    images: dict[str, tuple[int, int, int, int]] = {}
    try:
        for camera in cameras:
            core.setCameraDevice(camera)
            images[camera] = (
                core.getImageWidth(),
                core.getImageHeight(),
                core.getBytesPerPixel(),
                core.getImageBitDepth(),
            )
    finally:
        core.setCameraDevice(selected)
    if len(set(images.values())) > 1:
        said = ", ".join(
            f"{camera} {w}x{h} {8 * size}-bit pixels ({depth}-bit)"
            for camera, (w, h, size, depth) in images.items()
        )
        raise CamerasDifferError(
            f"The cameras behind {selected} give different images: {said}. It takes them "
            "together only when each gives the same size and pixel type: set their ROI, "
            "binning and pixel type alike, then start again."
        )
