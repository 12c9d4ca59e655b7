"""Devices > Micro-Manager installation…: the installations found, and the one to use.

The table is ``find_installations``'s list in its order of preference, each with the
device interface its adapters were built for, whether that fits this Scopeflow's core,
and which one the microscope in use came from. Choosing one (from the list or any
folder) is remembered in the settings and used when a configuration is next opened;
the microscope in use is never swapped from here, since reloading initialises every
device and the user decides when.
"""

from __future__ import annotations

import os
from pathlib import Path

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.microscope.installations import (
    Installation,
    InstallationInfo,
    adapter_files,
    automatic_or_chosen,
    choose_folder,
    describe_installation,
    find_installations,
    installation_in_use,
)
from app.microscope.loading import core_interface_version
from app.settings_store import SettingsStore
from app.ui.common.message_label import MessageLabel

COLUMNS = ("Folder", "Found by", "Device interface", "Adapters", "")
_MISFIT = QColor(200, 40, 40)


class InstallationsDialog(QDialog):
    def __init__(
        self, core: CMMCorePlus, settings: SettingsStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Micro-Manager installation")
        self.core = core
        self.settings = settings
        self.interface = core_interface_version()
        self.infos: list[InstallationInfo] = []
        intro = QLabel(
            f"Scopeflow loads the device adapters of a Micro-Manager installation; they "
            f"must be built for device interface <b>{self.interface}</b>, the one this "
            "Scopeflow's core is built for. A configuration loads from the installation "
            "chosen here, or, on Automatic, from the first below that has every adapter "
            "it needs."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a folder's name is at its end
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.chosen_label = QLabel()
        self.chosen_label.setWordWrap(True)
        self.message = MessageLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        role = QDialogButtonBox.ButtonRole.ActionRole
        self.use_button = buttons.addButton("Use selected", role)
        self.folder_button = buttons.addButton("Other folder…", role)
        self.automatic_button = buttons.addButton("Automatic", role)
        self.use_button.clicked.connect(self.use_selected)
        self.folder_button.clicked.connect(self.ask_folder)
        self.automatic_button.clicked.connect(self.use_automatic)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(self.chosen_label)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(900, 360)
        self.refresh()

    # ------------------------------------------------------------ the list
    def refresh(self) -> None:
        """Find the installations again and show them (an installation may have been
        added or removed while the dialog was away)."""
        self.infos = [
            describe_installation(installation)
            for installation in find_installations(settings=self.settings)
        ]
        in_use = self._in_use()
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            fits = info.fits(self.interface)
            if info.interface is None:
                version = "none readable"
            else:
                version = str(info.interface) if fits else f"{info.interface}: does not fit"
            cells = (
                str(info.installation.path),
                info.installation.found_by,
                version,
                str(info.adapters),
                "in use" if in_use is not None and in_use.path == info.installation.path else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(info.describe(self.interface))
                if not fits:
                    item.setForeground(QBrush(_MISFIT))
                if cells[4]:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        self.chosen_label.setText(f"Chosen: {automatic_or_chosen(self.settings, html=True)}")
        self.chosen_label.setTextFormat(Qt.TextFormat.RichText)

    def _in_use(self) -> Installation | None:
        try:
            return installation_in_use(self.core.getDeviceAdapterSearchPaths(), self.settings)
        except Exception:  # a core in a bad state: nothing marked, the rest still shown
            return None

    # ------------------------------------------------------------ choosing
    def use_selected(self) -> bool:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.say("Select an installation in the list first.", error=True)
            return False
        return self.use_folder(self.infos[rows[0].row()].installation.path)

    def ask_folder(self) -> bool:
        folder = QFileDialog.getExistingDirectory(
            self, "The folder Micro-Manager is installed in", os.environ.get("PROGRAMFILES", "")
        )
        return self.use_folder(folder) if folder else False

    def use_folder(self, folder: str | os.PathLike[str]) -> bool:
        """Remember ``folder`` (said why not when it holds no adapter)."""
        path = Path(folder).expanduser()
        if not path.is_dir():
            self.message.say(f"{path} does not exist: not chosen.", error=True)
            return False
        if not adapter_files(path):
            self.message.say(
                f"{path} holds no Micro-Manager device adapter (no mmgr_dal_* library): not "
                "chosen. Choose the folder Micro-Manager is installed in.",
                error=True,
            )
            return False
        choose_folder(path, self.settings)
        self.refresh()
        info = describe_installation(Installation(path.resolve(), "chosen in Scopeflow"))
        then = " The microscope in use is unchanged: File › Open configuration… loads one with it."
        if info.fits(self.interface):
            self.message.say(f"Configurations will load from {path}.{then}")
        else:
            self.message.say(
                f"Chosen, but its adapters are built for device interface {info.interface}, "
                f"not {self.interface}: configurations will not load from it.{then}",
                error=True,
            )
        return True

    def use_automatic(self) -> None:
        choose_folder(None, self.settings)
        self.refresh()
        self.message.say(automatic_or_chosen(self.settings) + ".")

    # ------------------------------------------------------------ the microscope
    def set_core(self, core: CMMCorePlus) -> None:
        self.core = core
        self.refresh()


def offer_another_installation(parent: QWidget, message: str) -> bool:
    """The adapters do not fit: say so, with a button to choose another installation;
    True if the user pressed it."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Device adapters do not fit")
    problem, _, advice = message.partition("\nInstall ")
    box.setText(problem)
    if advice:
        box.setInformativeText("Install " + advice)
    choose = box.addButton("Choose installation…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    return box.clickedButton() is choose
