"""Scopeflow's own text view of a script, for computers with no program set to open
``.py`` files (a fresh Windows PC opens nothing, or asks each time; a Linux desktop
without a handler does nothing at all).

A plain editor on purpose: the user's editor is better, and is used whenever the desktop
has one. Saving writes the file whole (a temporary file renamed over it, with the
file's permissions), so the scripts folder's watcher never loads half a file, and the
save reloads the script as any editor's would. A file changed elsewhere since it was
read is never overwritten without asking; shown again unmodified, the editor reads the
file again.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtGui import QCloseEvent, QFontDatabase, QKeySequence
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.common.message_label import MessageLabel


class ScriptEditor(QDialog):
    def __init__(self, path: str | os.PathLike[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"{self.path.name} ({self.path.parent})")
        self.text = QPlainTextEdit()
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.message = MessageLabel()
        self.position = QLabel()  # "Line 10, column 4": where an error's line is
        self.text.cursorPositionChanged.connect(self._show_position)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip("Save (Ctrl+S): the script is loaded again")
        self.save_button.clicked.connect(self.save)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.message)
        layout.addWidget(self.position)
        layout.addWidget(buttons)
        self.resize(760, 560)
        self._read_as: tuple[int, int] | None = None  # the file's (size, mtime) when read
        #: asked before overwriting a file changed elsewhere (tests answer it)
        self.overwrite_changed: Callable[[], bool] = self._ask_overwrite
        self.load()

    def show_file(self) -> None:
        """Show the editor; unmodified, with the file as it is now on disk."""
        if not self.text.document().isModified():
            self.load()
        self.show()
        self.raise_()
        self.activateWindow()

    def load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
            self._read_as = self._disk_state()
        except (OSError, UnicodeDecodeError) as exc:
            self.text.setPlainText("")
            self.text.setReadOnly(True)
            self.save_button.setEnabled(False)
            self.message.say(f"Could not read {self.path}: {exc}", error=True)
            return
        self.text.setPlainText(text)
        self.text.document().setModified(False)

    def _disk_state(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def save(self) -> bool:
        """Write the text over the file, whole; False (said) if it was not."""
        if self._disk_state() != self._read_as and not self.overwrite_changed():
            self.message.say(
                f"Not saved: {self.path.name} was changed elsewhere since it was opened "
                "here. Close without saving and press Edit again to read it.",
                error=True,
            )
            return False
        temporary = None
        try:
            handle, temporary = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(self.text.toPlainText())
            with contextlib.suppress(OSError):  # the script's own permissions, not 0600
                os.chmod(temporary, self.path.stat().st_mode & 0o7777)
            os.replace(temporary, self.path)
            temporary = None
        except OSError as exc:
            self.message.say(f"Not saved: {exc}", error=True)
            return False
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        self._read_as = self._disk_state()
        self.text.document().setModified(False)
        self.message.say(f"Saved {self.path.name}; the scripts folder loads it again.")
        return True

    def show_load(self, error: str | None, loaded: str) -> None:
        """What the scripts folder made of the file saved here: its error (with the
        line), or that it loaded; the panel that says it may be behind this window."""
        if error:
            self.message.say(f"Saved, but it did not load:\n{error}", error=True)
            line = re.search(r"line (\d+)", error)
            if line is not None:
                self.go_to_line(int(line.group(1)))
        else:
            self.message.say(f"Saved and loaded at {loaded}.")

    def go_to_line(self, number: int) -> None:
        """The cursor to the start of line ``number`` (1-based), in sight."""
        block = self.text.document().findBlockByNumber(max(0, number - 1))
        if block.isValid():
            cursor = self.text.textCursor()
            cursor.setPosition(block.position())
            self.text.setTextCursor(cursor)
            self.text.centerCursor()

    def _show_position(self) -> None:
        cursor = self.text.textCursor()
        self.position.setText(
            f"Line {cursor.blockNumber() + 1}, column {cursor.positionInBlock() + 1}"
        )

    def _ask_overwrite(self) -> bool:
        if os.environ.get("SCOPEFLOW_NO_DIALOGS"):
            return False
        answer = QMessageBox.question(
            self,
            "Changed elsewhere",
            f"{self.path.name} was changed by another program since it was opened here. "
            "Overwrite it with the text shown here?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent | None) -> None:
        if self.text.document().isModified() and not os.environ.get("SCOPEFLOW_NO_DIALOGS"):
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                f"Save the changes to {self.path.name}?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self.save()
            ):
                if event is not None:
                    event.ignore()
                return
        super().closeEvent(event)
