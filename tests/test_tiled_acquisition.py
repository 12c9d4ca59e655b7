"""XYTiledAcquisition on the simulated microscope: tiles placed on the stage, saved as
pycro-manager's multi-resolution NDTiff pyramid, read back with the ndtiff package.

The demo camera's beads sit in sample space (moving the stage by N pixels moves the
image by N pixels), so tiles that overlap must show the same pixels there: the stage
steps are tested on the pixels, not by trusting metadata.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from ndtiff import Dataset

from app import (
    InvalidEventError,
    TileLayout,
    TilingError,
    XYTiledAcquisition,
    multi_d_acquisition_events,
    open_dataset,
)
from app.microscope import SimulatedCameraSettings, configure_simulated_camera
from app.storage.tile_pyramid import downsample2
from app.storage.tiled_dataset import TiledDataset

WIDTH, HEIGHT = 160, 112  # not square
OVERLAP_X, OVERLAP_Y = 24, 10  # not equal


@pytest.fixture
def tiles_core(core):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=WIDTH, height=HEIGHT, exposure_ms=1)
    )
    core.setXYPosition(100.0, -50.0)
    core.waitForSystem()
    return core


def grid_events(rows, columns, **extra_axes):
    return [
        {"axes": {"row": r, "column": c, **extra_axes}} for r in range(rows) for c in range(columns)
    ]


def run_grid(core, tmp_path, rows=3, columns=4, **kwargs):
    with XYTiledAcquisition(
        (OVERLAP_X, OVERLAP_Y), tmp_path, "map", core=core, show_display=False, **kwargs
    ) as acq:
        acq.acquire(grid_events(rows, columns))
    return acq


def correlation(a, b):
    return np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1]


def open_with_ndtiff(path):
    with contextlib.redirect_stdout(io.StringIO()):
        return Dataset(str(path))


def test_adjacent_tiles_show_the_same_sample_where_they_overlap(tiles_core, tmp_path):
    acq = run_grid(tiles_core, tmp_path)
    dataset = acq.get_dataset()
    tiles = {(r, c): dataset.read_image(row=r, column=c) for r in range(3) for c in range(4)}
    assert all(tile.shape == (HEIGHT, WIDTH) for tile in tiles.values())
    # the overlaps of every pair of neighbours, side by side (one strip may hold no bead)
    left, right, shifted, top, bottom = [], [], [], [], []
    for (row, column), tile in tiles.items():
        if (row, column + 1) in tiles:
            left.append(tile[:, -OVERLAP_X:])
            right.append(tiles[row, column + 1][:, :OVERLAP_X])
            shifted.append(tile[:, -OVERLAP_X - 3 : -3])
        if (row + 1, column) in tiles:
            top.append(tile[-OVERLAP_Y:])
            bottom.append(tiles[row + 1, column][:OVERLAP_Y])
    assert np.concatenate(left).std() > 0 and np.concatenate(top).std() > 0  # beads there
    assert correlation(np.concatenate(left), np.concatenate(right)) > 0.999
    assert correlation(np.concatenate(top), np.concatenate(bottom)) > 0.999
    # ... and not merely because every image looks alike: three pixels off disagree
    assert correlation(np.concatenate(shifted), np.concatenate(right)) < 0.9


def test_tile_stage_positions_start_where_the_stage_was(tiles_core, tmp_path):
    acq = run_grid(tiles_core, tmp_path, rows=2, columns=3)
    metadata = acq.get_dataset().read_metadata(row=1, column=2)
    pixel = tiles_core.getPixelSizeUm()
    assert metadata["Axes"] == {"row": 1, "column": 2}
    # tile (0, 0) where the stage was (as its drive reports it: in steps of 0.005 µm)
    x0, y0 = acq.layout.stage_position(0, 0)
    assert (x0, y0) == pytest.approx((100.0, -50.0), abs=0.01)
    assert metadata["XPosition_um_Intended"] == pytest.approx(x0 + 2 * (WIDTH - OVERLAP_X) * pixel)
    assert metadata["YPosition_um_Intended"] == pytest.approx(y0 + (HEIGHT - OVERLAP_Y) * pixel)


def test_ndtiff_reads_the_map_as_pycro_manager_users_do(tiles_core, tmp_path):
    acq = run_grid(tiles_core, tmp_path)
    ours = acq.get_dataset()
    saved = open_with_ndtiff(acq.dataset_path)
    assert type(saved).__name__ == "NDTiffPyramidDataset"
    assert sorted(saved.res_levels) == list(range(ours.levels)) == [0, 1, 2]
    assert np.array_equal(saved.read_image(row=2, column=3), ours.read_image(row=2, column=3))

    stitched = np.asarray(saved.as_array(stitched=True, res_level=0))
    step_y, step_x = HEIGHT - OVERLAP_Y, WIDTH - OVERLAP_X
    assert stitched.shape == (3 * step_y, 4 * step_x)
    # each tile sits at its place, without half the overlap on each side
    tile = ours.read_image(row=1, column=2)
    kept = tile[OVERLAP_Y // 2 : OVERLAP_Y // 2 + step_y, OVERLAP_X // 2 : OVERLAP_X // 2 + step_x]
    assert np.array_equal(stitched[step_y : 2 * step_y, 2 * step_x : 3 * step_x], kept)
    assert np.array_equal(np.asarray(ours.as_array(stitched=True, res_level=0)), stitched)

    # each downsampled level is the level below, averaged over 2x2 pixels
    below = stitched
    for level in (1, 2):
        height, width = below.shape
        padded = np.zeros((height + height % 2, width + width % 2), below.dtype)
        padded[:height, :width] = below
        expected = downsample2(padded)
        level_image = np.asarray(saved.as_array(stitched=True, res_level=level))
        assert level_image.shape[-2:] >= expected.shape
        assert np.array_equal(level_image[: expected.shape[0], : expected.shape[1]], expected)
        assert np.array_equal(
            np.asarray(ours.as_array(stitched=True, res_level=level)), level_image
        )
        assert saved.read_image(row=0, column=0, resolution_level=level).shape == (step_y, step_x)
        below = expected


def test_max_multi_res_index_caps_the_pyramid(tiles_core, tmp_path):
    acq = run_grid(tiles_core, tmp_path / "one", max_multi_res_index=1)
    assert acq.get_dataset().levels == 2
    acq = run_grid(tiles_core, tmp_path / "none", max_multi_res_index=0)
    assert acq.get_dataset().levels == 1
    assert sorted(open_with_ndtiff(acq.dataset_path).res_levels) == [0]


def test_pycro_manager_positional_order_and_other_axes(tiles_core, tmp_path):
    seen, saved = [], []

    def processor(image, metadata):
        seen.append(dict(metadata["Axes"]))
        return image, metadata

    with XYTiledAcquisition(
        10, tmp_path, "pm", None, processor, None, None, None, False,
        lambda axes, dataset: saved.append(dict(axes)), core=tiles_core,
    ) as acq:  # fmt: skip
        for row, column in ((0, 0), (0, 1)):
            for event in multi_d_acquisition_events(
                channel_group="Channel", channels=["DAPI", "FITC"], z_start=0, z_end=1, z_step=1
            ):
                event["axes"] |= {"row": row, "column": column}
                acq.acquire(event)
    assert acq.tile_overlap == (10, 10)
    assert {(a["row"], a["column"], a["channel"], a["z"]) for a in seen} == {
        (r, c, ch, z) for r, c in ((0, 0), (0, 1)) for ch in ("DAPI", "FITC") for z in (0, 1)
    }
    assert sorted(map(str, saved)) == sorted(map(str, seen))
    dataset = acq.get_dataset()
    assert dataset.levels == 2
    assert dataset.get_channel_names() == ["DAPI", "FITC"]  # while written, and after
    assert open_dataset(acq.dataset_path).get_channel_names() == ["DAPI", "FITC"]
    assert dataset.read_image(row=0, column=0, channel="FITC", z=1, resolution_level=1).shape == (
        HEIGHT - 10,
        WIDTH - 10,
    )


def test_an_event_with_its_own_position_keeps_it(tiles_core, tmp_path):
    with XYTiledAcquisition(0, tmp_path, "own", core=tiles_core, show_display=False) as acq:
        acq.acquire({"axes": {"row": 0, "column": 0}, "x": 12.0, "y": 34.0})
    assert acq.get_dataset().read_metadata(row=0, column=0)["XPosition_um_Intended"] == 12.0


def test_pycro_managers_old_top_level_row_and_col_keys(tiles_core, tmp_path):
    with (
        pytest.warns(DeprecationWarning, match="'row' and 'col'"),
        XYTiledAcquisition(0, tmp_path, "old", core=tiles_core, show_display=False) as acq,
    ):
        acq.acquire({"axes": {}, "row": 0, "col": 1})
    assert acq.get_dataset().has_image(row=0, column=1)


def test_mistakes_are_said(tiles_core, tmp_path):
    with pytest.raises(ValueError, match="directory="):
        XYTiledAcquisition(10, core=tiles_core)
    with pytest.raises(TilingError, match="smaller than the camera"):
        XYTiledAcquisition((WIDTH, 0), tmp_path, core=tiles_core)
    with pytest.raises(TilingError, match="whole pixels"):
        XYTiledAcquisition("10", tmp_path, core=tiles_core)
    with XYTiledAcquisition(0, tmp_path, "bad", core=tiles_core, show_display=False) as acq:
        with pytest.raises(InvalidEventError, match="both 'row' and 'column'"):
            acq.acquire({"axes": {"row": 0}})
        acq.acquire({"axes": {"row": 0, "column": 0}})


def test_an_image_that_is_not_a_tile_stops_the_acquisition_and_keeps_the_tiles(
    tiles_core, tmp_path
):
    def drop_axes(image, metadata):
        if metadata["Axes"]["column"] == 1:
            metadata["Axes"] = {"time": 0}
        return image, metadata

    acq = XYTiledAcquisition(
        0, tmp_path, "lost", image_process_fn=drop_axes, core=tiles_core, show_display=False
    )
    acq.acquire(grid_events(1, 3))
    acq.mark_finished()
    with pytest.raises(Exception, match="'row' and 'column' axes"):
        acq.await_completion(timeout=30)
    reopened = open_dataset(acq.dataset_path)
    assert isinstance(reopened, TiledDataset)
    assert reopened.has_image(row=0, column=0)


def test_a_reopened_map_keeps_its_grid(tiles_core, tmp_path):
    acq = run_grid(tiles_core, tmp_path, rows=2, columns=2)
    reopened = open_dataset(acq.dataset_path)
    assert isinstance(reopened, TiledDataset)
    # a level's folder, or one of its files, opens the whole map
    assert open_dataset(f"{acq.dataset_path}/Downsampled_x2").path == reopened.path
    layout = TileLayout.from_summary_metadata(reopened.summary_metadata)
    assert layout == acq.layout
    assert reopened.tile_shape == (HEIGHT - OVERLAP_Y, WIDTH - OVERLAP_X)
    assert sorted(reopened.tiles(0, {})) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    region = reopened.read_region(1, {}, 0, 10, 0, 10)
    assert np.array_equal(
        region, reopened.read_image(row=0, column=0, resolution_level=1)[:10, :10]
    )


def test_layout_follows_the_pixel_size_affine():
    rotated = TileLayout(10.0, 20.0, 100, 80, 10, 0, affine=(0.0, -0.5, 0.5, 0.0))
    assert rotated.stage_position(0, 1) == pytest.approx((10.0, 20.0 + 90 * 0.5))
    assert rotated.stage_position(1, 0) == pytest.approx((10.0 - 80 * 0.5, 20.0))
    # the camera centred on a map pixel, and back
    x, y = rotated.stage_at_pixel(123.0, 45.0)
    assert rotated.pixel_at_stage(x, y) == pytest.approx((123.0, 45.0))
    assert rotated.tile_at_stage(*rotated.stage_position(3, -2)) == (3, -2)
    with pytest.raises(TilingError, match="cannot be inverted"):
        TileLayout(0, 0, 100, 80, 0, 0, affine=(0.0, 0.0, 0.0, 0.0))


def test_tiles_an_event_generation_hook_makes_are_placed_after_it(tiles_core, tmp_path):
    """As pycro-manager: the hook may move an event to another tile, or make tiles;
    each is acquired where its row and column say."""

    def next_column(event):
        moved = {**event, "axes": {**event["axes"], "column": event["axes"]["column"] + 1}}
        return [moved]

    with XYTiledAcquisition(
        (OVERLAP_X, OVERLAP_Y), tmp_path, "hook", core=tiles_core, show_display=False,
        event_generation_hook_fn=next_column,
    ) as acq:  # fmt: skip
        acq.acquire(grid_events(1, 2))
    dataset = acq.get_dataset()
    assert sorted(dataset.tiles(0, {})) == [(0, 1), (0, 2)]
    for column in (1, 2):
        metadata = dataset.read_metadata(row=0, column=column)
        x, _ = acq.layout.stage_position(0, column)
        assert metadata["XPosition_um_Intended"] == pytest.approx(x)
