"""Explore without the window: tiles asked for by place, once each, in every channel
and plane the exploration started with; the stage moved on the map; a saved map gone
on with where it was left."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.acquisition.explore import (
    Exploration,
    ExplorationEndedError,
    ExploreChannel,
    ExploreSettings,
    StageBusyError,
)
from app.acquisition.tiles import TilingError
from app.microscope import SimulatedCameraSettings, configure_simulated_camera
from app.storage.tiled_dataset import TiledDataset

WIDTH, HEIGHT = 96, 64
SETTINGS = ExploreSettings(
    overlap=(16, 8),
    channels=(ExploreChannel("Channel", "DAPI", 2.0), ExploreChannel("Channel", "FITC", 3.0)),
    z_positions=(0.0, 2.0),
)


@pytest.fixture
def explore_core(core):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=WIDTH, height=HEIGHT, exposure_ms=1)
    )
    return core


def finished(exploration):
    exploration.stop()
    exploration.acquisition.await_completion(timeout=60)
    return exploration.dataset


def test_tiles_are_asked_for_once_each_in_every_channel_and_plane(explore_core, tmp_path):
    exploration = Exploration.start(explore_core, tmp_path, "explore", SETTINGS, show_display=False)
    assert exploration.acquire([(0, 0), (0, 1)]) == [(0, 0), (0, 1)]
    assert exploration.acquire([(0, 1), (0, 0)]) == []  # on their way already
    assert exploration.asked((0, 1)) and not exploration.asked((1, 1))
    dataset = finished(exploration)
    assert exploration.pending() == set()
    axes = {
        (a["row"], a["column"], a["channel"], a["z"]) for a in dataset.get_image_coordinates_list()
    }
    assert axes == {(0, c, ch, z) for c in (0, 1) for ch in ("DAPI", "FITC") for z in (0, 1)}
    metadata = dataset.read_metadata(row=0, column=1, channel="FITC", z=1)
    assert metadata["Exposure"] == 3.0
    assert metadata["ZPosition_um_Intended"] == 2.0
    assert dataset.levels == 2  # two columns: one downsampled level


def test_a_rectangle_on_the_map_asks_for_the_tiles_under_it_snaking(explore_core, tmp_path):
    exploration = Exploration.start(
        explore_core, tmp_path, "drag", ExploreSettings(overlap=(16, 8)), show_display=False
    )
    step_y, step_x = exploration.layout.step
    tiles = exploration.tiles_in(step_y * 1.5, step_x * 2.5, -1, 0)  # corners in any order
    assert tiles == [(-1, 0), (-1, 1), (-1, 2), (0, 2), (0, 1), (0, 0), (1, 0), (1, 1), (1, 2)]
    # a rectangle ending on a tile's edge does not take the next tile
    assert exploration.tiles_in(0, 0, step_y, step_x) == [(0, 0)]
    exploration.abort()
    exploration.acquisition.await_completion(timeout=60)


def test_the_stage_moves_on_the_map_and_waits_for_no_tile(explore_core, tmp_path):
    explore_core.setXYPosition(40.0, 30.0)
    explore_core.waitForDevice(explore_core.getXYStageDevice())
    exploration = Exploration.start(
        explore_core, tmp_path, "move", ExploreSettings(overlap=(16, 8)), show_display=False
    )
    # the camera starts centred on the middle of tile (0, 0)
    y, x = exploration.stage_pixel()
    assert (y, x) == pytest.approx((HEIGHT / 2 - 4, WIDTH / 2 - 8), abs=0.05)
    x_um, y_um = exploration.move_stage_to(y + 100, x - 50)
    assert (x_um, y_um) == pytest.approx((40.0 - 50, 30.0 + 100), abs=0.01)
    explore_core.waitForDevice(explore_core.getXYStageDevice())
    assert explore_core.getXYPosition() == pytest.approx((x_um, y_um), abs=0.01)

    exploration.acquire(exploration.tiles_in(0, 0, 3 * HEIGHT, 3 * WIDTH))
    with pytest.raises(StageBusyError, match="being acquired"):
        while True:  # until the tiles are done, a move is refused
            exploration.move_stage_to(0, 0)
            if not exploration.pending():
                pytest.fail("no move was refused while tiles were on their way")
    finished(exploration)


def test_a_saved_exploration_goes_on_where_it_was_left(explore_core, tmp_path):
    explore_core.setXYPosition(0.0, 0.0)
    first = Exploration.start(explore_core, tmp_path, "slide", SETTINGS, show_display=False)
    first.acquire([(0, 0)])
    saved = finished(first)
    path = saved.path

    explore_core.setXYPosition(500.0, 500.0)  # the stage elsewhere: the grid is the map's
    other = ExploreSettings(overlap=(0, 0))  # ...and so are its channels and planes
    again = Exploration.resume(explore_core, path, other, show_display=False)
    assert again.layout == first.layout
    assert again.settings.channels == SETTINGS.channels
    assert again.acquire([(0, 0)]) == []  # acquired last time
    assert again.acquire([(0, 1)]) == [(0, 1)]
    finished(again)
    reopened = TiledDataset.open(path)
    assert sorted(set(reopened.tiles(0, {"channel": "DAPI", "z": 1}))) == [(0, 0), (0, 1)]
    # the new tile continues the old one: their overlap shows the same beads
    left = reopened.read_image(row=0, column=0, channel="DAPI", z=0)
    right = reopened.read_image(row=0, column=1, channel="DAPI", z=0)
    a, b = left[:, -16:].ravel().astype(float), right[:, :16].ravel().astype(float)
    assert a.std() > 0 and np.corrcoef(a, b)[0, 1] > 0.99


def test_a_map_from_another_camera_size_is_refused_with_the_reason(explore_core, tmp_path):
    first = Exploration.start(
        explore_core, tmp_path, "size", ExploreSettings(overlap=(4, 4)), show_display=False
    )
    first.acquire([(0, 0)])
    path = finished(first).path
    configure_simulated_camera(explore_core, SimulatedCameraSettings(width=64, height=64))
    with pytest.raises(TilingError, match="96x64 px"):
        Exploration.resume(explore_core, path, ExploreSettings(), show_display=False)


def test_a_tile_cut_short_is_completed_with_its_missing_planes(explore_core, tmp_path):
    """A map closed while a tile was acquired: going on, the tile is not 'queued'
    for ever; asked again, only its missing planes run (no duplicate images)."""
    partial = Exploration.start(explore_core, tmp_path, "partial", SETTINGS, show_display=False)
    events = SETTINGS.events((0, 1))
    assert len(events) == 4
    partial.acquisition.acquire(events[:3])  # as if closed before the tile's last plane
    path = finished(partial).path
    resumed = Exploration.resume(explore_core, path, SETTINGS, show_display=False)
    assert not resumed.asked((0, 1)) and resumed.pending() == set()
    assert resumed.acquire([(0, 1)]) == [(0, 1)]
    dataset = finished(resumed)
    coordinates = dataset.get_image_coordinates_list()
    assert len(coordinates) == 4  # the missing plane, once: no duplicate
    assert all("duplicate" not in c for c in coordinates)


def test_a_dropped_plane_or_a_failure_leaves_no_tile_queued(explore_core, tmp_path):
    """Every event ends saved or not saved: a processor that drops a plane, or an
    acquisition that fails, leaves no tile 'queued' and the stage free."""

    def drop_fitc(image, metadata):
        return None if metadata["Axes"]["channel"] == "FITC" else (image, metadata)

    exploration = Exploration.start(
        explore_core, tmp_path, "drop", SETTINGS, image_process_fn=drop_fitc, show_display=False
    )
    exploration.acquire([(0, 0)])
    deadline = time.monotonic() + 20
    while exploration.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert exploration.pending() == set() and exploration.acquired() == {(0, 0)}
    exploration.move_stage_to(10, 10)  # free
    exploration.acquisition.abort(RuntimeError("the stage hit a limit"))
    with pytest.raises(RuntimeError, match="limit"):
        exploration.acquisition.await_completion(timeout=30)
    assert exploration.pending() == set()
    with pytest.raises(ExplorationEndedError, match="Go on exploring"):
        exploration.acquire([(5, 5)])


def test_an_objective_changed_since_is_refused(explore_core, tmp_path):
    first = Exploration.start(
        explore_core, tmp_path, "objective", ExploreSettings(overlap=(4, 4)), show_display=False
    )
    first.acquire([(0, 0)])
    path = finished(first).path
    group = explore_core.getCurrentPixelSizeConfig()
    explore_core.setPixelSizeUm(group, 0.5)
    explore_core.setPixelSizeAffine(group, [0.5, 0.0, 0.0, 0.0, 0.5, 0.0])
    try:
        with pytest.raises(TilingError, match="µm per pixel"):
            Exploration.resume(explore_core, path, ExploreSettings(), show_display=False)
    finally:
        explore_core.setPixelSizeUm(group, 1.0)
        explore_core.setPixelSizeAffine(group, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0])


def test_a_map_closed_before_its_first_tile_says_so(explore_core, tmp_path):
    empty = Exploration.start(
        explore_core, tmp_path, "empty", ExploreSettings(overlap=(4, 4)), show_display=False
    )
    path = finished(empty).path
    with pytest.raises(FileNotFoundError, match="no tile was saved"):
        Exploration.resume(explore_core, path, ExploreSettings(), show_display=False)
