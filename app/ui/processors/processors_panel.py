"""The processors panel: the pipeline in order, its switches, the forms of the
processors' tunable parameters, and live statistics (a table and a plot of each
processor's time per frame)."""

from __future__ import annotations

import functools
import time

from PyQt6.QtCore import QSize, Qt, QTimer
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.processing.parameters import ProcessorParameters
from app.processing.registry import ProcessorRegistry
from app.ui.common.pacer import Pacer
from app.ui.common.widgets import ChangeBridge, row_table, sizes_held
from app.ui.processors.parameter_form import ParameterForm
from app.ui.processors.processor_times_plot import ProcessorTimesPlot

COLUMNS = ["On", "Live", "Processor", "Source", "Frames", "ms", "p99", "Err"]
ON, LIVE, NAME, SOURCE, FRAMES, MEAN, P99, ERRORS = range(len(COLUMNS))
ON_TIP = (
    "On: runs in the acquisitions started from this window (the Acquisition panel's "
    "Start, Explore, File > Process dataset). An Acquisition(...) in the console or a "
    "script runs only its image_process_fn (image_process_fn=processors: this pipeline)."
)
LIVE_TIP = "Live: runs on Live frames, whether On is ticked or not"
FORMS_MAX_HEIGHT = 280  # px; more forms than that scroll
FORMS_MIN_HEIGHT = 150
TABLE_MIN_ROWS = 4  # rows the table shows at least (more scroll)


STATS_INTERVAL_MS = 500  # the numbers, the time plot and the forms follow the stream


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


class _FormsArea(QScrollArea):
    """Scrolls the parameter forms; asks for their whole height (up to its maximum),
    so the layout gives the forms room before it gives the table empty rows."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        inner = self.widget()
        if inner is None:
            return hint
        return QSize(hint.width(), min(inner.sizeHint().height() + 2, self.maximumHeight()))


class ProcessorsPanel(QWidget):
    def __init__(
        self,
        registry: ProcessorRegistry,
        parent: QWidget | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(parent)
        self.registry = registry
        self._bridge = ChangeBridge()
        self._bridge.changed.connect(self.rebuild)
        registry.changed.connect(self._bridge.notify)  # the registry outlives the panel
        self.table = row_table(COLUMNS, _PipelineTable(self))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SOURCE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(SOURCE, 72)  # the name matters more (the source: its tooltip)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.setToolTip("ms: mean time per frame; p99: 99th percentile; Err: errors")
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a processor to see its last error.")
        self.details.setMaximumHeight(72)
        buttons = QHBoxLayout()
        self.up_button, self.down_button = QPushButton("Move up"), QPushButton("Move down")
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        buttons.addStretch()
        # the forms of the processors that have tunable parameters, in pipeline order
        self.forms: dict[str, ParameterForm] = {}
        self._forms_of: list[tuple[str, ProcessorParameters]] = []
        self._forms_box = QWidget()
        self._forms_layout = QVBoxLayout(self._forms_box)
        self._forms_layout.setContentsMargins(0, 0, 0, 0)
        self._forms_layout.setSpacing(4)
        self.parameters_area = _FormsArea()
        self.parameters_area.setWidgetResizable(True)
        self.parameters_area.setFrameShape(QFrame.Shape.NoFrame)
        self.parameters_area.setWidget(self._forms_box)
        self.parameters_area.setToolTip(
            "Keyword parameters with a default (sigma: float = 1.5): "
            "a change applies from the next frame"
        )
        self.parameters_area.hide()
        self.time_plot = ProcessorTimesPlot()
        self.time_plot.setFixedHeight(120)
        # which acquisitions run this pipeline: a newcomer expects every one to
        for column, tip in ((ON, ON_TIP), (LIVE, LIVE_TIP)):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.runs_where = QLabel(
            "<b>On</b>: acquisitions started from this window. <b>Live</b>: Live frames. "
            "A script's or the console's Acquisition runs only what it is given."
        )
        self.runs_where.setWordWrap(True)
        self.runs_where.setToolTip(f"{ON_TIP}\n{LIVE_TIP}")
        layout = QVBoxLayout(self)
        layout.addWidget(self.runs_where)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.parameters_area)  # as tall as its forms, when there is room
        layout.addWidget(self.time_plot)
        layout.addWidget(self.details)
        self._building = False
        # what each row's numbers were made from: (processor, (frames, errors))
        self._counted: dict[int, tuple[str, tuple[int, int]]] = {}
        self.rebuild()
        self._stats_job = (pacer or Pacer(self)).every(
            STATS_INTERVAL_MS, self.refresh_stats, "processors' statistics"
        )

    def detach(self) -> None:
        """The window closes: stop following the registry (the app's, which lives on)."""
        self._stats_job.stop()
        self.registry.changed.disconnect(self._bridge.notify)

    def rebuild(self) -> None:
        selected = self.selected_name()
        self._building = True
        try:
            with sizes_held(self.table):
                entries = self._fill_rows(selected)
        finally:
            self._building = False
        self._fit_table(len(entries))
        self._rebuild_forms(entries)
        self.refresh_stats()

    def _fill_rows(self, selected: str | None) -> list:
        """A row per processor, in pipeline order; returns the registry's entries."""
        entries = list(self.registry)
        self._counted.clear()  # the rows' number cells are made anew, empty
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            for column, checked in ((ON, entry.enabled), (LIVE, entry.live)):
                item = QTableWidgetItem()
                item.setFlags(
                    Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                )
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.table.setItem(row, column, item)
            # ⚠ after the name: it raised on frames (its Err column counts them)
            name = QTableWidgetItem(entry.name + ("  ⚠" if entry.stats.errors else ""))
            name.setData(Qt.ItemDataRole.UserRole, entry.name)
            name.setToolTip(entry.name)  # the column may cut a long name short
            # its colour in the time plot
            name.setData(Qt.ItemDataRole.DecorationRole, self.time_plot.colour(entry.name))
            self.table.setItem(row, NAME, name)
            file_name = entry.source.replace("\\", "/").rsplit("/", 1)[-1]
            # ⚠ after the source: its file's last edit did not load (this is the
            # last version that did)
            source = QTableWidgetItem(file_name + ("  ⚠" if entry.error else ""))
            source.setToolTip(
                f"{entry.source}\nIts last edit could not be loaded; this is the last "
                f"version that loaded:\n{entry.error}"
                if entry.error
                else entry.source
            )
            self.table.setItem(row, SOURCE, source)
            for column in (FRAMES, MEAN, P99, ERRORS):
                self.table.setItem(row, column, QTableWidgetItem())
            if entry.name == selected:
                self.table.selectRow(row)
        return entries

    def _rebuild_forms(self, entries: list) -> None:
        """A form per processor with parameters; kept as they are (with what is being
        typed) unless a processor came, went, moved or was reloaded."""
        self.time_plot.set_processors(e.name for e in entries)
        wanted = [(e.name, e.parameters) for e in entries if e.parameters]
        same = len(wanted) == len(self._forms_of) and all(
            name == old_name and params is old_params
            for (name, params), (old_name, old_params) in zip(wanted, self._forms_of, strict=True)
        )
        if same:
            return
        for form in self.forms.values():
            self._forms_layout.removeWidget(form)
            form.deleteLater()
        self.forms = {}
        while self._forms_layout.count():  # the stretch
            self._forms_layout.takeAt(0)
        for name, parameters in wanted:
            form = ParameterForm(
                name, parameters, functools.partial(self.registry.set_parameter, name)
            )
            form.resized.connect(self._fit_parameters_area)
            self.forms[name] = form
            self._forms_layout.addWidget(form)
        self._forms_layout.addStretch()
        self._forms_of = wanted
        self.parameters_area.setVisible(bool(wanted))
        self._fit_parameters_area()
        QTimer.singleShot(0, self._fit_parameters_area)  # again, once the forms are laid out

    def _fit_table(self, rows: int) -> None:
        """Room for the first few rows whatever the forms below take."""
        shown = max(1, min(rows, TABLE_MIN_ROWS))
        row_height = self.table.verticalHeader().defaultSectionSize()
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setMinimumHeight(header + shown * row_height + 2 * self.table.frameWidth())

    def _fit_parameters_area(self) -> None:
        """As tall as the forms, up to a limit (then they scroll): the table keeps the
        rest."""
        self._forms_layout.activate()
        # from the forms' own hints: a box whose new forms are not shown yet hints 0
        forms = list(self.forms.values())
        spacing = self._forms_layout.spacing() * max(0, len(forms) - 1)
        height = max(
            self._forms_box.sizeHint().height(),
            sum(form.sizeHint().height() for form in forms) + spacing,
        )
        height += 2
        self.parameters_area.setMaximumHeight(min(height, FORMS_MAX_HEIGHT))
        self.parameters_area.setMinimumHeight(min(height, FORMS_MIN_HEIGHT))
        self.parameters_area.updateGeometry()

    def refresh_stats(self) -> None:
        entries = list(self.registry)
        if self.time_plot.isVisible():  # not while the panel is behind another tab
            self.time_plot.refresh(entries, time.perf_counter())
        for form in self.forms.values():
            form.sync()
        if self._switched_elsewhere(entries):
            self.rebuild()  # a pipeline switched it off after an error
            return
        changes = self._changed_numbers(entries)
        if changes:  # the columns measured again only when a number changed
            with sizes_held(self.table):
                for item, text in changes:
                    item.setText(text)
        self._show_details()

    def _switched_elsewhere(self, entries: list) -> bool:
        """Whether a processor's On or Live switch changed outside this table."""
        for row, entry in enumerate(entries[: self.table.rowCount()]):
            for column, switch in ((ON, entry.enabled), (LIVE, entry.live)):
                checked = self.table.item(row, column)
                if (
                    checked is not None
                    and (checked.checkState() == Qt.CheckState.Checked) != switch
                ):
                    return True
        return False

    def _changed_numbers(self, entries: list) -> list[tuple[QTableWidgetItem, str]]:
        """The cells whose numbers changed since shown, with their new text. A
        processor that took no frame since is not looked at (most are switched off)."""
        changes = []
        for row, entry in enumerate(entries[: self.table.rowCount()]):
            frames, errors, mean_ms, p99_ms = entry.stats.numbers()
            if self._counted.get(row) == (entry.name, (frames, errors)):
                continue
            self._counted[row] = (entry.name, (frames, errors))
            values = {
                FRAMES: str(frames),
                MEAN: f"{mean_ms:.2f}",
                P99: f"{p99_ms:.2f}",
                ERRORS: str(errors),
            }
            for column, text in values.items():
                item = self.table.item(row, column)
                if item is not None and item.text() != text:
                    changes.append((item, text))
        return changes

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
