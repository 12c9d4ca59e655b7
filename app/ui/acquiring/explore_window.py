"""The Explore window: a map that grows where the microscopist points.

The rule this module keeps: the mouse only asks. A click asks the ``Exploration`` for
the tile under it, a drag for the tiles under a rectangle, a double-click for the
stage to move there; the exploration's own threads acquire, and the map (``MapView``)
draws the tiles as they are saved, off the GUI thread. Nothing here waits for the
microscope or for user code: a stage that is busy with tiles says so in the status
line, and closing the window drops the tiles still queued without waiting for them.

A single click waits for the double-click interval before it asks for a tile, so a
double-click (move the stage) never also acquires one. With the Pan tool, or with the
middle button, a drag pans; the wheel zooms.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QColor, QPainter, QPen
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QMainWindow,
    QSlider,
    QToolBar,
    QWidget,
)

from app.acquisition.explore import Exploration, StageBusyError, Tile
from app.acquisition.state import RunState
from app.acquisition.tiles import TileLayout
from app.ui.display.map_view import MapView
from app.ui.display.viewer import ImageViewer

logger = logging.getLogger(__name__)

#: how often the queued tiles, the stage's field and the status line are brought up to date
REFRESH_MS = 200
#: how long a message stays in the status line, in seconds
MESSAGE_S = 6.0
#: the bounding box of the picker: it takes the mouse everywhere a map could be
_EVERYWHERE = QRectF(-1e8, -1e8, 2e8, 2e8)


class TilePicker(pg.GraphicsObject):
    """Over the map: picks tiles with the mouse, and draws the tiles queued, the tile
    under the mouse, the rectangle being dragged and the camera's field where the stage
    is. Coordinates are full-resolution map pixels (the view's)."""

    def __init__(
        self,
        layout: TileLayout,
        tiles_in: Callable[[float, float, float, float], list[Tile]],
        ask_tiles: Callable[[float, float, float, float], Any],
        move_stage: Callable[[float, float], None],
    ) -> None:
        """``tiles_in(y0, x0, y1, x1)``: the tiles under a rectangle of the map;
        ``ask_tiles`` the same, to acquire them; ``move_stage(y, x)``."""
        super().__init__()
        self.layout = layout
        self._tiles_in = tiles_in
        self._ask_tiles = ask_tiles
        self._move_stage = move_stage
        self.picking = True  # the Acquire tiles tool (else the Pan tool)
        self.queued: set[Tile] = set()
        self.acquired: set[Tile] = set()
        self.stage_at: tuple[float, float] | None = None  # map pixel (y, x)
        self._hovered: Tile | None = None
        self._dragged: QRectF | None = None
        self._click = QTimer()
        self._click.setSingleShot(True)
        self._click.timeout.connect(self._single_click)
        self._clicked_at: QPointF | None = None
        self.setAcceptHoverEvents(True)
        self.setZValue(10)

    # ---- drawing ----
    def boundingRect(self) -> QRectF:
        return _EVERYWHERE

    def _tile_rect(self, tile: Tile) -> QRectF:
        step_y, step_x = self.layout.step
        return QRectF(tile[1] * step_x, tile[0] * step_y, step_x, step_y)

    def paint(self, painter: QPainter, *args: Any) -> None:
        def pen(colour: str, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
            drawn = QPen(QColor(colour))
            drawn.setCosmetic(True)  # one screen pixel wide at any zoom
            drawn.setWidth(2)
            drawn.setStyle(style)
            return drawn

        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(pen("#4a4a4a"))  # the grid of the tiles there are, faintly
        for tile in self.acquired:
            painter.drawRect(self._tile_rect(tile))
        painter.setPen(pen("#f5c542", Qt.PenStyle.DashLine))
        for tile in self.queued:
            painter.drawRect(self._tile_rect(tile))
        if self._dragged is not None:
            painter.setPen(pen("#42d4f5"))
            for tile in self._tiles_under(self._dragged):
                painter.drawRect(self._tile_rect(tile))
        elif self._hovered is not None and self.picking:
            painter.setPen(pen("#ffffff", Qt.PenStyle.DotLine))
            painter.drawRect(self._tile_rect(self._hovered))
        if self.stage_at is not None:
            y, x = self.stage_at
            width, height = self.layout.width, self.layout.height
            painter.setPen(pen("#ff4d4d"))
            painter.drawRect(QRectF(x - width / 2, y - height / 2, width, height))

    def _tiles_under(self, rect: QRectF) -> list[Tile]:
        return self._tiles_in(rect.top(), rect.left(), rect.bottom(), rect.right())

    def refresh(
        self, acquired: set[Tile], queued: set[Tile], stage_at: tuple[float, float] | None
    ) -> None:
        if (acquired, queued, stage_at) != (self.acquired, self.queued, self.stage_at):
            self.acquired, self.queued, self.stage_at = acquired, queued, stage_at
            self.update()

    # ---- the mouse ----
    def hoverEvent(self, event: Any) -> None:
        hovered = (
            None if event.isExit() else self.layout.tile_at_pixel(event.pos().y(), event.pos().x())
        )
        if hovered != self._hovered:
            self._hovered = hovered
            self.update()

    def mouseClickEvent(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        event.accept()
        if event.double():
            self._click.stop()  # the first click of a double-click asks for nothing
            self._move_stage(event.pos().y(), event.pos().x())
        elif self.picking:
            self._clicked_at = QPointF(event.pos())
            self._click.start(QApplication.doubleClickInterval())

    def stop(self) -> None:
        """The window closes: a click waiting for its double-click asks for nothing."""
        self._click.stop()

    def _single_click(self) -> None:
        point = self._clicked_at
        if point is not None:
            self._ask_tiles(point.y(), point.x(), point.y(), point.x())

    def mouseDragEvent(self, event: Any) -> None:
        if not self.picking or event.button() != Qt.MouseButton.LeftButton:
            event.ignore()  # the view pans
            return
        event.accept()
        start, now = event.buttonDownPos(), event.pos()
        rect = QRectF(start, now).normalized()
        if event.isFinish():
            self._dragged = None
            self._ask_tiles(rect.top(), rect.left(), rect.bottom(), rect.right())
        else:
            self._dragged = rect
        self.update()


class ExploreWindow(QMainWindow):
    """One exploration's window: the map, the tools, the plane shown, the status."""

    closed = pyqtSignal()
    #: tiles are on their way (True) or none is (False): the microscope is the map's
    busyChanged = pyqtSignal(bool)

    def __init__(
        self,
        exploration: Exploration,
        parent: QWidget | None = None,
        before_acquiring: Callable[[], None] | None = None,
    ) -> None:
        """``before_acquiring`` runs on the GUI thread before tiles are asked for (the
        main window stops Live: the camera is the map's)."""
        super().__init__(parent)
        self.exploration = exploration
        self._before_acquiring = before_acquiring
        self.setWindowTitle(f"Explore: {exploration.dataset.path}")
        self.viewer = ImageViewer()
        self.map_view = MapView(self.viewer)
        self.picker = TilePicker(
            exploration.layout, exploration.tiles_in, self.ask_tiles, self.move_stage
        )
        self.viewer.view.addItem(self.picker, ignoreBounds=True)
        self.viewer.hint.setText("Click a tile to acquire it: the map starts here.")
        # at the top: the tiles to click are in the middle, under it
        self.viewer.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.viewer.set_pixel_size(exploration.acquisition.core.getPixelSizeUm())
        self.map_view.follows_growth = False  # the view stays where the user points
        self.setCentralWidget(self.viewer)
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.settings_label = QLabel(exploration.settings.describe())
        self.statusBar().addPermanentWidget(self.settings_label)
        self._message = ""
        self._message_at = 0.0
        self._busy = False
        self._build_tools()
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        self._refresh.start()
        self.map_view.show(exploration.dataset)
        self.resize(900, 700)
        self._centre_on_stage(tiles=3)
        self.refresh()

    def _build_tools(self) -> None:
        tools = QToolBar("Explore")
        tools.setMovable(False)
        self.addToolBar(tools)
        group = QActionGroup(self)
        self.pick_action = QAction("Acquire tiles", self)
        self.pick_action.setCheckable(True)
        self.pick_action.setChecked(True)
        self.pick_action.setToolTip(
            "Click a tile to acquire it, drag over several; double-click moves the stage"
        )
        self.pan_action = QAction("Pan", self)
        self.pan_action.setCheckable(True)
        self.pan_action.setToolTip("Drag to move the map (the middle button always pans)")
        for action in (self.pick_action, self.pan_action):
            group.addAction(action)
            tools.addAction(action)
        self.pick_action.toggled.connect(self._set_picking)
        tools.addSeparator()
        tools.addAction("Fit map", self.map_view.fit)
        tools.addAction("Go to stage", lambda: self._centre_on_stage(tiles=3))
        tools.addSeparator()
        self.stop_action = tools.addAction("Stop exploring", self.stop)
        self.stop_action.setToolTip("Tiles queued are still acquired; then the map is closed")
        settings = self.exploration.settings
        self.channel_box = QComboBox()
        self.channel_box.addItems([c.preset for c in settings.channels])
        self.channel_box.currentTextChanged.connect(self._show_plane)
        self.z_slider = QSlider(Qt.Orientation.Horizontal)
        self.z_slider.setRange(0, max(0, len(settings.z_positions) - 1))
        self.z_slider.setMaximumWidth(160)
        self.z_slider.valueChanged.connect(self._show_plane)
        self.z_label = QLabel()
        if settings.channels:
            tools.addSeparator()
            tools.addWidget(QLabel(" Channel "))
            tools.addWidget(self.channel_box)
        if len(settings.z_positions) > 1:
            tools.addSeparator()
            tools.addWidget(QLabel(" Z "))
            tools.addWidget(self.z_slider)
            tools.addWidget(self.z_label)
        self._show_plane()
        self._set_picking(True)

    # ---- what the user does ----
    def ask_tiles(self, y0: float, x0: float, y1: float, x1: float) -> list[Tile]:
        """Acquire the tiles under a rectangle of the map (a point: one tile)."""
        tiles = self.exploration.tiles_in(y0, x0, y1, x1)
        if self._before_acquiring is not None and not all(map(self.exploration.asked, tiles)):
            self._before_acquiring()
        try:
            asked = self.exploration.acquire(tiles)
        except Exception as exc:  # finished, or an event the hardware refuses
            self.say(f"Could not acquire {len(tiles)} tile(s): {exc}")
            return []
        if not asked:
            self.say("Already acquired (or queued)")
        self.refresh()
        return asked

    def move_stage(self, y: float, x: float) -> None:
        try:
            x_um, y_um = self.exploration.move_stage_to(y, x)
        except StageBusyError as exc:
            self.say(str(exc))
        except Exception as exc:  # the stage refused (a limit, a device error)
            self.say(f"The stage did not move: {exc}")
        else:
            self.say(f"Stage moved to x {x_um:.1f}, y {y_um:.1f} µm")

    def stop(self) -> None:
        """No more tiles: those queued still run, then the map is closed."""
        self.exploration.stop()
        self._close_tools()
        self.say("Exploration stopped: the map is saved in " + str(self.exploration.dataset.path))

    @property
    def _open(self) -> bool:
        """Tiles may still be asked for."""
        return self.stop_action.isEnabled()

    def _close_tools(self) -> None:
        self.stop_action.setEnabled(False)
        self.pick_action.setEnabled(False)
        self.pan_action.setChecked(True)
        self._set_picking(False)

    def say(self, message: str) -> None:
        """A message in the status line, for a few seconds."""
        self._message, self._message_at = message, time.monotonic()
        self.refresh()

    def _set_picking(self, picking: bool) -> None:
        self.picker.picking = picking and self._open
        self.viewer.title.setText(
            "Click a tile to acquire it, drag over several · double-click: move the stage "
            "there · middle-drag pans, the wheel zooms"
            if self.picker.picking
            else "Drag to pan, the wheel zooms · double-click: move the stage there"
        )

    def _show_plane(self, *_: Any) -> None:
        settings = self.exploration.settings
        plane: dict[str, Any] = {}
        if settings.channels:
            plane["channel"] = self.channel_box.currentText()
        if settings.z_positions:
            index = self.z_slider.value()
            plane["z"] = index
            self.z_label.setText(f" {index + 1}/{len(settings.z_positions)}: "
                                 f"{settings.z_positions[index]:.2f} µm ")  # fmt: skip
        self.map_view.show_plane(plane)

    def _centre_on_stage(self, tiles: int) -> None:
        """The camera's field in the middle of the window, ``tiles`` fields across."""
        try:
            y, x = self.exploration.stage_pixel()
        except Exception as exc:  # no stage to read
            logger.debug("No stage position: %s", exc)
            return
        width, height = (
            self.exploration.layout.width * tiles,
            self.exploration.layout.height * tiles,
        )
        self.viewer.view.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0)

    # ---- what the window shows ----
    def refresh(self) -> None:
        exploration = self.exploration
        try:
            stage_at: tuple[float, float] | None = exploration.stage_pixel()
        except Exception:  # the stage is being swapped, or busy
            stage_at = None
        queued = exploration.pending()
        acquired = exploration.acquired()
        self.picker.refresh(acquired, queued, stage_at)
        if bool(queued) != self._busy:
            self._busy = bool(queued)
            self.busyChanged.emit(self._busy)
        status = exploration.acquisition.status
        if status.state is RunState.FAILED and self._open:
            self._close_tools()
            self._message_at = math.inf  # said until the window closes
            self._message = (
                f"The exploration stopped on an error: {status.error}. Close this window; "
                "Acquire > Go on exploring the map shown adds tiles to the map"
            )
        if time.monotonic() - self._message_at > MESSAGE_S:
            self._message = ""
        text = f"{len(acquired)} tile(s) acquired, {len(queued)} queued · {status.state.value}"
        if self._message:
            text += f" · {self._message}"
        self.status.setText(text)
        self.status.setToolTip(text)

    def closeEvent(self, event: Any) -> None:
        """Closing drops the tiles still queued (what was acquired stays in the map),
        without waiting for them."""
        self._refresh.stop()
        self.picker.stop()
        if not self.exploration.acquisition.is_finished():
            self.exploration.abort()
        self.map_view.stop()
        self.viewer.release()  # its graphics leave their views while both are whole
        self.closed.emit()
        super().closeEvent(event)
