"""Frames as they travel between threads, and the metadata processors see."""

from __future__ import annotations

import ctypes
import datetime
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pymmcore_plus import CMMCorePlus


def writable(image: np.ndarray) -> np.ndarray:
    """The camera frame as a writable array over the same memory (no copy).

    pymmcore-nano returns each frame as a fresh buffer of its own but marks it
    read-only; pycro-manager's processors change pixels in place. The memory belongs
    to that frame alone (``tests/test_frames.py`` checks a kept frame survives the
    camera's buffer wrapping around), so a writable view over it is safe; the view
    keeps the original array alive.
    """
    if image.flags.writeable:
        return image
    holder = (ctypes.c_char * image.nbytes).from_address(image.ctypes.data)
    holder._owner = image  # type: ignore[attr-defined]  # keeps the frame's memory alive
    view: np.ndarray = np.frombuffer(memoryview(holder), dtype=image.dtype)
    return view.reshape(image.shape)


class FrameMemory(Protocol):
    """Where the engine puts each camera frame as it reads it (the RAM storage's warm
    memory), on the thread that reads the camera."""

    def copy_of(self, image: np.ndarray) -> np.ndarray:
        """``image`` copied in: its dtype and shape, writable; the camera's array is
        let go."""
        ...

    def expect(self, nbytes: int | None, more_may_come: bool = False) -> None:
        """``nbytes`` of frames are known to be coming (None: not known), and more may
        follow (``more_may_come``), so memory is made ready for those and no more."""
        ...


@dataclass(slots=True)
class Frame:
    """One image from the camera, not copied, with the metadata built for it."""

    image: np.ndarray
    metadata: dict[str, Any]
    acquired_ns: int  # time.perf_counter_ns() when the engine received it


class FrameMetadataFactory:
    """Builds pycro-manager-style image metadata from the event and pymmcore-plus's meta.

    The keys are those pycro-manager's acquisition engine writes (``Axes``,
    ``Channel``, ``Exposure``, ``PixelSize_um``, ``ElapsedTime-ms``, ``Time``,
    ``Width``, ``Height``, ``PixelType``, ``BitDepth``, ``Camera``, and for events that
    set them ``XPosition_um_Intended``, ``YPosition_um_Intended``,
    ``ZPosition_um_Intended``, ``<stage>Position_um_Intended`` and ``PositionName``),
    plus the stage positions read back (``XPosition_um``...). What does not change
    during an acquisition (bit depth, focus device) is read once, so the per-frame
    cost is a small dict.
    """

    def __init__(self, core: CMMCorePlus, default_channel: str) -> None:
        self._default_channel = default_channel
        self._bit_depth = core.getImageBitDepth()
        self._focus = core.getFocusDevice()
        self._core = core
        self._start_ns = time.perf_counter_ns()
        self._image_number = 0

    @property
    def start_ns(self) -> int:
        return self._start_ns

    def build(self, image: np.ndarray, event: dict[str, Any], meta: Any) -> dict[str, Any]:
        """The metadata dict for one frame; ``meta`` is pymmcore-plus's frame metadata."""
        channel = event["config_group"][1] if "config_group" in event else self._default_channel
        pixel_size = meta.get("pixel_size_um")
        md: dict[str, Any] = {
            "Axes": dict(event["axes"]),
            "Channel": channel,
            "Exposure": meta.get("exposure_ms"),
            "PixelSize_um": pixel_size,
            "PixelSizeUm": pixel_size,
            "Camera": meta.get("camera_device"),
            "ElapsedTime-ms": (time.perf_counter_ns() - self._start_ns) / 1e6,
            "Time": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "ImageNumber": self._image_number,
            "Width": int(image.shape[1]),
            "Height": int(image.shape[0]),
            "PixelType": "GRAY8" if image.dtype == np.uint8 else "GRAY16",
            "BitDepth": 8 if image.dtype == np.uint8 else self._bit_depth,
        }
        self._image_number += 1
        if "x" in event:
            md["XPosition_um_Intended"] = event["x"]
            md["YPosition_um_Intended"] = event["y"]
        if "z" in event:
            md["ZPosition_um_Intended"] = event["z"]
        for stage, position in event.get("stage_positions", ()):
            if stage == self._focus and "z" not in event:
                md["ZPosition_um_Intended"] = position
            elif stage != self._focus:
                md[f"{stage}Position_um_Intended"] = position
        if isinstance(event["axes"].get("position"), str):
            md["PositionName"] = event["axes"]["position"]
        position = meta.get("position") or {}
        for key, source, fallback in (
            ("XPosition_um", "x", "x"),
            ("YPosition_um", "y", "y"),
            ("ZPosition_um", "z", "z"),
        ):
            value = position.get(source, event.get(fallback))
            if value is not None:
                md[key] = value
        if "config_group" in event:
            md["ChannelGroup"] = event["config_group"][0]
        if "tags" in event:
            md["tags"] = dict(event["tags"])
            if "PositionName" in event["tags"] and "PositionName" not in md:
                md["PositionName"] = event["tags"]["PositionName"]  # from useq's pos_name
        if "hardware_triggered" in meta:
            md["HardwareTriggered"] = bool(meta["hardware_triggered"])
        return md
