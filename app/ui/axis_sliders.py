"""Sliders for the axes of a dataset (time, z, channel, position), to browse it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSlider, QWidget

AXIS_ORDER = ("position", "time", "channel", "z")


class AxisSliders(QWidget):
    """One slider per axis with more than one value; emits the axes chosen.

    ``set_axes`` may be called again as a dataset grows: sliders extend and keep
    their place. The Follow box, when checked, means "show the newest image" and
    is unchecked as soon as the user moves a slider.
    """

    axesChosen = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 0, 6, 2)
        self._values: dict[str, list[Any]] = {}
        self._sliders: dict[str, QSlider] = {}
        self._labels: dict[str, QLabel] = {}
        self.follow = QCheckBox("Follow newest")
        self.follow.setChecked(True)
        self._grid.addWidget(self.follow, 0, 3)
        self._updating = False
        #: ``(axis, value, current axes) -> "2.50 µm"``, the value in physical units
        #: (None: none known); set by whoever knows the dataset
        self.describe: Callable[[str, Any, dict[str, Any]], str | None] | None = None
        self.hide()

    def clear(self) -> None:
        for name in list(self._sliders):
            for widget in (self._sliders.pop(name), self._labels.pop(name)):
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self._values.clear()
        self.hide()

    def set_axes(self, axes: dict[str, Any]) -> None:
        """``axes`` maps axis names to their values (as ``dataset.axes``)."""
        ordered = sorted(axes, key=lambda a: AXIS_ORDER.index(a) if a in AXIS_ORDER else 99)
        self._updating = True
        try:
            for name in ordered:
                values = list(axes[name])
                self._values[name] = values
                if name not in self._sliders:
                    self._add_slider(name)
                slider = self._sliders[name]
                slider.setMaximum(max(0, len(values) - 1))
                slider.setVisible(len(values) > 1)
                self._labels[name].setVisible(len(values) > 1)
                self._update_label(name)
        finally:
            self._updating = False
        self.setVisible(any(len(v) > 1 for v in self._values.values()))

    def _add_slider(self, name: str) -> None:
        row = len(self._sliders)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName(f"slider_{name}")
        slider.valueChanged.connect(lambda _v, n=name: self._moved(n))
        label = QLabel()
        label.setMinimumWidth(190)
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(slider, row, 1, 1, 2)
        self._sliders[name] = slider
        self._labels[name] = label

    def _update_label(self, name: str) -> None:
        values = self._values[name]
        index = self._sliders[name].value()
        value = values[index] if index < len(values) else "?"
        physical = None
        if self.describe is not None and index < len(values):
            physical = self.describe(name, value, self.current_axes())
        shown = f"{value}, {physical}" if physical else f"{value}"
        self._labels[name].setText(f"{name}: {shown}  ({index + 1}/{len(values)})")

    def _moved(self, name: str) -> None:
        self._update_label(name)
        if self._updating:
            return
        self.follow.setChecked(False)
        self.axesChosen.emit(self.current_axes())

    def current_axes(self) -> dict[str, Any]:
        return {
            name: values[min(self._sliders[name].value(), len(values) - 1)]
            for name, values in self._values.items()
            if values
        }

    def knows(self, axes: dict[str, Any]) -> bool:
        """Whether every value of ``axes`` already has a place on the sliders."""
        return all(value in self._values.get(name, ()) for name, value in axes.items())

    def show_axes(self, axes: dict[str, Any]) -> None:
        """Move the sliders to ``axes`` without emitting (used when following)."""
        self._updating = True
        try:
            for name, value in axes.items():
                if name in self._values and value in self._values[name]:
                    self._sliders[name].setValue(self._values[name].index(value))
                    self._update_label(name)
        finally:
            self._updating = False

    def slider(self, name: str) -> QSlider:
        return self._sliders[name]
