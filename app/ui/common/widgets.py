"""Small pieces the panels share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


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


@contextmanager
def sizes_held(table: QTableWidget) -> Iterator[None]:
    """Many cells of ``table`` change at once: its columns sized to their contents are
    measured once, after, instead of at every cell (Qt measures every row of the column
    again at each change: rebuilding ten processors' rows took 20-25 ms of the GUI
    thread, and 2.3 ms with their sizes held)."""
    header = table.horizontalHeader()
    held = [
        column
        for column in range(header.count())
        if header.sectionResizeMode(column) is QHeaderView.ResizeMode.ResizeToContents
    ]
    for column in held:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    try:
        yield
    finally:
        for column in held:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
