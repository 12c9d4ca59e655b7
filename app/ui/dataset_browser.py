"""What the axis sliders browse: the running acquisition's dataset, or one from disk."""

from __future__ import annotations

import logging
from typing import Any

from app.storage.sink import ReadableDataset
from app.ui.axis_sliders import AxisSliders
from app.ui.viewer import ImageViewer

logger = logging.getLogger(__name__)


class DatasetBrowser:
    """Connects the sliders to a dataset and the viewer.

    While following (the acquisition's newest image is shown), the sliders move with
    each frame shown; moving a slider stops following and shows that image from the
    dataset.
    """

    def __init__(self, viewer: ImageViewer, sliders: AxisSliders) -> None:
        self.viewer = viewer
        self.sliders = sliders
        self.dataset: ReadableDataset | None = None
        self.last_shown_axes: dict[str, Any] = {}
        sliders.axesChosen.connect(self.show)

    @property
    def following(self) -> bool:
        """Frames from the camera are shown (nothing to browse, or "Follow newest")."""
        return self.dataset is None or self.sliders.follow.isChecked()

    def browse(self, dataset: ReadableDataset | None, *, follow: bool) -> None:
        """Browse ``dataset`` from now on (None: nothing to browse, e.g. Live)."""
        self.dataset = dataset
        self.sliders.clear()
        self.sliders.follow.setChecked(follow)
        if dataset is not None and not follow:
            self.refresh()
            self.show(self.sliders.current_axes())

    def refresh(self) -> None:
        """Let the sliders reach every image the dataset has now."""
        if self.dataset is not None and getattr(self.dataset, "axes", None):
            self.sliders.set_axes({k: list(v) for k, v in self.dataset.axes.items()})

    def show(self, axes: dict[str, Any]) -> None:
        if self.dataset is None or not axes:
            return
        try:
            if self.dataset.has_image(**axes):
                self.viewer.set_image(self.dataset.read_image(**axes))
        except Exception as exc:  # a partial dataset may lack an image
            logger.warning("Could not read the image %s: %s", axes, exc)

    def frame_shown(self, axes: dict[str, Any]) -> None:
        """The viewer just showed a frame with ``axes``: move the sliders there."""
        self.last_shown_axes = axes
        if self.dataset is not None:
            if not self.sliders.knows(axes):
                self.refresh()  # a new time point or z: let the sliders reach it
            self.sliders.show_axes(axes)

    def acquisition_ended(self) -> None:
        """The sliders reach every image, and stay where the viewer stopped."""
        self.refresh()
        if self.sliders.follow.isChecked():
            self.sliders.show_axes(self.last_shown_axes)
