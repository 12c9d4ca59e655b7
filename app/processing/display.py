"""The display slot: the latest image for a viewer, never a queue that can back up."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from psygnal import SignalGroup, evented

ImageT = TypeVar("ImageT")


#: In the metadata of a frame for the display (Snap, Live): the frames the other
#: cameras took at the same moment (several cameras behind Micro-Manager's Multi Camera
#: device), by camera name. One slot holds one frame; the display's preparer keeps these
#: so that its composite has every camera, whichever frame it took.
OTHER_CAMERAS_KEY = "ScopeflowOtherCameras"


def camera_frame_metadata(cameras: tuple[str, ...], images: list[Any]) -> dict[str, Any]:
    """The display metadata of the last of ``images``, one per camera in ``cameras``
    (none: one camera, whose frame has no channel)."""
    if not cameras:
        return {"Axes": {}}
    others = dict(zip(cameras[:-1], images[:-1], strict=True))
    return {"Axes": {"channel": cameras[-1]}, "Camera": cameras[-1], OTHER_CAMERAS_KEY: others}


class LatestFrameSlot(Generic[ImageT]):
    """Holds only the newest (image, metadata); a slow reader skips frames.

    ``put`` is called by the processing thread and returns whether it replaced a
    frame nobody had taken (a skipped frame, counted by the caller). ``take`` is
    called by a display, typically on a GUI timer, and returns ``None`` when there
    is nothing new; a worker that has nothing else to do waits for the next frame
    (``timeout``) instead of polling on a sleep, which saw frames up to a sleep late.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._filled = threading.Condition(self._lock)
        self._item: tuple[ImageT, dict[str, Any]] | None = None
        self.version = 0

    def put(self, image: ImageT, metadata: dict[str, Any]) -> bool:
        with self._lock:
            replaced = self._item is not None
            self._item = (image, metadata)
            self.version += 1
            self._filled.notify()
            return replaced

    def take(self, timeout: float = 0.0) -> tuple[ImageT, dict[str, Any]] | None:
        """The newest item, or None; waiting up to ``timeout`` seconds for one."""
        with self._lock:
            if self._item is None and timeout > 0:
                self._filled.wait(timeout)
            item, self._item = self._item, None
            return item

    def peek(self) -> tuple[ImageT, dict[str, Any]] | None:
        with self._lock:
            return self._item


@evented
@dataclass
class DisplaySettings:
    """How a viewer maps frames to the screen: a Qt-free model (psygnal events), as
    napari keeps its layers' state.

    The viewer widget changes it and follows it (``settings.events.levels`` and so
    on); the thread that prepares frames for drawing reads it. Each field is replaced
    whole, never changed in place, so a reader on another thread sees the old value
    or the new one, never a mix.
    """

    #: one signal per field, made by psygnal's ``evented`` (declared for type checkers)
    events: ClassVar[SignalGroup]

    #: the pixel values shown as black and as full brightness
    levels: tuple[float, float] = (0.0, 1.0)
    #: levels follow each frame (a subsample's min and max) until the user sets them
    auto_levels: bool = True
    #: the name of the colour table
    lookup_table: str = "Grays"
    #: draw one image pixel in ``stride`` (zoomed out, the screen cannot show more)
    stride: int = 1
