"""What the embedded console starts with, and the banner that lists it."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.acquisition.acquisition import Acquisition
from app.acquisition.multi_d import multi_d_acquisition_events
from app.processing.views import show_image, show_plot
from app.scripting.decorator import processor, register, set_parameter, unregister
from app.storage.opening import open_dataset

BANNER = """Scopeflow console: Python in the app, on the GUI thread (no network port is opened).

  core / mmc        the microscope (pymmcore-plus CMMCorePlus)
  window, viewer    the main window and its image viewer
  Acquisition, multi_d_acquisition_events, open_dataset   as in scripts
  np                numpy
  processors        the pipeline, in order (print it)
  @processor        register a function: @processor, @processor("name", position=0)
  register(fn), unregister("name")
  set_parameter("name", "sigma", 2.0)   a processor's keyword parameter, from the next frame
  show_image("name", array), show_plot("name", y)   a view of its own

Acquisitions started here show in the viewer. `acq = Acquisition(...); acq.acquire(...)`
returns at once and keeps the console free; `with Acquisition(...) as acq:` waits for the
end while the window keeps drawing.
"""


def console_namespace(state: Any, window: Any = None) -> dict[str, Any]:
    """The console's names, over the app's ``AppState``."""
    core, registry = state.core, state.registry
    return {
        "core": core,
        "mmc": core,
        "window": window,
        "viewer": getattr(window, "viewer", None),
        "Acquisition": Acquisition,
        "multi_d_acquisition_events": multi_d_acquisition_events,
        "open_dataset": open_dataset,
        "np": np,
        "processors": registry,
        "processor": processor,
        "register": register,
        "unregister": unregister,
        "set_parameter": set_parameter,
        "show_image": show_image,
        "show_plot": show_plot,
    }
