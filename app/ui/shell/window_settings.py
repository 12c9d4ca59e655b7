"""What the window remembers between runs: its layout, the pipeline's order and
switches, the Acquisition panel's plan, format and save folder, the scripts folder and
how each channel looks (plain JSON values in a ``SettingsStore``, never pickled
objects)."""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

from PyQt6.QtCore import QByteArray
from PyQt6.QtWidgets import QMainWindow

from app.acquisition.plan_file import plan_to_json_value
from app.processing.channel_display import ChannelDisplay
from app.processing.dask_processor import use_scheduler
from app.processing.registry import ProcessorRegistry
from app.scripting.locations import copy_examples, default_scripts_folder
from app.settings_migration import carry_over_old_settings
from app.settings_store import SettingsStore
from app.ui.acquiring.acquisition_panel import AcquisitionPanel

logger = logging.getLogger(__name__)

LAST_PLAN_KEY = "acquisition/plan"  # the Acquisition panel's settings, as a useq MDASequence
FORMAT_KEY = "acquisition/format"  # NDTiff or OME-Zarr, as last chosen
EXAMPLES_KEY = "scripts/examples_copied"  # once: deleted examples do not come back
DASK_SCHEDULER_KEY = "dask/scheduler"  # on_dask's cluster; written by hand in settings.json


def open_settings(store: SettingsStore | None) -> SettingsStore:
    """``store``, else the user's settings file (on its first use, with what an older
    version of Scopeflow had remembered)."""
    if store is not None:
        return store
    store = SettingsStore()
    if not store.existed:
        carry_over_old_settings(store)
    return store


class WindowSettings:
    def __init__(self, store: SettingsStore) -> None:
        self.store = store

    def scripts_folder_to_use(self) -> str:
        """The scripts folder remembered, else the user's own (the examples copied into
        it the first time, never again once deleted)."""
        remembered = self.scripts_folder()
        if remembered is not None:
            return remembered
        folder = default_scripts_folder()
        if copy_examples(folder, copied_before=self.store.get(EXAMPLES_KEY, bool, False)):
            self.store.set(EXAMPLES_KEY, True)
        return str(folder)

    def restore(
        self,
        window: QMainWindow,
        registry: ProcessorRegistry,
        channels: ChannelDisplay,
        panel: AcquisitionPanel,
    ) -> None:
        """The window as it was left (the pipeline again once the scripts loaded), and
        the Dask cluster for ``on_dask`` processors."""
        self.restore_layout(window)
        self.restore_pipeline(registry)
        self.restore_channel_display(channels)
        self.restore_acquisition_panel(panel)
        use_scheduler(self.dask_scheduler())

    def scripts_folder(self) -> str | None:
        return self.store.get("scripts/folder", str, "") or None

    def data_directory(self) -> str | None:
        return self.store.get("acquisition/directory", str, "") or None

    def dask_scheduler(self) -> str | None:
        """A real Dask cluster for ``on_dask`` processors ("tcp://host:8786"); None: a
        local one."""
        return self.store.get(DASK_SCHEDULER_KEY, str, "") or None

    def return_hardware(self) -> bool:
        """After an acquisition, return the hardware to where it was (default: yes)."""
        return self.store.get("acquisition/return_hardware", bool, True)

    def has_layout(self) -> bool:
        """A layout the user arranged was saved (then it is restored as it was)."""
        return bool(self.store.get("window/state", str, ""))

    def restore_layout(self, window: QMainWindow) -> None:
        """The window's geometry and docks; what cannot be applied is ignored with a
        warning (the window then starts as new)."""
        geometry = self._bytes("window/geometry")
        if geometry is not None and not window.restoreGeometry(geometry):
            logger.warning("Ignored an unusable saved window geometry")
        state = self._bytes("window/state")
        if state is not None and not window.restoreState(state):
            logger.warning("Ignored an unusable saved window layout")

    def restore_pipeline(self, registry: ProcessorRegistry) -> None:
        """The pipeline's order and switches, once the scripts are loaded."""
        pipeline = self.store.get("processors/state", list, [])
        try:
            registry.restore_state(pipeline)
        except Exception as exc:  # a hand-edited file must not stop the microscope
            logger.warning("Ignored an unusable saved pipeline (%s): %r", exc, pipeline)

    def restore_channel_display(self, channels: ChannelDisplay) -> None:
        """Each channel's colour, contrast and visibility, by name, and the mode."""
        channels.restore_looks(self.store.get("viewer/channels", dict, {}))
        channels.composite = self.store.get("viewer/composite", bool, True)

    def remember_channel_display(self, channels: ChannelDisplay) -> None:
        """Kept until ``save``, with the rest."""
        self.store.set("viewer/channels", channels.looks_to_json())
        self.store.set("viewer/composite", channels.composite)

    def restore_acquisition_panel(self, panel: AcquisitionPanel) -> None:
        """The plan, the format, the save folder and Return the hardware, as last left."""
        directory = self.data_directory()
        if directory:
            panel.data_directory = directory
        panel.return_hardware.setChecked(self.return_hardware())
        panel.restore_plan(self.store.get(LAST_PLAN_KEY, dict, {}))
        chosen = panel.format.findData(self.store.get(FORMAT_KEY, str, "ndtiff"))
        panel.format.setCurrentIndex(max(chosen, 0))

    def _bytes(self, key: str) -> QByteArray | None:
        text = self.store.get(key, str, "")
        if not text:
            return None
        try:
            return QByteArray(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            logger.warning("Ignored the setting %r: not base64 data", key)
            return None

    def save(
        self,
        window: QMainWindow,
        registry: ProcessorRegistry,
        panel: AcquisitionPanel,
        channels: ChannelDisplay,
        scripts_folder: Path,
    ) -> None:
        """Everything above, written to the settings file (the window closes)."""
        self.remember_channel_display(channels)
        self.store.set(LAST_PLAN_KEY, plan_to_json_value(panel.plan()))
        self.store.set(FORMAT_KEY, panel.storage_format)
        self.store.set("window/geometry", _base64(window.saveGeometry()))
        self.store.set("window/state", _base64(window.saveState()))
        self.store.set("processors/state", registry.state())
        self.store.set("acquisition/directory", panel.data_directory)
        self.store.set("scripts/folder", str(scripts_folder))
        self.store.set("acquisition/return_hardware", panel.return_hardware.isChecked())
        self.store.save()

    def remember_data_folder(self, folder: str) -> None:
        """At once, not only when the window closes: a script run meanwhile saves where
        the window does (``data_folder()`` reads it)."""
        self.store.set("acquisition/directory", folder)
        self.store.save()

    def remember_scripts_folder(self, folder: str) -> None:
        self.store.set("scripts/folder", folder)
        self.store.save()


def _base64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")
