"""SteadyText: the progress line and the status bar, rewritten twice a second while an
acquisition runs, do not lay the window out again each time (#21)."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from app.ui.common.steady_text import SteadyText


class _LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self, watched: QWidget) -> None:
        super().__init__()
        self.count = 0
        watched.installEventFilter(self)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _in_a_window(qtbot, text: SteadyText) -> QWidget:
    window = QWidget()
    QVBoxLayout(window).addWidget(text)
    qtbot.addWidget(window)
    window.resize(300, 200)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(20)  # its first layout done
    return window


def test_new_text_of_the_same_lines_repaints_without_a_new_layout(qtbot):
    text = SteadyText("Acquiring: 1 / 1000 frames", min_lines=3)
    window = _in_a_window(qtbot, text)
    requests = _LayoutRequests(window)
    height = text.height()
    for done in range(2, 40):
        text.setText(f"Acquiring: {done} / 1000 frames   elapsed 00:00:{done:02d}")
        qtbot.wait(1)
    assert requests.count == 0
    assert text.height() == height == 3 * text.fontMetrics().lineSpacing()
    assert text.text() == "Acquiring: 39 / 1000 frames   elapsed 00:00:39"
    assert text.accessibleName() == text.text()  # what a screen reader says


def test_text_that_needs_more_lines_gets_them_and_fewer_gives_them_back(qtbot):
    text = SteadyText("Ready", min_lines=2)
    window = _in_a_window(qtbot, text)
    two_lines = text.height()
    text.setText("Failed: " + "the camera stopped sending frames " * 12)
    qtbot.waitUntil(lambda: text.height() > two_lines, timeout=2000)
    assert text.height() <= window.height()
    text.setText("Ready")
    qtbot.waitUntil(lambda: text.height() == two_lines, timeout=2000)


def test_a_path_wider_than_the_widget_is_wrapped_inside_it_not_cut(qtbot):
    """ "Finished: 18 images saved in <a long folder>": a word alone wider than the
    panel is broken where it must be, onto as many lines as it takes."""
    text = SteadyText("Ready", min_lines=1)
    window = _in_a_window(qtbot, text)
    line = text.fontMetrics().lineSpacing()
    folder = "/data/experiment_" + "_".join(f"well{n}" for n in range(40))  # no break in it
    assert text.fontMetrics().horizontalAdvance(folder) > 3 * text.width()
    text.setText(f"Finished: 18 images saved in {folder}")
    qtbot.waitUntil(lambda: text.height() >= 4 * line, timeout=2000)
    assert text.width() < window.width()  # the window did not widen for it


def test_a_new_font_gives_the_lines_the_height_they_need(qtbot):
    text = SteadyText("Acquiring: 1 / 10 frames", min_lines=3)
    window = _in_a_window(qtbot, text)
    small = text.height()
    font = text.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    text.setFont(font)  # as a larger system font would
    qtbot.waitUntil(lambda: text.height() >= 3 * text.fontMetrics().lineSpacing(), timeout=2000)
    assert text.height() > small and window.isVisible()


def test_one_line_is_cut_at_the_edge_and_never_widens_the_window(qtbot):
    text = SteadyText(wrap=False)
    window = _in_a_window(qtbot, text)
    width = window.width()
    text.setText("camera 480 fps   " * 40)
    qtbot.wait(20)
    assert window.width() == width
    assert text.height() == text.fontMetrics().lineSpacing()


def test_the_text_is_drawn(qtbot):
    text = SteadyText("", min_lines=1)
    window = _in_a_window(qtbot, text)
    assert window.isVisible()
    blank = text.grab().toImage()
    text.setText("Finished: 18 images saved")
    drawn = text.grab().toImage()
    assert drawn != blank
