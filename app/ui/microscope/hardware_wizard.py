"""Devices > Hardware configuration wizard…: how to make a configuration file.

Scopeflow has no wizard of its own: Micro-Manager's Hardware Configuration Wizard
already knows every device adapter, and its configuration files are what Scopeflow
loads. This dialog says so, step by step, and leads to the download page and to
File > Open configuration…. The page's address is shown as text too, since the
computer next to a microscope is often offline.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, QUrl
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.ui.common.message_label import MessageLabel

DOWNLOAD_URL = "https://micro-manager.org/Download_Micro-Manager_Latest_Release"

STEPS = f"""
<p>Scopeflow drives the devices that a Micro-Manager configuration file (<i>.cfg</i>)
lists. It does not write that file: Micro-Manager's Hardware Configuration Wizard
does.</p>
<ol>
<li>Install Micro-Manager (free) on this computer, and the drivers your devices'
makers require.</li>
<li>Start Micro-Manager and choose <b>Devices › Hardware Configuration Wizard…</b>.
It adds your devices, sets the properties they need at start-up, and saves a
configuration file.</li>
<li>Quit Micro-Manager (a camera or a serial port is usually opened by one program at
a time), then choose <b>File › Open configuration…</b> here and pick that file.</li>
</ol>
<p>Scopeflow loads the devices with the device adapters of a Micro-Manager
installation on this computer: usually a <tt>Micro-Manager…</tt> folder in
<tt>C:\\Program Files</tt>. <b>Devices › Micro-Manager installation…</b> lists those
found, says which fit, and lets you choose one. Their device interface version must be
the one Scopeflow's core is built for (<b>Help › About Scopeflow</b> shows both); when
it is not, Scopeflow says which adapters differ and which Micro-Manager build to
install, and keeps the microscope in use.</p>
<p>Download page: <tt>{DOWNLOAD_URL}</tt></p>
"""


class HardwareWizardDialog(QDialog):
    """The steps, a button to the download page (``open_url``, replaceable so that tests
    open nothing) and one to File > Open configuration… (``open_configuration``)."""

    def __init__(
        self,
        open_url: Callable[[QUrl], bool],
        open_configuration: Callable[[], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hardware configuration")
        self._open_url = open_url
        self._open_configuration = open_configuration
        text = QLabel(STEPS)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = MessageLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.download_button = buttons.addButton(
            "Micro-Manager download page", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.open_button = buttons.addButton(
            "Open configuration…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.download_button.clicked.connect(self.open_download_page)
        self.open_button.clicked.connect(self.open_configuration)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(640)

    def open_download_page(self) -> bool:
        if self._open_url(QUrl(DOWNLOAD_URL)):
            self.message.say("")
            return True
        self.message.say(f"No web browser could be opened. The page is {DOWNLOAD_URL}", True)
        return False

    def open_configuration(self) -> None:
        """File > Open configuration…, with this dialog out of the way."""
        self.close()
        self._open_configuration()
