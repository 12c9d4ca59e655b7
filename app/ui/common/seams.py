"""What a part of the window receives instead of the window.

A part (a panel's actions, a menu's, a dialog) is given the few things it uses: a
parent widget for its dialogs, the microscope in use (``AppState``), and these small
seams. So no part imports the main window, the window's code has no import circle, and
a test can hand a part a stand-in.
"""

from __future__ import annotations

from typing import Protocol


class Messages(Protocol):
    """Where a part says what happened: the status line and, for errors, the Log and a
    dialog (``SCOPEFLOW_NO_DIALOGS`` leaves the dialog out)."""

    def show_error_message(self, message: str) -> None: ...

    def show_status(self, text: str, timeout_ms: int = 15000, details: str = "") -> None:
        """``text`` in the status line for ``timeout_ms`` (0: until replaced);
        ``details``, if any, as its tooltip."""
        ...
