"""SteadyText: text rewritten often (progress, rates) that does not lay the window out
again each time.

A ``QLabel`` asks its layout for a new size at every ``setText``, even when the new
text fits where the old one was: the Acquisition panel's progress line and the status
bar, rewritten twice a second while an acquisition runs, made the whole window lay
itself out again twice a second (a ``LayoutRequest`` to the panel, its dock, the status
bar and the main window, and the dock animator's objects made and dropped each time:
#21). This widget asks for a new size only when its text needs more or fewer lines at
its width; otherwise it only repaints itself.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QRectF, QSize, Qt
from PyQt6.QtGui import QPainter, QPaintEvent, QResizeEvent, QTextLayout, QTextOption
from PyQt6.QtWidgets import QSizePolicy, QWidget

#: a paragraph's width when nothing else sets it, in average characters
_HINT_CHARACTERS = 30
#: what changes the text's height at the same width
_METRICS_CHANGES = frozenset(
    {QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.ApplicationFontChange}
)


class SteadyText(QWidget):
    """Read-only text, word-wrapped over at least ``min_lines`` lines (``wrap=False``:
    one line, cut at the widget's edge, never widening the window)."""

    def __init__(
        self,
        text: str = "",
        *,
        wrap: bool = True,
        min_lines: int = 1,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._text = text
        self._wrap = wrap
        self._min_lines = max(1, min_lines)
        self._height = self._needed_height(self.width())
        horizontal = QSizePolicy.Policy.Preferred if wrap else QSizePolicy.Policy.Ignored
        self.setSizePolicy(horizontal, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        self.setAccessibleName(text)
        self._fit()
        self.update()

    def _option(self) -> QTextOption:
        """Top left; a paragraph wraps between words, and inside a word (a long path)
        only when the word alone is wider than the widget, so that nothing is cut."""
        option = QTextOption(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        option.setWrapMode(
            QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
            if self._wrap
            else QTextOption.WrapMode.NoWrap
        )
        return option

    def _needed_height(self, width: int) -> int:
        """The height the text takes at ``width``: its lines, at least ``min_lines``."""
        lines_height = self._min_lines * self.fontMetrics().lineSpacing()
        if not self._wrap or not self._text:
            return lines_height
        layout = QTextLayout(self._text, self.font())
        layout.setTextOption(self._option())
        layout.beginLayout()
        height = 0.0
        while (line := layout.createLine()).isValid():
            line.setLineWidth(max(1, width))
            height += line.height()
        layout.endLayout()
        return max(lines_height, int(height + 0.999))

    def _fit(self) -> None:
        """A new size is asked for only when the text's height at this width changed."""
        height = self._needed_height(self.width())
        if height != self._height:
            self._height = height
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        return QSize(_HINT_CHARACTERS * self.fontMetrics().averageCharWidth(), self._height)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth(), self._height)

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent | None) -> None:
        super().changeEvent(event)
        if event is not None and event.type() in _METRICS_CHANGES:  # another font: lines
            self._height = -1  # asked again whatever the new height
            self._fit()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        painter.drawText(QRectF(self.contentsRect()), self._text, self._option())
        painter.end()
