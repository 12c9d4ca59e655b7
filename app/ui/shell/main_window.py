"""The main window: the image in the middle, dockable panels around it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from pymmcore_plus import CMMCorePlus
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.acquisition.cameras import camera_names
from app.acquisition.plan_file import plan_to_json_value
from app.acquisition.state import RunState
from app.acquisition.summary import describe_end
from app.appstate import AppState
from app.microscope.installations import installation_in_use, microscope_name
from app.microscope.loading import AdaptersDoNotFitError, MicroscopeConfigError, load_microscope
from app.preferences import default_preferences
from app.processing.dask_processor import close_shared_clusters, use_scheduler
from app.processing.display import LatestFrameSlot, camera_frame_metadata
from app.scripting.locations import copy_examples, default_scripts_folder
from app.scripting.namespace import BANNER, console_namespace
from app.scripting.scripts_folder import ScriptsFolder
from app.scripting.scripts_watcher import ScriptsWatcher
from app.settings_migration import carry_over_old_settings
from app.settings_store import SettingsStore
from app.storage.opening import open_dataset
from app.storage.ram_dataset import RAMDataset
from app.ui.acquiring.acquisition_controller import AcquisitionController
from app.ui.acquiring.acquisition_panel import AcquisitionPanel
from app.ui.acquiring.explore_menu import ExploreActions
from app.ui.acquiring.followed_acquisition import FollowedAcquisition
from app.ui.common.icon import application_icon
from app.ui.common.lifecycle import release_graphics, stop_timers
from app.ui.common.progress_task import run_with_progress
from app.ui.common.qt_waiting import wait_processing_events
from app.ui.common.widgets import ChangeBridge
from app.ui.display.axis_sliders import AxisSliders
from app.ui.display.channel_strip import ChannelStrip
from app.ui.display.dataset_browser import DatasetBrowser
from app.ui.display.display_router import DisplayRouter
from app.ui.display.measure_tools import MeasureTools
from app.ui.display.named_views import NamedViewDocks
from app.ui.display.viewer import ImageViewer
from app.ui.files.tiff_files import TiffFiles
from app.ui.microscope.configuration_swap import ConfigurationSwap, LoadCancelled, UsesMicroscope
from app.ui.microscope.devices_menu import DevicesMenu
from app.ui.microscope.installations_dialog import offer_another_installation
from app.ui.microscope.live import LiveWorker
from app.ui.microscope.microscope_panel import MicroscopePanel
from app.ui.processors.processors_panel import ProcessorsPanel
from app.ui.processors.scripts_panel import ScriptsPanel
from app.ui.shell.help_menu import build_help_menu
from app.ui.shell.log_panel import LogPanel
from app.ui.shell.status import StatusLine
from app.ui.shell.window_settings import WindowSettings

logger = logging.getLogger(__name__)


class _ScaleBarFollower:
    """The viewer's scale bar takes a new microscope's pixel size."""

    def __init__(self, viewer: ImageViewer) -> None:
        self.viewer = viewer

    def set_core(self, core: CMMCorePlus) -> None:
        self.viewer.set_pixel_size(core.getPixelSizeUm())


class QuitChoice(Enum):
    FINISH = "let the acquisition finish, then quit"
    ABORT = "abort the acquisition and quit"
    CANCEL = "keep working"


STATUS_INTERVAL_MS = 500
LAST_PLAN_KEY = "acquisition/plan"  # the Acquisition panel's settings, as a useq MDASequence
FORMAT_KEY = "acquisition/format"  # NDTiff or OME-Zarr, as last chosen
EXAMPLES_KEY = "scripts/examples_copied"  # once: deleted examples do not come back
DASK_SCHEDULER_KEY = "dask/scheduler"  # on_dask's cluster; written by hand in settings.json


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
        state.install()
        if settings is None:
            settings = SettingsStore()
            if not settings.existed:
                carry_over_old_settings(settings)
        self.settings = settings
        self.remembered = WindowSettings(self.settings)
        self.log_panel = LogPanel()  # first, so that what loading the scripts says is shown
        if scripts_folder is None:
            scripts_folder = self.remembered.scripts_folder()
        if scripts_folder is None:  # the user's own, with the examples the first time
            scripts_folder = default_scripts_folder()
            copied = self.settings.get(EXAMPLES_KEY, bool, False)
            if copy_examples(scripts_folder, copied_before=copied):
                self.settings.set(EXAMPLES_KEY, True)
        self.scripts = ScriptsFolder(Path(scripts_folder), self.registry)
        # Scripts load on a thread of their own (a script's module code may never
        # return); the saved pipeline order applies once the first scan is done.
        self.scripts_watcher = ScriptsWatcher(self.scripts)
        self._scripts_ready = ChangeBridge()
        self._scripts_ready.changed.connect(self._scripts_loaded)
        self.scripts_watcher.first_scan_done.connect(self._scripts_ready.notify)
        self.scripts_watcher.start()
        preferences = default_preferences()
        self.setWindowTitle(window_title(self.core))
        self.setWindowIcon(application_icon())
        self.resize(*preferences.window_size)

        self.snap_slot: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
        self.live_slot: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
        self._live: LiveWorker | None = None
        self.skipped = 0
        self._closing_after_acquisition = False
        self._closed = False  # _close_everything has run
        self.named_views = NamedViewDocks(self, state.views)

        self.viewer = ImageViewer()
        state.shown.set_viewer_provider(self._viewer_for)  # acq.get_viewer() in scripts
        self.sliders = AxisSliders()
        self.browser = DatasetBrowser(self.viewer, self.sliders)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addWidget(self.viewer, 1)
        self.channel_strip = ChannelStrip(self.viewer.channels)
        centre_layout.addWidget(self.channel_strip)
        centre_layout.addWidget(self.sliders)
        self.setCentralWidget(centre)
        self.measure = MeasureTools(self.viewer, self)  # line profile, rectangle statistics

        self.controller = AcquisitionController(self.core, self.registry)
        self.controller.finished.connect(self._acquisition_finished)
        self.microscope_panel = MicroscopePanel(self.core, lambda: state.shown.newest() is not None)
        self.microscope_panel.snapRequested.connect(self.snap)
        self.microscope_panel.liveToggled.connect(self.set_live)
        self.microscope_panel.failed.connect(self.show_error_message)
        self.acquisition_panel = AcquisitionPanel(self.core, preferences.data_directory)
        self.acquisition_panel.startRequested.connect(self.start_acquisition)
        # the panel speaks for its own acquisition, else one the console or a script runs
        self.followed = FollowedAcquisition(
            self.acquisition_panel,
            self.controller,
            state.shown,
            lambda text: self.statusBar().showMessage(text, 15000),
            self._busy_elsewhere,
        )
        self.acquisition_panel.pauseToggled.connect(self.followed.pause)
        self.acquisition_panel.abortRequested.connect(self.followed.abort)
        self.acquisition_panel.putBackRequested.connect(self._put_back_hardware)
        self.acquisition_panel.keepRequested.connect(self.followed.forget_changes)
        self.acquisition_panel.failed.connect(self.show_error_message)
        # a preset defined in Devices > Configuration groups (or the console) is offered
        self.microscope_panel.core_events.configDefined.connect(
            self.acquisition_panel.refresh_channels
        )
        self.processors_panel = ProcessorsPanel(self.registry)
        self.scripts_panel = ScriptsPanel(self.scripts)
        self.scripts_panel.runRequested.connect(self.run_script)
        self.scripts_panel.folderChosen.connect(self.use_scripts_folder)
        self.console = None
        if console:
            from app.ui.processors.console import ConsoleWidget

            self.console = ConsoleWidget(console_namespace(state, self), BANNER)
        self.docks: dict[str, QDockWidget] = {}
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        # the side panels take the window's whole height (the Acquisition panel's plan
        # had room for less than two channel rows); the Log and Console sit under the image
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("Microscope", self.microscope_panel, left, scroll=True)
        self._add_dock("Acquisition", self.acquisition_panel, left)
        self._add_dock("Processors", self.processors_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("Scripts", self.scripts_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("Log", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        if self.console is not None:
            self._add_dock("Console", self.console, Qt.DockWidgetArea.BottomDockWidgetArea)
            self.tabifyDockWidget(self.docks["Log"], self.docks["Console"])
        profile = self._add_dock(
            "Profile", self.measure.panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        profile.hide()  # until a measuring tool is switched on
        self.measure.switchedOn.connect(self._show_measurements)
        self.measure.switchedOff.connect(profile.hide)
        self.tabifyDockWidget(self.docks["Microscope"], self.docks["Acquisition"])
        self.tabifyDockWidget(self.docks["Processors"], self.docks["Scripts"])
        self.docks["Microscope"].raise_()
        self.docks["Processors"].raise_()
        self.resizeDocks(
            [self.docks["Microscope"], self.docks["Processors"]],
            [330, 420],
            Qt.Orientation.Horizontal,
        )
        self._sized_docks = False
        self.devices = DevicesMenu(  # device properties, presets, pixel size, camera ROI
            self,
            self.core,
            live=lambda: self._live is not None,
            acquiring=lambda: state.shown.newest() is not None,
            open_configuration=lambda: self.choose_configuration(),
            settings=self.settings,
        )
        users: list[UsesMicroscope] = [
            self.controller,
            self.microscope_panel,
            self.acquisition_panel,
            _ScaleBarFollower(self.viewer),
            self.devices,
            self.followed,
        ]
        if self.console is not None:
            users.append(self.console)
        self.configuration = ConfigurationSwap(
            self, state, users, loader=self._load_with_chosen_installation
        )
        self._build_menus()
        self._initial_layout = self.saveState()  # View > Reset layout goes back to it
        self.status_line = StatusLine(self.statusBar())
        # the panel's estimate says the room on the disk from the same reading
        self.acquisition_panel.free_space = self.status_line.free_space.free
        self.viewer.pixelHovered.connect(self.status_line.show_pixel)
        self.viewer.set_pixel_size(self.core.getPixelSizeUm())
        self.microscope_panel.core_events.pixelSizeChanged.connect(self.viewer.set_pixel_size)
        # the profile's distances in the new µm (after the viewer took the new size)
        self.microscope_panel.core_events.pixelSizeChanged.connect(self.measure.request_update)
        self._restore_settings()

        self.display = DisplayRouter(
            self.viewer,
            self.browser,
            self.named_views,
            state.shown,
            lambda: self.live_slot if self._live is not None else self.snap_slot,
        )
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._status_tick)
        self._status_timer.start(STATUS_INTERVAL_MS)
        # the window's parts that are QObjects go with it (on the GUI thread), and their
        # timers are among its own (``lifecycle.stop_timers``)
        for part in (self.controller, self.display, self.browser.map):
            part.setParent(self)

    @property
    def core(self) -> CMMCorePlus:
        """The microscope in use (another one after a configuration is loaded)."""
        return self.state.core

    # ------------------------------------------------------------ layout
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized_docks and not self.remembered.has_layout():
            # once shown (sizes set before are not kept): the console, tabbed with the
            # log, opens with room for a dozen lines
            self._sized_docks = True
            # a bound method, not a lambda: Qt drops it if the window is deleted first
            QTimer.singleShot(0, self._size_log_dock)

    def _size_log_dock(self) -> None:
        line = self.fontMetrics().lineSpacing()
        self.resizeDocks([self.docks["Log"]], [14 * line + 40], Qt.Orientation.Vertical)

    def _add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        if scroll:  # a tall panel scrolls rather than squeezing the others
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            scrollbar = area_widget.verticalScrollBar().sizeHint().width()
            area_widget.setMinimumWidth(widget.minimumSizeHint().width() + scrollbar)
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.tiff_files = tiff = TiffFiles(self)
        for text, slot, shortcut in (
            ("Open &configuration…", self.choose_configuration, None),
            ("Use the &simulated microscope", self.use_simulated_microscope, None),
            ("Open &dataset…", self.choose_dataset, QKeySequence.StandardKey.Open),
            ("Open TIFF or OME-TIFF &file…", tiff.choose_file_to_open, None),
            ("&Process dataset…", self.choose_dataset_to_process, None),
            ("&Save acquisition as NDTiff…", self.choose_folder_to_save_memory_dataset, None),
            ("Save image as &TIFF…", self.choose_file_to_save_image, "Ctrl+Shift+S"),
            ("&Export dataset as OME-TIFF…", tiff.choose_file_to_export_dataset, None),
            ("Export current &view as OME-TIFF…", tiff.choose_file_to_export_view, None),
            ("&Copy image", self.copy_image, "Ctrl+Shift+C"),
            ("&Quit", self.close, QKeySequence.StandardKey.Quit),
        ):
            action = QAction(text, self)
            action.triggered.connect(slot)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            file_menu.addAction(action)
        acquire_menu = self.menuBar().addMenu("&Acquire")
        panel, scope = self.acquisition_panel, self.microscope_panel
        for label, button, keys in (
            ("&Snap", scope.snap_button, "F5"),
            ("&Live on/off", scope.live_button, "F6"),
            ("S&tart acquisition", panel.start_button, "Ctrl+Return"),
            ("&Pause/Resume", panel.pause_button, "Ctrl+P"),
            ("&Abort acquisition", panel.abort_button, "Ctrl+."),
        ):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(button.click)  # exactly what the button does
            acquire_menu.addAction(action)
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{button.toolTip()} ({shortcut})".lstrip())
        self.explore = ExploreActions(self, acquire_menu)
        self.menuBar().addMenu(self.devices.menu)
        view_menu = self.menuBar().addMenu("&View")
        for label, view_slot, keys in (
            ("&Fit image to window", self.viewer.fit, "Ctrl+0"),
            ("&Actual size (1:1)", self.viewer.one_to_one, "Ctrl+1"),
            ("&Reset view (fit, automatic contrast)", self.viewer.reset_view, "Ctrl+R"),
        ):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(view_slot)
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action, keys in (
            (self.measure.line_action, "Ctrl+Shift+L"),
            (self.measure.rect_action, "Ctrl+Shift+R"),
        ):
            action.setShortcut(QKeySequence(keys))
            view_menu.addAction(action)
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        self._views_menu = view_menu.addMenu("Processor &views")
        self._views_menu.aboutToShow.connect(self._list_named_views)
        view_menu.addSeparator()
        reset = QAction("Reset &layout", self)
        reset.triggered.connect(self.reset_layout)
        view_menu.addAction(reset)
        self.help_menu = build_help_menu(self)

    def _show_measurements(self) -> None:
        """A measuring tool was switched on: its numbers and plot in sight."""
        self.docks["Profile"].show()
        self.docks["Profile"].raise_()

    def _list_named_views(self) -> None:
        """The windows processors opened (show_image, show_plot), to bring back."""
        self._views_menu.clear()
        docks = self.named_views.docks()
        if not docks:
            self._views_menu.addAction("(none yet: a processor's show_image opens one)")
        for dock in docks:
            self._views_menu.addAction(dock.toggleViewAction())

    def reset_layout(self) -> None:
        """Every panel back where it was when Scopeflow was first started."""
        self.restoreState(self._initial_layout)
        for title, dock in self.docks.items():
            dock.setVisible(title != "Profile" or self.measure.active)

    def _scripts_loaded(self) -> None:
        """The first scan of the scripts is done: the saved pipeline order applies.
        (A method, not a lambda: its queued call dies with the window, where a lambda's
        ran after a closed window was garbage-collected and crashed the process.)"""
        self.remembered.restore_pipeline(self.registry)

    def _restore_settings(self) -> None:
        self.remembered.restore_layout(self)
        self.remembered.restore_pipeline(self.registry)  # again once the scripts loaded
        self.remembered.restore_channel_display(self.viewer.channels)
        directory = self.remembered.data_directory()
        if directory:
            self.acquisition_panel.data_directory = directory
        self.acquisition_panel.return_hardware.setChecked(self.remembered.return_hardware())
        self.acquisition_panel.restore_plan(self.settings.get(LAST_PLAN_KEY, dict, {}))
        # a real Dask cluster for on_dask processors ("tcp://host:8786"); none: local
        use_scheduler(self.settings.get(DASK_SCHEDULER_KEY, str, "") or None)
        panel_format = self.acquisition_panel.format
        chosen = panel_format.findData(self.settings.get(FORMAT_KEY, str, "ndtiff"))
        panel_format.setCurrentIndex(max(chosen, 0))

    def save_settings(self) -> None:
        self.remembered.remember_channel_display(self.viewer.channels)
        self.settings.set(LAST_PLAN_KEY, plan_to_json_value(self.acquisition_panel.plan()))
        self.settings.set(FORMAT_KEY, self.acquisition_panel.storage_format)
        self.remembered.save(
            self,
            self.registry,
            self.acquisition_panel.data_directory,
            self.scripts.path,
            self.acquisition_panel.return_hardware.isChecked(),
        )

    # ------------------------------------------------------------ camera
    def snap(self) -> None:
        if self._live is not None or self.controller.running:
            return
        cameras = camera_names(self.core)  # several: one image each, a composite
        try:
            self.core.snapImage()
            images = [self.core.getImage(i) for i in range(len(cameras))] or [self.core.getImage()]
        except Exception as exc:
            self.show_error_message(f"Snap failed: {exc}")
            return
        self.browser.browse(None, follow=True)
        self.viewer.set_title("Snap (not saved)")
        self.snap_slot.put(images[-1], camera_frame_metadata(cameras, images))

    def set_live(self, on: bool) -> None:
        if on and self._live is None:
            if self.controller.running:
                self.microscope_panel.show_live(False)
                return
            self.browser.browse(None, follow=True)
            self.viewer.set_title("Live (not saved)")
            self._live = LiveWorker(self.core, self.live_slot, self.registry)
            self._live.failed.connect(self._live_failed)
            self._live.start()
        elif not on and self._live is not None:
            self._live.stop()
            self._live = None
        self.microscope_panel.show_live(self._live is not None)

    def _live_failed(self, message: str) -> None:
        self.set_live(False)
        self.show_error_message(message)

    # ------------------------------------------------------------ acquisition
    def start_acquisition(self) -> None:
        if self.explore.exploring:
            self.show_error_message(
                "Explore is open: close its window to start an acquisition (the stage and "
                "camera are the map's until then)"
            )
            return
        self.set_live(False)
        try:
            events = self.acquisition_panel.events()
            target = self.acquisition_panel.save_target()
            acq = self.controller.start(
                events,
                target,
                self.acquisition_panel.return_hardware.isChecked(),
                self.acquisition_panel.storage_format,
                tile_layout=self.acquisition_panel.tile_layout(),
            )
        except Exception as exc:
            self.show_error_message(f"Could not start the acquisition: {exc}")
            return
        self.browser.browse(acq.get_dataset(), follow=True)
        self.followed.forget_changes()
        self.acquisition_panel.set_running(True)
        self.microscope_panel.setEnabled(False)
        logger.info(
            "Acquisition started: %d events%s",
            len(events),
            f", saving to {acq.dataset_path}" if acq.dataset_path else "",
        )

    def _busy_elsewhere(self, busy: bool) -> None:
        """An acquisition from the console or a script runs (or ended): Live stops and
        the microscope's controls wait for it, as for the panel's own."""
        if busy:
            self.set_live(False)
        self.microscope_panel.setEnabled(not busy)

    def _put_back_hardware(self) -> None:
        def moving(work: Callable[[], list[str]]) -> list[str]:
            result = run_with_progress(
                self,
                "Put back",
                "Moving the microscope back…",
                lambda on_progress, should_stop: work(),
                busy=True,
            )
            if result.exception is not None:
                return [str(result.exception)]
            return list(result.value or [])

        self.followed.put_back(moving)

    def _acquisition_finished(self, error: str) -> None:
        acq = self.controller.acquisition
        self.acquisition_panel.set_running(False)
        self.microscope_panel.setEnabled(True)
        if acq is None:
            return
        status = acq.status
        counts = status.counts
        total = status.events_submitted
        failures = [e for e in acq.errors if e.exception is not None]
        if failures and status.state is not RunState.FAILED:
            first = failures[0]
            self.show_error_message(
                f"{len(failures)} error(s) in processors or callbacks; a failing processor "
                f"was disabled and frames passed through it. First: {first}"
            )
        if acq.dataset_path is not None:
            text = describe_end(status, f" in {acq.dataset_path}")
        elif acq.sink.stores_images:
            where = " in memory (File > Save acquisition as NDTiff… writes them to disk)"
            text = describe_end(status, where, kept="kept")
        else:
            text = describe_end(status, "", kept="passed on, none kept")
        if status.state is RunState.FAILED:
            self.show_error_message(text)
        self.acquisition_panel.show_result(text, counts.get("acquired", 0), total)

        self.browser.acquisition_ended()
        if self._closing_after_acquisition:
            QTimer.singleShot(0, self.close)  # the user asked to quit once it finished

    # ------------------------------------------------------------ datasets
    def dialog_folder(self) -> str:
        """Where file dialogs open: the folder last used, else the data folder (never
        the working directory, which a Start-menu shortcut makes the program's)."""
        last = self.remembered.dialog_folder()
        if last and Path(last).is_dir():
            return last
        return self.acquisition_panel.data_directory

    def remember_dialog_folder(self, folder: str) -> None:
        self.remembered.remember_dialog_folder(folder)

    def choose_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open an NDTiff dataset", self.dialog_folder()
        )
        if folder:
            self.remember_dialog_folder(str(Path(folder).parent))
            self.open_dataset(folder)

    def open_dataset(self, folder: str | os.PathLike[str]) -> None:
        """An NDTiff dataset folder, or a TIFF / OME-TIFF file."""
        try:
            dataset = open_dataset(folder)
        except Exception as exc:
            self.show_error_message(f"Could not open {folder}: {exc}")
            return
        self.set_live(False)
        self.browser.browse(dataset, follow=False)
        self.viewer.set_title(str(folder))
        warning = getattr(dataset, "warning", None)  # a dataset whose writer was stopped
        if warning:  # the whole of it is in the Log panel (the dataset logs it)
            missing = len(getattr(dataset, "missing_images", ()))
            self.statusBar().showMessage(
                f"Incomplete dataset: its writer did not close it; {missing} image(s) of "
                "its index never reached the disk (the Log panel says more)",
                60000,
            )
            self.statusBar().setToolTip(warning)

    # ------------------------------------------------------------ scripts
    def run_script(self, path: str) -> None:
        """Run a script in the console's namespace; its variables stay there."""
        if self.console is None:
            self.show_error_message("The console is not available to run scripts.")
            return
        self.docks["Console"].show()
        self.docks["Console"].raise_()
        logger.info("Running %s in the console", path)
        self.console.run_file(path)

    def use_scripts_folder(self, folder: str) -> None:
        self.scripts.move_to(folder)
        self.remembered.remember_scripts_folder(folder)
        logger.info("Scripts folder: %s", folder)

    def choose_dataset_to_process(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Process a dataset with the enabled processors", self.dialog_folder()
        )
        if folder:
            self.remember_dialog_folder(str(Path(folder).parent))
            self.process_dataset(folder)

    def process_dataset(self, folder: str) -> str | None:
        """Replay the enabled processors over a dataset into ``<name>_processed_N``."""
        from app.ui.processors.replay_dialog import run_replay

        result = run_replay(self, folder, self.registry.for_acquisition())
        if result.error:
            self.show_error_message(f"Processing {folder} failed: {result.error}")
            return None
        logger.info("Processed %s into %s", folder, result.value)
        self.statusBar().showMessage(f"Processed dataset written to {result.value}", 15000)
        if result.value:
            self.open_dataset(result.value)
        return result.value

    def choose_folder_to_save_memory_dataset(self) -> None:
        if not isinstance(self.browser.dataset, RAMDataset):
            self.show_error_message(
                "The images shown are already on disk: only an acquisition kept in memory "
                "(Save to disk unchecked) needs saving."
            )
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Save the acquisition as NDTiff in", self.dialog_folder()
        )
        if folder:
            self.remember_dialog_folder(folder)
            self.save_memory_dataset(folder)

    def save_memory_dataset(self, folder: str) -> str | None:
        """Write the acquisition kept in memory to ``folder/<name>_N`` and open it there."""
        dataset = self.browser.dataset
        if not isinstance(dataset, RAMDataset):
            return None

        def work(on_progress, should_stop) -> str:
            return str(dataset.save_as_ndtiff(folder, on_progress=on_progress))

        result = run_with_progress(self, "Save as NDTiff", f"Saving to {folder}…", work)
        if result.error:
            self.show_error_message(f"Saving to {folder} failed: {result.error}")
            return None
        logger.info("Saved the acquisition kept in memory to %s", result.value)
        self.statusBar().showMessage(f"Saved to {result.value}", 15000)
        return result.value

    def _shown_image_and_metadata(self) -> tuple[np.ndarray, dict[str, Any]] | None:
        image = self.viewer.image
        if image is None:
            self.show_error_message("There is no image to save: Snap, Live or open a dataset.")
            return None
        metadata = {
            "Camera": self.core.getCameraDevice(),
            "Exposure-ms": self.core.getExposure(),
            "PixelSize_um": self.core.getPixelSizeUm(),
            "Shown": self.viewer.title.text(),
        }
        group = self.core.getChannelGroup()
        if group:
            metadata["Channel"] = self.core.getCurrentConfig(group)
        return image, metadata

    def choose_file_to_save_image(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the image as TIFF", self.dialog_folder(), "TIFF (*.tif)"
        )
        if path:
            self.remember_dialog_folder(str(Path(path).parent))
            self.save_image(path)

    def save_image(self, path: str) -> str | None:
        """The image shown, as a TIFF with its metadata (pixels as acquired)."""
        from app.ui.files.image_export import save_tiff

        shown = self._shown_image_and_metadata()
        if shown is None:
            return None
        try:
            written = save_tiff(path, *shown)
        except OSError as exc:
            self.show_error_message(f"Could not save {path}: {exc}")
            return None
        self.statusBar().showMessage(f"Saved {written}", 15000)
        return str(written)

    def copy_image(self) -> None:
        from app.ui.files.image_export import copy_to_clipboard

        if self.viewer.image is None:
            self.show_error_message("There is no image to copy: Snap, Live or open a dataset.")
            return
        copy_to_clipboard(self.viewer.image, self.viewer.levels)
        self.statusBar().showMessage("Image copied (as shown: 8 bits, this contrast)", 5000)

    # ------------------------------------------------------------ configuration
    def choose_configuration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a Micro-Manager configuration",
            self.dialog_folder(),
            "Micro-Manager configuration (*.cfg)",
        )
        if path:
            self.remember_dialog_folder(str(Path(path).parent))
            self.load_configuration(path)

    def _load_with_chosen_installation(self, path: str) -> CMMCorePlus:
        """Load ``path`` with the installation chosen in this window's settings (the
        Devices › Micro-Manager installation… dialog's), or the automatic one."""
        return load_microscope(path, settings=self.settings)

    def use_simulated_microscope(self) -> bool:
        """Back from a loaded configuration to the simulated microscope."""
        return self.load_configuration(None)

    def load_configuration(self, path: str | None) -> bool:
        """Load a configuration (None: the simulated microscope) off the GUI thread and
        use it; False if it was not."""
        if self.controller.running:
            self.show_error_message("Stop the acquisition before loading a configuration.")
            return False
        self.set_live(False)
        try:
            self.configuration.load(path)
        except AdaptersDoNotFitError as exc:
            logger.error("%s", exc)
            self.statusBar().showMessage(
                f"Not loaded: {len(exc.problems)} device adapter(s) in {exc.installation.path} "
                "do not fit this Scopeflow (the Log panel says which); the microscope is "
                "unchanged.",
                30000,
            )
            offer = not os.environ.get("SCOPEFLOW_NO_DIALOGS")
            if offer and offer_another_installation(self, str(exc)):
                self.devices.show_installations()
            return False
        except MicroscopeConfigError as exc:
            self.show_error_message(str(exc))
            return False
        except LoadCancelled as exc:
            self.statusBar().showMessage(str(exc), 15000)
            return False
        self.setWindowTitle(window_title(self.core))
        if path is None:
            self.statusBar().showMessage("Using the simulated microscope", 15000)
        else:
            adapters = installation_in_use(self.core.getDeviceAdapterSearchPaths(), self.settings)
            self.statusBar().showMessage(
                f"Loaded {Path(path).name}: device adapters from {adapters}", 30000
            )
        return True

    # ------------------------------------------------------------ display
    @property
    def displayed(self) -> int:
        """Frames painted in the viewer so far."""
        return self.display.displayed

    def plot_view(self, name: str) -> pg.PlotWidget | None:
        return self.named_views.plot(name)

    def named_view(self, name: str) -> ImageViewer | None:
        return self.named_views.view(name)

    def _status_tick(self) -> None:
        acq = self.state.shown.newest()
        if acq is None and self.docks["Acquisition"].isVisible():
            self.acquisition_panel.show_estimate()  # before Start: will it fit, how long
        if acq is not None and acq is self.controller.acquisition:
            status = acq.status
            self.acquisition_panel.show_progress(
                status.counts["acquired"],
                status.events_submitted,
                self.controller.started_at,
                status.state is RunState.PAUSING,
            )
            self.browser.refresh()
        self.followed.tick()
        self.status_line.update(
            acq,
            self._live.frames if self._live is not None else 0,
            self.display.displayed,
            self.viewer.image,
            self.acquisition_panel.data_directory,
            self.browser.map.size if self.browser.map.active else None,
            self.viewer.placement.scale,
            started_by=self.followed.origin(acq) if acq is not None else "",
        )

    def show_error_message(self, message: str) -> None:
        logger.error(message)
        self.statusBar().showMessage(message, 15000)
        if not os.environ.get("SCOPEFLOW_NO_DIALOGS"):
            QMessageBox.warning(self, "Scopeflow", message)

    # ------------------------------------------------------------ closing
    def _viewer_for(self, acquisition: Any) -> ImageViewer:
        """The viewer that shows ``acquisition`` (the window shows every displayed one)."""
        return self.viewer

    def ask_how_to_quit(self) -> QuitChoice:
        """Asked when the window closes during an acquisition (tests replace it)."""
        if os.environ.get("SCOPEFLOW_NO_DIALOGS"):
            return QuitChoice.ABORT
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("An acquisition is running")
        box.setText("An acquisition is running. Quit Scopeflow?")
        box.setInformativeText(
            "Either way, the images acquired so far are saved and the dataset is closed "
            "properly before Scopeflow quits."
        )
        finish = box.addButton("Let it finish, then quit", QMessageBox.ButtonRole.AcceptRole)
        abort = box.addButton("Abort and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is finish:
            return QuitChoice.FINISH
        if clicked is abort:
            return QuitChoice.ABORT
        return QuitChoice.CANCEL

    def closeEvent(self, event) -> None:
        if not self._closed and not self.scripts_panel.close_editors():
            event.ignore()  # a script with unsaved changes: the user chose Cancel
            return
        if self.controller.running and not self._closing_after_acquisition:
            choice = self.ask_how_to_quit()
            if choice is QuitChoice.CANCEL:
                event.ignore()
                return
            if choice is QuitChoice.FINISH:
                event.ignore()
                self._closing_after_acquisition = True
                self.statusBar().showMessage(
                    "Scopeflow quits when the acquisition has finished (Abort stops it now)."
                )
                return
            self.controller.abort()
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
        self.state.uninstall()
        # the microscope, the registry and the scripts folder outlive the window
        self.microscope_panel.core_events.disconnect_core()
        self.scripts_watcher.first_scan_done.disconnect(self._scripts_ready.notify)
        self.processors_panel.detach()
        self.scripts_panel.detach()
        self.followed.detach()
        self.devices.close()
        self.set_live(False)
        self.controller.close()  # aborts one still running, joins its waiting thread
        self.save_settings()
        self.log_panel.detach()
        self.display.stop()
        self.status_line.free_space.stop()
        self.explore.close()
        self.browser.map.stop()
        self.measure.close()
        self.scripts_watcher.stop()
        close_shared_clusters()  # on_dask's local clusters: their processes end with us
        if self.console is not None:
            self.console.shutdown()
        stop_timers(self)  # the status line's, the panels', the dialogs', the views'
        for viewer in self.findChildren(ImageViewer):  # the main one, processors' views
            viewer.release()
        for graphics in self.findChildren(pg.GraphicsView):  # plots: the profile, times
            release_graphics(graphics)


def window_title(core: CMMCorePlus) -> str:
    """ "Scopeflow — MMConfig.cfg": which microscope the window drives, always in sight."""
    return f"Scopeflow — {microscope_name(core)}"
