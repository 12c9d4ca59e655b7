"""napari_viewer=: the dataset shown in a napari viewer, as pycro-manager does it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from napari.components import ViewerModel

from app import Acquisition, XYTiledAcquisition, multi_d_acquisition_events
from app.acquisition.napari_display import LAYER_NAME, NapariNotInstalledError

# napari's Viewer needs OpenGL to draw, which offscreen tests lack; its model (which
# napari.Viewer extends, and which the display code drives) needs none.


def test_the_dataset_appears_in_the_napari_layer(qtbot, directory):
    viewer = ViewerModel()
    events = multi_d_acquisition_events(num_time_points=3, z_start=0, z_end=1, z_step=1)
    with Acquisition(directory, "acq", napari_viewer=viewer, show_display=False) as acq:
        acq.acquire(events)
    assert acq.get_viewer() is viewer
    qtbot.waitUntil(
        lambda: (
            LAYER_NAME in viewer.layers and viewer.layers[LAYER_NAME].data.shape == (3, 2, 96, 128)
        ),
        timeout=10000,
    )
    layer = np.asarray(viewer.layers[LAYER_NAME].data)
    dataset = acq.get_dataset()
    assert np.array_equal(layer[2, 1], dataset.read_image(time=2, z=1))
    assert viewer.dims.current_step[:2] == (2, 1)  # the sliders on the newest image
    assert tuple(viewer.dims.axis_labels)[:2] == ("time", "z")


def test_a_tiled_map_appears_stitched(qtbot, tmp_path, core):
    viewer = ViewerModel()
    with XYTiledAcquisition(
        (8, 6), tmp_path, "map", napari_viewer=viewer, show_display=False, core=core
    ) as acq:
        acq.acquire([{"axes": {"row": r, "column": c}} for r in range(2) for c in range(3)])
    height, width = core.getImageHeight() - 6, core.getImageWidth() - 8
    qtbot.waitUntil(
        lambda: (
            LAYER_NAME in viewer.layers
            and viewer.layers[LAYER_NAME].data.shape == (2 * height, 3 * width)
        ),
        timeout=10000,
    )
    stitched = acq.get_dataset().as_array(stitched=True, res_level=0)
    assert np.array_equal(np.asarray(viewer.layers[LAYER_NAME].data), np.asarray(stitched))


def test_without_storage_the_newest_frame_is_shown(qtbot, core):
    viewer = ViewerModel()
    viewer.add_image(np.zeros((2, 2), np.uint16), name=LAYER_NAME, colormap="green")
    with Acquisition(napari_viewer=viewer, storage="none") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3))
    qtbot.waitUntil(lambda: viewer.layers[LAYER_NAME].data.shape == (96, 128), timeout=10000)
    assert viewer.layers[LAYER_NAME].colormap.name == "green"  # the user's layer, kept


def test_a_viewer_that_is_not_napari_is_refused(core):
    with pytest.raises(TypeError, match=r"napari\.Viewer"):
        Acquisition(napari_viewer=object(), show_display=False)


def test_without_napari_installed_the_message_says_so(core, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "napari" else real(name, *a)
    )
    with pytest.raises(NapariNotInstalledError, match="pip install napari"):
        Acquisition(napari_viewer=ViewerModel(), show_display=False)
