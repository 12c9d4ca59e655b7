"""Configuration groups and their presets: what MMStudio users click every day.

A group (Objective, LightPath, Channel…) names a few device settings; each preset of
the group is one set of values for them. Choosing a preset applies it on the GUI
thread, as the Microscope panel's Channel does: the core returns once the devices have
been told (a turret still turning is waited for by whoever acquires next). Whoever
sets a preset or changes a device (console, script, acquisition, the property
browser), the combos show the preset that now matches, read from the core's cache of
property values so that following a busy acquisition never waits on a device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.common.message_label import MessageLabel
from app.ui.microscope.core_events import CoreEvents
from app.ui.microscope.device_dialog import BusyReason, DeviceDialog, never_busy

logger = logging.getLogger(__name__)

NO_MATCH = "(no preset matches)"
IN_USE = "✓ in use"
MATCH_INTERVAL_MS = 150  # the combos follow the devices within this

#: asks the user for a new preset's name (None: cancelled); tests give their own
AskName = Callable[[QWidget, str], "str | None"]


def preset_settings(core: CMMCorePlus, group: str, preset: str) -> list[tuple[str, str, str]]:
    """(device, property, value) for each setting of a preset."""
    return [(d, p, v) for d, p, v in core.getConfigData(group, preset)]


def describe_preset(core: CMMCorePlus, group: str, preset: str) -> str:
    """A preset's settings, one a line: what a tooltip tells before it is chosen."""
    try:
        settings = preset_settings(core, group, preset)
    except Exception as exc:
        return f"{group} › {preset}: unreadable ({exc})"
    lines = [f"{group} › {preset}"]
    lines += [f"{device} · {prop} = {value}" for device, prop, value in settings]
    if not settings:
        lines.append("(sets nothing)")
    return "\n".join(lines)


def current_preset(core: CMMCorePlus, group: str, from_cache: bool) -> str:
    """The preset of ``group`` the devices match now ("" if none)."""
    try:
        if from_cache:
            return str(core.getCurrentConfigFromCache(group))
        return str(core.getCurrentConfig(group))
    except Exception:  # a device that does not answer: no preset shown as current
        return ""


class PresetCombos(QWidget):
    """One combo per configuration group; choosing a preset sets it on the core."""

    failed = pyqtSignal(str)

    def __init__(
        self,
        core: CMMCorePlus,
        events: CoreEvents,
        busy: BusyReason = never_busy,
        skip_channel_group: bool = False,
        empty_text: str = "This configuration has no configuration groups.",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.core = core
        self._busy = busy
        self._skip_channel_group = skip_channel_group  # shown elsewhere (the Camera box)
        self._empty_text = empty_text
        self.combos: dict[str, QComboBox] = {}
        self._descriptions: dict[tuple[str, str], str] = {}  # tooltips, by preset
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # announcements come in bursts (a preset sets several devices), and while a
        # multi-channel acquisition runs, at every frame: read at most every
        # MATCH_INTERVAL_MS (reading every group's presets took the GUI thread ~20 ms,
        # at each of 60 channel changes a second)
        self._match_timer = QTimer(self)
        self._match_timer.setSingleShot(True)
        self._match_timer.setInterval(MATCH_INTERVAL_MS)
        self._match_timer.timeout.connect(lambda: self.show_current(from_cache=True))
        self._rebuild_timer = QTimer(self)  # defineConfig announces each setting: once
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        events.configSet.connect(self._schedule_match)
        events.propertyChanged.connect(self._schedule_match)
        events.systemChanged.connect(self.rebuild)
        events.configDefined.connect(self._defined)
        self.rebuild()

    def _schedule_match(self, *_: str) -> None:
        if not self._match_timer.isActive():  # a restart would never fire in a stream
            self._match_timer.start()

    def _defined(self, group: str, preset: str) -> None:
        self._rebuild_timer.start()

    def set_core(self, core: CMMCorePlus) -> None:
        self.core = core
        self.rebuild()

    def groups(self) -> list[str]:
        core = self.core
        groups = [g for g in core.getAvailableConfigGroups() if core.getAvailableConfigs(g)]
        if self._skip_channel_group:
            channel = core.getChannelGroup()
            groups = [g for g in groups if g != channel]
        return groups

    def rebuild(self) -> None:
        """One row per group (the groups or their presets changed)."""
        self._descriptions.clear()
        while self._form.rowCount():
            self._form.removeRow(0)  # deletes the old combos and labels
        self.combos = {}
        groups = self.groups()
        if not groups:
            empty = QLabel(self._empty_text)
            empty.setWordWrap(True)
            self._form.addRow(empty)
        for group in groups:
            combo = QComboBox()
            combo.setPlaceholderText(NO_MATCH)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            for i, preset in enumerate(self.core.getAvailableConfigs(group)):
                combo.addItem(preset)
                combo.setItemData(i, self._described(group, preset), Qt.ItemDataRole.ToolTipRole)
            combo.activated.connect(lambda i, g=group, c=combo: self.choose(g, c.itemText(i)))
            self.combos[group] = combo
            self._form.addRow(group, combo)
        self.show_current(from_cache=False)

    def show_current(self, from_cache: bool = True) -> None:
        """Select, in each combo, the preset the devices match."""
        for group, combo in self.combos.items():
            preset = current_preset(self.core, group, from_cache)
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findText(preset) if preset else -1)
            combo.blockSignals(False)
            combo.setToolTip(
                self._described(group, preset)
                if preset
                else f"{group}: the devices match none of its presets now"
            )

    def _described(self, group: str, preset: str) -> str:
        """``describe_preset``, read once per preset (until the presets change): read at
        each match, it took the GUI thread up to 40 ms while an acquisition ran."""
        key = (group, preset)
        if key not in self._descriptions:
            self._descriptions[key] = describe_preset(self.core, group, preset)
        return self._descriptions[key]

    def choose(self, group: str, preset: str) -> bool:
        """Apply a preset; a refusal is reported (``failed``), never raised."""
        reason = self._busy()
        if reason:
            self.failed.emit(f"{group} not set to {preset}: {reason}.")
            self.show_current()
            return False
        try:
            self.core.setConfig(group, preset)
        except Exception as exc:
            logger.warning("Setting %s to %s failed: %s", group, preset, exc)
            self.failed.emit(f"Could not set {group} to {preset}: {exc}")
            self.show_current(from_cache=False)
            return False
        self.show_current()
        return True


def ask_preset_name(parent: QWidget, group: str) -> str | None:
    name, ok = QInputDialog.getText(
        parent,
        "New preset",
        f"Name of the new preset of {group}\n(the current values of its settings):",
    )
    return name.strip() if ok else None


class ConfigGroupsDialog(DeviceDialog):
    """Devices > Configuration groups…: the combos, every preset's settings, and a new
    preset from the values the devices have now."""

    title = "Configuration groups"

    def build(self) -> None:
        core, events, busy = self.core, self.events, self._busy
        self.ask_name: AskName = ask_preset_name
        self.combos = PresetCombos(core, events, busy, parent=self)
        self.combos.failed.connect(lambda text: self._say(text, error=True))
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Group › preset › setting", "Value"])
        self.tree.setAlternatingRowColors(True)
        tree_header = self.tree.header()
        if tree_header is not None:  # the settings' names fit when a preset is opened
            tree_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.new_button = QPushButton("Save the current values as a new preset…")
        self.new_button.setToolTip(
            "A preset of the selected group with the values its settings have now"
        )
        self.new_button.clicked.connect(self._ask_and_save)
        note = QLabel(
            "Double-click a preset to apply it. New presets last until a configuration "
            "is loaded: Scopeflow does not write them into the configuration file."
        )
        note.setWordWrap(True)
        self.message = MessageLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.combos)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._marks = QTimer(self)
        self._marks.setSingleShot(True)
        self._marks.setInterval(0)
        self._marks.timeout.connect(self._mark_in_use)
        self._rebuild_timer = QTimer(self)  # defineConfig announces each setting: once
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        events.configSet.connect(self._schedule_marks)
        events.propertyChanged.connect(self._schedule_marks)
        events.systemChanged.connect(self.rebuild)
        events.configDefined.connect(self._defined)
        self.rebuild()
        self.resize(560, 640)

    def _schedule_marks(self, *_: str) -> None:
        self._marks.start()

    def _defined(self, group: str, preset: str) -> None:
        self._rebuild_timer.start()

    def show_core(self) -> None:
        self.combos.set_core(self.core)
        self.rebuild()

    def rebuild(self) -> None:
        """The tree of groups, presets and settings, made again."""
        core = self.core
        self.tree.clear()
        for group in core.getAvailableConfigGroups():
            group_item = QTreeWidgetItem([group, ""])
            bold = QFont(group_item.font(0))
            bold.setBold(True)
            group_item.setFont(0, bold)
            for preset in core.getAvailableConfigs(group):
                preset_item = QTreeWidgetItem([preset, ""])
                preset_item.setToolTip(0, "Double-click to apply")
                try:
                    settings = preset_settings(core, group, preset)
                except Exception as exc:
                    settings = []
                    preset_item.setText(1, f"unreadable ({exc})")
                for device, prop, value in settings:
                    preset_item.addChild(QTreeWidgetItem([f"{device} · {prop}", value]))
                group_item.addChild(preset_item)
            self.tree.addTopLevelItem(group_item)
            group_item.setExpanded(True)
        self._mark_in_use(from_cache=False)
        self._selection_changed()

    def _mark_in_use(self, from_cache: bool = True) -> None:
        for i in range(self.tree.topLevelItemCount()):
            group_item = self.tree.topLevelItem(i)
            if group_item is None:
                continue
            current = current_preset(self.core, group_item.text(0), from_cache)
            for j in range(group_item.childCount()):
                preset_item = group_item.child(j)
                if preset_item is not None and not preset_item.text(1).startswith("unreadable"):
                    preset_item.setText(1, IN_USE if preset_item.text(0) == current else "")

    def _group_of(self, item: QTreeWidgetItem | None) -> str | None:
        while item is not None and item.parent() is not None:
            item = item.parent()
        return None if item is None else item.text(0)

    def selected_group(self) -> str | None:
        return self._group_of(self.tree.currentItem())

    def select_group(self, group: str) -> None:
        found = self.tree.findItems(group, Qt.MatchFlag.MatchExactly, 0)
        if found:
            self.tree.setCurrentItem(found[0])

    def _selection_changed(self) -> None:
        group = self.selected_group()
        self.new_button.setEnabled(group is not None)
        self.new_button.setText(
            f"Save the current values as a new preset of {group}…"
            if group
            else "Save the current values as a new preset…"
        )

    def _double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        parent = item.parent()
        is_preset = parent is not None and parent.parent() is None
        if is_preset and self.combos.choose(parent.text(0), item.text(0)):
            self._say("")

    def _ask_and_save(self) -> None:
        group = self.selected_group()
        if group is None:
            return
        name = self.ask_name(self, group)
        if name is not None:
            self.save_current_as(group, name)

    def save_current_as(self, group: str, name: str) -> bool:
        """Define preset ``name`` of ``group`` from the values its settings have now."""
        core = self.core
        name = name.strip()
        if not name:
            self._say("A preset needs a name.", error=True)
            return False
        if name in core.getAvailableConfigs(group):
            self._say(f"{group} already has a preset named {name}.", error=True)
            return False
        settings: dict[tuple[str, str], None] = {}
        for preset in core.getAvailableConfigs(group):
            for device, prop, _value in preset_settings(core, group, preset):
                settings[(device, prop)] = None
        if not settings:
            self._say(f"{group} has no settings to take values from.", error=True)
            return False
        try:
            values = [(d, p, core.getProperty(d, p)) for d, p in settings]
            for device, prop, value in values:
                core.defineConfig(group, name, device, prop, value)
        except Exception as exc:
            logger.warning("Defining %s %s failed: %s", group, name, exc)
            self._say(f"Could not define {group} › {name}: {exc}", error=True)
            return False
        self._say(f"Defined {group} › {name} from the current values.")
        self.rebuild()
        self.select_group(group)
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.message.say(text, error)
