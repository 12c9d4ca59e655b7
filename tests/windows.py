"""One way for a test to open the main window, as the app does at each start: on a
microscope, with its settings in a file of the test's own."""

from __future__ import annotations

import os

from app.appstate import AppState
from app.processing.registry import ProcessorRegistry
from app.settings_store import SettingsStore


def new_window(
    qtbot,
    core,
    settings: str | os.PathLike[str] | SettingsStore,
    scripts_folder: str | os.PathLike[str] | None = None,
    *,
    registry: ProcessorRegistry | None = None,
    console: bool = False,
    show: bool = False,
):
    """A ``MainWindow`` that pytest-qt closes after the test; ``settings`` a file's path
    or a store; without ``scripts_folder``, the user's (as the app chooses it)."""
    from app.ui.shell.main_window import MainWindow

    if not isinstance(settings, SettingsStore):
        settings = SettingsStore(str(settings))
    window = MainWindow(
        AppState(core, registry if registry is not None else ProcessorRegistry()),
        settings,
        scripts_folder=scripts_folder,
        console=console,
    )
    qtbot.addWidget(window)
    if show:
        window.show()
    return window
