"""The acquisition panel: a multi-dimensional acquisition described without code.

It builds the same events as the scripting API (``multi_d_acquisition_events``) and
the window runs them through the same ``Acquisition`` (an ``XYTiledAcquisition`` when
the Grid group is ticked: the tiles get ``row`` and ``column`` axes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import useq
from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.acquisition.cameras import camera_names
from app.acquisition.estimate import PlanEstimate, estimate_plan, human_bytes
from app.acquisition.events import CheckedEvents, checked_events
from app.acquisition.explore import ExploreChannel, ExploreSettings
from app.acquisition.grid_plan import (
    CameraField,
    GridCentre,
    GridMode,
    GridPlan,
    grid_from_useq,
    grid_to_useq,
    tile_events,
)
from app.acquisition.multi_d import last_slice_within, multi_d_acquisition_events
from app.acquisition.plan_file import (
    ZMode,
    ZRange,
    plan_from_json_value,
    read_plan,
    write_plan,
    z_range_of,
)
from app.acquisition.tiles import TileLayout, TilingError
from app.storage.dataset_names import dataset_name_problem, safe_dataset_name
from app.storage.ram_sink import default_ram_limit_bytes
from app.ui.acquiring.grid_box import GridBox
from app.ui.acquiring.position_list import PLAN_FILTER, PositionList
from app.ui.common.free_space import free_disk_bytes
from app.ui.common.steady_text import SteadyText

logger = logging.getLogger(__name__)


def _double(low: float, high: float, value: float, suffix: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(2)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


#: the most events the estimate keeps for Start (``events``): about a kilobyte each
KEPT_EVENTS = 10_000


@dataclass(frozen=True)
class _GridPlace:
    """What a grid's tiles are placed by, read from the microscope: the stage position
    (a grid around it; None otherwise) and the camera's field."""

    here: tuple[float, float] | None
    field: CameraField


def _events_key(kwargs: dict[str, Any], grid: GridPlan | None, place: _GridPlace | None) -> str:
    """Everything a plan's events are made from, as text to compare."""
    return repr((kwargs, grid, place))


class AcquisitionPanel(QWidget):
    startRequested = pyqtSignal()
    pauseToggled = pyqtSignal(bool)
    abortRequested = pyqtSignal()
    #: "Put back": the microscope to where it was before an acquisition from elsewhere
    putBackRequested = pyqtSignal()
    #: "Keep": the microscope stays as it is, nothing to put back any more
    keepRequested = pyqtSignal()
    failed = pyqtSignal(str)  # a settings file that could not be read or written
    #: the folder the user typed or chose (not one restored): remembered at once, for
    #: scripts' ``data_folder()``
    directoryChosen = pyqtSignal(str)

    def __init__(self, core: CMMCorePlus, default_directory: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.core = core
        #: free bytes on a folder's disk (the window gives a reading made off its thread)
        self.free_space: Callable[[str], int | None] = free_disk_bytes
        self._estimate = PlanEstimate(0, 0, 0.0)
        self._estimated_for = ""  # what the estimate was made from
        #: the events the estimate was made of, with what they were made from: Start
        #: takes them when the plan is still the same (``events``)
        self._made_events: tuple[str, CheckedEvents] | None = None
        #: events made by the estimate and not checked yet: checked in a turn of their
        #: own (``_check_made_events``)
        self._to_check: tuple[str, Sequence[dict[str, Any]]] | None = None
        #: why the check refused the events of the estimate made from this key
        self._refused: tuple[str, str] | None = None
        self.position_list = PositionList(core)
        self.position_list.failed.connect(self.failed)
        # the plan scrolls; Start, Pause, Abort and the progress stay in sight below it
        plan = QWidget()
        plan_layout = QVBoxLayout(plan)
        plan_layout.setContentsMargins(0, 0, 0, 0)
        plan_layout.addLayout(self._build_files())
        for group in (
            self._build_time(),
            self._build_z(),
            self._build_channels(),
            self._build_positions(),
            self._build_grid(),
            self._build_saving(default_directory),
        ):
            plan_layout.addWidget(group)
        plan_layout.addStretch()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(plan)
        scroll.setMinimumWidth(
            plan.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        self._build_controls(layout)
        self.refresh_channels()
        self.set_running(False)

    def _build_time(self) -> QGroupBox:
        self.time_box = _optional_group("Time points")
        form = QFormLayout(self.time_box)
        self.time_points = QSpinBox()
        self.time_points.setRange(1, 1_000_000)
        self.time_points.setValue(5)
        self.interval = _double(0, 86400, 0, " s")
        form.addRow("Count", self.time_points)
        form.addRow("Interval", self.interval)
        return self.time_box

    def _build_z(self) -> QGroupBox:
        self.z_box = _optional_group("Z-stack")
        form = QFormLayout(self.z_box)
        self.z_mode = QComboBox()
        for mode, text in (
            (ZMode.RELATIVE, "Relative to the current Z"),
            (ZMode.ABSOLUTE, "Absolute positions"),
        ):
            self.z_mode.addItem(text, mode)
        self.z_mode.setToolTip(
            "Relative: start and end are offsets from the Z where the acquisition starts "
            "(from each position's Z, with a position list). Absolute: focus positions."
        )
        self.z_start = _double(-100000, 100000, -2, " µm")
        self.z_end = _double(-100000, 100000, 2, " µm")
        self.z_step = _double(0.01, 1000, 1, " µm")
        self.z_here_buttons: list[QPushButton] = []
        rows = []
        for label, box in (("Start", self.z_start), ("End", self.z_end)):
            here = QPushButton("Here")
            here.setToolTip(f"{label} at the current Z")
            here.clicked.connect(lambda _=False, box=box: self._z_here(box))
            self.z_here_buttons.append(here)
            row = QHBoxLayout()
            row.addWidget(box, 1)
            row.addWidget(here)
            rows.append((label, row))
        form.addRow("Range", self.z_mode)
        for label, row in rows:
            form.addRow(label, row)
        form.addRow("Step", self.z_step)
        self.z_mode.currentIndexChanged.connect(self._z_mode_changed)
        self._z_mode_changed()
        return self.z_box

    def z_range(self) -> ZRange:
        return ZRange(
            self.z_mode.currentData(),
            self.z_start.value(),
            self.z_end.value(),
            self.z_step.value(),
        )

    def set_z_range(self, z: ZRange) -> None:
        self.z_mode.setCurrentIndex(self.z_mode.findData(z.mode))
        self.z_start.setValue(z.start)
        self.z_end.setValue(z.end)
        self.z_step.setValue(abs(z.step))

    def _z_mode_changed(self) -> None:
        absolute = self.z_mode.currentData() is ZMode.ABSOLUTE
        for button in self.z_here_buttons:
            button.setVisible(absolute)

    def _z_here(self, box: QDoubleSpinBox) -> None:
        if self.core.getFocusDevice():
            box.setValue(self.core.getPosition())

    def _build_channels(self) -> QGroupBox:
        self.channel_box = _optional_group("Channels")
        channel_layout = QVBoxLayout(self.channel_box)
        self.channels = QTableWidget(0, 2)
        self.channels.setHorizontalHeaderLabels(["Preset", "Exposure (ms)"])
        self.channels.horizontalHeader().setStretchLastSection(True)
        self.channels.verticalHeader().hide()
        self.channels.setMinimumHeight(140)
        self.channels.setMaximumHeight(160)
        channel_layout.addWidget(self.channels)
        return self.channel_box

    def _build_positions(self) -> QGroupBox:
        self.position_box = _optional_group("XY positions")
        position_layout = QVBoxLayout(self.position_box)
        position_layout.addWidget(self.position_list)
        return self.position_box

    def _build_grid(self) -> GridBox:
        self.grid_box = GridBox(self.core)
        self.grid_box.failed.connect(self.failed)
        # tiling around each listed position needs the list: tick it for the user
        self.grid_box.centreChosen.connect(
            lambda each: self.position_box.setChecked(True) if each else None
        )
        return self.grid_box

    def _build_files(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Settings:"))
        for text, tip, slot in (
            ("Load…", "Load acquisition settings (useq-schema JSON or YAML)", self.choose_load),
            ("Save…", "Save these settings as a useq-schema file (JSON or YAML)", self.choose_save),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch()
        return row

    def _build_saving(self, default_directory: Path) -> QGroupBox:
        save_box = QGroupBox("Save to disk")
        save_box.setCheckable(True)
        save_box.setChecked(True)
        save_box.setToolTip(
            "Unchecked, the images are kept in memory: browse them with the sliders, "
            "or save them from the console with acq.get_dataset().save_as_ndtiff(folder)"
        )
        form = QFormLayout(save_box)
        directory_row = QHBoxLayout()
        self.directory = QLineEdit(str(default_directory))
        browse = QPushButton("…")
        browse.setFixedWidth(30)
        browse.clicked.connect(self._browse)
        self.directory.editingFinished.connect(
            lambda: self.directoryChosen.emit(self.data_directory)
        )
        directory_row.addWidget(self.directory)
        directory_row.addWidget(browse)
        self.name = QLineEdit("acquisition")
        self.format = QComboBox()
        for label, storage, tip in (
            ("NDTiff", "ndtiff", "Micro-Manager's format, as pycro-manager saves"),
            ("OME-Zarr", "ome-zarr", "OME-NGFF 0.5 (Zarr v3): napari, ome-zarr-py, Fiji's readers"),
        ):
            self.format.addItem(label, storage)
            self.format.setItemData(self.format.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Folder", directory_row)
        form.addRow("Name", self.name)
        form.addRow("Format", self.format)
        self.save_box = save_box
        return save_box

    def _build_controls(self, layout: QVBoxLayout) -> None:
        self.return_hardware = QCheckBox("Afterwards, return the microscope to where it was")
        self.return_hardware.setChecked(True)
        self.return_hardware.setToolTip(
            "When the acquisition ends, put Z, XY, the channel preset, the exposure and "
            "the shutter back as they were before it started (as Micro-Manager does). "
            "Unchecked, they stay where the acquisition left them."
        )
        layout.addWidget(self.return_hardware)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.startRequested)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.pauseToggled)
        self.pause_button.toggled.connect(
            lambda paused: self.pause_button.setText("Resume" if paused else "Pause")
        )
        self.abort_button = QPushButton("Abort")
        self.abort_button.clicked.connect(self.abortRequested)
        for button in (self.start_button, self.pause_button, self.abort_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setToolTip(
            "What the plan will take: images, disk (or memory) and time. The time is a "
            "lower bound: the exposures back to back or the time-lapse, whichever is longer"
        )
        layout.addWidget(self.estimate_label)
        self.progress = QProgressBar()
        # room for three lines from the start: the panels do not move when it fills;
        # rewritten twice a second while acquiring, without laying the window out again
        self.progress_label = SteadyText("Ready", min_lines=3)
        self._paused_s = 0.0
        self._paused_since: float | None = None
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        # what an acquisition started elsewhere left changed, with one click to undo it
        self.hardware_left = QLabel()
        self.hardware_left.setWordWrap(True)
        self.hardware_left.setStyleSheet("color: #b35c00;")
        self.put_back_button = QPushButton("Put back")
        self.put_back_button.setToolTip(
            "Return the focus, stage, channel and exposure to where they were before it"
        )
        self.put_back_button.clicked.connect(self.putBackRequested)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Keep the microscope as it is now")
        self.keep_button.clicked.connect(self.keepRequested)
        left_buttons = QHBoxLayout()
        left_buttons.addWidget(self.put_back_button)
        left_buttons.addWidget(self.keep_button)
        left_buttons.addStretch()
        self._hardware_left_box = QWidget()
        left_layout = QVBoxLayout(self._hardware_left_box)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.hardware_left)
        left_layout.addLayout(left_buttons)
        self._hardware_left_box.setVisible(False)
        layout.addWidget(self._hardware_left_box)

    # ------------------------------------------------------------ building events
    def set_core(self, core: CMMCorePlus) -> None:
        """Plan for another microscope (a configuration was loaded): its channels."""
        self.core = core
        self.position_list.set_core(core)
        self.grid_box.set_core(core)
        self.channels.setRowCount(0)  # another microscope's presets: nothing to keep
        self.refresh_channels()

    @property
    def data_directory(self) -> str:
        return self.directory.text().strip()

    @data_directory.setter
    def data_directory(self, folder: str) -> None:
        self.directory.setText(folder)

    def show_result(self, text: str, acquired: int, total: int) -> None:
        """How the last acquisition ended: its progress bar and a sentence."""
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(acquired, total))
        self.progress_label.setText(text)

    def refresh_channels(self) -> None:
        """The channel group's presets; those already listed keep their tick and
        exposure (a preset defined meanwhile is added, unticked)."""
        kept = {
            self.channels.item(r, 0).text(): (
                self.channels.item(r, 0).checkState(),
                self.channels.cellWidget(r, 1).value(),
            )
            for r in range(self.channels.rowCount())
        }
        group = self.core.getChannelGroup()
        presets = self.core.getAvailableConfigs(group) if group else ()
        current = self.core.getCurrentConfig(group) if group else ""
        self.channels.setRowCount(len(presets))
        for row, preset in enumerate(presets):
            checked, exposure = kept.get(
                preset, (_checked(preset == current and not kept), self.core.getExposure())
            )
            item = QTableWidgetItem(preset)
            item.setCheckState(checked)
            self.channels.setItem(row, 0, item)
            self.channels.setCellWidget(row, 1, _double(0.01, 10000, exposure, ""))

    def set_channel(self, preset: str, checked: bool, exposure_ms: float | None = None) -> None:
        for row in range(self.channels.rowCount()):
            if self.channels.item(row, 0).text() == preset:
                self.channels.item(row, 0).setCheckState(_checked(checked))
                if exposure_ms is not None:
                    self.channels.cellWidget(row, 1).setValue(exposure_ms)

    def grid(self) -> GridPlan | None:
        """The grid when the Grid group is ticked."""
        return self.grid_box.grid() if self.grid_box.isChecked() else None

    def _layout_for(self, grid: GridPlan | None, place: _GridPlace | None) -> TileLayout | None:
        """The grid's ``TileLayout`` (tile (0, 0)'s stage position, the overlap, the
        pixel transform) for ``XYTiledAcquisition``, which records it with the map so
        that the map's pixels can be found on the stage again; None without a grid
        (the acquisition is then not tiled). Around each listed position, the first
        position's grid is the one recorded (each position's map is its own)."""
        if grid is None or place is None:
            return None
        centre: tuple[float, float] | None = None
        if grid.around_each_position:
            first = next(iter(self.position_list.positions()), None)
            if first is not None and first.x is not None and first.y is not None:
                centre = (first.x, first.y)
        elif grid.mode is GridMode.ROWS_COLUMNS:
            centre = place.here
        return grid.layout(place.field, centre)

    def start_plan(self) -> tuple[Sequence[dict[str, Any]], TileLayout | None]:
        """What Start acquires: the events (``events``) and, with a grid, its
        ``tile_layout``, placed from one reading of the stage and the camera (read
        twice, a stage still moving recorded the map somewhere else than its tiles)."""
        kwargs, grid = self._event_arguments()
        place = self._grid_place(grid)
        return self._events_for(kwargs, grid, place), self._layout_for(grid, place)

    def explore_settings(self) -> ExploreSettings:
        """What Explore acquires each tile with, from this panel: the ticked channels
        and their exposures (none ticked: the microscope as it is), the Z-stack (as
        focus positions now: relative ones from the current Z), and the grid's
        overlap (without a grid, a tenth of the camera's field)."""
        channels: tuple[ExploreChannel, ...] = ()
        group = self.core.getChannelGroup()
        if self.channel_box.isChecked() and group:
            channels = tuple(
                ExploreChannel(group, item.text(), self.channels.cellWidget(row, 1).value())
                for row in range(self.channels.rowCount())
                if (item := self.channels.item(row, 0)).checkState() == Qt.CheckState.Checked
            )
        z_positions: tuple[float, ...] = ()
        if self.z_box.isChecked() and self.core.getFocusDevice():
            z = self.z_range()
            here = self.core.getPosition() if z.mode is ZMode.RELATIVE else 0.0
            z_positions = tuple(here + offset for offset in z.slices())
        if self.grid_box.isChecked():
            overlap = (self.grid_box.overlap_x.value(), self.grid_box.overlap_y.value())
        else:
            overlap = (self.core.getImageWidth() // 10, self.core.getImageHeight() // 10)
        return ExploreSettings(overlap, channels, z_positions, self.core.getExposure())

    def events(self) -> Sequence[dict[str, Any]]:
        """The events of the acquisition described by the panel: with a grid, for
        each time point (and position), each tile in a snake, then its channels and Z
        slices (useq's order 'tpgcz').

        Start is pressed on the window's thread, and a plan's events take milliseconds
        to make (1,000 took 6-7 ms) and to check (1.5 ms): the ones the estimate made
        and checked (``CheckedEvents``) before Start are handed over once, when they
        were made from the same plan, hardware and stage position (what a new list
        would be made from); otherwise they are made now (and ``acquire`` checks them).
        So a plan's events are a ``CheckedEvents`` tuple or a list."""
        kwargs, grid = self._event_arguments()
        return self._events_for(kwargs, grid, self._grid_place(grid))

    def _events_for(
        self, kwargs: dict[str, Any], grid: GridPlan | None, place: _GridPlace | None
    ) -> Sequence[dict[str, Any]]:
        made, self._made_events = self._made_events, None
        unchecked, self._to_check = self._to_check, None
        key = _events_key(kwargs, grid, place)
        for events in (made, unchecked):  # checked, or not yet (``acquire`` checks them)
            if events is not None and events[0] == key:
                self._estimated_for = ""  # the next estimate makes and keeps them again
                return events[1]
        return self._events_from(kwargs, grid, place)

    def _grid_place(self, grid: GridPlan | None) -> _GridPlace | None:
        """Where a grid's tiles go, read from the microscope once for both the events
        and what they are said to be made from: the stage position a grid around it
        needs, and the camera's field (``TilingError`` without an XY stage or a pixel
        size)."""
        if grid is None:
            return None
        here: tuple[float, float] | None = None
        if grid.mode is GridMode.ROWS_COLUMNS and not grid.around_each_position:
            if not self.core.getXYStageDevice():
                raise TilingError("a grid needs an XY stage, and this microscope has none")
            x, y = self.core.getXYPosition()
            here = (float(x), float(y))
        return _GridPlace(here, CameraField.from_core(self.core))

    def _event_arguments(self) -> tuple[dict[str, Any], GridPlan | None]:
        """What the events are made from (``multi_d_acquisition_events``' arguments,
        and the grid): cheap, whatever the plan's size."""
        kwargs: dict[str, Any] = {}
        if self.time_box.isChecked():
            kwargs["num_time_points"] = self.time_points.value()
            kwargs["time_interval_s"] = self.interval.value()
        positions = self.position_list.positions() if self.position_box.isChecked() else None
        if positions is not None and not positions:
            raise ValueError(
                "XY positions is ticked but the list is empty: add the current "
                "position, or untick XY positions"
            )
        grid = self.grid()
        if grid is not None:
            _check_grid_with_positions(grid, positions is not None)
        z = self.z_range() if self.z_box.isChecked() else None
        if z is not None:
            # relative: around the Z of each position, else around the Z of now
            centre = 0.0
            if z.mode is ZMode.RELATIVE and positions is None and self.core.getFocusDevice():
                centre = self.core.getPosition()
            step = z.signed_step
            kwargs.update(
                z_start=centre + z.start,
                # never past the End typed: pycro-manager's rule takes a slice beyond it
                # when the range is not a whole number of steps
                z_end=centre + last_slice_within(z.start, z.end, step),
                z_step=step,
            )
        if self.channel_box.isChecked():
            chosen = [
                (self.channels.item(r, 0).text(), self.channels.cellWidget(r, 1).value())
                for r in range(self.channels.rowCount())
                if self.channels.item(r, 0).checkState() == _checked(True)
            ]
            if not chosen:
                raise ValueError(
                    "no channel is ticked in Channels: tick the channels to acquire, or "
                    "untick Channels to acquire with the current one"
                )
            kwargs.update(
                channel_group=self.core.getChannelGroup(),
                channels=[name for name, _ in chosen],
                channel_exposures_ms=[exposure for _, exposure in chosen],
            )
        if positions is not None:
            kwargs["position_labels"] = [p.name for p in positions]
            with_z = all(p.z is not None for p in positions) and (
                z is None or z.mode is ZMode.RELATIVE
            )
            if with_z:  # each position's Z: its focus, the stack's centre
                kwargs["xyz_positions"] = [(p.x, p.y, p.z) for p in positions]
            else:
                kwargs["xy_positions"] = [(p.x, p.y) for p in positions]
        return kwargs, grid

    def _events_from(
        self, kwargs: dict[str, Any], grid: GridPlan | None, place: _GridPlace | None
    ) -> list[dict[str, Any]]:
        events = multi_d_acquisition_events(**kwargs)
        if grid is not None and place is not None:
            # each time point (and position) repeated for each tile, with its position
            return tile_events(events, grid, place.field, place.here)
        if events == [{"axes": {}}]:
            events = [{"axes": {"time": 0}}]  # a single image still needs an axis to be saved
        return events

    # ------------------------------------------------------------ settings files
    def plan(self, *, strict: bool = False) -> useq.MDASequence:
        """The panel's settings as a useq ``MDASequence`` (what Save writes).

        A grid that cannot be written (corners not set, no pixel size) raises
        ``TilingError`` when ``strict``; otherwise it is left out and logged, so the
        settings remembered when the window closes are still saved."""
        fields: dict[str, Any] = {"axis_order": "tpcz"}
        if self.time_box.isChecked():
            fields["time_plan"] = useq.TIntervalLoops(
                interval=timedelta(seconds=self.interval.value()), loops=self.time_points.value()
            )
        if self.z_box.isChecked():
            fields["z_plan"] = self.z_range().z_plan()
        if self.channel_box.isChecked():
            group = self.core.getChannelGroup()
            fields["channels"] = [
                useq.Channel(
                    config=self.channels.item(r, 0).text(),
                    group=group,
                    exposure=self.channels.cellWidget(r, 1).value(),
                )
                for r in range(self.channels.rowCount())
                if self.channels.item(r, 0).checkState() == _checked(True)
            ]
        if self.position_box.isChecked():
            fields["stage_positions"] = self.position_list.positions()
        grid = self.grid()
        if grid is not None:
            try:
                fields["grid_plan"] = grid_to_useq(grid, CameraField.from_core(self.core))
                fields["axis_order"] = "tpgcz"
            except TilingError as exc:
                if strict:
                    raise
                logger.warning("The grid is not kept in the acquisition settings: %s", exc)
        return useq.MDASequence(**fields)

    def set_plan(self, plan: useq.MDASequence) -> list[str]:
        """Show ``plan`` in the panel; what this microscope cannot do is returned (said
        to the user), the rest is set."""
        problems: list[str] = []
        time_plan = plan.time_plan
        self.time_box.setChecked(time_plan is not None)
        if isinstance(time_plan, useq.TIntervalLoops):
            self.time_points.setValue(time_plan.loops)
            self.interval.setValue(time_plan.interval.total_seconds())
        elif time_plan is not None:
            problems.append(f"the time plan {type(time_plan).__name__} is not one the panel shows")
            self.time_box.setChecked(False)
        z = z_range_of(plan)
        self.z_box.setChecked(z is not None)
        if z is not None:
            self.set_z_range(z)
        self.channel_box.setChecked(bool(plan.channels))
        if plan.channels:
            presets = {self.channels.item(r, 0).text() for r in range(self.channels.rowCount())}
            group = self.core.getChannelGroup()
            for row in range(self.channels.rowCount()):
                self.channels.item(row, 0).setCheckState(_checked(False))
            for channel in plan.channels:
                if channel.config not in presets or channel.group not in (group, "Channel"):
                    problems.append(
                        f"channel {channel.config!r} (group {channel.group!r}) is not a preset "
                        f"of this microscope's channel group {group!r}"
                    )
                    continue
                self.set_channel(channel.config, True, channel.exposure)
        self.position_box.setChecked(bool(plan.stage_positions))
        self.position_list.set_positions(list(plan.stage_positions))
        order = "".join(axis for axis in plan.axis_order if axis != "g")
        if order and order != "tpcz":
            problems.append(f"the axis order {order!r} is acquired here as 'tpcz'")
        problems.extend(self._set_grid_plan(plan))
        return problems

    def _set_grid_plan(self, plan: useq.MDASequence) -> list[str]:
        """Show the sequence's grid plan in the Grid group; what it cannot show."""
        self.grid_box.setChecked(False)
        if plan.grid_plan is None:
            return []
        centre = GridCentre.EACH_POSITION if plan.stage_positions else GridCentre.CURRENT
        try:
            grid, problems = grid_from_useq(
                plan.grid_plan, CameraField.from_core(self.core), centre
            )
        except TilingError as exc:
            return [f"{exc} (the grid is not set)"]
        self.grid_box.set_grid(grid)
        self.grid_box.setChecked(True)
        if grid.mode is GridMode.CORNERS and plan.stage_positions:
            self.position_box.setChecked(False)
            problems.append(
                "a grid from two corners covers one area: the positions are listed, not visited"
            )
        return problems

    def restore_plan(self, value: Any) -> None:
        """Show the settings remembered from the last session (a JSON value)."""
        if not value:
            return
        try:
            problems = self.set_plan(plan_from_json_value(value))
        except ValueError as exc:
            logger.warning("The last acquisition settings were not restored: %s", exc)
            return
        for problem in problems:
            logger.warning("Last acquisition settings: %s", problem)

    def choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the acquisition settings",
            str(Path(self.data_directory, "acquisition.json")),
            PLAN_FILTER,
        )
        if path:
            self.save_plan(path)

    def choose_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load acquisition settings", self.data_directory, PLAN_FILTER
        )
        if path:
            self.load_plan(path)

    def save_plan(self, path: str) -> bool:
        try:
            write_plan(path, self.plan(strict=True))
        except ValueError as exc:
            self.failed.emit(f"Could not save the settings: {exc}")
            return False
        return True

    def load_plan(self, path: str) -> bool:
        try:
            problems = self.set_plan(read_plan(path))
        except ValueError as exc:
            self.failed.emit(str(exc))
            return False
        if problems:
            self.failed.emit(f"Loaded {Path(path).name}, except: " + "; ".join(problems))
        return True

    def show_estimate(self) -> bool:
        """Say what the plan will take, and whether it fits; False if it cannot start
        or will not fit (said in red)."""
        frame = self._image_bytes()
        exposure = self.core.getExposure()
        try:
            kwargs, grid = self._event_arguments()
            self._check_grid_saving()
            # made again only when what it is made from changed: the window asks twice a
            # second, and a plan of 100,000 images took seconds to make
            place = self._grid_place(grid)
            cameras = self._cameras()
            key = repr((kwargs, grid, place, frame, exposure, cameras))
            if key != self._estimated_for:
                events = self._events_from(kwargs, grid, place)
                self._estimate = estimate_plan(events, frame, exposure, cameras)
                self._estimated_for = key
                self._made_events = self._to_check = self._refused = None
                if len(events) <= KEPT_EVENTS:  # checked before Start, not in its click
                    self._to_check = (_events_key(kwargs, grid, place), events)
                    # in a turn of its own: made and checked in one, 1,000 events held
                    # the window 5.5 to 9.3 ms at the end of every acquisition, whose
                    # Start took the events made before; 3.3 to 6.6 ms at most in two
                    QTimer.singleShot(0, self._check_made_events)
        except ValueError as exc:
            self._estimated_for = ""
            self._made_events = self._to_check = self._refused = None
            return self._say_estimate(f"Cannot start: {exc}.", ok=False)
        if self._refused is not None and self._refused[0] == self._estimated_for:
            return self._say_estimate(f"Cannot start: {self._refused[1]}.", ok=False)
        plan = self._estimate
        self.grid_box.refresh()  # the camera or pixel size may have changed meanwhile
        target = self.save_target()
        if target is not None and (problem := dataset_name_problem(target[1])) is not None:
            # said before Start, as Start would refuse it (the events stay made)
            suggestion = safe_dataset_name(target[1])
            return self._say_estimate(
                f"Cannot start: the name {target[1]!r}: {problem}; {suggestion!r} would work.",
                ok=False,
            )
        room, where = self._room()
        tiles = f" ({plan.tiles} tile{'s' if plan.tiles != 1 else ''})" if plan.tiles else ""
        said_room = "the disk's free space not read yet" if room is None else (
            f"{human_bytes(room)} {where}"
        )  # fmt: skip
        text = (
            f"{plan.images} image{'s' if plan.images != 1 else ''}{tiles}, "
            f"{human_bytes(plan.bytes)} ({said_room}), {_duration(plan.seconds)}"
        )
        if room is not None and plan.bytes > room:
            return self._say_estimate(f"Will not fit: {text}.", ok=False)
        return self._say_estimate(text, ok=True)

    def room_shortage(self, events: int) -> str | None:
        """What Start says before acquiring ``events`` that will not fit in the room
        left (the disk's free space, or what images kept in memory may take): read at
        the click, of the events Start made, for a plan changed since the estimate's
        last tick. None: they fit, or the free space is not read yet."""
        needed = events * self._cameras() * self._image_bytes()
        room, where = self._room()
        if room is None or needed <= room:
            return None
        stops = (
            "when the disk is full, and keep the images saved until then"
            if self.save_box.isChecked()
            else "at that limit, and keep the images in memory until then"
        )
        return (
            f"The plan takes {human_bytes(needed)}, with {human_bytes(room)} {where}. "
            f"The acquisition will stop {stops}."
        )

    def _room(self) -> tuple[int | None, str]:
        """The room the plan's images have, and its words (None: not read yet)."""
        if self.save_box.isChecked():
            return self.free_space(self.data_directory), "free on the disk"
        # what a RAM acquisition may take (its limit), not all that is available
        return default_ram_limit_bytes(), "of memory it may take"

    def _image_bytes(self) -> int:
        core = self.core
        return core.getImageWidth() * core.getImageHeight() * core.getBytesPerPixel()

    def _cameras(self) -> int:
        """How many images each event makes: one per camera (a Multi Camera's)."""
        return max(1, len(camera_names(self.core)))

    def _check_made_events(self) -> None:
        """The events the estimate made, checked for Start (``events``); an event
        refused here is said in red, as the estimate's own errors are, until the plan
        changes (and Start's ``acquire`` refuses it again)."""
        made, self._to_check = self._to_check, None
        if made is None:
            return
        try:
            self._made_events = (made[0], checked_events(made[1]))
        except ValueError as exc:
            self._made_events = None
            self._refused = (self._estimated_for, str(exc))
            self._say_estimate(f"Cannot start: {exc}.", ok=False)

    @property
    def estimate(self) -> PlanEstimate:
        """What the plan took at the last ``show_estimate`` that could make it."""
        return self._estimate

    def _check_grid_saving(self) -> None:
        """A grid is acquired as a tiled map, an NDTiff pyramid on disk as pycro-manager
        saves one (``XYTiledAcquisition`` refuses anything else): say so before Start."""
        if self.grid() is None:
            return
        if not self.save_box.isChecked() or self.storage_format != "ndtiff":
            raise ValueError(
                "a grid is saved as a stitchable NDTiff map: tick Save to disk and choose "
                "the NDTiff format"
            )

    def _say_estimate(self, text: str, ok: bool) -> bool:
        self.estimate_label.setText(text)
        self.estimate_label.setStyleSheet("" if ok else "color: #c0392b; font-weight: bold;")
        return ok

    def save_target(self) -> tuple[str, str] | None:
        if not self.save_box.isChecked():
            return None
        return self.directory.text().strip(), self.name.text().strip() or "acquisition"

    @property
    def storage_format(self) -> str:
        """The ``storage=`` of the acquisition when it is saved: "ndtiff" or "ome-zarr"."""
        return str(self.format.currentData())

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Save acquisitions in", self.directory.text()
        )
        if chosen:
            self.directory.setText(chosen)
            self.directoryChosen.emit(self.data_directory)

    # ------------------------------------------------------------ progress
    def set_running(self, running: bool) -> None:
        # the estimate is of the plan as it is set: while one runs, the progress speaks
        self.estimate_label.setVisible(not running)
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.abort_button.setEnabled(running)
        self._paused_s = 0.0
        self._paused_since = None
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.blockSignals(False)
            self.pause_button.setText("Pause")

    def show_hardware_left(self, changes: list[str], who: str = "") -> None:
        """Mark what ``who`` (an acquisition started elsewhere) left changed on the
        microscope; an empty list clears the mark."""
        self._hardware_left_box.setVisible(bool(changes))
        self.hardware_left.setText(
            f"The microscope is not where it was before the acquisition {who}: "
            + "; ".join(changes)
            + ". The next acquisition starts from here."
            if changes
            else ""
        )

    def show_progress(
        self, done: int, total: int, started: float, paused: bool, waiting_on: str | None = None
    ) -> None:
        """Frames done of total; elapsed and remaining time stand still while paused.
        ``waiting_on``: a processor long on one image (a run that seems stuck at its
        last frames says what it waits for)."""
        now = time.perf_counter()
        if paused and self._paused_since is None:
            self._paused_since = now
        elif not paused and self._paused_since is not None:
            self._paused_s += now - self._paused_since
            self._paused_since = None
        pausing_now = now - self._paused_since if self._paused_since is not None else 0.0
        elapsed = now - started - self._paused_s - pausing_now
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, total))
        remaining = elapsed / done * (total - done) if done else float("nan")
        state = "Paused" if paused else "Acquiring"
        if done and done >= total:  # the camera is done; processors and the saver not
            after = "   all acquired; finishing the processing and saving"
        elif done:
            after = f"   remaining ~{_clock(remaining)}"
        else:
            after = ""
        self.progress_label.setText(
            f"{state}: {done} / {total} frames   elapsed {_clock(elapsed)}{after}"
            + (f"\nWaiting on {waiting_on}" if waiting_on else "")
        )


def _check_grid_with_positions(grid: GridPlan, positions: bool) -> None:
    """A grid and the XY positions must say the same thing about where to go."""
    if grid.mode is GridMode.CORNERS:
        if positions:
            raise ValueError(
                "a grid from two corners covers one area: untick XY positions, or tile "
                "rows × columns around each listed position"
            )
    elif grid.centre is GridCentre.EACH_POSITION and not positions:
        raise ValueError(
            "the grid is around each listed position: tick XY positions and list them, "
            "or tile around the current position"
        )
    elif grid.centre is GridCentre.CURRENT and positions:
        raise ValueError(
            "the grid is around the current position but XY positions is ticked: tile "
            "around each listed position, or untick XY positions"
        )


def _optional_group(title: str) -> QGroupBox:
    """A part of the acquisition the user switches on with the box in its title."""
    group = QGroupBox(title)
    group.setCheckable(True)
    group.setChecked(False)
    return group


def _checked(on: bool):
    return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked


def _duration(seconds: float) -> str:
    """How long a plan takes, as a person says it: "under a second", "about 3 s",
    "about 0:12:30" (the exposures alone: a lower bound)."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"about {seconds:.0f} s"
    return f"about {_clock(seconds)}"


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
