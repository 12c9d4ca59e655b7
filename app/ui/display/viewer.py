"""The image viewer: a bare pyqtgraph ImageItem with explicit levels, and a histogram.

pyqtgraph's ``ImageView`` recomputes its histogram and levels on every frame (about
twice the cost of drawing at 2048x2048) and registers named ViewBoxes whose
``destroyed`` callbacks have crashed Python during garbage collection. This viewer
draws with explicit levels, updates the histogram at a low rate, and keeps every
graphics item parented.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QElidingLabel

from app.processing.channel_display import ChannelDisplay, ChannelShown, follow_current_channel
from app.processing.colour_tables import CATALOGUE_MAPS, SINGLE_COLOURS, colour_table
from app.processing.contrast import (
    Histogram,
    histogram_of,
    robust_levels,
    steady_range,
    to_uint8,
)
from app.processing.display import DisplaySettings
from app.processing.map_render import Placement, RenderedMap
from app.processing.screen_pixels import to_screen
from app.ui.common.lifecycle import release_graphics
from app.ui.common.pacer import Pacer
from app.ui.display.scale_bar import MicrometreScaleBar
from app.ui.display.screen_image_item import ScreenImageItem

HISTOGRAM_INTERVAL_S = 0.5  # the histogram follows a stream at this pace


def _two_colour(name: str, colour: tuple[int, int, int]) -> pg.ColorMap:
    return pg.ColorMap([0.0, 1.0], [(0, 0, 0), colour], name=name)


LOOKUP_TABLES: dict[str, pg.ColorMap] = {
    **{name: _two_colour(name, colour) for name, colour in SINGLE_COLOURS.items()},
    **{name: pg.colormap.get(catalogued) for name, catalogued in CATALOGUE_MAPS.items()},
}


class Drawing(Protocol):
    """Something that draws the viewer's image item itself (a tiled map: ``map_view``).
    While one is set (``start_drawing``), the viewer asks it to draw again where it
    would redraw a frame (new levels, automatic contrast, another zoom) and to fit."""

    def redraw(self) -> None: ...

    def fit(self) -> None: ...


class ImageViewer(QWidget):
    """Shows one 2-D image at a time; ``set_image`` is cheap enough for every frame.

    The camera's pixels are mapped to 8 bits with the current levels by a single
    numpy pass into a reused buffer, and pyqtgraph draws those with a 256-entry
    colour table: about half the cost of letting ImageItem rescale 16-bit data
    itself. The histogram shows the original values and is refreshed at 2 Hz.
    Contrast is automatic (a subsample's min and max) until the user drags the
    histogram's levels; the Auto box turns it back on.

    The display state (levels, automatic contrast, lookup table, stride) lives in
    ``settings``, a Qt-free ``DisplaySettings``: the widgets follow it, and the thread
    that prepares frames reads it instead of this widget.

    A dataset with channels has each channel's look in ``channels`` (a Qt-free
    ``ChannelDisplay``); ``settings`` follow the current channel's. In composite mode
    the item draws the RGBA composite a ``FramePreparer`` made, while ``image``, the
    histogram and the pixel readout stay on the current channel's raw frame.

    ``image`` lies in the view as ``placement`` says: a frame's pixels are the view's
    coordinates; a part of a tiled map (``show_map``) lies where it is in the map, its
    pixels 2^level map pixels wide.
    """

    pixelHovered = pyqtSignal(int, int, float)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        toolbar: bool = True,
        pacer: Pacer | None = None,
    ) -> None:
        pg.setConfigOptions(imageAxisOrder="row-major")  # numpy's (y, x), as frames are
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.item = ScreenImageItem()
        self.view.addItem(self.item)
        self.hint = QLabel(
            "No image yet: press Snap or Live, start an acquisition,\n"
            "or open a dataset (File > Open dataset...)."
        )
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #9aa; background: transparent; font-size: 14px;")
        # over the view: seen through (Explore's stage field and tiles under it) and
        # clicked through (Explore's first tile is clicked there)
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.histogram = pg.HistogramLUTItem()  # not linked: we feed it ourselves
        self.histogram.sigLevelsChanged.connect(self._levels_changed_by_user)
        self.graphics.addItem(self.histogram)
        # no image yet: no histogram of nothing (0 to 1), its room kept (the view does
        # not move when the first image shows it)
        self.histogram.setOpacity(0.0)
        self.histogram.setEnabled(False)  # nor dragged, which would switch Auto off
        _fix_axis_width(self.histogram.axis)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.auto_box = QCheckBox("Auto contrast")
        self.auto_box.setChecked(True)
        self.auto_box.toggled.connect(self.set_auto_levels)
        self.lut_box = QComboBox()
        self.lut_box.addItems(list(LOOKUP_TABLES))
        self.lut_box.currentTextChanged.connect(self.set_lookup_table)
        self.histogram.sigLookupTableChanged.connect(self._lookup_table_changed)
        self.title = QElidingLabel()
        # a long dataset path is cut with "…", and in full in the tooltip: the window
        # keeps its width
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.log_box = QCheckBox("Log")
        self.log_box.setToolTip(
            "Histogram counts on a logarithmic scale: a few bright beads and a dim "
            "background both readable"
        )
        self.log_box.toggled.connect(self._log_histogram_toggled)
        self.scale_bar = MicrometreScaleBar()
        self.scale_bar.setParentItem(self.view)
        self.scale_bar.set_has_image(False)  # no bar over an empty view
        self.scale_box = QCheckBox("Scale bar")
        self.scale_box.setChecked(True)
        self.scale_box.toggled.connect(self.scale_bar.set_shown)
        buttons = []
        for text, tip, slot in (
            ("Fit", "Fit the image to the window", self.fit),
            ("1:1", "One image pixel per screen pixel", self.one_to_one),
            ("Reset", "Fit, and automatic contrast again", self.reset_view),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.append(button)
        if toolbar:
            # the title on a line of its own: what is shown (a dataset's path) is read
            # whole, not cut to the room the buttons leave
            title_row = QHBoxLayout()
            title_row.setContentsMargins(6, 2, 6, 0)
            title_row.addWidget(self.title, 1)
            layout.addLayout(title_row)
            bar = QHBoxLayout()
            bar.setContentsMargins(6, 0, 6, 0)
            bar.addStretch(1)
            for button in buttons:
                bar.addWidget(button)
            bar.addWidget(self.scale_box)
            bar.addWidget(self.auto_box)
            bar.addWidget(self.log_box)
            bar.addWidget(QLabel("LUT"))
            bar.addWidget(self.lut_box)
            layout.addLayout(bar)
        # the hint over the view, not above it: the view has its room from the start,
        # where hiding a hint above it at the first image laid the viewer out again
        # and resized and repainted the view whole, at an acquisition's first frame
        self._pages = QStackedLayout()
        self._pages.setStackingMode(QStackedLayout.StackingMode.StackAll)
        self._pages.addWidget(self.graphics)
        self._pages.addWidget(self.hint)
        self._pages.setCurrentWidget(self.hint)  # on top
        layout.addLayout(self._pages, 1)
        self.image: np.ndarray | None = None
        self.placement = Placement()  # where ``image`` lies in the view
        self.drawing: Drawing | None = None  # what draws the item instead of frames
        self.settings = DisplaySettings()
        self.settings.events.auto_levels.connect(self._auto_levels_changed)
        self.settings.events.lookup_table.connect(self._show_lookup_table)
        self.settings.events.levels.connect(self._levels_set)
        self.channels = ChannelDisplay()
        follow_current_channel(self.channels, self.settings)
        self.channels.events.composite.connect(self._composite_changed)
        self.channels.events.names.connect(self._composite_changed)
        self._setting_levels = False
        self._showing_table = False
        self._hold_redraw = False
        self._placing = False  # a prepared frame is being fitted: no redraw of it here
        self._drawn_stride = 1
        self._drawn_shape: tuple[int, int] | None = None
        self._histogram_stale = False
        #: levels or a colour table a frame brought, not in the histogram yet
        self._histogram_look_stale = False
        self._table_shown = ""  # the colour table the histogram's gradient shows
        #: a colour table edited by hand in the histogram (None: the named one)
        self._hand_table: np.ndarray | None = None
        self._histogram_range: tuple[float, float] | None = None
        #: the newest histogram the frame preparer made, of a frame shown since the
        #: histogram was last refreshed (None: made here, from ``image``)
        self._prepared_histogram: Histogram | None = None
        # the window's slow refreshes take turns (``pacer``); alone, the viewer's own
        self._histogram_job = (pacer or Pacer(self)).every(
            int(HISTOGRAM_INTERVAL_S * 1000), self._update_histogram, "histogram"
        )
        #: a frame drawn at another stride than the view's (the first, just fitted) is
        #: drawn again at the view's after ``RESTRIDE_MS``, unless a frame drawn at the
        #: view's comes first (a stream's next, from the frame preparer)
        self._restride = QTimer(self)
        self._restride.setSingleShot(True)
        self._restride.setInterval(RESTRIDE_MS)
        self._restride.timeout.connect(self._view_changed)  # as a zoom would
        #: a first frame's histogram, in a turn of the event loop of its own (timers
        #: due together fire in one turn: a 0 ms one came before the frame's paint, in
        #: the same block of the GUI thread)
        self._first_histogram = QTimer(self)
        self._first_histogram.setSingleShot(True)
        self._first_histogram.setInterval(FIRST_HISTOGRAM_MS)
        self._first_histogram.timeout.connect(self._update_histogram)
        self.view.sigRangeChanged.connect(self._view_changed)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self._show_lookup_table(self.settings.lookup_table)

    def release(self) -> None:
        """Its window closes: the histogram's timer stops, every graphics item leaves
        its view box while both are whole (``lifecycle.release_graphics``: the histogram's
        level lines read their view box when Qt deletes the scene), and nothing follows
        the display models any more. The viewer shows nothing afterwards; calls on it
        still work."""
        self._histogram_job.stop()
        self.drawing = None
        release_graphics(self.graphics)
        # follow_current_channel ties the two models together with closures: psygnal's
        # evented dataclasses keep their signal groups in a class-level map, so models
        # whose own signals hold them are never collected (one pair per window, before)
        self.channels.events.disconnect()
        self.settings.events.disconnect()

    # ------------------------------------------------------------ zoom
    def fit(self) -> None:
        """The whole image in the window (the whole map, for a map)."""
        if self.drawing is not None:
            self.drawing.fit()
        elif self.image is not None:
            self.view.autoRange(padding=0)

    def one_to_one(self) -> None:
        """One image pixel per screen pixel, around the centre of what is shown."""
        (x0, x1), (y0, y1) = self.view.viewRange()
        rect = self.view.sceneBoundingRect()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = rect.width(), rect.height()
        self.view.setRange(
            xRange=(cx - w / 2, cx + w / 2), yRange=(cy - h / 2, cy + h / 2), padding=0
        )

    def reset_view(self) -> None:
        self.set_auto_levels(True)
        self.fit()

    def set_pixel_size(self, um: float) -> None:
        """Micrometres per image pixel, for the scale bar (0: unknown, no bar)."""
        self.scale_bar.set_pixel_size(um)

    def _log_histogram_toggled(self, on: bool) -> None:
        self._histogram_stale = True
        self._update_histogram()

    def set_title(self, text: str) -> None:
        """What is shown (a dataset's folder), above the image."""
        self.title.setText(text)
        self.title.setToolTip(text)

    @property
    def levels(self) -> tuple[float, float]:
        return self.settings.levels

    @property
    def auto_levels(self) -> bool:
        return self.settings.auto_levels

    def _image_arrived(self) -> None:
        """The first image: the hint goes and the scale bar comes (the histogram with
        its first data, ``_update_histogram``)."""
        if self.hint.isHidden():
            return
        self.hint.hide()
        self.scale_bar.set_has_image(True)

    def set_image(self, image: np.ndarray) -> None:
        self._image_arrived()
        self._prepared_histogram = None  # a stream's, not this image's
        first = self.image is None or self.image.shape != image.shape
        self.image = image
        self._histogram_stale = True
        if self.auto_levels or first:
            self._set_levels_quietly(robust_levels(image))
        if self.channels.current is not None and image.ndim == 2:  # for the channel strip
            shown = ChannelShown(self.levels, robust_levels(image))
            self.channels.note_shown({str(self.channels.current): shown})
        self._render()
        if first:
            self._update_histogram()
            self.view.autoRange(padding=0)

    def show_prepared(self, frame) -> None:
        """Show a frame mapped to 8 bits by a ``FramePreparer`` (the streaming path),
        or a composite of channels (RGBA) with the current channel's frame."""
        image = frame.image
        self._image_arrived()
        if frame.display is None:
            self.set_image(image)
            return
        first = self.image is None or self.image.shape != image.shape
        self.image = image
        self._histogram_stale = True
        if frame.histogram is not None:
            self._prepared_histogram = frame.histogram
        if self.auto_levels or first:
            self._set_levels_quietly(frame.levels)
        if frame.shown:
            self.channels.note_shown(frame.shown)
        height, width = image.shape
        if frame.composite or frame.values is None:
            self.item.show_screen_pixels(frame.display, composite=frame.composite)
        elif self._hand_table is not None:  # edited by hand: pyqtgraph colours the values
            self.item.setImage(frame.values, autoLevels=False, levels=(0, 255))
        elif frame.table != self.settings.lookup_table:  # the table changed on its way
            self.item.show_screen_pixels(to_screen(frame.values, self.settings.lookup_table))
        else:
            self.item.show_screen_pixels(frame.display)  # coloured by the preparer
        resized = self._placed(height, width, frame.stride)
        if first:
            # in a turn of its own, and painted in it: with the view fitted and painted
            # in this one, the first frame of an acquisition held the GUI thread 20-36
            # ms (7-12 ms of its CPU; ``scopeflow bench gui``'s saving runs)
            self._first_histogram.start()
        if first or resized:
            # fitted without drawing the raw frame again at the new zoom on this thread
            # (a full frame mapped here took the GUI thread ~20 ms): the preparer's next
            # frame comes at the new stride
            self._placing = True
            try:
                self.view.autoRange(padding=0)
            finally:
                self._placing = False
            self.settings.stride = self._stride()
        if self.settings.stride != frame.stride:
            self._restride.start()  # a snap has no next frame: drawn again soon
        else:
            self._restride.stop()

    def start_drawing(self, drawing: Drawing) -> None:
        """``drawing`` draws the image item from now on (``show_map``), until
        ``stop_drawing``; what was shown is cleared."""
        self.drawing = drawing
        self._clear()

    def stop_drawing(self) -> None:
        """Frames again: the next one is fitted to the window as a first one."""
        if self.drawing is not None:
            self.drawing = None
            self._clear()

    def _clear(self) -> None:
        self._prepared_histogram = None
        self._restride.stop()
        self._first_histogram.stop()
        self.image = None
        self.placement = Placement()
        self._drawn_shape = None
        self.item.clear()

    def show_map(self, frame: RenderedMap) -> None:
        """A part of a tiled map made by a ``map_render`` worker, drawn where it lies in
        map pixels; ``image`` becomes its raw pixels at the level drawn (for the
        histogram, the pixel readout and the measuring tools, through ``placement``)."""
        self._image_arrived()
        self._prepared_histogram = None
        first = self.image is None
        self.image = frame.image
        self.placement = frame.placement
        self._histogram_stale = True
        if self.auto_levels:
            self._set_levels_quietly(frame.levels)
        if frame.shown:
            self.channels.note_shown(frame.shown)
        composite = frame.display.ndim == 3
        self.item.setImage(frame.display, autoLevels=False, levels=None if composite else (0, 255))
        self.item.setRect(*frame.rect)
        self._drawn_stride = frame.stride
        if first:
            self._update_histogram()  # not half a second of the last frame's

    def image_rect(self) -> tuple[float, float, float, float] | None:
        """Where ``image`` lies in the view: x, y, width, height (None: no image)."""
        if self.image is None:
            return None
        height, width = self.image.shape[:2]
        scale = self.placement.scale
        return self.placement.x, self.placement.y, width * scale, height * scale

    def _placed(self, height: int, width: int, stride: int) -> bool:
        """The drawn image covers ``height`` x ``width`` image pixels; whether that
        differs from the image drawn before."""
        self.item.setRect(0, 0, width, height)
        self._drawn_stride = stride
        resized = self._drawn_shape != (height, width)
        self._drawn_shape = (height, width)
        return resized

    def _render(self) -> None:
        if self.drawing is not None:
            self.drawing.redraw()
            return
        if self.image is None:
            return
        if self.image.ndim != 2:  # RGB from a processor's view: let pyqtgraph draw it
            self.item.setImage(self.image, autoLevels=True)
            return
        if self.channels.composite_active:
            return  # the frame preparer draws composites (show_prepared)
        # Zoomed out, the screen shows one image pixel in k: draw only those (Qt would
        # pick the same ones when scaling down without smoothing), k*k times less work.
        k = self._stride()
        height, width = self.image.shape
        scaled = to_uint8(self.image[::k, ::k], *self.levels)
        self.item.setImage(scaled, autoLevels=False, levels=(0, 255))
        self._placed(height, width, k)

    def _composite_changed(self) -> None:
        """Back to one channel: draw the current one (a composite is the router's), its
        colour in the LUT box and the histogram now (the user's click, not a frame's)."""
        if not self.channels.composite_active:
            self._show_look_now()
            self._render()

    def _show_look_now(self) -> None:
        if self._histogram_look_stale:
            self._histogram_look_stale = False
            self._levels_in_histogram(self.levels)
        if self._table_shown != self.settings.lookup_table:
            self._table_in_histogram(self.settings.lookup_table)

    def _stride(self) -> int:
        try:
            pixel_w, pixel_h = self.view.viewPixelSize()  # image pixels per screen pixel
        except Exception:  # not laid out yet
            return 1
        return max(1, int(min(pixel_w, pixel_h)))

    def _view_changed(self) -> None:
        """A zoom, or a frame fitted at another stride than it was drawn with and no
        frame since (``_restride``): drawn again at the view's stride (a composite is
        the router's)."""
        self.settings.stride = self._stride()  # read by the frame preparer's thread
        if self._placing:
            return
        if self.drawing is not None or self.image is None or self.image.ndim != 2:
            return  # a map draws itself; RGB is drawn whole
        if self.settings.stride != self._drawn_stride:
            self._render()

    def _update_histogram(self) -> None:
        """Refresh the histogram from the current image, and its levels and colours
        from the display model (on its own slow timer, so it never adds to the cost of
        drawing a frame)."""
        if self._histogram_look_stale:
            self._show_look_now()
        image = self.image
        if image is not None and not self.histogram.isEnabled():
            # the first image's: shown now, where it was painted with the image (a
            # stream's first frame: ``show_prepared``)
            self.histogram.setOpacity(1.0)
            self.histogram.setEnabled(True)
        if image is None or image.ndim != 2 or not self._histogram_stale:
            return
        self._histogram_stale = False
        # the frame preparer's, made on its thread of a frame shown since the last
        # refresh (it follows a stream at the same pace), else made here
        histogram = self._prepared_histogram or histogram_of(image)
        self._prepared_histogram = None
        counts = histogram.counts
        shown = np.log10(1.0 + counts) if self.log_box.isChecked() else counts
        self.histogram.plot.setData(histogram.centres, shown)
        low, high = histogram.low, histogram.high
        wanted = (min(low, self.levels[0]), max(high, self.levels[1]))
        steady = steady_range(self._histogram_range, wanted)
        if steady != self._histogram_range:
            self._histogram_range = steady
            self.histogram.setHistogramRange(*steady)

    def show_channel(self, channel) -> None:
        """``channel`` is now the current one (None: what is shown has no channel): the
        histogram, Auto and LUT take its look, and the frame about to be replaced is
        not drawn again for it."""
        self._hold_redraw = True
        try:
            self.channels.current = channel
        finally:
            self._hold_redraw = False

    def _set_levels_quietly(self, levels: tuple[float, float]) -> None:
        """Levels that come with the frame being drawn (no redraw for them)."""
        self._hold_redraw = True
        try:
            self.settings.levels = levels
        finally:
            self._hold_redraw = False

    def _levels_set(self, levels: tuple[float, float]) -> None:
        """The model's levels in the histogram and the image. Levels a frame brought
        (automatic contrast, another channel's) reach the histogram at its own pace:
        moved at every frame, its region and axis were repainted at every frame."""
        if self._hold_redraw:
            self._histogram_look_stale = True
            return
        self._levels_in_histogram(levels)
        self._render()

    def _levels_in_histogram(self, levels: tuple[float, float]) -> None:
        self._setting_levels = True
        try:
            self.histogram.setLevels(*levels)
        finally:
            self._setting_levels = False

    def set_lookup_table(self, name: str) -> None:
        if name not in LOOKUP_TABLES:
            raise ValueError(f"No lookup table {name!r}; there are {list(LOOKUP_TABLES)}")
        self.settings.lookup_table = name

    def _show_lookup_table(self, name: str) -> None:
        """The model's table, in the box, the histogram and the image.

        The image takes the table the composite uses (computed once per name): reading
        it back from the gradient took 1.4 ms, twice, at every change, and the table
        changes with every frame of a multi-channel acquisition followed."""
        # Grays needs no table: an 8-bit grayscale image draws fastest as it is.
        self.item.setLookupTable(None if name == "Grays" else colour_table(name))
        self._hand_table = None
        if self._hold_redraw:  # a frame's channel: the box and the gradient follow with
            self._histogram_look_stale = True  # the histogram (its ticks took ~15 ms)
            return
        self._table_in_histogram(name)
        self._redraw_screen_pixels()

    def _table_in_histogram(self, name: str) -> None:
        if self.lut_box.currentText() != name:
            self.lut_box.setCurrentText(name)
        self._table_shown = name
        self._showing_table = True
        try:
            self.histogram.gradient.setColorMap(LOOKUP_TABLES[name])
        finally:
            self._showing_table = False

    def _lookup_table_changed(self) -> None:
        """The histogram's gradient edited by hand: the image takes it. A gradient still
        showing an earlier table (it follows a frame's channel at its own pace) that
        signals a change (it does when resized) is not the user's: the image keeps the
        model's table (it took the previous channel's colour, now and then)."""
        if self._showing_table or self._table_shown != self.settings.lookup_table:
            return
        name = self.settings.lookup_table
        gradient = self.histogram.gradient
        table = None if name == "Grays" else gradient.getLookupTable(256, alpha=False)
        self.item.setLookupTable(table)
        # the gradient signals when merely resized: only a table that differs from the
        # named one (beyond rounding) was edited, and is then drawn by pyqtgraph
        edited = table is not None and bool(
            np.abs(table[:, :3].astype(int) - colour_table(name).astype(int)).max() > 1
        )
        self._hand_table = table if edited else None
        if edited:
            self._redraw_screen_pixels()

    def _redraw_screen_pixels(self) -> None:
        """Screen pixels carry the colours they were made with: a new table draws the
        current frame again (the stream's next frames come in it)."""
        if self.item.showing_screen_pixels and not self.channels.composite_active:
            self._render()

    def set_levels(self, low: float, high: float) -> None:
        """Manual contrast: fixes the levels and turns automatic contrast off."""
        self.settings.auto_levels = False
        self.settings.levels = (low, high)  # drawn by _levels_set

    def _levels_changed_by_user(self) -> None:
        if self._setting_levels:
            return
        low, high = self.histogram.getLevels()
        self.settings.auto_levels = False
        self.settings.levels = (low, high if high > low else low + 1)  # drawn by _levels_set

    def set_auto_levels(self, on: bool) -> None:
        self.settings.auto_levels = on

    def _auto_levels_changed(self, on: bool) -> None:
        if self.auto_box.isChecked() != on:
            self.auto_box.setChecked(on)
        if on and self.image is not None:
            self.set_image(self.image)

    def _mouse_moved(self, position) -> None:
        if self.image is None:
            return
        point = self.view.mapSceneToView(position)
        column, row = (math.floor(v) for v in self.placement.to_image(point.x(), point.y()))
        if 0 <= row < self.image.shape[0] and 0 <= column < self.image.shape[1]:
            # where in the view (map pixels, for a map), and the value of the pixel drawn
            x, y = math.floor(point.x()), math.floor(point.y())
            self.pixelHovered.emit(x, y, float(self.image[row, column]))


#: a stream's first frame is painted, then its histogram this much later
FIRST_HISTOGRAM_MS = 20

#: how long a frame drawn at another stride than the view's waits for the stream's next
#: one before it is drawn again on the GUI thread (``ImageViewer.show_prepared``)
RESTRIDE_MS = 50

#: the widest value the histogram's axis is laid out for: a 16-bit camera's top, and a
#: signed 16-bit image's bottom (six digits fit too)
AXIS_WIDEST_TEXT = "-65535"


def _fix_axis_width(axis: pg.AxisItem) -> None:
    """The histogram's axis as wide as ``AXIS_WIDEST_TEXT``, always. Sized to its
    labels (pyqtgraph's default), it changed width as the histogram's range changed,
    from the empty histogram's "0.2" to a frame's "2500": the viewer was laid out
    again and painted whole twice at the first frame of every acquisition (7 ms of the
    GUI thread's CPU, 20-28 ms wall, ``scopeflow bench gui``). A wider label (a 32-bit
    image's "-1000000") is left out by pyqtgraph; the others say the scale."""
    font = axis.style.get("tickFont") or axis.font()
    # a pixel or two more: pyqtgraph leaves out a label its measure puts a fraction of a
    # pixel outside the axis
    text = QFontMetrics(font).horizontalAdvance(AXIS_WIDEST_TEXT) + 2
    axis.setWidth(text + axis.style["tickTextOffset"][0] + max(0, axis.style["tickLength"]))
