"""The device property browser: every property of every loaded device, editable in place.

What MMStudio's Device Property Browser is for: looking a setting up, or changing one
that no panel shows. The rows are made once per configuration (a demo configuration
has ~120 properties, a real one a few hundred) and only the value cells change after
that: a property announced by the core updates its own cell; a preset applied
re-reads the few devices it names (the core does not announce those). Values are
shown as text and an editor is made only for the cell being edited (a delegate), so a
large configuration costs no widgets. A value the device refuses is said in the
dialog, and the cell shows the value the device kept.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pymmcore_plus import CMMCorePlus, DeviceType, PropertyType
from PyQt6.QtCore import (
    QAbstractItemModel,
    QLocale,
    QModelIndex,
    QObject,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QDoubleValidator,
    QFont,
    QIntValidator,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.ui.common.message_label import MessageLabel
from app.ui.microscope.core_events import CoreEvents
from app.ui.microscope.device_dialog import BusyReason, DeviceDialog, never_busy

logger = logging.getLogger(__name__)

SPEC_ROLE = Qt.ItemDataRole.UserRole + 1  # the PropertySpec of a value cell
DEVICE_TYPE_ROLE = Qt.ItemDataRole.UserRole + 2  # a device row's DeviceType name
EXPOSURE = "Exposure"
INT_LIMIT = 2**31 - 1


class ValueKind(Enum):
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "number"


@dataclass(frozen=True)
class PropertySpec:
    """What the core says about one property: enough to pick its editor."""

    device: str
    name: str
    kind: ValueKind
    read_only: bool
    pre_init: bool
    allowed: tuple[str, ...]
    limits: tuple[float, float] | None

    @property
    def editable(self) -> bool:
        # A pre-initialisation property is set when the device is loaded (from the
        # configuration file); changing it on a running device does nothing or fails.
        return not (self.read_only or self.pre_init)

    def describe(self) -> str:
        """The cell's tooltip: what values it takes, and why it cannot be changed."""
        lines = [f"{self.device} · {self.name} ({self.kind.value})"]
        if self.allowed:
            lines.append("Allowed: " + ", ".join(v if v else "(empty)" for v in self.allowed))
        if self.limits is not None:
            lines.append(f"From {self.limits[0]:g} to {self.limits[1]:g}")
        if self.read_only:
            lines.append("Read-only: the device reports it, it cannot be set.")
        elif self.pre_init:
            lines.append(
                "Set when the device is loaded (a pre-initialisation property): change "
                "it in the configuration file, with Micro-Manager's Hardware "
                "Configuration Wizard."
            )
        return "\n".join(lines)


def read_spec(core: CMMCorePlus, device: str, name: str) -> PropertySpec:
    kind = {
        int(PropertyType.Integer): ValueKind.INTEGER,
        int(PropertyType.Float): ValueKind.FLOAT,
    }.get(int(core.getPropertyType(device, name)), ValueKind.TEXT)
    limits = None
    if core.hasPropertyLimits(device, name):
        limits = (
            core.getPropertyLowerLimit(device, name),
            core.getPropertyUpperLimit(device, name),
        )
    return PropertySpec(
        device=device,
        name=name,
        kind=kind,
        read_only=core.isPropertyReadOnly(device, name),
        pre_init=core.isPropertyPreInit(device, name),
        allowed=tuple(core.getAllowedPropertyValues(device, name)),
        limits=limits,
    )


def _decimals(low: float, high: float) -> int:
    """Enough decimals to step through a small range (0 to 0.003 needs 7)."""
    span = high - low
    if span <= 0:
        return 4
    return max(4, min(10, math.ceil(-math.log10(span)) + 4))


def format_number(value: float, kind: ValueKind, decimals: int = 4) -> str:
    """A number as Micro-Manager reads it: a '.' decimal point whatever the locale."""
    if kind is ValueKind.INTEGER:
        return str(round(value))
    return f"{value:.{decimals}f}"


class PropertyDelegate(QStyledItemDelegate):
    """Makes the editor a property's value needs, and hands the value entered to
    ``apply(device, property, text)`` (the model keeps what the device reports)."""

    def __init__(self, apply: Callable[[str, str, str], object], parent: QObject) -> None:
        super().__init__(parent)
        self._apply = apply

    def createEditor(
        self, parent: QWidget | None, option: QStyleOptionViewItem, index: QModelIndex
    ) -> QWidget | None:
        spec = index.data(SPEC_ROLE)
        if not isinstance(spec, PropertySpec) or not spec.editable:
            return None
        editor: QWidget
        if spec.allowed:
            combo = QComboBox(parent)
            combo.addItems(list(spec.allowed))
            # chosen from the list: applied at once, as a click on a menu would be
            combo.activated.connect(lambda _i, c=combo: self._commit(c))
            editor = combo
        elif spec.limits is not None and spec.kind is ValueKind.INTEGER:
            box = QSpinBox(parent)
            low, high = math.ceil(spec.limits[0]), math.floor(spec.limits[1])
            box.setRange(max(low, -INT_LIMIT), min(high, INT_LIMIT))  # a QSpinBox is 32-bit
            editor = box
        elif spec.limits is not None and spec.kind is ValueKind.FLOAT:
            fbox = QDoubleSpinBox(parent)
            fbox.setDecimals(_decimals(*spec.limits))
            fbox.setRange(*spec.limits)
            span = spec.limits[1] - spec.limits[0]
            if span > 0:
                fbox.setSingleStep(min(1.0, 10 ** (math.floor(math.log10(span)) - 2)))
            editor = fbox
        else:
            line = QLineEdit(parent)
            if spec.kind is ValueKind.INTEGER:
                line.setValidator(QIntValidator(line))
            elif spec.kind is ValueKind.FLOAT:
                validator = QDoubleValidator(line)
                validator.setNotation(QDoubleValidator.Notation.StandardNotation)
                validator.setLocale(QLocale.c())
                line.setValidator(validator)
            editor = line
        editor.setLocale(QLocale.c())  # "0.5", as the core writes it, in every country
        editor.setToolTip(spec.describe())
        return editor

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        size.setHeight(size.height() + 6)  # room for a spin box's or a combo's frame
        return size

    def _commit(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget | None, index: QModelIndex) -> None:
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        if isinstance(editor, QComboBox):
            if editor.findText(text) < 0:
                editor.addItem(text)  # a value outside the list: shown, still choosable
            editor.setCurrentText(text)
        elif isinstance(editor, QSpinBox):
            with contextlib.suppress(ValueError):  # "(unreadable…)": the editor's own value
                editor.setValue(round(float(text)))
        elif isinstance(editor, QDoubleSpinBox):
            with contextlib.suppress(ValueError):
                editor.setValue(float(text))
        elif isinstance(editor, QLineEdit):
            editor.setText(text)

    def setModelData(
        self, editor: QWidget | None, model: QAbstractItemModel | None, index: QModelIndex
    ) -> None:
        spec = index.data(SPEC_ROLE)
        if not isinstance(spec, PropertySpec):
            return
        if isinstance(editor, QComboBox):
            text = editor.currentText()
        elif isinstance(editor, QDoubleSpinBox):
            text = format_number(editor.value(), spec.kind, editor.decimals())
        elif isinstance(editor, QSpinBox):
            text = str(editor.value())
        elif isinstance(editor, QLineEdit):
            text = editor.text()  # a half-typed number is refused by apply, with a message
        else:
            return
        if text != str(index.data(Qt.ItemDataRole.DisplayRole) or ""):
            self._apply(spec.device, spec.name, text)


class _PropertyFilter(QSortFilterProxyModel):
    """Rows whose device or property name holds the text, of one device type."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.device_type = ""  # "" for every type
        self.read_only = True  # read-only properties shown
        self.setRecursiveFilteringEnabled(True)  # a device stays while a property matches

    def set_filter(self, text: str, device_type: str, read_only: bool) -> None:
        self.text, self.device_type, self.read_only = text.strip().lower(), device_type, read_only
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if model is None:
            return False
        if not source_parent.isValid():  # a device: shown whole when its name matches
            index = model.index(source_row, 0)
            if self.device_type and index.data(DEVICE_TYPE_ROLE) != self.device_type:
                return False
            name = str(index.data() or "").lower()
            return not self.text or self.text in name
        device = model.index(source_parent.row(), 0)
        if self.device_type and device.data(DEVICE_TYPE_ROLE) != self.device_type:
            return False
        spec = model.index(source_row, 1, source_parent).data(SPEC_ROLE)
        if not isinstance(spec, PropertySpec):
            return False
        if spec.read_only and not self.read_only:
            return False
        return not self.text or self.text in spec.device.lower() or self.text in spec.name.lower()


def _readable_grey(palette: QPalette) -> QColor:
    """Between the text and the background: set apart, still easy to read (the style's
    disabled grey is too faint to read a value in)."""
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    return QColor(
        round(0.55 * text.red() + 0.45 * base.red()),
        round(0.55 * text.green() + 0.45 * base.green()),
        round(0.55 * text.blue() + 0.45 * base.blue()),
    )


def _device_type_name(core: CMMCorePlus, device: str) -> str:
    try:
        return DeviceType(int(core.getDeviceType(device))).name.removesuffix("Device")
    except (ValueError, RuntimeError):
        return "Unknown"


class PropertyBrowser(QWidget):
    """The tree of devices and their properties, with a filter; edits go to the core."""

    def __init__(
        self,
        core: CMMCorePlus,
        events: CoreEvents,
        busy: BusyReason = never_busy,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self._busy = busy
        self._cells: dict[tuple[str, str], QStandardItem] = {}
        self._devices_to_read: set[str] = set()
        self._stale = True  # values may have changed while hidden: read them when shown

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: device or property name")
        self.filter_edit.setClearButtonEnabled(True)
        self.type_combo = QComboBox()
        self.type_combo.setToolTip("Show the devices of one type")
        self.show_read_only = QCheckBox("Show read-only")
        self.show_read_only.setChecked(True)
        self.show_read_only.setToolTip("Show the properties the devices only report")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read every value from the devices again")
        self.refresh_button.clicked.connect(self.refresh_values)
        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.type_combo)
        tools.addWidget(self.show_read_only)
        tools.addWidget(self.refresh_button)

        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Device / property", "Value"])
        self.proxy = _PropertyFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTreeView()
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(PropertyDelegate(self.apply, self.view))
        self.view.setAlternatingRowColors(True)
        self.view.setUniformRowHeights(True)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.view.header()
        if header is not None:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            header.setStretchLastSection(True)
        hint = QLabel(
            "Double-click a value to change it. Grey ones are read-only, or set when the "
            "device is loaded; their tooltips say which."
        )
        hint.setWordWrap(True)
        self.message = MessageLabel()

        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.view, 1)
        layout.addWidget(hint)
        layout.addWidget(self.message)

        self.filter_edit.textChanged.connect(self._filter_changed)
        self.type_combo.currentIndexChanged.connect(self._filter_changed)
        self.show_read_only.toggled.connect(self._filter_changed)

        # a burst of announcements (a preset sets several devices) is read once
        self._read_timer = QTimer(self)
        self._read_timer.setSingleShot(True)
        self._read_timer.setInterval(0)
        self._read_timer.timeout.connect(self._read_pending_devices)

        self.events = events
        events.propertyChanged.connect(self._show_announced)
        events.configSet.connect(self._preset_applied)
        events.systemChanged.connect(self.rebuild)
        self.rebuild()

    # ------------------------------------------------------------ building
    def set_core(self, core: CMMCorePlus) -> None:
        """Show another microscope (a configuration was loaded)."""
        self.core = core
        self.rebuild()

    def rebuild(self) -> None:
        """Make the rows again: the devices or their properties changed."""
        core = self.core
        self._cells.clear()
        self._devices_to_read.clear()
        self.model.removeRows(0, self.model.rowCount())
        types: set[str] = set()
        grey = QBrush(_readable_grey(self.palette()))
        for device in core.getLoadedDevices():
            type_name = _device_type_name(core, device)
            types.add(type_name)
            device_item = QStandardItem(device)
            device_item.setEditable(False)
            device_item.setData(type_name, DEVICE_TYPE_ROLE)
            bold = QFont(device_item.font())
            bold.setBold(True)
            device_item.setFont(bold)
            try:
                description = core.getDeviceDescription(device)
            except RuntimeError:
                description = ""
            about = QStandardItem(f"{type_name} — {description}" if description else type_name)
            about.setEditable(False)
            about.setForeground(grey)
            for name in core.getDevicePropertyNames(device):
                spec = read_spec(core, device, name)
                name_item = QStandardItem(name)
                name_item.setEditable(False)
                value_item = QStandardItem(self._read(device, name))
                value_item.setData(spec, SPEC_ROLE)
                value_item.setEditable(spec.editable)
                value_item.setToolTip(spec.describe())
                if not spec.editable:
                    name_item.setForeground(grey)
                    value_item.setForeground(grey)
                device_item.appendRow([name_item, value_item])
                self._cells[(device, name)] = value_item
            self.model.appendRow([device_item, about])
        self._stale = False
        chosen = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("All device types", "")
        for type_name in sorted(types):
            self.type_combo.addItem(type_name, type_name)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(chosen)))
        self.type_combo.blockSignals(False)
        self._filter_changed()
        self.view.resizeColumnToContents(0)

    def _read(self, device: str, name: str, cached: bool = False) -> str:
        try:
            if cached:  # never waits on a device (an acquisition keeps them busy)
                return str(self.core.getPropertyFromCache(device, name))
            return str(self.core.getProperty(device, name))
        except Exception as exc:  # a device that does not answer: said in its cell
            return f"(unreadable: {exc})"

    def _filter_changed(self) -> None:
        self.proxy.set_filter(
            self.filter_edit.text(),
            str(self.type_combo.currentData() or ""),
            self.show_read_only.isChecked(),
        )
        self.view.expandAll()

    # ------------------------------------------------------------ values
    def value_shown(self, device: str, name: str) -> str | None:
        """The value a property's cell shows (None: no such row)."""
        cell = self._cells.get((device, name))
        return None if cell is None else cell.text()

    def is_editable(self, device: str, name: str) -> bool:
        cell = self._cells.get((device, name))
        return cell is not None and bool(cell.flags() & Qt.ItemFlag.ItemIsEditable)

    def index_of(self, device: str, name: str) -> QModelIndex:
        """The view's index of a property's value cell (invalid if filtered out)."""
        cell = self._cells.get((device, name))
        if cell is None:
            return QModelIndex()
        return self.proxy.mapFromSource(cell.index())

    def edit(self, device: str, name: str) -> QWidget | None:
        """Open the editor of a property's value, as a double-click does; None if the
        property cannot be changed (or is filtered out)."""
        index = self.index_of(device, name)
        if not index.isValid():
            return None
        self.view.scrollTo(index)
        self.view.setCurrentIndex(index)
        self.view.edit(index)
        return self.view.indexWidget(index)

    def apply(self, device: str, name: str, value: str) -> bool:
        """Set a property on the core; a refusal is said under the tree, not raised."""
        reason = self._busy() or self._not_a_value(device, name, value)
        if reason:
            self._say(f"{device} · {name} was not changed: {reason}.", error=True)
            return False
        try:
            if name == EXPOSURE and device == self.core.getCameraDevice():
                # as the core's exposure, which is announced (the Microscope panel and
                # the simulated sample follow it); the property alone is not
                self.core.setExposure(float(value))
            else:
                self.core.setProperty(device, name, value)
        except Exception as exc:
            logger.warning("Setting %s %s to %r failed: %s", device, name, value, exc)
            kept = self._read(device, name)
            self._say(f"{device} · {name}: {value!r} was refused ({exc}). It stays {kept}.", True)
            self._show_value(device, name, kept)
            return False
        self._say("")
        self._show_value(device, name, self._read(device, name))  # as the device took it
        return True

    def _not_a_value(self, device: str, name: str, value: str) -> str | None:
        # the core would take "abc" for a number property as 0: never send it
        cell = self._cells.get((device, name))
        spec = None if cell is None else cell.data(SPEC_ROLE)
        if not isinstance(spec, PropertySpec) or spec.kind is ValueKind.TEXT:
            return None
        try:
            number = float(value)
        except ValueError:
            return f"{value!r} is not a number"
        if spec.kind is ValueKind.INTEGER and not number.is_integer():
            return f"{value!r} is not a whole number"
        return None

    def _say(self, text: str, error: bool = False) -> None:
        self.message.say(text, error)

    def _show_value(self, device: str, name: str, value: str) -> None:
        cell = self._cells.get((device, name))
        if cell is not None and cell.text() != value:
            cell.setText(value)

    def _show_announced(self, device: str, name: str, value: str) -> None:
        self._show_value(device, name, value)

    def _preset_applied(self, group: str, preset: str) -> None:
        # setConfig sets the preset's properties without announcing each of them
        if not self.isVisible():
            self._stale = True
            return
        try:
            settings = self.core.getConfigData(group, preset)
            self._devices_to_read.update(device for device, _, _ in settings)
        except Exception:  # a preset removed meanwhile: read everything
            self._stale = True
            self.refresh_values()
            return
        self._read_timer.start()

    def _read_pending_devices(self) -> None:
        devices, self._devices_to_read = self._devices_to_read, set()
        cached = bool(self._busy())
        for (device, name), _cell in self._cells.items():
            if device in devices:
                self._show_value(device, name, self._read(device, name, cached))

    def refresh_values(self) -> None:
        """Read every value from the devices (the rows stay)."""
        for device, name in self._cells:
            self._show_value(device, name, self._read(device, name))
        self._stale = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh_values()


class PropertyBrowserDialog(DeviceDialog):
    """Devices > Device properties…: the browser in a window of its own, non-modal."""

    title = "Device properties"

    def build(self) -> None:
        core, events, busy = self.core, self.events, self._busy
        self.browser = PropertyBrowser(core, events, busy, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.browser)
        self.resize(640, 720)

    def show_core(self) -> None:
        self.browser.set_core(self.core)
