"""Small pieces the panels share."""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QAbstractItemView, QTableWidget


class ChangeBridge(QObject):
    """Carries a model's change signal (psygnal, from any thread) to the GUI thread:
    Qt queues a signal emitted on another thread to the receiver's thread."""

    changed = pyqtSignal()


def row_table(columns: list[str], table: QTableWidget | None = None) -> QTableWidget:
    """A read-only table whose rows are selected one at a time."""
    table = table if table is not None else QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table
