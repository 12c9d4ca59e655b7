"""The stage position list: the places a multi-position acquisition visits.

Positions are useq ``Position`` objects (name, x, y and, when the microscope has a
focus drive, z), so the list saves as the ``stage_positions`` of a useq
``MDASequence`` file, which Micro-Manager's Python tools read too.
"""

from __future__ import annotations

import os
from pathlib import Path

import useq
from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.acquisition.plan_file import read_plan, write_plan

COLUMNS = ["Name", "X (µm)", "Y (µm)", "Z (µm)"]
PLAN_FILTER = "Acquisition settings (*.json *.yaml *.yml)"


class PositionList(QWidget):
    """Add the current position, go to one, replace it with where the stage is now,
    remove, reorder, rename (double-click the name), save and load."""

    failed = pyqtSignal(str)  # a stage that refused to move, a file that could not be read
    changed = pyqtSignal()

    def __init__(self, core: CMMCorePlus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.folder = ""  # where the save and load dialogs open (the window sets it)
        self._positions: list[useq.Position] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(110)
        self.table.itemChanged.connect(self._renamed)
        buttons = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for index, (label, tip, slot) in enumerate(
            (
                ("Add current", "Add where the stage is now", self.add_current),
                ("Go to", "Move the stage to the selected position", self.go_to_selected),
                ("Replace", "Set the selected position to where the stage is now", self.replace),
                ("Remove", "Remove the selected position", self.remove_selected),
                ("Up", "Visit the selected position earlier", lambda: self.move_selected(-1)),
                ("Down", "Visit the selected position later", lambda: self.move_selected(1)),
                ("Save…", "Save the list as a useq-schema file (JSON or YAML)", self.choose_save),
                ("Load…", "Load positions from a useq-schema file", self.choose_load),
            )
        ):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.buttons[label] = button
            buttons.addWidget(button, index // 4, index % 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def set_core(self, core: CMMCorePlus) -> None:
        self.core = core

    # ------------------------------------------------------------ the list
    def positions(self) -> list[useq.Position]:
        return list(self._positions)

    def set_positions(self, positions: list[useq.Position]) -> None:
        self._positions = []
        for position in positions:
            self._positions.append(position.model_copy(update={"name": self._free_name(position)}))
        self._show()

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def add_current(self) -> None:
        here = self._here()
        if here is not None:
            self._positions.append(here.model_copy(update={"name": self._free_name(here)}))
            self._show(select=len(self._positions) - 1)

    def replace(self) -> None:
        row, here = self.selected_row(), self._here()
        if row is None or here is None:
            return
        self._positions[row] = here.model_copy(update={"name": self._positions[row].name})
        self._show(select=row)

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            del self._positions[row]
            self._show(select=min(row, len(self._positions) - 1))

    def move_selected(self, by: int) -> None:
        row = self.selected_row()
        if row is None or not 0 <= row + by < len(self._positions):
            return
        moved = self._positions.pop(row)
        self._positions.insert(row + by, moved)
        self._show(select=row + by)

    def go_to_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        target = self._positions[row]
        try:
            if self.core.getXYStageDevice() and target.x is not None and target.y is not None:
                self.core.setXYPosition(target.x, target.y)
            if self.core.getFocusDevice() and target.z is not None:
                self.core.setPosition(target.z)
            self.core.waitForSystem()
        except RuntimeError as exc:
            self.failed.emit(f"Could not go to {target.name}: {exc}")

    # ------------------------------------------------------------ files
    def choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the positions", str(Path(self.folder, "positions.json")), PLAN_FILTER
        )
        if path:
            self.save(path)

    def choose_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load positions", self.folder, PLAN_FILTER)
        if path:
            self.load(path)

    def save(self, path: str | os.PathLike[str]) -> bool:
        try:
            write_plan(path, useq.MDASequence(stage_positions=tuple(self._positions)))
        except ValueError as exc:
            self.failed.emit(str(exc))
            return False
        return True

    def load(self, path: str | os.PathLike[str]) -> bool:
        try:
            positions = list(read_plan(path).stage_positions)
        except ValueError as exc:
            self.failed.emit(str(exc))
            return False
        if not positions:
            self.failed.emit(f"{Path(path).name} has no stage positions")
            return False
        self.set_positions(positions)
        return True

    # ------------------------------------------------------------ inside
    def _here(self) -> useq.Position | None:
        if not self.core.getXYStageDevice():
            self.failed.emit("This microscope has no XY stage: there is no position to add")
            return None
        x, y = self.core.getXYPosition()
        z = self.core.getPosition() if self.core.getFocusDevice() else None
        return useq.Position(x=x, y=y, z=z)

    def _free_name(self, position: useq.Position, row: int | None = None) -> str:
        """The position's name, or PosN, made unique (names label the position axis)."""
        taken = {p.name for i, p in enumerate(self._positions) if i != row}
        name = (position.name or "").strip()
        if name and name not in taken:
            return name
        base, number = (name, 2) if name else ("Pos", len(self._positions))
        while f"{base}{number}" in taken:
            number += 1
        return f"{base}{number}"

    def _renamed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        if item.column() != 0 or row >= len(self._positions):
            return
        wanted = self._positions[row].model_copy(update={"name": item.text()})
        self._positions[row] = wanted.model_copy(update={"name": self._free_name(wanted, row)})
        if self._positions[row].name != item.text():
            self._show(select=row)
        else:
            self.changed.emit()

    def _show(self, select: int | None = None) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._positions))
        for row, position in enumerate(self._positions):
            cells = [position.name or ""] + [
                "" if value is None else f"{round(value, 2) + 0.0:.2f}"  # no "-0.00"
                for value in (position.x, position.y, position.z)
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        if select is not None and select >= 0:
            self.table.selectRow(select)
        self.changed.emit()
