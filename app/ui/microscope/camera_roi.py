"""The camera's binning and region of interest (ROI).

Both change the size of the frames the camera delivers, so they are refused while the
camera streams (Live, an acquisition): Live's worker or the engine would read a frame
of one size into a buffer meant for another. The demo camera, for one, accepts an ROI
larger than its sensor and then makes up the pixels, so an ROI is checked against the
full frame first; the core has no call for a camera's full size, so it is read once
per camera and binning by clearing the ROI and putting it back, while the camera is
idle.
"""

from __future__ import annotations

import logging

from PyQt6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.ui.common.message_label import MessageLabel
from app.ui.microscope.device_dialog import DeviceDialog

logger = logging.getLogger(__name__)

BINNING = "Binning"
MAX_PIXELS = 65536


def _spin(low: int, high: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSuffix(" px")
    return box


class CameraRoiDialog(DeviceDialog):
    """Devices > Camera ROI and binning…"""

    title = "Camera ROI and binning"

    def build(self) -> None:
        events = self.events
        self._full: dict[tuple[str, str], tuple[int, int]] = {}  # (camera, binning) -> w, h
        self._measuring = False

        self.camera_label = QLabel()
        self.camera_label.setWordWrap(True)
        self.binning = QComboBox()
        self.binning.activated.connect(lambda i: self.set_binning(self.binning.itemText(i)))
        binning_form = QFormLayout()
        binning_form.addRow("Binning", self.binning)

        roi_box = QGroupBox("Region of interest (in pixels at this binning)")
        grid = QGridLayout(roi_box)
        self.roi_x, self.roi_y = _spin(0, MAX_PIXELS - 1), _spin(0, MAX_PIXELS - 1)
        self.roi_width, self.roi_height = _spin(1, MAX_PIXELS), _spin(1, MAX_PIXELS)
        for row, col, text, box in (
            (0, 0, "x", self.roi_x),
            (0, 2, "y", self.roi_y),
            (1, 0, "Width", self.roi_width),
            (1, 2, "Height", self.roi_height),
        ):
            grid.addWidget(QLabel(text), row, col)
            grid.addWidget(box, row, col + 1)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Use this region of the sensor (Live must be off)")
        self.apply_button.clicked.connect(self.apply_roi)
        self.full_button = QPushButton("Full frame")
        self.full_button.setToolTip("Use the whole sensor (Live must be off)")
        self.full_button.clicked.connect(self.full_frame)
        buttons_row = QHBoxLayout()
        buttons_row.addStretch()
        buttons_row.addWidget(self.full_button)
        buttons_row.addWidget(self.apply_button)
        grid.addLayout(buttons_row, 2, 0, 1, 4)
        self.now = QLabel()
        self.now.setWordWrap(True)
        grid.addWidget(self.now, 3, 0, 1, 4)

        self.message = MessageLabel()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.camera_label)
        layout.addLayout(binning_form)
        layout.addWidget(roi_box)
        layout.addWidget(self.message)
        layout.addStretch()
        layout.addWidget(close)

        events.roiSet.connect(self._roi_announced)
        events.propertyChanged.connect(self._property_changed)
        events.systemChanged.connect(self.refresh)
        self.refresh()
        self.resize(460, 300)

    # ------------------------------------------------------------ following the core
    def show_core(self) -> None:
        self._full.clear()  # another camera, perhaps
        self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _roi_announced(self, x: int, y: int, width: int, height: int) -> None:
        if not self._measuring and self.isVisible():
            self.refresh()

    def _property_changed(self, device: str, prop: str, value: str) -> None:
        camera = self.core.getCameraDevice()
        affects = (device == camera and prop == BINNING) or (device, prop) == ("Core", "Camera")
        if affects and self.isVisible():
            self.refresh()

    def _camera(self) -> str:
        return str(self.core.getCameraDevice())

    def _binning(self) -> str:
        camera = self._camera()
        if camera and self.core.hasProperty(camera, BINNING):
            return str(self.core.getProperty(camera, BINNING))
        return "1"

    def refresh(self) -> None:
        """Show the camera's binning and ROI as the core has them now."""
        core = self.core
        camera = self._camera()
        has_camera = bool(camera)
        for widget in (self.binning, self.roi_x, self.roi_y, self.roi_width, self.roi_height):
            widget.setEnabled(has_camera)
        self.apply_button.setEnabled(has_camera)
        self.full_button.setEnabled(has_camera)
        if not has_camera:
            self.camera_label.setText("This configuration has no camera.")
            self.now.setText("")
            self.binning.clear()
            return
        try:
            description = core.getDeviceDescription(camera)
            binning = self._binning()
            x, y, width, height = core.getROI()
        except Exception as exc:
            self.camera_label.setText(f"Camera {camera} cannot be read now: {exc}")
            return
        self.camera_label.setText(f"Camera: <b>{camera}</b> ({description})")
        self.binning.clear()
        allowed = (
            list(core.getAllowedPropertyValues(camera, BINNING))
            if core.hasProperty(camera, BINNING)
            else []
        )
        self.binning.addItems(allowed or [binning])
        self.binning.setCurrentText(binning)
        self.binning.setEnabled(len(allowed) > 1)
        self.binning.setToolTip("" if allowed else f"{camera} has no Binning property")
        full = self._full_size(measure=self.isVisible())  # not for a hidden dialog
        most_x, most_y = full if full is not None else (MAX_PIXELS, MAX_PIXELS)
        self.roi_x.setMaximum(most_x - 1)  # the limits first: values are clamped to them
        self.roi_y.setMaximum(most_y - 1)
        self.roi_width.setMaximum(most_x)
        self.roi_height.setMaximum(most_y)
        for box, value in (
            (self.roi_x, x),
            (self.roi_y, y),
            (self.roi_width, width),
            (self.roi_height, height),
        ):
            box.setValue(value)
        whole = full is not None and (x, y, width, height) == (0, 0, *full)
        sensor = f" (sensor: {full[0]} × {full[1]})" if full and not whole else ""
        self.now.setText(
            f"Now: {width} × {height} pixels at x {x}, y {y}{sensor}"
            + (" (the full frame)" if whole else "")
        )

    def _full_size(self, measure: bool) -> tuple[int, int] | None:
        """The camera's full frame at this binning; read (clearing the ROI and putting it
        back) only when ``measure`` and the camera is idle."""
        key = (self._camera(), self._binning())
        if key in self._full:
            return self._full[key]
        if not measure or self._busy() or self.core.isSequenceRunning():
            return None
        core = self.core
        roi = core.getROI()
        self._measuring = True
        try:
            core.clearROI()
            full = (int(core.getImageWidth()), int(core.getImageHeight()))
            if tuple(roi) != (0, 0, *full):
                core.setROI(*roi)
        except Exception as exc:
            logger.warning("Could not read the full frame of %s: %s", key[0], exc)
            return None
        finally:
            self._measuring = False
        self._full[key] = full
        return full

    # ------------------------------------------------------------ changing it
    def _refused(self, what: str) -> bool:
        reason = self._busy()
        if reason is None and self.core.isSequenceRunning():
            reason = "the camera is acquiring (a script's sequence?)"
        if reason:
            self._say(f"{what} was not changed: {reason}.", error=True)
            return True
        return False

    def apply_roi(self) -> bool:
        """Use the ROI of the four boxes; refused while the camera streams."""
        if self._refused("The ROI"):
            return False
        x, y = self.roi_x.value(), self.roi_y.value()
        width, height = self.roi_width.value(), self.roi_height.value()
        self._full.pop((self._camera(), self._binning()), None)  # read afresh: it matters now
        full = self._full_size(measure=True)
        if full is not None and (x + width > full[0] or y + height > full[1]):
            self._say(
                f"The ROI must lie inside the full frame of {full[0]} × {full[1]} pixels: "
                f"x + width ≤ {full[0]} and y + height ≤ {full[1]}.",
                error=True,
            )
            return False
        try:
            self.core.setROI(x, y, width, height)
            got = tuple(self.core.getROI())
        except Exception as exc:
            logger.warning("Setting the ROI failed: %s", exc)
            self._say(f"The camera refused the ROI: {exc}", error=True)
            self.refresh()
            return False
        if got != (x, y, width, height):
            self._say("The camera adjusted the ROI to x {}, y {}, {} × {}.".format(*got))
        else:
            self._say("")
        self.refresh()
        return True

    def full_frame(self) -> bool:
        """Use the whole sensor; refused while the camera streams."""
        if self._refused("The ROI"):
            return False
        try:
            self.core.clearROI()
            self._full[(self._camera(), self._binning())] = (
                int(self.core.getImageWidth()),
                int(self.core.getImageHeight()),
            )
        except Exception as exc:
            self._say(f"The camera refused the full frame: {exc}", error=True)
            return False
        self._say("")
        self.refresh()
        return True

    def set_binning(self, value: str) -> bool:
        """Set the camera's binning; refused while the camera streams."""
        camera = self._camera()
        if self._refused("The binning"):
            self.refresh()
            return False
        try:
            self.core.setProperty(camera, BINNING, value)
        except Exception as exc:
            logger.warning("Setting the binning to %s failed: %s", value, exc)
            self._say(f"{camera} refused binning {value}: {exc}", error=True)
            self.refresh()
            return False
        self._say("")
        self.refresh()
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.message.say(text, error)
