"""The main window: the image in the middle, the rooms' panels docked around it.

The rule this module keeps: the window only assembles. It makes each part, gives it
what it needs (a parent widget, the ``AppState``, the dataset browser, ``self`` as
the ``Messages`` seam, a few callables), lays out the docks and menus, and wires one
part's signal to another's slot. What a click does is in the part's own room
(``docs/architecture.md`` maps them); no part imports this module.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QMainWindow, QMessageBox

from app.appstate import AppState
from app.microscope.installations import microscope_name
from app.preferences import default_preferences
from app.processing.dask_processor import close_shared_clusters
from app.scripting.namespace import console_namespace
from app.settings_store import SettingsStore
from app.ui.acquiring.room import AcquiringRoom
from app.ui.common.icon import application_icon
from app.ui.common.lifecycle import stop_timers
from app.ui.common.pacer import Pacer
from app.ui.common.qt_waiting import wait_processing_events
from app.ui.display.centre import CentreView, release_views
from app.ui.display.display_router import DisplayRouter
from app.ui.display.measure_tools import MeasureTools
from app.ui.display.named_views import NamedViewDocks
from app.ui.display.viewer import ImageViewer
from app.ui.files.room import FilesRoom
from app.ui.microscope.configuration_swap import (
    CoreFollower,
    UsesMicroscope,
)
from app.ui.microscope.room import MicroscopeRoom
from app.ui.processors.replay_dialog import DatasetReplay
from app.ui.processors.room import ProcessorsRoom
from app.ui.shell.docks import PROFILE, Docks, lay_out_panels
from app.ui.shell.help_menu import HelpMenu
from app.ui.shell.log_panel import LogPanel
from app.ui.shell.menus import build_acquire_menu, build_file_menu, build_view_menu
from app.ui.shell.quitting import QuitGuard, ask_how_to_quit
from app.ui.shell.status import StatusLine
from app.ui.shell.window_settings import WindowSettings, open_settings

logger = logging.getLogger(__name__)

STATUS_INTERVAL_MS = 500


class MainWindow(QMainWindow):
    """The microscopist's window. The GUI thread only displays: Live, acquisitions and
    saving run on worker threads and leave frames in display slots read on a timer."""

    def __init__(
        self,
        state: AppState,
        settings: SettingsStore | None = None,
        scripts_folder: str | os.PathLike[str] | None = None,
        console: bool = True,
    ) -> None:
        super().__init__()
        self.state = state
        self.registry = state.registry
        # the console runs on the GUI thread: its waits keep the window drawing
        state.wait = wait_processing_events
        state.workers_yield = True  # the GUI thread runs first when both are ready
        state.install()
        self.settings = settings = open_settings(settings)
        self.remembered = WindowSettings(settings)
        self.log_panel = LogPanel()  # first, so that what loading the scripts says is shown
        preferences = default_preferences()
        self.setWindowTitle(window_title(self.core))
        self.setWindowIcon(application_icon())
        self.resize(*preferences.window_size)
        self._closed = False  # _close_everything has run
        # the slow refreshes of every part take turns (``common/pacer``)
        self.pacer = Pacer(self)

        # the display in the middle: the viewer, its channels and sliders
        self.named_views = NamedViewDocks(self, state.views)
        centre = CentreView(pacer=self.pacer)
        self.setCentralWidget(centre)
        self.viewer, self.sliders, self.browser = centre.viewer, centre.sliders, centre.browser
        self.channel_strip = centre.channel_strip
        state.shown.set_viewer_provider(self._viewer_for)  # acq.get_viewer() in scripts
        self.measure = MeasureTools(self.viewer, self)  # line profile, rectangle statistics
        # the rooms around it
        self.microscope = MicroscopeRoom(
            self,
            state,
            settings,
            self,
            acquiring_here=lambda: self.controller.running,
            show_camera=self._show_camera,
            pacer=self.pacer,
        )
        self.microscope_panel, self.camera = self.microscope.panel, self.microscope.camera
        self.devices = self.microscope.devices
        self.acquiring = AcquiringRoom(
            self,
            state,
            self.browser,
            self,
            preferences.data_directory,
            stop_live=self.camera.stop_live,
            microscope_free=self.microscope_panel.setEnabled,
            exploring=lambda: self.explore.exploring,
        )
        self.controller, self.acquisition_panel = self.acquiring.controller, self.acquiring.panel
        self.acquisition_panel.directoryChosen.connect(self.remembered.remember_data_folder)
        self.acquisitions = self.acquiring.actions
        self.quitting = QuitGuard(
            lambda: self.controller.running,
            lambda: ask_how_to_quit(self),  # tests replace quitting.ask
            self.controller.abort,
            lambda text: self.statusBar().showMessage(text),
            lambda: QTimer.singleShot(0, self.close),  # the window's: dies with it
        )
        self.controller.finished.connect(self.quitting.finished)
        # a preset defined in Devices > Configuration groups (or the console) is offered
        self.microscope_panel.core_events.configDefined.connect(
            self.acquisition_panel.refresh_channels
        )
        self.processors = ProcessorsRoom(
            self,
            self.registry,
            Path(scripts_folder or self.remembered.scripts_folder_to_use()),
            self,
            console_namespace=console_namespace(state, self) if console else None,
            show_console=lambda: self.docks.bring_up("Console"),
            remember_folder=self.remembered.remember_scripts_folder,
            scripts_loaded=lambda: self.remembered.restore_pipeline(self.registry),
            pacer=self.pacer,
        )
        self.processors_panel = self.processors.processors_panel
        self.scripts_panel = self.processors.scripts_panel
        self.scripts, self.console = self.processors.scripts, self.processors.console
        self.docks = Docks(self, lambda: self.measure.active)
        lay_out_panels(
            self.docks,
            self.microscope_panel,
            self.acquisition_panel,
            self.processors_panel,
            self.scripts_panel,
            self.log_panel,
            self.console,
            self.measure.panel,
        )
        self.measure.switchedOn.connect(lambda: self.docks.bring_up(PROFILE))
        self.measure.switchedOff.connect(self.docks[PROFILE].hide)
        self.files = FilesRoom(
            self,
            state,
            settings,
            self.browser,
            self,
            data_folder=lambda: self.acquisition_panel.data_directory,
            stop_live=self.camera.stop_live,
            running_acquisition=self.acquiring.running_acquisition,
        )
        self.datasets, self.tiff_files = self.files.datasets, self.files.tiff
        users: list[UsesMicroscope] = [
            self.controller,
            self.microscope_panel,
            self.acquisition_panel,
            CoreFollower(lambda core: self.viewer.set_pixel_size(core.getPixelSizeUm())),
            self.devices,
            self.acquisitions.followed,
        ]
        if self.console is not None:
            users.append(self.console)
        self.configurations = self.microscope.load_configurations(
            users, self.files.dialogs, lambda: self.setWindowTitle(window_title(self.core))
        )
        self.replay = DatasetReplay(
            self, self.registry, self.files.dialogs, self, self.datasets.open_dataset
        )
        self._build_menus()
        self.docks.keep_initial_layout()  # View > Reset layout goes back to it
        self.status_line = StatusLine(self.statusBar())
        # the panel's estimate says the room on the disk from the same reading
        self.acquisition_panel.free_space = self.status_line.free_space.free
        self.viewer.pixelHovered.connect(self.status_line.show_pixel)
        self.viewer.set_pixel_size(self.core.getPixelSizeUm())
        self.microscope_panel.core_events.pixelSizeChanged.connect(self.viewer.set_pixel_size)
        # the profile's distances in the new µm (after the viewer took the new size)
        self.microscope_panel.core_events.pixelSizeChanged.connect(self.measure.request_update)
        self.remembered.restore(self, self.registry, self.viewer.channels, self.acquisition_panel)
        self.display = DisplayRouter(
            self.viewer, self.browser, self.named_views, state.shown, self.camera.slot
        )
        self.pacer.every(STATUS_INTERVAL_MS, self._status_tick, "status line")
        # the window's parts that are QObjects go with it (on the GUI thread), and their
        # timers are among its own (``lifecycle.stop_timers``)
        for part in (self.controller, self.display, self.browser.map):
            part.setParent(self)

    @property
    def core(self) -> CMMCorePlus:
        """The microscope in use (another one after a configuration is loaded)."""
        return self.state.core

    def _build_menus(self) -> None:
        build_file_menu(self, self.configurations, self.datasets, self.tiff_files, self.replay)
        acquire_menu = build_acquire_menu(self, self.microscope_panel, self.acquisition_panel)
        self.explore = self.acquiring.add_explore(acquire_menu)
        self.menuBar().addMenu(self.devices.menu)
        docks = list(self.docks.docks.values())
        reset = self.docks.reset_layout
        build_view_menu(self, self.viewer, self.measure, docks, self.named_views, reset)
        self.help_menu = HelpMenu(self, self.state, self.settings, self)

    def show_error_message(self, message: str) -> None:
        """The ``Messages`` seam: the Log, the status line and a dialog. Once the window
        has closed (an acquisition aborted by quitting ends after it), the log alone: a
        dialog without its window kept Scopeflow running, with nothing on screen."""
        logger.error(message)
        if self._closed:
            return
        self.statusBar().showMessage(message, 15000)
        if not os.environ.get("SCOPEFLOW_NO_DIALOGS"):
            QMessageBox.warning(self, "Scopeflow", message)

    def show_status(self, text: str, timeout_ms: int = 15000, details: str = "") -> None:
        self.statusBar().showMessage(text, timeout_ms)
        if details:
            self.statusBar().setToolTip(details)

    def _show_camera(self, title: str) -> None:
        """The viewer back on the camera's image (Snap, Live), off any dataset."""
        self.browser.browse(None, follow=True)
        self.viewer.set_title(title)

    def _viewer_for(self, acquisition: Any) -> ImageViewer:
        """The viewer that shows ``acquisition`` (the window shows every displayed one)."""
        return self.viewer

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.remembered.has_layout():
            self.docks.size_log_once_shown()

    def _status_tick(self) -> None:
        self.acquisitions.tick()
        acq = self.state.shown.newest()
        self.status_line.update(
            acq,
            self.camera.live_frames,
            self.display.displayed,
            self.viewer.image,
            self.acquisition_panel.data_directory,
            self.browser.map.size if self.browser.map.active else None,
            self.viewer.placement.scale,
            started_by=self.acquisitions.followed.origin(acq) if acq is not None else "",
            live=self.camera.live,
        )

    def closeEvent(self, event) -> None:
        if not self._closed and not self.scripts_panel.close_editors():
            event.ignore()  # a script with unsaved changes: the user chose Cancel
            return
        if not self.quitting.may_close():
            event.ignore()
            return
        self._close_everything()
        super().closeEvent(event)

    def _close_everything(self) -> None:
        """Everything the window started ends with it (``lifecycle``): the links from
        what outlives it (the microscope, the registry, the scripts folder, logging) are
        cut, its threads joined, its timers stopped, its graphics items taken off their
        views. Called once, whatever the number of close events."""
        if self._closed:
            return
        self._closed = True
        self.pacer.stop()  # its parts' slow refreshes
        self.state.uninstall()
        self.microscope.detach()  # the microscope, registry and scripts folder live on
        self.processors.detach()
        self.acquiring.detach()
        self.microscope.close()  # its dialogs, and Live stopped
        self.acquiring.close()  # aborts one still running, joins its waiting thread
        self.remembered.save(
            self, self.registry, self.acquisition_panel, self.viewer.channels, self.scripts.path
        )
        self.log_panel.detach()
        self.display.stop()
        self.status_line.free_space.stop()
        self.explore.close()
        self.browser.map.stop()
        self.measure.close()
        close_shared_clusters()  # on_dask's local clusters: their processes end with us
        self.processors.stop()  # the scripts watcher's thread, the console's kernel
        stop_timers(self)  # the status line's, the panels', the dialogs', the views'
        release_views(self)


def window_title(core: CMMCorePlus) -> str:
    """ "Scopeflow — MMConfig.cfg": which microscope the window drives, always in sight."""
    return f"Scopeflow — {microscope_name(core)}"
