"""The processors panel: the pipeline in order, its switches and live statistics."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.processing.registry import ProcessorRegistry
from app.ui.widgets import ChangeBridge, row_table

COLUMNS = ["On", "Live", "Processor", "Source", "Frames", "ms", "p99", "Err"]
ON, LIVE, NAME, SOURCE, FRAMES, MEAN, P99, ERRORS = range(len(COLUMNS))


class _PipelineTable(QTableWidget):
    """Rows dragged to a new place move the processor in the pipeline (the registry
    stays the one source of the order; the table is rebuilt from it)."""

    def __init__(self, panel: ProcessorsPanel) -> None:
        super().__init__(0, len(COLUMNS))
        self._panel = panel
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)

    def dropEvent(self, event) -> None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            event.ignore()
            return
        source = rows[0].row()
        target = self.rowAt(int(event.position().y()))
        if target < 0:
            target = self.rowCount() - 1
        event.setDropAction(Qt.DropAction.IgnoreAction)  # the rebuild moves the row
        event.accept()
        self._panel.move_row(source, target)


class ProcessorsPanel(QWidget):
    def __init__(self, registry: ProcessorRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self._bridge = ChangeBridge()
        self._bridge.changed.connect(self.rebuild)
        registry.changed.connect(self._bridge.changed.emit)
        self.table = row_table(COLUMNS, _PipelineTable(self))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SOURCE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(SOURCE, 100)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setToolTip("ms: mean time per frame; p99: 99th percentile; Err: errors")
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a processor to see its last error.")
        self.details.setMaximumHeight(120)
        buttons = QHBoxLayout()
        self.up_button, self.down_button = QPushButton("Move up"), QPushButton("Move down")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.details)
        self._building = False
        self.rebuild()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh_stats)
        self._timer.start(500)

    def rebuild(self) -> None:
        selected = self.selected_name()
        self._building = True
        try:
            entries = list(self.registry)
            self.table.setRowCount(len(entries))
            for row, entry in enumerate(entries):
                for column, checked in ((ON, entry.enabled), (LIVE, entry.live)):
                    item = QTableWidgetItem()
                    item.setFlags(
                        Qt.ItemFlag.ItemIsUserCheckable
                        | Qt.ItemFlag.ItemIsEnabled
                        | Qt.ItemFlag.ItemIsSelectable
                    )
                    item.setCheckState(
                        Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                    )
                    self.table.setItem(row, column, item)
                name = QTableWidgetItem(
                    entry.name + ("  ⚠" if entry.error or entry.stats.errors else "")
                )
                name.setData(Qt.ItemDataRole.UserRole, entry.name)
                name.setToolTip(entry.name)  # the column may cut a long name short
                self.table.setItem(row, NAME, name)
                source = QTableWidgetItem(entry.source.replace("\\", "/").rsplit("/", 1)[-1])
                source.setToolTip(entry.source)
                self.table.setItem(row, SOURCE, source)
                for column in (FRAMES, MEAN, P99, ERRORS):
                    self.table.setItem(row, column, QTableWidgetItem())
                if entry.name == selected:
                    self.table.selectRow(row)
        finally:
            self._building = False
        self.refresh_stats()

    def refresh_stats(self) -> None:
        for row, entry in enumerate(list(self.registry)):
            if row >= self.table.rowCount():
                break
            stats = entry.stats
            values = {
                FRAMES: str(stats.frames_in),
                MEAN: f"{stats.mean_ms:.2f}",
                P99: f"{stats.p99_ms:.2f}",
                ERRORS: str(stats.errors),
            }
            for column, text in values.items():
                item = self.table.item(row, column)
                if item is not None and item.text() != text:
                    item.setText(text)
            checked = self.table.item(row, ON)
            if (
                checked is not None
                and (checked.checkState() == Qt.CheckState.Checked) != entry.enabled
            ):
                self.rebuild()  # the pipeline disabled it after an error
                return
        self._show_details()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), NAME)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._building or item.column() not in (ON, LIVE):
            return
        name = self.table.item(item.row(), NAME).data(Qt.ItemDataRole.UserRole)
        checked = item.checkState() == Qt.CheckState.Checked
        if item.column() == ON:
            self.registry.set_enabled(name, checked)
        else:
            self.registry.set_live(name, checked)

    def move_row(self, source: int, target: int) -> None:
        names = self.registry.names()
        if 0 <= source < len(names) and source != target:
            self.registry.move(names[source], target)
            self.table.selectRow(target)

    def _move(self, step: int) -> None:
        name = self.selected_name()
        if name is None:
            return
        index = self.registry.names().index(name)
        self.registry.move(name, max(0, index + step))

    def _show_details(self) -> None:
        name = self.selected_name()
        if name is None or name not in self.registry:
            return
        entry = self.registry.get(name)
        if entry.error:
            text = f"{entry.name} could not be loaded:\n{entry.error}"
        elif entry.stats.last_error:
            text = f"{entry.name}: {entry.stats.last_error}\n\n{entry.stats.last_traceback or ''}"
        else:
            text = f"{entry.name}: no error. Source: {entry.source}."
        if self.details.toPlainText() != text:
            self.details.setPlainText(text)
