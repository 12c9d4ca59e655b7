"""The Help menu: the user guide and the scripting API reference (Markdown files shipped
with the app, shown offline), the versions for a bug report, and the log and settings
folders opened in the file manager."""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt, QUrl, qVersion
from PyQt6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import app
from app.app_logging import LOG_FILE, log_folder
from app.appstate import AppState
from app.microscope.installations import describe_installation, installation_in_use
from app.microscope.loading import core_interface_version
from app.resource_files import MissingResourceError, doc_path
from app.settings_store import SettingsStore
from app.ui.common.seams import Messages

logger = logging.getLogger(__name__)

USER_GUIDE = "user-guide.md"
SCRIPTING_API = "scripting-api.md"
_TITLES = {USER_GUIDE: "Scopeflow user guide", SCRIPTING_API: "Scopeflow scripting API reference"}


def current_log_folder() -> Path:
    """The folder of the log file being written (``scopeflow.log``, the root logger's
    file handler), else where ``app_logging`` puts it."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            path = Path(handler.baseFilename)
            if path.name == LOG_FILE:
                return path.parent
    return log_folder()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class DocumentDialog(QDialog):
    """A Markdown file rendered by Qt (``QTextBrowser.setMarkdown``): no browser, no
    network. Links to the other guide open it; web links go to ``open_url``."""

    def __init__(
        self,
        title: str,
        markdown: str,
        open_url: Callable[[QUrl], object],
        open_doc: Callable[[str], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 720)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        # Qt shows HTML comments as text: notes left for whoever edits the file
        self.browser.setMarkdown(re.sub(r"<!--.*?-->\s*", "", markdown, flags=re.S))
        self.browser.anchorClicked.connect(self._follow)
        self._open_url = open_url
        self._open_doc = open_doc
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def _follow(self, url: QUrl) -> None:
        name = Path(url.path()).name
        if not url.scheme() and name in _TITLES:
            self._open_doc(name)
        elif url.scheme() in ("http", "https", "mailto"):
            self._open_url(url)
        elif url.hasFragment() and not url.path():
            self.browser.scrollToAnchor(url.fragment())


class HelpMenu:
    """The window's Help menu. ``opener`` opens folders and web links (by default
    ``QDesktopServices.openUrl``); tests replace it so that nothing is opened."""

    def __init__(
        self, parent: QMainWindow, state: AppState, settings: SettingsStore, messages: Messages
    ) -> None:
        self.parent = parent
        self.state = state
        self.settings = settings
        self.messages = messages
        self.opener: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.dialogs: dict[str, QDialog] = {}
        menu_bar = parent.menuBar()
        assert menu_bar is not None  # a QMainWindow always makes its menu bar
        self.menu = menu_bar.addMenu("&Help")
        self.actions: dict[str, QAction] = {}
        entries: list[tuple[str, str, Callable[[], object], Any] | None] = [
            ("guide", "&User guide", self.show_user_guide, QKeySequence.StandardKey.HelpContents),
            ("api", "&Scripting API reference", self.show_scripting_api, None),
            None,
            ("logs", "Open the &log folder", self.open_log_folder, None),
            ("settings", "Open the s&ettings folder", self.open_settings_folder, None),
            None,
            ("about", "&About Scopeflow", self.show_about, None),
        ]
        for entry in entries:
            if entry is None:
                self.menu.addSeparator()
                continue
            key, text, slot, keys = entry
            action = QAction(text, parent)
            action.triggered.connect(slot)
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
            if key == "about":
                action.setMenuRole(QAction.MenuRole.AboutRole)  # the app menu on macOS
            self.menu.addAction(action)
            self.actions[key] = action

    # ------------------------------------------------------------ the guides
    def show_user_guide(self) -> QDialog | None:
        return self.show_document(USER_GUIDE)

    def show_scripting_api(self) -> QDialog | None:
        return self.show_document(SCRIPTING_API)

    def show_document(self, name: str) -> QDialog | None:
        """Show ``docs/<name>`` in a window of its own (raised if already open)."""
        dialog = self.dialogs.get(name)
        if dialog is None:
            try:
                markdown = doc_path(name).read_text(encoding="utf-8")
            except (MissingResourceError, OSError) as exc:
                self.messages.show_error_message(str(exc))
                return None
            dialog = DocumentDialog(
                _TITLES.get(name, name), markdown, self.opener, self.show_document, self.parent
            )
            self.dialogs[name] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    # ------------------------------------------------------------ folders
    def open_log_folder(self) -> Path:
        return self._open_folder(current_log_folder(), "log")

    def open_settings_folder(self) -> Path:
        return self._open_folder(self.settings.path.parent, "settings")

    def _open_folder(self, folder: Path, what: str) -> Path:
        """Open ``folder`` in the file manager (made first if nothing was written there
        yet); if that fails, say where it is."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("Could not create the %s folder %s: %s", what, folder, exc)
        if self.opener(QUrl.fromLocalFile(str(folder))):
            self.messages.show_status(f"Opened the {what} folder: {folder}", 10000)
        else:
            self.messages.show_error_message(
                f"Could not open a file manager; the {what} folder is {folder}"
            )
        return folder

    # ------------------------------------------------------------ about
    def about_text(self) -> str:
        """The versions a bug report needs, one per line."""
        core = self.state.core
        try:
            mmcore, device_interface = core.getVersionInfo(), core.getAPIVersionInfo()
            configuration = core.systemConfigurationFile() or "none loaded"
            installation = installation_in_use(core.getDeviceAdapterSearchPaths(), self.settings)
            adapters = (
                describe_installation(installation).describe(core_interface_version())
                if installation is not None
                else "none set"
            )
        except Exception as exc:  # a core in a bad state must not hide the rest
            mmcore = device_interface = adapters = configuration = f"unknown ({exc})"
        import pymmcore_plus

        lines = [
            f"Scopeflow {app.__version__}",
            f"Python {platform.python_version()} ({sys.executable})",
            f"PyQt {PYQT_VERSION_STR}, Qt {qVersion()} (built with {QT_VERSION_STR})",
            f"pymmcore-plus {pymmcore_plus.__version__}",
            f"pymmcore-nano {_version('pymmcore-nano')}, pymmcore {_version('pymmcore')}",
            f"MMCore: {mmcore}",
            f"Device interface: {device_interface}",
            # the Micro-Manager installation (or the demo adapters) the devices come from
            f"Micro-Manager installation: {adapters}",
            f"Configuration: {configuration}",
            f"numpy {_version('numpy')}, ndtiff {_version('ndtiff')}, "
            f"tifffile {_version('tifffile')}",
            f"System: {platform.platform()}",
            f"Settings: {self.settings.path}",
            f"Log folder: {current_log_folder()}",
        ]
        return "\n".join(lines)

    def show_about(self) -> AboutDialog:
        dialog = self.dialogs.get("about")
        if not isinstance(dialog, AboutDialog):
            dialog = AboutDialog(self.parent)
            self.dialogs["about"] = dialog
        dialog.text.setPlainText(self.about_text())  # the microscope may have changed
        dialog.show()
        dialog.raise_()
        return dialog


class AboutDialog(QDialog):
    """The version, and the versions of what it runs on in a text that can be selected
    and copied (Copy puts it all on the clipboard)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Scopeflow")
        heading = QLabel(
            f"<h3>Scopeflow {app.__version__}</h3>"
            "<p>Microscope acquisition with Python image processors in the stream of "
            "frames, on Micro-Manager hardware or a simulated microscope.</p>"
            "<p>The versions below can be selected and copied into a bug report.</p>"
        )
        heading.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMinimumSize(660, 230)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: _copy(self.text.toPlainText()))
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


def _copy(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)
