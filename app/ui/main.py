"""Starting the Qt application."""

from __future__ import annotations

import sys

from pymmcore_plus import CMMCorePlus


def run_app(core: CMMCorePlus) -> int:
    from PyQt6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Scopeflow")
    window = MainWindow(core)
    window.show()
    return app.exec()
