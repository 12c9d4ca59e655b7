"""Quitting while an acquisition runs: the user chooses to let it finish, to abort it,
or to keep working. Either way out, what was acquired is saved and closed properly."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import Enum

from PyQt6.QtWidgets import QMessageBox, QWidget


class QuitChoice(Enum):
    FINISH = "let the acquisition finish, then quit"
    ABORT = "abort the acquisition and quit"
    CANCEL = "keep working"


def ask_how_to_quit(parent: QWidget) -> QuitChoice:
    """The question, in a box over ``parent`` (``SCOPEFLOW_NO_DIALOGS``: abort)."""
    if os.environ.get("SCOPEFLOW_NO_DIALOGS"):
        return QuitChoice.ABORT
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("An acquisition is running")
    box.setText("An acquisition is running. Quit Scopeflow?")
    box.setInformativeText(
        "Either way, the images acquired so far are saved and the dataset is closed "
        "properly before Scopeflow quits."
    )
    finish = box.addButton("Let it finish, then quit", QMessageBox.ButtonRole.AcceptRole)
    abort = box.addButton("Abort and quit", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is finish:
        return QuitChoice.FINISH
    if clicked is abort:
        return QuitChoice.ABORT
    return QuitChoice.CANCEL


class QuitGuard:
    """Whether the window may close now. While ``running``, ``ask`` decides: Cancel
    keeps the window; Finish keeps it until the acquisition ends (``finished`` then
    closes it with ``close``); Abort aborts it and closes."""

    def __init__(
        self,
        running: Callable[[], bool],
        ask: Callable[[], QuitChoice],
        abort: Callable[[], None],
        say: Callable[[str], None],
        close: Callable[[], object],
    ) -> None:
        self.running = running
        self.ask = ask
        self.abort = abort
        self.say = say
        self.close = close
        self.closing_after_acquisition = False

    def may_close(self) -> bool:
        if not self.running() or self.closing_after_acquisition:
            return True
        choice = self.ask()
        if choice is QuitChoice.CANCEL:
            return False
        if choice is QuitChoice.FINISH:
            self.closing_after_acquisition = True
            self.say("Scopeflow quits when the acquisition has finished (Abort stops it now).")
            return False
        self.abort()
        return True

    def finished(self) -> None:
        """The acquisition ended: close now if the user asked to quit once it had."""
        if self.closing_after_acquisition:
            self.close()
