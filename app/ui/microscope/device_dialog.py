"""What the Devices menu's dialogs share.

Each is made the first time it is asked for and kept (non-modal: the image stays in
sight). It shows the microscope ``core``, follows its changes through the menu's one
``CoreEvents``, refuses a change while ``busy`` gives a reason (an acquisition runs,
Live is on), and follows a newly loaded configuration through ``set_core``.
"""

from __future__ import annotations

from collections.abc import Callable

from pymmcore_plus import CMMCorePlus
from PyQt6.QtWidgets import QDialog, QWidget

from app.ui.microscope.core_events import CoreEvents

#: why nothing may be changed now (an acquisition runs, Live is on), or None
BusyReason = Callable[[], "str | None"]


def never_busy() -> str | None:
    return None


class DeviceDialog(QDialog):
    """A Devices menu dialog titled ``title``. A subclass makes its widgets in
    ``build`` (called once, at the end of the constructor) and shows the microscope as
    it is in ``show_core`` (after a new configuration, among others)."""

    title = ""

    def __init__(
        self,
        core: CMMCorePlus,
        events: CoreEvents,
        busy: BusyReason = never_busy,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.title)
        self.core = core
        self.events = events
        self._busy = busy
        self.build()

    def build(self) -> None:
        """The dialog's widgets and connections."""

    def set_core(self, core: CMMCorePlus) -> None:
        """A newly loaded configuration: shown from now on."""
        self.core = core
        self.show_core()

    def show_core(self) -> None:
        """Show the microscope ``core`` as it is now."""
