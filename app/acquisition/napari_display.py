"""pycro-manager's ``napari_viewer=``: show the acquisition's dataset in a napari viewer.

As pycro-manager does, the images go to a layer named ``"pycromanager acquisition"``
(create it first to set its colormap or contrast) holding the whole dataset as one
lazy array, and the viewer's sliders move to the newest image. A napari worker thread
waits for new images; the layer is updated on napari's own (GUI) thread. Only napari
is imported here: its worker is how the update reaches the GUI thread, so the engine
stays free of Qt. An acquisition that keeps no images shows its newest frame instead.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.storage.ram_dataset import conventional_axis_order
from app.storage.tiled_dataset import COLUMN, ROW, TiledDataset

logger = logging.getLogger(__name__)

LAYER_NAME = "pycromanager acquisition"
POLL_S = 0.1


class NapariNotInstalledError(ImportError):
    """``napari_viewer=`` was given but napari is not installed."""


def check_napari_viewer(viewer: Any) -> None:
    """Fail at construction, in the user's line, when ``napari_viewer`` cannot work."""
    if importlib.util.find_spec("napari") is None:
        raise NapariNotInstalledError(
            "napari_viewer= needs napari, which is not installed (pip install napari). "
            "Without it, leave napari_viewer out: Scopeflow shows acquisitions in its "
            "own viewer (show_display=True)."
        )
    from napari.components import ViewerModel
    from napari.qt.threading import thread_worker  # noqa: F401  (needs a Qt binding: fail here)

    if not isinstance(viewer, ViewerModel):
        raise TypeError(f"napari_viewer must be a napari.Viewer, got {type(viewer).__name__}")


def show_in_napari(viewer: Any, acquisition: Any) -> Any:
    """Start updating ``viewer`` from ``acquisition``; returns the napari worker."""
    from napari.qt.threading import thread_worker

    dataset = acquisition.get_dataset()

    slot = acquisition.display

    @thread_worker
    def watch() -> Iterator[Any]:
        shown = -1
        while not acquisition.is_finished():
            if dataset is not None:
                if dataset.await_new_image(timeout=POLL_S):
                    yield None
            elif slot.version != shown:  # peek: a window may be taking from the slot too
                shown = slot.version
                yield slot.peek()
            else:
                time.sleep(POLL_S)
        yield None if dataset is not None else slot.peek()  # the last images

    def update(latest: Any) -> None:
        try:
            if latest is not None:
                _set_layer(viewer, np.asarray(latest[0]))
            elif dataset.get_image_coordinates_list():
                _show_dataset(viewer, dataset)
        except Exception:  # a display problem must never stop the acquisition
            logger.exception("Could not update the napari viewer")

    worker = watch()
    worker.yielded.connect(update)
    worker.start()
    return worker


def _set_layer(viewer: Any, data: Any) -> None:
    if LAYER_NAME in viewer.layers:
        viewer.layers[LAYER_NAME].data = data
    else:
        viewer.add_image(data, name=LAYER_NAME)


def _show_dataset(viewer: Any, dataset: Any) -> None:
    """The whole dataset as one array, the sliders on its newest image (a tiled map:
    stitched, at full resolution)."""
    found = dataset.axes
    axes = {name: list(found[name]) for name in conventional_axis_order(found)}
    if isinstance(dataset, TiledDataset):
        axes = {name: values for name, values in axes.items() if name not in (ROW, COLUMN)}
        _set_layer(viewer, dataset.as_array(axes=list(axes), stitched=True, res_level=0))
    else:
        _set_layer(viewer, dataset.as_array(axes=list(axes)))
    newest = dataset.get_image_coordinates_list()[-1]
    step = list(viewer.dims.current_step)
    for i, name in enumerate(axes):
        if name in newest and i < len(step):
            step[i] = axes[name].index(newest[name])
    viewer.dims.current_step = tuple(step)
    viewer.dims.axis_labels = (*axes, "y", "x")
