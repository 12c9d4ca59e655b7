"""Starting the Qt application."""

from __future__ import annotations

import gc
import sys

from pymmcore_plus import CMMCorePlus

from app.appstate import AppState
from app.processing.registry import ProcessorRegistry


def run_app(core: CMMCorePlus, registry: ProcessorRegistry | None = None) -> int:
    from PyQt6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Scopeflow")
    app.setOrganizationName("Scopeflow")
    window = MainWindow(AppState(core, registry or ProcessorRegistry()))
    window.show()
    # Everything made at start-up lives as long as the app: keep it out of the garbage
    # collector's way, which shortens the collections that pause the GUI thread.
    gc.freeze()
    return app.exec()
