"""The window's docks: where each panel sits, and going back there.

The side panels take the window's whole height (the Acquisition panel's plan had
room for less than two channel rows under a Log across the bottom); the Log and the
Console sit under the image, tabbed. The layout first shown is kept, so that View >
Reset layout goes back to it whatever the user moved since.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QByteArray, QObject, Qt, QTimer
from PyQt6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
#: shown only while a measuring tool is on
PROFILE = "Profile"


class Docks(QObject):
    """The panels of ``window``, by title (``docks``); ``measuring`` says whether a
    measuring tool is on (the Profile is shown then). A QObject of the window's, so a
    call it queued dies with the window."""

    def __init__(self, window: QMainWindow, measuring: Callable[[], bool]) -> None:
        super().__init__(window)
        self.window = window
        self.measuring = measuring
        self.docks: dict[str, QDockWidget] = {}
        self._initial_layout = QByteArray()
        self._sized = False
        window.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
        window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)

    def __getitem__(self, title: str) -> QDockWidget:
        return self.docks[title]

    def add(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False
    ) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"dock_{title.lower()}")
        if scroll:  # a tall panel scrolls rather than squeezing the others
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            scrollbar = area_widget.verticalScrollBar()
            width = scrollbar.sizeHint().width() if scrollbar is not None else 0
            area_widget.setMinimumWidth(widget.minimumSizeHint().width() + width)
            widget = area_widget
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def tab(self, first: str, second: str) -> None:
        """``second`` as a tab behind ``first``."""
        self.window.tabifyDockWidget(self.docks[first], self.docks[second])

    def bring_up(self, title: str) -> None:
        self.docks[title].show()
        self.docks[title].raise_()

    def keep_initial_layout(self) -> None:
        """The layout View > Reset layout goes back to: this one."""
        self._initial_layout = self.window.saveState()

    def reset_layout(self) -> None:
        """Every panel back where it was when Scopeflow was first started (the Profile
        only while a measuring tool is on)."""
        self.window.restoreState(self._initial_layout)
        measuring = self.measuring()
        for title, dock in self.docks.items():
            dock.setVisible(title != PROFILE or measuring)

    def size_log_once_shown(self) -> None:
        """Once the window is shown (sizes set before are not kept): the console, tabbed
        with the Log, opens with room for a dozen lines."""
        if not self._sized:
            self._sized = True
            # a QObject's bound method, not a lambda: Qt drops it if the window goes first
            QTimer.singleShot(0, self._size_log)

    def _size_log(self) -> None:
        line = self.window.fontMetrics().lineSpacing()
        self.window.resizeDocks([self.docks["Log"]], [14 * line + 40], Qt.Orientation.Vertical)


def lay_out_panels(
    docks: Docks,
    microscope: QWidget,
    acquisition: QWidget,
    processors: QWidget,
    scripts: QWidget,
    log: QWidget,
    console: QWidget | None,
    profile: QWidget,
) -> None:
    """The first layout: the microscope's and the acquisition's panels tabbed on the
    left (the Microscope panel scrolls: it is tall), the processors' and the scripts'
    on the right with the Profile (hidden until a measuring tool is on), the Log and
    the Console tabbed at the bottom."""
    docks.add("Microscope", microscope, LEFT, scroll=True)
    docks.add("Acquisition", acquisition, LEFT)
    docks.add("Processors", processors, RIGHT)
    docks.add("Scripts", scripts, RIGHT)
    docks.add("Log", log, BOTTOM)
    if console is not None:
        docks.add("Console", console, BOTTOM)
        docks.tab("Log", "Console")
    docks.add(PROFILE, profile, RIGHT).hide()
    docks.tab("Microscope", "Acquisition")
    docks.tab("Processors", "Scripts")
    docks["Microscope"].raise_()
    docks["Processors"].raise_()
    docks.window.resizeDocks(
        [docks["Microscope"], docks["Processors"]], [330, 420], Qt.Orientation.Horizontal
    )
