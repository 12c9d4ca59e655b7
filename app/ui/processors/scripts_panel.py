"""The scripts panel: the files of the scripts folder, their state, and actions."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QDesktopServices, QGuiApplication
from PyQt6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.scripting.scripts_folder import ScriptsFolder
from app.ui.common.message_label import MessageLabel
from app.ui.common.widgets import ChangeBridge, row_table, sizes_held
from app.ui.processors.script_editor import ScriptEditor

COLUMNS = ["File", "State", "Processors"]


class ScriptsPanel(QWidget):
    """Lists the folder's files. Run executes a file in the console's namespace.

    Edit and Open folder ask the desktop (``editor``, ``opener``: tests replace them);
    where it has no
    program for the file or folder, a file opens in Scopeflow's own editor and a folder's
    path is copied to the clipboard, both said below the buttons."""

    runRequested = pyqtSignal(str)
    folderChosen = pyqtSignal(str)

    def __init__(self, folder: ScriptsFolder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.opener: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.editor: Callable[[str], bool] = open_for_editing
        self.editors: dict[str, ScriptEditor] = {}
        self._bridge = ChangeBridge()
        self._bridge.changed.connect(self.rebuild)
        folder.changed.connect(self._bridge.notify)  # from the folder's scanning thread
        self.location = QLabel()
        self.location.setWordWrap(True)
        self.table = row_table(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(110)
        self.details.setPlaceholderText("Select a file to see its state.")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the file in the console's namespace (as __main__)")
        self.run_button.clicked.connect(self._run_selected)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setToolTip("Open the file in your editor; saving it reloads it")
        self.edit_button.clicked.connect(self.open_selected)
        folder_button = QPushButton("Folder…")
        folder_button.setToolTip("Use another scripts folder")
        folder_button.clicked.connect(self._choose_folder)
        open_folder = QPushButton("Open folder")
        open_folder.setToolTip("Open the scripts folder in the file manager")
        open_folder.clicked.connect(self.open_folder)
        self.message = MessageLabel()
        buttons = QHBoxLayout()
        for button in (self.run_button, self.edit_button, open_folder, folder_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.location)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        self.rebuild()

    def detach(self) -> None:
        """The window closes: stop following the folder (its scanning thread may still
        finish a scan)."""
        self.folder.changed.disconnect(self._bridge.notify)

    def rebuild(self) -> None:
        selected = self.selected_path()
        self.location.setText(f"Scripts folder: {self.folder.path}")
        states = self.folder.snapshot()
        with sizes_held(self.table):
            self.table.setRowCount(len(states))
            for row, state in enumerate(states):
                name = QTableWidgetItem(state.path.name)
                name.setData(Qt.ItemDataRole.UserRole, str(state.path))
                word = {"error": "⚠ error", "loaded": "loaded"}.get(state.status, "script")
                status = QTableWidgetItem(f"{word} {_clock(state.loaded_at)}".rstrip())
                status.setToolTip(
                    "When this version of the file was loaded: saving it loads it again"
                )
                if state.error:
                    status.setForeground(Qt.GlobalColor.red)
                name.setToolTip(str(state.path))  # the column may cut a long name short
                processors = QTableWidgetItem(", ".join(state.processors))
                processors.setToolTip(", ".join(state.processors))
                self.table.setItem(row, 0, name)
                self.table.setItem(row, 1, status)
                self.table.setItem(row, 2, processors)
                if str(state.path) == selected:
                    self.table.selectRow(row)
                editor = self.editors.get(str(state.path))
                if editor is not None and editor.isVisible() and state.loaded_at is not None:
                    editor.show_load(state.error, _clock(state.loaded_at))
        self._show_details()

    def selected_path(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def select(self, filename: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).text() == filename:
                self.table.selectRow(row)

    def _show_details(self) -> None:
        path = self.selected_path()
        state = self.folder.state_of(Path(path)) if path else None
        if state is None:
            self.details.clear()
            return
        if state.error and state.processors:
            text = (
                f"The edit saved at {_clock(state.loaded_at)} could not be loaded; the last "
                "working version stays active.\n" + state.error
            )
        elif state.error:
            text = "This file could not be loaded:\n" + state.error
        elif state.processors:
            text = f"Loaded at {_clock(state.loaded_at)}: {', '.join(state.processors)}"
        else:
            text = "No processor: run it on demand with Run."
        self.details.setPlainText(text)

    def open_selected(self) -> None:
        """The selected file in the user's editor, else in Scopeflow's own."""
        path = self.selected_path()
        if not path:
            self.message.say("Select a file in the list first.", error=True)
            return
        if self.editor(path):
            self.message.say(f"Opened {Path(path).name} in your editor; saving it reloads it.")
            return
        editor = self.editors.get(path)
        if editor is None:
            editor = self.editors[path] = ScriptEditor(path, self.window())
        editor.show_file()
        self.message.say(
            f"No program is set to open .py files on this computer, so {Path(path).name} "
            "opened in Scopeflow's own editor (saving reloads it). The file: " + path
        )

    def close_editors(self) -> bool:
        """The window closes: each editor with unsaved changes asks; False if one
        was kept open (the window stays)."""
        for editor in self.editors.values():
            if editor.isVisible() and not editor.close():
                return False
        return True

    def open_folder(self) -> None:
        """The folder in the file manager, else its path on the clipboard."""
        folder = str(self.folder.path)
        if self.opener(QUrl.fromLocalFile(folder)):
            self.message.say("")
            return
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(folder)
        self.message.say(
            f"No file manager could be opened here. The scripts folder is {folder} "
            "(copied to the clipboard: paste it in a file manager or an editor's Open box)."
        )

    def _run_selected(self) -> None:
        path = self.selected_path()
        if path:
            self.runRequested.emit(path)

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Scripts folder", str(self.folder.path))
        if chosen:
            self.folderChosen.emit(chosen)


def _clock(when: float | None) -> str:
    """A load's time of day, to the second: a save shows as a new time."""
    return time.strftime("%H:%M:%S", time.localtime(when)) if when is not None else ""


def open_for_editing(path: str) -> bool:
    """Open ``path`` in the user's editor; False when the desktop has none for it.

    On Windows a .py file's "open" runs it (python.org's launcher): its "edit" verb is
    asked for instead."""
    if sys.platform == "win32":
        try:
            os.startfile(path, "edit")  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))
