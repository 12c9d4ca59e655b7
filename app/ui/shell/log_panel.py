"""The log panel: Python logging shown in the window, from any thread."""

from __future__ import annotations

import contextlib
import logging

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QPlainTextEdit

from app.app_logging import FOR_THE_USER


class _Relay(QObject):
    message = pyqtSignal(str)


class QtLogHandler(logging.Handler):
    """Emits each record as a Qt signal; Qt queues it to the GUI thread. Warnings and
    errors, and the news logged ``extra=FOR_THE_USER``: what a microscopist must see;
    the rest is in the log file."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level=logging.NOTSET)
        self.shown_level = level
        self.relay = _Relay()
        self.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.shown_level or any(
            getattr(record, key, False) for key in FOR_THE_USER
        )

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (closing)
            self.relay.message.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    MAX_LINES = 5000

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setMaximumBlockCount(self.MAX_LINES)
        self.setFont(QFont("monospace", 9))
        self.handler = QtLogHandler()
        self.handler.relay.message.connect(self.appendPlainText)
        logging.getLogger().addHandler(self.handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == 0:
            logging.getLogger("app").setLevel(logging.INFO)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self.handler)
