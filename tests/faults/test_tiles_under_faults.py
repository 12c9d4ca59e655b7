"""#20, tiles and Explore under faults: a stage that does not make a move mid-grid.

The demo XY stage moves at a finite speed (about 10 µm per ms) and the core gives up
waiting for a device after its ``TimeoutMs``: with the timeout at 300 ms, a near tile is
reached and a far one (6000 µm away) is not, the core's ``waitForSystem`` raising as it
would for a real stage stuck, blocked or out of its range. The user sees the
acquisition FAILED with an error naming the stage and where it was sent; the tiles
acquired before stay in the map, readable with ``open_dataset`` and with ndtiff; no tile
is left pending; the hardware is stopped and the next map works.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from ndtiff import Dataset

from app import XYTiledAcquisition, open_dataset
from app.acquisition.explore import Exploration, ExplorationEndedError, ExploreSettings
from app.acquisition.futures import ImageNotSavedError
from app.acquisition.mda_engine import HardwareRefusedError
from app.acquisition.state import RunState
from app.storage.tiled_dataset import TiledDataset

OVERLAP = (8, 8)
FAR = 50  # column 50: 50 x 120 px x 1 µm = 6000 µm from tile (0, 0), 0.6 s of travel


@pytest.fixture
def slow_stage(core):
    """The core waits 300 ms for a device: the XY stage reaches near tiles, not far ones."""
    was = core.getProperty("Core", "TimeoutMs")
    core.setProperty("Core", "TimeoutMs", "300")
    yield core
    core.setProperty("Core", "TimeoutMs", was)
    core.waitForDevice(core.getXYStageDevice())  # a far move may still be under way
    core.setXYPosition(0.0, 0.0)
    core.waitForSystem()


def read_with_ndtiff(path):
    with contextlib.redirect_stdout(io.StringIO()):  # ndtiff prints while opening
        return Dataset(str(path))


def tiles_saved(path):
    """The (row, column) of each tile in the map, read back by Scopeflow and by ndtiff."""
    ours = open_dataset(path)
    assert isinstance(ours, TiledDataset)
    theirs = read_with_ndtiff(path)
    saved = {(a["row"], a["column"]) for a in ours.get_image_coordinates_list()}
    full_resolution = theirs.res_levels[0]
    assert {(a["row"], a["column"]) for a in full_resolution.get_image_coordinates_list()} == saved
    for row, column in saved:
        assert theirs.read_image(row=row, column=column).shape == (96, 128)
        assert ours.read_image(row=row, column=column).shape == (96, 128)
    for level in theirs.res_levels.values():  # (its own close() fails in ndtiff 3.1.0)
        level.close()
    ours.close()
    return saved


def assert_stage_error(error):
    text = str(error)
    assert "XY" in text, text  # the stage
    assert "'column': 50" in text, text  # the tile it was sent to
    assert "6000" in text, text  # and where, in µm


def grid():
    """Row 0 columns 0-2, then a tile out of reach, then row 1: the fault mid-grid."""
    tiles = [(0, 0), (0, 1), (0, 2), (0, FAR), (1, 0), (1, 1)]
    return [{"axes": {"row": r, "column": c}} for r, c in tiles]


def test_a_tile_the_stage_does_not_reach_fails_the_map_and_keeps_the_tiles_before(
    slow_stage, tmp_path
):
    core = slow_stage
    with (
        pytest.raises(HardwareRefusedError) as raised,
        XYTiledAcquisition(OVERLAP, tmp_path, "map", core=core, show_display=False) as acq,
    ):
        future = acq.acquire(grid())
    assert_stage_error(raised.value)
    status = acq.status
    assert status.state is RunState.FAILED
    assert_stage_error(status.error)
    with pytest.raises(ImageNotSavedError, match="XY"):
        future.await_image_saved({"row": 0, "column": FAR}, timeout=5)
    with pytest.raises(ImageNotSavedError):  # after the fault: never run, and said so
        future.await_image_saved({"row": 1, "column": 0}, timeout=5)
    assert tiles_saved(acq.dataset_path) == {(0, 0), (0, 1), (0, 2)}
    assert not core.isSequenceRunning()

    core.setProperty("Core", "TimeoutMs", "5000")  # the stage fixed: the next map works
    core.waitForDevice(core.getXYStageDevice())
    with XYTiledAcquisition(OVERLAP, tmp_path, "again", core=core, show_display=False) as again:
        again.acquire([{"axes": {"row": 0, "column": c}} for c in range(2)])
    assert again.status.state is RunState.FINISHED
    assert tiles_saved(again.dataset_path) == {(0, 0), (0, 1)}


def test_a_stage_refusing_a_tile_in_a_hook_fails_the_map_the_same_way(core, tmp_path):
    def stage_refuses(event):
        if event["axes"] == {"row": 1, "column": 0}:
            raise RuntimeError(f"XY stage: limit switch hit moving to {event['x']}, {event['y']}")
        return event

    with (
        pytest.raises(RuntimeError, match="limit switch"),
        XYTiledAcquisition(
            OVERLAP,
            tmp_path,
            "hook",
            core=core,
            show_display=False,
            pre_hardware_hook_fn=stage_refuses,
        ) as acq,
    ):
        acq.acquire([{"axes": {"row": r, "column": c}} for r in range(2) for c in range(2)])
    assert acq.status.state is RunState.FAILED
    assert "limit switch" in str(acq.status.error)
    assert tiles_saved(acq.dataset_path) == {(0, 0), (0, 1)}
    assert not core.isSequenceRunning()


def test_explore_a_tile_the_stage_does_not_reach(slow_stage, tmp_path):
    core = slow_stage
    exploration = Exploration.start(
        core, tmp_path, "x", ExploreSettings(overlap=OVERLAP), show_display=False
    )
    assert exploration.acquire([(0, 0), (0, FAR)]) == [(0, 0), (0, FAR)]
    acquisition = exploration.acquisition
    with pytest.raises(HardwareRefusedError):
        acquisition.await_completion(timeout=30)  # the fault ends the exploration
    status = acquisition.status
    assert status.state is RunState.FAILED
    assert_stage_error(status.error)
    assert exploration.pending() == set()
    assert exploration.acquired() == {(0, 0)}
    assert tiles_saved(acquisition.dataset_path) == {(0, 0)}
    assert not core.isSequenceRunning()
    with pytest.raises(ExplorationEndedError):
        exploration.acquire([(0, 1)])

    # going on with the map where the stage can go
    core.setProperty("Core", "TimeoutMs", "5000")
    core.waitForDevice(core.getXYStageDevice())
    again = Exploration.resume(
        core, acquisition.dataset_path, ExploreSettings(), show_display=False
    )
    assert again.acquire([(0, 0), (0, 1)]) == [(0, 1)]
    again.stop()
    again.acquisition.await_completion(timeout=30)
    assert again.acquisition.status.state is RunState.FINISHED
    assert tiles_saved(acquisition.dataset_path) == {(0, 0), (0, 1)}
