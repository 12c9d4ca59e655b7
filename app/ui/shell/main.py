"""Starting the Qt application."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from pymmcore_plus import CMMCorePlus

from app.appstate import AppState
from app.processing.registry import ProcessorRegistry


def _work_in_data_folder() -> None:
    """Relative paths typed in the console or a script (pycro-manager's
    ``Acquisition(directory="data")``) land in the user's data folder, not wherever the
    app was started from: a Start-menu shortcut starts it in the program's own folder."""
    from app.preferences import data_folder

    folder = data_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.chdir(folder)
    except OSError as exc:
        logging.getLogger(__name__).warning(
            "Relative paths stay relative to %s: the data folder %s cannot be used (%s)",
            os.getcwd(),
            folder,
            exc,
        )


def run_app(
    core: CMMCorePlus,
    registry: ProcessorRegistry | None = None,
    self_test_report: Path | None = None,
) -> int:
    """Show the window until it closes; with ``self_test_report``, check the app
    through it, write the report there and return 0 if every step passed."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from app.ui.common.icon import application_icon
    from app.ui.shell.main_window import MainWindow

    _route_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Scopeflow")
    app.setOrganizationName("Scopeflow")
    QApplication.setWindowIcon(application_icon())
    _work_in_data_folder()
    window = MainWindow(AppState(core, registry or ProcessorRegistry()))
    sys.excepthook = _report_unhandled(window)
    threading.excepthook = _log_thread_error  # a thread's uncaught error, into the log
    window.show()
    if self_test_report is not None:
        from app.ui.shell.self_test import SelfTest

        test = SelfTest(window, self_test_report)
        test.start()
    # Everything made at start-up lives as long as the app: keep it out of the garbage
    # collector's way, which shortens the collections that pause the GUI thread.
    gc.freeze()
    QTimer.singleShot(WARM_UP_AFTER_MS, _import_readers_in_background)
    return app.exec()


#: once the window is up and the user is reading it
WARM_UP_AFTER_MS = 2000


def _import_readers_in_background() -> None:
    """Import the OME-Zarr reader (tensorstore: 0.8 s) on a thread while the user looks
    at the window, so that the first OME-Zarr dataset opened does not wait for it."""

    def import_quietly() -> None:
        try:
            importlib.import_module("tensorstore")
        except Exception:  # opening a dataset will say what is wrong
            logging.getLogger(__name__).debug("tensorstore not imported", exc_info=True)

    threading.Thread(target=import_quietly, name="scopeflow-warm-up", daemon=True).start()


def _report_unhandled(
    window: Any,
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """An exception no code caught (in a Qt slot, say) is logged with its traceback and
    shown; the app goes on. PyQt's default would end the process, and with it a
    running acquisition."""

    def report(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("scopeflow").critical("Unhandled error", exc_info=(kind, error, tb))
        with contextlib.suppress(Exception):  # the report must never raise in turn
            window.show_error_message(f"Unexpected error: {kind.__name__}: {error}")

    return report


def _log_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    logging.getLogger("scopeflow").critical(
        "Unhandled error in %s",
        name,
        exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
    )


def _route_qt_messages() -> None:
    """Qt's own messages go to the log (and its file), not straight to file descriptor
    2, which a pythonw.exe process does not have. Qt's warnings are mostly about
    platform quirks: they are kept in the file, not shown on the terminal."""
    from PyQt6.QtCore import QtMsgType, qInstallMessageHandler

    qt_logger = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.DEBUG,
        QtMsgType.QtWarningMsg: logging.INFO,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handle(kind: QtMsgType, context: object, message: str | None) -> None:
        qt_logger.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handle)


def show_startup_error(message: str) -> None:
    """Say why the app cannot start, in a dialog: started from the Start menu there is
    no terminal to read it in."""
    import os

    from PyQt6.QtWidgets import QApplication, QMessageBox

    if os.environ.get("SCOPEFLOW_NO_DIALOGS"):
        return
    _ = QApplication.instance() or QApplication(sys.argv)
    QMessageBox.critical(None, "Scopeflow cannot start", message)
