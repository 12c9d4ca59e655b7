"""Small pieces the panels share."""

from __future__ import annotations

from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QAbstractItemView, QTableWidget


class ChangeBridge(QObject):
    """Carries a model's change signal (psygnal, from any thread) to the GUI thread:
    Qt queues a signal emitted on another thread to the receiver's thread.

    Connect the model to ``notify``, never to ``changed.emit``: psygnal keeps a Qt bound
    signal's ``emit`` after its object is deleted, and calling it then is a segmentation
    fault (a registry or a scripts folder outlives the panel that shows it). ``notify``
    is a Python method, which psygnal holds weakly: it goes with the bridge."""

    changed = pyqtSignal()

    def notify(self, *_: Any) -> None:
        if not sip.isdeleted(self):
            self.changed.emit()


def row_table(columns: list[str], table: QTableWidget | None = None) -> QTableWidget:
    """A read-only table whose rows are selected one at a time."""
    table = table if table is not None else QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table
