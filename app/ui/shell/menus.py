"""The window's menus: File, Acquire and View (Devices and Help are their rooms' own).

Every entry does exactly what the panel's control or the room's action does; the
Acquire entries click the panels' buttons, so a shortcut and a click cannot differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QAbstractButton, QDockWidget, QMainWindow, QMenu, QMenuBar

from app.ui.acquiring.acquisition_panel import AcquisitionPanel
from app.ui.display.measure_tools import MeasureTools
from app.ui.display.named_views import NamedViewDocks
from app.ui.display.viewer import ImageViewer
from app.ui.files.datasets import DatasetFiles
from app.ui.files.tiff_files import TiffFiles
from app.ui.microscope.configuration_files import ConfigurationFiles
from app.ui.microscope.microscope_panel import MicroscopePanel
from app.ui.processors.replay_dialog import DatasetReplay

#: (text, what it does, shortcut or None)
Entry = tuple[str, Callable[[], Any], Any]


def menu_bar(window: QMainWindow) -> QMenuBar:
    bar = window.menuBar()
    assert bar is not None  # a QMainWindow always makes its menu bar
    return bar


def add_menu(window: QMainWindow, title: str, entries: Sequence[Entry | None]) -> QMenu:
    """A menu of ``entries`` (None: a separator) in ``window``'s menu bar."""
    menu = menu_bar(window).addMenu(title)
    assert menu is not None
    add_entries(window, menu, entries)
    return menu


def add_entries(window: QMainWindow, menu: QMenu, entries: Sequence[Entry | None]) -> None:
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        text, slot, shortcut = entry
        action = QAction(text, window)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)


def add_button_menu(
    window: QMainWindow, title: str, buttons: Sequence[tuple[str, QAbstractButton, str]]
) -> QMenu:
    """A menu whose entries click the panels' ``buttons``; each button's tooltip then
    names its shortcut."""
    menu = menu_bar(window).addMenu(title)
    assert menu is not None
    for label, button, keys in buttons:
        action = QAction(label, window)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(button.click)  # exactly what the button does
        menu.addAction(action)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(f"{button.toolTip()} ({shortcut})".lstrip())
    return menu


def add_named_views_menu(parent: QMenu, named_views: NamedViewDocks) -> QMenu:
    """View > Processor views: the windows processors opened (show_image, show_plot),
    listed each time the menu opens, to bring one back."""
    menu = parent.addMenu("Processor &views")
    assert menu is not None

    def listed() -> None:
        menu.clear()
        docks = named_views.docks()
        if not docks:
            menu.addAction("(none yet: a processor's show_image opens one)")
        for dock in docks:
            menu.addAction(dock.toggleViewAction())

    menu.aboutToShow.connect(listed)
    return menu


def build_file_menu(
    window: QMainWindow,
    configurations: ConfigurationFiles,
    datasets: DatasetFiles,
    tiff: TiffFiles,
    replay: DatasetReplay,
) -> QMenu:
    return add_menu(
        window,
        "&File",
        [
            ("Open &configuration…", configurations.choose_configuration, None),
            ("Use the &simulated microscope", configurations.use_simulated_microscope, None),
            ("Open &dataset…", datasets.choose_dataset, QKeySequence.StandardKey.Open),
            ("Open TIFF or OME-TIFF &file…", tiff.choose_file_to_open, None),
            ("&Process dataset…", replay.choose_dataset_to_process, None),
            ("&Save acquisition as NDTiff…", datasets.choose_folder_to_save_memory_dataset, None),
            ("Save image as &TIFF…", datasets.choose_file_to_save_image, "Ctrl+Shift+S"),
            ("&Export dataset as OME-TIFF…", tiff.choose_file_to_export_dataset, None),
            ("Export current &view as OME-TIFF…", tiff.choose_file_to_export_view, None),
            ("&Copy image", datasets.copy_image, "Ctrl+Shift+C"),
            ("&Quit", window.close, QKeySequence.StandardKey.Quit),
        ],
    )


def build_acquire_menu(
    window: QMainWindow, scope: MicroscopePanel, panel: AcquisitionPanel
) -> QMenu:
    """Snap, Live, Start, Pause and Abort: the panels' buttons (Explore adds its own)."""
    return add_button_menu(
        window,
        "&Acquire",
        [
            ("&Snap", scope.snap_button, "F5"),
            ("&Live on/off", scope.live_button, "F6"),
            ("S&tart acquisition", panel.start_button, "Ctrl+Return"),
            ("&Pause/Resume", panel.pause_button, "Ctrl+P"),
            ("&Abort acquisition", panel.abort_button, "Ctrl+."),
        ],
    )


def build_view_menu(
    window: QMainWindow,
    viewer: ImageViewer,
    measure: MeasureTools,
    docks: Sequence[QDockWidget],
    named_views: NamedViewDocks,
    reset_layout: Callable[[], None],
) -> QMenu:
    """The viewer's zoom, the measuring tools, each panel's switch, processors' views."""
    menu = add_menu(
        window,
        "&View",
        [
            ("&Fit image to window", viewer.fit, "Ctrl+0"),
            ("&Actual size (1:1)", viewer.one_to_one, "Ctrl+1"),
            ("&Reset view (fit, automatic contrast)", viewer.reset_view, "Ctrl+R"),
            None,
        ],
    )
    for action, keys in (
        (measure.line_action, "Ctrl+Shift+L"),
        (measure.rect_action, "Ctrl+Shift+R"),
    ):
        action.setShortcut(QKeySequence(keys))
        menu.addAction(action)
    menu.addSeparator()
    for dock in docks:
        menu.addAction(dock.toggleViewAction())
    add_named_views_menu(menu, named_views)
    add_entries(window, menu, [None, ("Reset &layout", reset_layout, None)])
    return menu
