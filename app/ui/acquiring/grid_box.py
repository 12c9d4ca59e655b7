"""The Acquisition panel's Grid group: tiles around a position, or between two corners.

The widgets only edit a ``GridPlan`` (``app/acquisition/grid_plan.py``), which says
where the tiles are; this module knows nothing of events or files.
"""

from __future__ import annotations

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.acquisition.grid_plan import CameraField, GridCentre, GridMode, GridPlan, Point
from app.acquisition.tiles import TilingError


def _count(low: int, high: int, value: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class GridBox(QGroupBox):
    """A checkable "Grid" group: rows × columns around the current position or each
    listed position, or every tile between two corners; the overlap in camera pixels."""

    changed = pyqtSignal()
    #: the user chose to tile around each listed position (True) or the current one
    centreChosen = pyqtSignal(bool)
    failed = pyqtSignal(str)

    def __init__(self, core: CMMCorePlus, parent: QWidget | None = None) -> None:
        super().__init__("Grid", parent)
        self.core = core
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip(
            "Tile an area larger than the camera's field: the tiles are saved with row and "
            "column axes and shown stitched"
        )
        self._corners: list[Point | None] = [None, None]
        self.form = QFormLayout(self)
        self.mode = QComboBox()
        for mode, text in (
            (GridMode.ROWS_COLUMNS, "Rows × columns"),
            (GridMode.CORNERS, "From two corners"),
        ):
            self.mode.addItem(text, mode)
        self.mode.setToolTip(
            "Rows × columns: a grid centred on a position. From two corners: every tile "
            "needed to cover the fields of view at two stage positions"
        )
        self.form.addRow("Tiles", self.mode)

        self.rows = _count(1, 1000, 2)
        self.columns = _count(1, 1000, 2)
        self.rows.setToolTip("Rows of tiles (down the image)")
        self.columns.setToolTip("Columns of tiles (across the image)")
        shape = QHBoxLayout()
        shape.addWidget(self.rows, 1)
        shape.addWidget(QLabel("×"))
        shape.addWidget(self.columns, 1)
        self._shape_row = QWidget()
        self._shape_row.setLayout(shape)
        shape.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Rows × columns", self._shape_row)

        self.centre = QComboBox()
        for centre, text in (
            (GridCentre.CURRENT, "The current position"),
            (GridCentre.EACH_POSITION, "Each listed position"),
        ):
            self.centre.addItem(text, centre)
        self.centre.setToolTip(
            "The grid's centre: where the stage is when the acquisition starts, or each "
            "position of the XY positions list (which is then ticked)"
        )
        self.centre.activated.connect(
            lambda _index: self.centreChosen.emit(
                self.centre.currentData() is GridCentre.EACH_POSITION
            )
        )
        self.form.addRow("Around", self.centre)

        self.corner_labels: list[QLabel] = []
        self.corner_buttons: list[QPushButton] = []
        self._corner_rows: list[QWidget] = []
        for which in (1, 2):
            label = QLabel()
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("-00000.0, -00000.0 µm"))
            button = QPushButton(f"Corner {which} here")
            button.setToolTip(f"Corner {which} of the area: the field of view where the stage is")
            button.clicked.connect(lambda _=False, which=which: self.corner_here(which))
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(label, 1)
            row.addWidget(button)
            holder = QWidget()
            holder.setLayout(row)
            self.corner_labels.append(label)
            self.corner_buttons.append(button)
            self._corner_rows.append(holder)
            self.form.addRow(f"Corner {which}", holder)

        self.overlap_x = _count(0, 100_000, 0, " px")
        self.overlap_y = _count(0, 100_000, 0, " px")
        self.overlap_x.setToolTip("Pixels each tile shares with the next column")
        self.overlap_y.setToolTip("Pixels each tile shares with the next row")
        overlap = QHBoxLayout()
        overlap.setContentsMargins(0, 0, 0, 0)
        overlap.addWidget(QLabel("x"))
        overlap.addWidget(self.overlap_x, 1)
        overlap.addSpacing(8)
        overlap.addWidget(QLabel("y"))
        overlap.addWidget(self.overlap_y, 1)
        overlap_row = QWidget()
        overlap_row.setLayout(overlap)
        self.form.addRow("Overlap", overlap_row)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setToolTip("The tiles at one position, and the area they cover")
        self.form.addRow(self.summary)

        for spin in (self.rows, self.columns, self.overlap_x, self.overlap_y):
            spin.valueChanged.connect(self._changed)
        self.mode.currentIndexChanged.connect(self._changed)
        self.centre.currentIndexChanged.connect(self._changed)
        self.toggled.connect(self._changed)
        self._show_corners()
        self._changed()

    def set_core(self, core: CMMCorePlus) -> None:
        """Another microscope (a configuration was loaded): its stage and camera."""
        self.core = core
        self.refresh()

    # ------------------------------------------------------------ the grid
    def grid(self) -> GridPlan:
        """The grid as set (whether or not the group is ticked)."""
        return GridPlan(
            mode=self.mode.currentData(),
            rows=self.rows.value(),
            columns=self.columns.value(),
            overlap=(self.overlap_x.value(), self.overlap_y.value()),
            corner1=self._corners[0],
            corner2=self._corners[1],
            centre=self.centre.currentData(),
        )

    def set_grid(self, grid: GridPlan) -> None:
        self.mode.setCurrentIndex(self.mode.findData(grid.mode))
        self.rows.setValue(grid.rows)
        self.columns.setValue(grid.columns)
        self.overlap_x.setValue(grid.overlap[0])
        self.overlap_y.setValue(grid.overlap[1])
        self.centre.setCurrentIndex(self.centre.findData(grid.centre))
        self._corners = [grid.corner1, grid.corner2]
        self._show_corners()
        self._changed()

    def corner_here(self, which: int) -> None:
        """Corner 1 or 2 at the stage position now."""
        if not self.core.getXYStageDevice():
            self.failed.emit("This microscope has no XY stage: there is no corner to set")
            return
        x, y = self.core.getXYPosition()
        self._corners[which - 1] = (float(x), float(y))
        self._show_corners()
        self._changed()

    # ------------------------------------------------------------ showing
    def refresh(self) -> None:
        """Say how many tiles and what area, for the camera as it is now."""
        if not self.isChecked():
            self.summary.setText("")
            return
        try:
            camera = CameraField.from_core(self.core)
            grid = self.grid()
            rows, columns = grid.shape(camera)
            step_y, step_x = grid.layout(camera, (0.0, 0.0)).step
        except (TilingError, RuntimeError) as exc:
            self.summary.setText(str(exc)[:1].upper() + str(exc)[1:])
            return
        width_um, height_um = camera.size_um
        scale_x, scale_y = width_um / camera.width, height_um / camera.height
        area_x = ((columns - 1) * step_x + camera.width) * scale_x
        area_y = ((rows - 1) * step_y + camera.height) * scale_y
        tiles = rows * columns
        self.summary.setText(
            f"{tiles} tile{'s' if tiles != 1 else ''} ({rows} × {columns}), "
            f"{area_x:.0f} × {area_y:.0f} µm"
        )

    def _changed(self) -> None:
        corners = self.mode.currentData() is GridMode.CORNERS
        self.form.setRowVisible(self._shape_row, not corners)
        self.form.setRowVisible(self.centre, not corners)
        for row in self._corner_rows:
            self.form.setRowVisible(row, corners)
        self.refresh()
        self.changed.emit()

    def _show_corners(self) -> None:
        for label, corner in zip(self.corner_labels, self._corners, strict=True):
            label.setText("not set" if corner is None else f"{corner[0]:.1f}, {corner[1]:.1f} µm")
