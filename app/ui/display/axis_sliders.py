"""Sliders for the axes of a dataset (time, z, channel, position), to browse it, each
with a play button that steps through its axis at a chosen rate."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)
from superqt import QElidingLabel

AXIS_ORDER = ("position", "time", "channel", "z")
DEFAULT_FPS = 10


#: the slider labels' width: "time: 36, 2.8 s  (37/37)" and the like fit; longer are cut
LABEL_WIDTH = 190


class AxisPlayer:
    """A play/pause button and a frame rate for one slider: a GUI timer moves the
    slider (the image is read as when the user moves it), looping at the end; the
    user's own move of that slider pauses it."""

    def __init__(self, name: str, slider: QSlider, parent: QWidget) -> None:
        self.slider = slider
        self.button = QToolButton(parent)
        self.button.setObjectName(f"play_{name}")
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        self.button.setToolTip(
            f"Play {name}: step forward through its values, and from the last start again"
        )
        self.fps = QSpinBox(parent)
        self.fps.setObjectName(f"fps_{name}")
        self.fps.setRange(1, 60)
        self.fps.setValue(DEFAULT_FPS)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip(f"Images per second while {name} plays")
        self.timer = QTimer(parent)
        self.timer.timeout.connect(self.step)
        self.button.toggled.connect(self._toggled)
        self.fps.valueChanged.connect(self._rate_changed)
        slider.actionTriggered.connect(self._moved_by_user)
        self._toggled(False)

    def widgets(self) -> list[QWidget]:
        return [self.button, self.fps]

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def step(self) -> None:
        """The next value, or the first after the last."""
        slider = self.slider
        slider.setValue(slider.value() + 1 if slider.value() < slider.maximum() else 0)

    def _toggled(self, on: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.button.setIcon(self.button.style().standardIcon(icon))
        if on:
            self.timer.start(self._interval_ms())
        else:
            self.timer.stop()

    def _interval_ms(self) -> int:
        return max(1, round(1000 / self.fps.value()))

    def _rate_changed(self) -> None:
        if self.timer.isActive():
            self.timer.setInterval(self._interval_ms())

    def _moved_by_user(self) -> None:
        self.button.setChecked(False)

    def stop(self) -> None:
        self.button.setChecked(False)


class AxisSliders(QWidget):
    """One slider per axis with more than one value; emits the axes chosen.

    ``set_axes`` may be called again as a dataset grows: sliders extend and keep
    their place. The Follow box, when checked, means "show the newest image" and
    is unchecked as soon as the user moves a slider (or plays an axis).
    """

    axesChosen = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 0, 6, 2)
        self._grid.setColumnStretch(2, 1)
        self._values: dict[str, list[Any]] = {}
        #: each value's place on its slider: looked up at every frame shown while
        #: following, in lists that grow with the acquisition (a scan per frame grew too)
        self._places: dict[str, dict[Any, int]] = {}
        self._sliders: dict[str, QSlider] = {}
        self._labels: dict[str, QLabel] = {}
        self._players: dict[str, AxisPlayer] = {}
        #: axes an acquisition will have several values of: their rows show from its
        #: Start, with the values acquired so far (``plan``)
        self._planned: frozenset[str] = frozenset()
        self.follow = QCheckBox("Follow newest")
        self.follow.setChecked(True)
        self.follow.toggled.connect(self._follow_toggled)
        self._grid.addWidget(self.follow, 0, 4)
        self._updating = False
        #: the axis of the slider the user (or its play button) moved last
        self.moved_last: str | None = None
        #: ``(axis, value, current axes) -> "2.50 µm"``, the value in physical units
        #: (None: none known); set by whoever knows the dataset
        self.describe: Callable[[str, Any, dict[str, Any]], str | None] | None = None
        self.hide()

    def clear(self) -> None:
        for name in list(self._sliders):
            player = self._players.pop(name)
            player.stop()
            player.timer.deleteLater()
            for widget in (self._sliders.pop(name), self._labels.pop(name), *player.widgets()):
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self._values.clear()
        self._places.clear()
        self._planned = frozenset()
        self.hide()

    def plan(self, names: Iterable[str]) -> None:
        """Rows for the axes an acquisition will have several values of, shown before
        its first image, so that the window is laid out once, at Start, not while its
        frames come; each slider reaches the values acquired so far. ``plan(())`` when
        it ends: a row with one value acquired hides."""
        ended, self._planned = self._planned, frozenset(names)
        self.set_axes({name: self._values.get(name, []) for name in ended | self._planned})

    def set_axes(self, axes: dict[str, Any]) -> None:
        """``axes`` maps axis names to their values (as ``dataset.axes``)."""
        ordered = sorted(axes, key=lambda a: AXIS_ORDER.index(a) if a in AXIS_ORDER else 99)
        self._updating = True
        try:
            for name in ordered:
                self._take_values(name, axes[name])
                values = self._values[name]
                if name not in self._sliders:
                    self._add_slider(name)
                slider = self._sliders[name]
                slider.setMaximum(max(0, len(values) - 1))
                several = len(values) > 1
                shown = several or name in self._planned
                for widget in (slider, self._labels[name], *self._players[name].widgets()):
                    widget.setVisible(shown)
                # a planned row with one value acquired yet has nothing to move to: its
                # play button would step nowhere and stop following
                for widget in (slider, *self._players[name].widgets()):
                    if widget.isEnabled() != several:
                        widget.setEnabled(several)
            # once every slider is there: a label's physical value is read at the place
            # all the sliders give (the time's, made first, had no z yet: "time: 0")
            for name in ordered:
                self._update_label(name)
        finally:
            self._updating = False
        self.setVisible(any(len(v) > 1 or n in self._planned for n, v in self._values.items()))

    def _take_values(self, name: str, given: Any) -> None:
        """The sliders' own list of ``given`` (a sequence, sorted or in the order values
        came). Values only added after the ones known (a new time point while
        following) are appended; anything else is taken again whole."""
        values = self._values.get(name)
        if values and isinstance(given, Sequence) and len(given) >= len(values):
            last = len(values) - 1
            if given[0] == values[0] and given[last] == values[last]:
                # every value known is still there, in its place (values are added to
                # a dataset, not taken away): only the new ones, if any
                for place, value in enumerate(given[last + 1 :], start=last + 1):
                    values.append(value)
                    self._places[name][value] = place
                return
        values = list(given)
        self._values[name] = values
        self._places[name] = {value: place for place, value in enumerate(values)}

    def _add_slider(self, name: str) -> None:
        row = len(self._sliders)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName(f"slider_{name}")
        slider.valueChanged.connect(lambda _v, n=name: self._moved(n))
        # Fixed size: the label's text changes with every frame shown while following,
        # and a label whose size may change asks the whole window to lay itself out
        # again (Qt's LayoutRequest: 0.2 ms a frame on the GUI thread, up to 8 ms); a
        # text too long is cut with "…" (the slider's position says the rest).
        label = QElidingLabel()
        label.setFixedSize(LABEL_WIDTH, label.fontMetrics().height() + 4)
        player = AxisPlayer(name, slider, self)
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(player.button, row, 1)
        self._grid.addWidget(slider, row, 2)
        self._grid.addWidget(player.fps, row, 3)
        self._sliders[name] = slider
        self._labels[name] = label
        self._players[name] = player

    def _follow_toggled(self, on: bool) -> None:
        """Following the newest image and playing an axis exclude each other."""
        if on:
            for player in self._players.values():
                player.stop()

    def _update_label(self, name: str) -> None:
        values = self._values[name]
        if not values:  # planned, none acquired yet
            self._set_label(name, f"{name}: –")
            return
        index = self._sliders[name].value()
        value = values[index] if index < len(values) else "?"
        physical = None
        if self.describe is not None and index < len(values):
            physical = self.describe(name, value, self.current_axes())
        shown = f"{value}, {physical}" if physical else f"{value}"
        self._set_label(name, f"{name}: {shown}  ({index + 1}/{len(values)})")

    def _set_label(self, name: str, text: str) -> None:
        label = self._labels[name]
        if text != label.text():  # setting it elides it again and repaints it
            label.setText(text)

    def _moved(self, name: str) -> None:
        self._update_label(name)
        if self._updating:
            return
        self.follow.setChecked(False)
        self.moved_last = name
        self.axesChosen.emit(self.current_axes())

    def current_axes(self) -> dict[str, Any]:
        return {
            name: values[min(self._sliders[name].value(), len(values) - 1)]
            for name, values in self._values.items()
            if values
        }

    def knows(self, axes: dict[str, Any]) -> bool:
        """Whether every value of ``axes`` already has a place on the sliders."""
        return all(value in self._places.get(name, ()) for name, value in axes.items())

    def show_axes(self, axes: dict[str, Any]) -> None:
        """Move the sliders to ``axes`` without emitting (used when following)."""
        self._updating = True
        try:
            for name, value in axes.items():
                place = self._places.get(name, {}).get(value)
                if place is None:
                    continue
                if self._sliders[name].value() != place:
                    self._sliders[name].setValue(place)  # its label follows (``_moved``)
                else:  # the same place: its label may have learnt its units since
                    self._update_label(name)
        finally:
            self._updating = False

    def label(self, name: str) -> str:
        """What the slider of ``name`` says (its value, in physical units when known)."""
        return self._labels[name].text()

    def slider(self, name: str) -> QSlider:
        return self._sliders[name]

    def player(self, name: str) -> AxisPlayer:
        """The play button and frame rate of ``name``'s slider."""
        return self._players[name]
