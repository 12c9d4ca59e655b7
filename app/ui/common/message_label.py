"""A dialog's line of news: what was done, or in red why it was not.

A word-wrapped QLabel that appears after its dialog was laid out is often given the
height of one line and its second line is cut off; this one asks for the height its
text needs at the width it has, so a long refusal is read whole.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QLabel, QWidget

ERROR_STYLE = "color: #b00020; font-weight: bold;"


class MessageLabel(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def say(self, text: str, error: bool = False) -> None:
        """Show ``text`` (in red if ``error``); an empty text hides the label."""
        self.setText(text)
        self.setStyleSheet(ERROR_STYLE if error else "")
        self.setVisible(bool(text))
        self.updateGeometry()

    def _wrapped(self, hint: QSize) -> QSize:
        if self.width() > 0:
            hint.setHeight(max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def sizeHint(self) -> QSize:
        return self._wrapped(super().sizeHint())

    def minimumSizeHint(self) -> QSize:
        return self._wrapped(super().minimumSizeHint())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.updateGeometry()  # a new width may need another number of lines
