"""The processors' room, assembled: the Processors and Scripts panels, the scripts
folder they show (loaded and watched on a thread of its own: a script's module code
may never return), the console, and running a script in it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject

from app.processing.registry import ProcessorRegistry
from app.scripting.scripts_folder import ScriptsFolder
from app.scripting.scripts_watcher import ScriptsWatcher
from app.ui.common.pacer import Pacer
from app.ui.common.seams import Messages
from app.ui.common.widgets import ChangeBridge
from app.ui.processors.processors_panel import ProcessorsPanel
from app.ui.processors.script_actions import ScriptActions
from app.ui.processors.scripts_panel import ScriptsPanel


class ProcessorsRoom(QObject):
    """Made with the window (a QObject of its own: a call queued to it dies with the
    window). ``console_namespace`` is the console's (None: no console);
    ``scripts_loaded`` runs once the first scan of the scripts is done."""

    def __init__(
        self,
        parent: QObject,
        registry: ProcessorRegistry,
        scripts_folder: Path,
        messages: Messages,
        *,
        console_namespace: dict[str, Any] | None,
        show_console: Callable[[], None],
        remember_folder: Callable[[str], None],
        scripts_loaded: Callable[[], None],
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(parent)
        self.scripts = ScriptsFolder(scripts_folder, registry)
        self._scripts_loaded = scripts_loaded
        self.scripts_watcher = ScriptsWatcher(self.scripts)
        self._scripts_ready = ChangeBridge()
        self._scripts_ready.changed.connect(self._first_scan_done)
        self.scripts_watcher.first_scan_done.connect(self._scripts_ready.notify)
        self.scripts_watcher.start()
        self.processors_panel = ProcessorsPanel(registry, pacer=pacer)
        self.scripts_panel = ScriptsPanel(self.scripts)
        self.console = None
        if console_namespace is not None:
            from app.scripting.namespace import BANNER
            from app.ui.processors.console import ConsoleWidget

            self.console = ConsoleWidget(console_namespace, BANNER)
        self.script_actions = ScriptActions(
            self.scripts_panel, self.scripts, self.console, messages, show_console, remember_folder
        )

    def _first_scan_done(self) -> None:
        """(A method, not a lambda: its queued call dies with the window, where a
        lambda's ran after a closed window was garbage-collected and crashed.)"""
        self._scripts_loaded()

    def detach(self) -> None:
        """The window closes: the registry and the scripts folder live on, unfollowed."""
        self.scripts_watcher.first_scan_done.disconnect(self._scripts_ready.notify)
        self.processors_panel.detach()
        self.scripts_panel.detach()

    def stop(self) -> None:
        """Last, once the acquisition is joined and the settings saved: the watcher's
        thread and the console's kernel end."""
        self.scripts_watcher.stop()
        if self.console is not None:
            self.console.shutdown()
