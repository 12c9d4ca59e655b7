"""AppState: what a Scopeflow process shares, in one explicit object.

The microscope, the processor registry that ``@processor`` fills, the views that
``show_image`` fills, the acquisitions the window shows, how the console waits for an
acquisition, and whether acquisition workers yield the CPU to a window. The app
creates one at start (``run_app``) and hands it to the window and the console;
``install`` points the scripting API's ambient calls (``Acquisition()`` without a
core, ``Core()``, ``@processor``, ``show_image``, ``acq.get_viewer()``) at it. A
plain script never needs one: each piece is made on first use. Importing a module
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pymmcore_plus import CMMCorePlus

from app.acquisition.active import ShownAcquisitions, set_current_shown
from app.acquisition.priority import set_workers_yield
from app.acquisition.waiting import WaitStrategy, set_wait_strategy
from app.microscope.session import set_current_core
from app.processing.registry import ProcessorRegistry
from app.processing.views import ImageViews, set_current_views
from app.scripting.decorator import set_current_registry


@dataclass
class AppState:
    core: CMMCorePlus
    registry: ProcessorRegistry = field(default_factory=ProcessorRegistry)
    views: ImageViews = field(default_factory=ImageViews)
    shown: ShownAcquisitions = field(default_factory=ShownAcquisitions)
    #: how a caller on the GUI thread waits (keeps the window drawing); None: blocking
    wait: WaitStrategy | None = None
    #: acquisition workers yield the CPU to the window's GUI thread (the window sets
    #: it); headless they keep their priority (``acquisition/priority.py``)
    workers_yield: bool = False

    def install(self) -> None:
        """Make this the state the scripting API reaches (until another is installed, or
        this one uninstalled)."""
        _installed[:] = [state for state in _installed if state is not self]
        _installed.append(self)
        self._apply()

    def _apply(self) -> None:
        set_current_core(self.core)
        set_current_registry(self.registry)
        set_current_views(self.views)
        set_current_shown(self.shown)
        set_wait_strategy(self.wait)
        set_workers_yield(self.workers_yield)

    def use_core(self, core: CMMCorePlus) -> None:
        """Another microscope (a configuration was loaded)."""
        self.core = core
        set_current_core(core)

    def uninstall(self) -> None:
        """The window closed: no viewer for its acquisitions; the scripting API goes back
        to the state installed before it that is still installed (another window's), or,
        if none is, to blocking waits and workers that keep their priority. Closing one
        of two windows reset them for the other as well."""
        self.shown.set_viewer_provider(None)
        was_newest = bool(_installed) and _installed[-1] is self
        _installed[:] = [state for state in _installed if state is not self]
        if _installed:
            if was_newest:
                _installed[-1]._apply()
            return
        set_wait_strategy(None)
        set_workers_yield(False)


#: the states installed, the newest last (an app has one window; tests, and a window
#: opened from another, have several at once)
_installed: list[AppState] = []
