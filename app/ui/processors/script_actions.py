"""The Scripts panel's Run and folder choice: a script runs in the console's namespace
(its variables stay there to look at), and the folder chosen is watched from then on
and remembered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.scripting.scripts_folder import ScriptsFolder
from app.ui.common.seams import Messages
from app.ui.processors.scripts_panel import ScriptsPanel

if TYPE_CHECKING:  # qtconsole is imported only when a console is made
    from app.ui.processors.console import ConsoleWidget

logger = logging.getLogger(__name__)


class ScriptActions:
    """``show_console`` brings the console's dock into sight; ``remember_folder`` keeps
    the scripts folder chosen for the next start."""

    def __init__(
        self,
        panel: ScriptsPanel,
        scripts: ScriptsFolder,
        console: ConsoleWidget | None,
        messages: Messages,
        show_console: Callable[[], None],
        remember_folder: Callable[[str], None],
    ) -> None:
        self.scripts = scripts
        self.console = console
        self.messages = messages
        self.show_console = show_console
        self.remember_folder = remember_folder
        panel.runRequested.connect(self.run_script)
        panel.folderChosen.connect(self.use_scripts_folder)

    def run_script(self, path: str) -> None:
        """Run a script in the console's namespace; its variables stay there."""
        if self.console is None:
            self.messages.show_error_message("The console is not available to run scripts.")
            return
        self.show_console()
        logger.info("Running %s in the console", path)
        self.console.run_file(path)

    def use_scripts_folder(self, folder: str) -> None:
        self.scripts.move_to(folder)
        self.remember_folder(folder)
        logger.info("Scripts folder: %s", folder)
