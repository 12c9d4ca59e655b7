"""The channel strip under the image: one row per channel (shown or not, colour,
contrast, automatic contrast) and the Composite / One channel switch.

Built from superqt's widgets, as ndv's channel controls are: ``QColormapComboBox``
shows each colour table as a gradient, and ``QLabeledDoubleRangeSlider`` gives both
levels on one slider with an editable number at each end. The strip only follows and
changes the viewer's ``ChannelDisplay``; the viewer and the frame preparer follow
that model.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from cmap import Colormap
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QWidget,
)
from superqt import QLabeledDoubleRangeSlider
from superqt.cmap import QColormapComboBox

from app.processing.channel_display import ChannelDisplay
from app.processing.colour_tables import CATALOGUE_MAPS, COLOUR_TABLES, SINGLE_COLOURS
from app.ui.common.pacer import Pacer

SHOWN_INTERVAL_MS = 250  # automatic levels change with every frame: shown 4 times a second

#: rows made before any channel needs them, one per turn of the event loop once the
#: strip is made (7 ms each: superqt's labelled range slider and colour box), where a
#: 3-channel acquisition's rows, made at its first frames, held the GUI thread 20-30 ms
#: (``scopeflow bench gui``'s composite, its first second). A row is kept once made,
#: given back by a channel gone: the most channels shown at once is what stays.
SPARE_ROWS = 4


@functools.cache
def _colormap(name: str) -> Colormap:
    if name in SINGLE_COLOURS:
        red, green, blue = SINGLE_COLOURS[name]
        return Colormap(["#000000", f"#{red:02x}{green:02x}{blue:02x}"], name=name)
    return Colormap(CATALOGUE_MAPS[name], name=name)


def slider_top(value: float) -> float:
    """The end of a contrast slider that reaches ``value``: the next power of two minus
    one above 255 (a 12-bit camera's 4095), 255 for 8-bit values, 1 below (floats)."""
    if value > 255:
        return float(2 ** math.ceil(math.log2(value + 1)) - 1)
    return 255.0 if value > 1 else 1.0


class ChannelRow:
    """The widgets of one channel; made once, and given to a channel (``assign``) as
    often as channels come and go."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.name: Any = None
        self.visible = QCheckBox(parent)
        self.colour = QColormapComboBox(parent, filterable=False)
        self.colour.addColormaps([_colormap(table) for table in COLOUR_TABLES])
        self.colour.setMinimumWidth(110)
        self.levels = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal, parent)
        self.levels.setHandleLabelPosition(QLabeledDoubleRangeSlider.LabelPosition.NoLabel)
        self.levels.setEdgeLabelMode(QLabeledDoubleRangeSlider.EdgeLabelMode.LabelIsValue)
        self.levels.setDecimals(0)
        self.levels.setRange(0, 255)
        self.auto = QCheckBox("Auto", parent)

    def assign(self, name: Any) -> None:
        """The row is ``name``'s from now on (its look is shown by the strip). Its
        widgets emit as they are reset: the strip calls it with its ``_updating`` set,
        so that nothing reaches the channels' looks."""
        self.name = name
        self.visible.setText(str(name))
        self.visible.setToolTip(f"Show {name} in the composite")
        self.colour.setToolTip(f"The colour of {name}")
        self.levels.setToolTip(
            f"The values of {name} shown as black and as full colour (drag, or type a number)"
        )
        self.auto.setToolTip(f"Contrast of {name} from each image's darkest and brightest pixels")
        self.show_levels((0.0, 255.0), (0.0, 255.0))  # not the last channel's

    def widgets(self) -> list[QWidget]:
        return [self.visible, self.colour, self.levels, self.auto]

    def set_shown(self, shown: bool) -> None:
        for widget in self.widgets():
            widget.setVisible(shown)

    def show_levels(self, levels: tuple[float, float], data_range: tuple[float, float]) -> None:
        """Levels on the slider, whose range reaches them and the data."""
        top = slider_top(max(levels[1], data_range[1]))
        bottom = min(0.0, levels[0], data_range[0])
        if (self.levels.minimum(), self.levels.maximum()) != (bottom, top):
            self.levels.setDecimals(0 if top >= 255 else 3)
            self.levels.setRange(bottom, top)  # type: ignore[arg-type]  # floats work
        if tuple(self.levels.value()) != tuple(levels):
            self.levels.setValue(levels)


class ChannelStrip(QWidget):
    """Shown when what the viewer shows has more than one channel."""

    def __init__(
        self,
        channels: ChannelDisplay,
        parent: QWidget | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(parent)
        self.channels = channels
        self.rows: dict[str, ChannelRow] = {}
        #: rows no channel has: made ahead (``SPARE_ROWS``) or given back by one gone
        self.spare_rows: list[ChannelRow] = []
        self._updating = False
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 2, 6, 2)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(2, 1)
        mode = QHBoxLayout()
        self.composite_button = QRadioButton("Composite")
        self.composite_button.setToolTip("The visible channels added, each in its colour")
        self.one_channel_button = QRadioButton("One channel")
        self.one_channel_button.setToolTip("Only the channel the channel slider is on")
        self._mode = QButtonGroup(self)
        for button in (self.composite_button, self.one_channel_button):
            self._mode.addButton(button)
            mode.addWidget(button)
        mode.addStretch(1)
        title = QLabel("Channels")
        title.setStyleSheet("font-weight: bold")
        self._grid.addWidget(title, 0, 0)
        self._grid.addLayout(mode, 0, 1, 1, 3)
        self.composite_button.toggled.connect(self._mode_chosen)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        channels.events.names.connect(self._rebuild)
        channels.events.looks.connect(self._show_looks)
        channels.events.current.connect(self._show_current)
        channels.events.composite.connect(self._show_mode)
        (pacer or Pacer(self)).every(SHOWN_INTERVAL_MS, self._show_levels, "channel levels")
        self._show_mode()
        # the first row's one-time costs (the colour maps, superqt's first colour box:
        # 25 ms) paid as the window is made, the other rows' in idle turns after
        self.spare_rows.append(self._made_row())
        self._spares_timer = QTimer(self)
        self._spares_timer.setSingleShot(True)
        self._spares_timer.timeout.connect(self._make_spare_row)
        self._spares_timer.start(0)
        self._rebuild()

    def _make_spare_row(self) -> None:
        """One more row made ahead, in a turn of its own, until ``SPARE_ROWS`` wait."""
        if len(self.spare_rows) + len(self.rows) < SPARE_ROWS:
            self.spare_rows.append(self._made_row())
            self._spares_timer.start(0)

    # ------------------------------------------------------------ model -> widgets
    def _rebuild(self) -> None:
        """Rows for the channels' names: a channel's row is kept while it stays (an
        acquisition brings its channels one by one), a new channel takes a spare row
        (made only if none is left: a row costs milliseconds on the GUI thread), and
        the rows of channels gone are hidden and kept as spares."""
        names = [str(name) for name in self.channels.names]
        for gone in [name for name in self.rows if name not in names]:
            given_back = self.rows.pop(gone)
            for widget in given_back.widgets():
                self._grid.removeWidget(widget)
            given_back.set_shown(False)
            self.spare_rows.append(given_back)  # for the next channel
        self._updating = True  # a row given to a channel shows its look: not a choice
        try:
            for index, name in enumerate(self.channels.names):
                row = self.rows.get(str(name))
                if row is None:
                    row = self.spare_rows.pop(0) if self.spare_rows else self._made_row()
                    row.assign(name)
                    row.set_shown(True)
                    self.rows[str(name)] = row
                for column, widget in enumerate(row.widgets()):
                    self._grid.addWidget(widget, index + 1, column)  # in the names' order
        finally:
            self._updating = False
        self.rows = {str(name): self.rows[str(name)] for name in self.channels.names}
        self._show_looks()
        self._show_current()
        self.setVisible(len(self.rows) > 1)

    def _made_row(self) -> ChannelRow:
        """A new row, hidden, no channel's yet; its widgets tell the channel it has
        when they are used (a row goes from channel to channel)."""
        row = ChannelRow(self)
        row.set_shown(False)
        row.visible.toggled.connect(lambda on, r=row: self._visible_chosen(r.name, on))
        row.colour.currentIndexChanged.connect(lambda i, r=row: self._colour_chosen(r.name, i))
        row.levels.valueChanged.connect(lambda v, r=row: self._levels_chosen(r.name, v))
        row.auto.toggled.connect(lambda on, r=row: self._auto_chosen(r.name, on))
        return row

    def _show_looks(self) -> None:
        self._updating = True
        try:
            for row in self.rows.values():
                look = self.channels.look(row.name)
                row.visible.setChecked(look.visible)
                row.colour.setCurrentIndex(COLOUR_TABLES.index(look.colour))
                row.auto.setChecked(look.auto_levels)
                shown = self.channels.shown.get(str(row.name))
                if not look.auto_levels:
                    row.show_levels(look.levels, shown.data_range if shown else look.levels)
        finally:
            self._updating = False

    def _show_levels(self) -> None:
        """The levels channels were last drawn with (automatic ones move with the images)."""
        if not self.isVisible():
            return
        self._updating = True
        try:
            for name, row in self.rows.items():
                shown = self.channels.shown.get(name)
                if shown is not None:
                    look = self.channels.look(row.name)
                    levels = shown.levels if look.auto_levels else look.levels
                    row.show_levels(levels, shown.data_range)
        finally:
            self._updating = False

    def _show_current(self) -> None:
        current = self.channels.current
        for row in self.rows.values():
            bold = current is not None and str(row.name) == str(current)
            if row.visible.font().bold() != bold:  # changes with every frame followed
                font = row.visible.font()
                font.setBold(bold)
                row.visible.setFont(font)

    def _show_mode(self) -> None:
        button = self.composite_button if self.channels.composite else self.one_channel_button
        if not button.isChecked():
            button.setChecked(True)

    # ------------------------------------------------------------ widgets -> model
    def _mode_chosen(self) -> None:
        self.channels.composite = self.composite_button.isChecked()

    def _visible_chosen(self, name: Any, on: bool) -> None:
        if not self._updating:
            self.channels.set_look(name, visible=on)

    def _colour_chosen(self, name: Any, index: int) -> None:
        if not self._updating and 0 <= index < len(COLOUR_TABLES):
            self.channels.set_look(name, colour=COLOUR_TABLES[index])

    def _levels_chosen(self, name: Any, value: tuple[float, float]) -> None:
        if self._updating:
            return
        low, high = float(value[0]), float(value[1])
        self.channels.set_look(name, levels=(low, max(high, low + 1e-6)), auto_levels=False)

    def _auto_chosen(self, name: Any, on: bool) -> None:
        if self._updating:
            return
        changes: dict[str, Any] = {"auto_levels": on}
        shown = self.channels.shown.get(str(name))
        if not on and shown is not None:  # manual from the levels it was shown with
            changes["levels"] = shown.levels
        self.channels.set_look(name, **changes)
