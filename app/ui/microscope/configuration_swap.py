"""Loading a Micro-Manager configuration: a new microscope replaces the old one everywhere.

Loading initialises every device, which takes seconds on real hardware (tens with a
slow stage or a camera over USB), so it runs on a worker thread behind a progress
dialog and the window keeps drawing. Nothing changes until the new microscope is
ready: a configuration that fails to load, or a load the user cancelled, leaves the
old microscope in place and in use. Then every user of the microscope (the panels,
the acquisition controller, the console's ``core``/``mmc``, the scripting API) is
pointed at the new one in one step on the GUI thread, and the old one is released.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Protocol

from pymmcore_plus import CMMCorePlus
from PyQt6.QtWidgets import QWidget

from app.appstate import AppState
from app.microscope.loading import MicroscopeConfigError, load_microscope, release_microscope
from app.ui.common.progress_task import run_with_progress

logger = logging.getLogger(__name__)


class UsesMicroscope(Protocol):
    """Anything in the window that holds the microscope and must follow a new one."""

    def set_core(self, core: CMMCorePlus) -> None: ...


class CoreFollower:
    """A user of the microscope made of one function, called with each new core."""

    def __init__(self, on_core: Callable[[CMMCorePlus], object]) -> None:
        self.on_core = on_core

    def set_core(self, core: CMMCorePlus) -> None:
        self.on_core(core)


class LoadCancelled(Exception):
    """The user cancelled loading; the microscope in use stays."""


#: ``load(path) -> core``; the window's is ``load_microscope``, tests may give another
Loader = Callable[[str], CMMCorePlus]


class ConfigurationSwap:
    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        users: Sequence[UsesMicroscope],
        loader: Loader = load_microscope,
    ) -> None:
        self._parent = parent
        self._state = state
        self._users = list(users)
        self._loader = loader

    def _busy(self) -> str | None:
        """Why the microscope cannot be swapped now (an acquisition runs on it)."""
        if self._state.shown.newest() is not None:
            return "an acquisition is running on the current microscope"
        return None

    def load(self, path: str | os.PathLike[str] | None) -> CMMCorePlus:
        """Load ``path`` (None: the simulated microscope) off the GUI thread, then use
        it everywhere; return the new core.

        Raises ``MicroscopeConfigError`` (the message says why) or ``LoadCancelled``;
        in both cases the microscope in use is unchanged.
        """
        if path is None:
            path, label, load = "the simulated microscope", "the simulated microscope", None
        else:
            path = str(path)
            label, load = os.path.basename(path), path
        loader = self._loader
        result = run_with_progress(
            self._parent,
            "Open configuration",
            f"Loading {label}: initialising its devices…",
            lambda on_progress, should_stop: (
                loader(load) if load is not None else load_microscope()
            ),
            cancel_text="Keep the current microscope",
            busy=True,
        )
        if result.exception is not None:
            if isinstance(result.exception, MicroscopeConfigError):
                raise result.exception
            raise MicroscopeConfigError(f"Could not load {path}: {result.error}")
        core: CMMCorePlus = result.value
        if result.cancelled:  # it loaded after all: let it go, keep the old one
            release_microscope(core)
            raise LoadCancelled(f"Loading {path} was cancelled; the microscope is unchanged.")
        busy = self._busy()
        if busy:  # started meanwhile (from a script or the console): do not swap under it
            release_microscope(core)
            raise MicroscopeConfigError(f"Not loaded: {busy}. The microscope is unchanged.")
        self.use(core)
        logger.info("Loaded the configuration %s", path)
        return core

    def use(self, core: CMMCorePlus) -> None:
        """Point every user at ``core`` and release the microscope they used before.

        A user that fails to follow (a panel reading a device that does not answer) is
        logged and the others still follow: the old microscope is released whatever
        happens, so no one drives it any more."""
        old = self._state.core
        self._state.use_core(core)
        failures = []
        for user in self._users:
            try:
                user.set_core(core)
            except Exception as exc:
                logger.exception("%s could not follow the new microscope", type(user).__name__)
                failures.append(f"{type(user).__name__}: {exc}")
        if old is not core:
            release_microscope(old)
        if failures:
            raise MicroscopeConfigError(
                "The configuration is loaded, but part of the window could not read it: "
                + "; ".join(failures)
            )
