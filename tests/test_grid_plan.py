"""The Acquisition panel's tile grid, without Qt or a microscope: which tiles, where the
stage goes, and the grid as useq-schema's grid plan."""

from __future__ import annotations

import itertools

import pytest
import useq

from app.acquisition.grid_plan import (
    CameraField,
    GridCentre,
    GridMode,
    GridPlan,
    grid_from_useq,
    grid_to_useq,
    snake,
    tile_events,
)
from app.acquisition.multi_d import multi_d_acquisition_events
from app.acquisition.tiles import TilingError

CAMERA = CameraField(width=128, height=96)  # 1 µm pixels, no rotation: steps are pixels
OVERLAP = (10, 20)  # x and y differ, on a camera that is not square
STEP_X, STEP_Y = 128 - 10, 96 - 20


def _positions(tiles) -> dict[tuple[int, int], tuple[float, float]]:
    return {(t.row, t.column): (t.x, t.y) for t in tiles}


def test_rows_and_columns_are_centred_on_the_point():
    grid = GridPlan(rows=2, columns=3, overlap=OVERLAP)
    tiles = grid.tiles(CAMERA, centre=(100.0, 50.0))
    assert grid.count(CAMERA) == len(tiles) == 6
    places = _positions(tiles)
    for (row, column), (x, y) in places.items():
        assert x == pytest.approx(100 + (column - 1) * STEP_X)
        assert y == pytest.approx(50 + (row - 0.5) * STEP_Y)
    xs, ys = zip(*places.values(), strict=True)
    assert (sum(xs) / 6, sum(ys) / 6) == pytest.approx((100.0, 50.0))
    # tile (0, 0) is the layout's origin, as in a tiled acquisition's stitched map
    assert grid.layout(CAMERA, (100.0, 50.0)).stage_position(0, 0) == pytest.approx(places[0, 0])


def test_tiles_go_in_a_snake_so_each_move_is_one_tile():
    assert list(snake(2, 3)) == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]
    tiles = GridPlan(rows=3, columns=3, overlap=OVERLAP).tiles(CAMERA, (0.0, 0.0))
    for before, after in itertools.pairwise(tiles):
        assert abs(before.row - after.row) + abs(before.column - after.column) == 1


def test_steps_go_through_the_pixel_size_transform():
    rotated = CameraField(128, 96, affine=(0.0, -0.5, 0.5, 0.0))  # 0.5 µm, turned 90°
    tiles = _positions(GridPlan(rows=2, columns=2, overlap=OVERLAP).tiles(rotated, (10.0, 20.0)))
    # one column: x pixels (0.5 µm each) along stage +y; one row: y pixels along -x
    assert tiles[0, 1][0] - tiles[0, 0][0] == pytest.approx(0.0)
    assert tiles[0, 1][1] - tiles[0, 0][1] == pytest.approx(0.5 * STEP_X)
    assert tiles[1, 0][0] - tiles[0, 0][0] == pytest.approx(-0.5 * STEP_Y)
    xs, ys = zip(*tiles.values(), strict=True)
    assert (sum(xs) / 4, sum(ys) / 4) == pytest.approx((10.0, 20.0))


def _field(x: float, y: float, camera: CameraField = CAMERA) -> tuple[float, float, float, float]:
    width, height = camera.size_um
    return x - width / 2, y - height / 2, x + width / 2, y + height / 2


@pytest.mark.parametrize(
    ("corner1", "corner2", "shape"),
    [
        ((300.0, 200.0), (0.0, 0.0), (4, 4)),  # given the other way round
        ((0.0, 0.0), (2 * STEP_X, 2 * STEP_Y), (3, 3)),  # whole steps: no extra tile
        ((5.0, 5.0), (5.0, 5.0), (1, 1)),
        ((-50.0, 40.0), (60.0, 40.0), (1, 2)),
    ],
)
def test_two_corners_cover_both_corners_fields(corner1, corner2, shape):
    grid = GridPlan(GridMode.CORNERS, overlap=OVERLAP, corner1=corner1, corner2=corner2)
    assert grid.shape(CAMERA) == shape
    tiles = grid.tiles(CAMERA)
    assert len(tiles) == grid.count(CAMERA) == shape[0] * shape[1]
    fields = [_field(t.x, t.y) for t in tiles]
    left = min(f[0] for f in fields)
    top = min(f[1] for f in fields)
    right = max(f[2] for f in fields)
    bottom = max(f[3] for f in fields)
    for corner in (corner1, corner2):
        x0, y0, x1, y1 = _field(*corner)
        assert left <= x0 and top <= y0 and x1 <= right and y1 <= bottom
    # the grid starts on a corner's field: nothing is tiled beyond what is needed
    first = min((t.x, t.y) for t in tiles)
    assert first == pytest.approx((min(corner1[0], corner2[0]), min(corner1[1], corner2[1])))


def test_a_grid_that_cannot_be_laid_out_says_why():
    with pytest.raises(TilingError, match="Corner 1 here"):
        GridPlan(GridMode.CORNERS, corner1=(0.0, 0.0)).tiles(CAMERA)
    with pytest.raises(TilingError, match="smaller than the camera"):
        GridPlan(rows=2, columns=2, overlap=(128, 0)).tiles(CAMERA, (0.0, 0.0))
    with pytest.raises(TilingError, match="one row"):
        GridPlan(rows=0, columns=2)


def _via_file(grid_plan) -> useq.MDASequence:
    text = useq.MDASequence(grid_plan=grid_plan).model_dump_json(exclude_unset=True)
    return useq.MDASequence.model_validate_json(text)


def test_rows_and_columns_round_trip_through_useq():
    grid = GridPlan(rows=2, columns=3, overlap=OVERLAP, centre=GridCentre.EACH_POSITION)
    plan = grid_to_useq(grid, CAMERA)
    assert isinstance(plan, useq.GridRowsColumns)
    assert plan.overlap == pytest.approx((100 * 10 / 128, 100 * 20 / 96))  # percent of the FOV
    assert (plan.fov_width, plan.fov_height) == (128.0, 96.0)  # µm
    back, problems = grid_from_useq(_via_file(plan).grid_plan, CAMERA, GridCentre.EACH_POSITION)
    assert (back, problems) == (grid, [])
    # useq places the same tiles around the centre (its rows go the other way in y)
    ours = {(round(t.x, 6), round(t.y, 6)) for t in grid.tiles(CAMERA, (0.0, 0.0))}
    theirs = {(round(p.x or 0.0, 6), round(p.y or 0.0, 6)) for p in plan.iter_grid_positions()}
    assert ours == theirs


def test_two_corners_round_trip_through_useq_as_edges():
    grid = GridPlan(GridMode.CORNERS, overlap=OVERLAP, corner1=(0.0, 0.0), corner2=(300.0, 200.0))
    plan = grid_to_useq(grid, CAMERA)
    assert isinstance(plan, useq.GridFromEdges)
    # the edges are the outer edges of the corners' fields, as useq defines them
    assert (plan.left, plan.top, plan.right, plan.bottom) == (-64.0, -48.0, 364.0, 248.0)
    assert plan.num_positions() == grid.count(CAMERA)  # useq counts the same tiles
    back, problems = grid_from_useq(_via_file(plan).grid_plan, CAMERA)
    assert (back, problems) == (grid, [])
    swapped = GridPlan(
        GridMode.CORNERS, overlap=OVERLAP, corner1=(300.0, 0.0), corner2=(0.0, 200.0)
    )
    back, _ = grid_from_useq(grid_to_useq(swapped, CAMERA), CAMERA)
    assert back.tiles(CAMERA) == swapped.tiles(CAMERA)  # corners come back ordered


def test_a_useq_overlap_comes_back_as_the_nearest_pixels_and_the_rest_is_said():
    plan = useq.GridRowsColumns(
        rows=2, columns=2, overlap=10, mode="spiral", relative_to="top_left"
    )
    grid, problems = grid_from_useq(plan, CAMERA)
    assert grid.overlap == (13, 10)  # 12.8 and 9.6 pixels, rounded
    assert any("'spiral'" in p for p in problems)
    assert any("centred" in p for p in problems)
    with pytest.raises(TilingError, match="GridWidthHeight"):
        grid_from_useq(useq.GridWidthHeight(width=100, height=100), CAMERA)


def test_events_repeat_each_time_point_for_each_tile_with_its_channels_together():
    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
    )
    grid = GridPlan(rows=2, columns=3, overlap=OVERLAP)
    tiled = tile_events(events, grid, CAMERA, here=(100.0, 50.0))
    assert len(tiled) == 2 * 6 * 2
    first_tiles = [(e["axes"]["row"], e["axes"]["column"]) for e in tiled[:12:2]]
    assert first_tiles == list(snake(2, 3))
    assert [e["axes"]["channel"] for e in tiled[:4]] == ["DAPI", "FITC", "DAPI", "FITC"]
    assert {e["axes"]["time"] for e in tiled[:12]} == {0}  # time outermost
    places = _positions(grid.tiles(CAMERA, (100.0, 50.0)))
    for event in tiled:
        assert (event["x"], event["y"]) == places[event["axes"]["row"], event["axes"]["column"]]


def test_events_around_each_listed_position():
    events = multi_d_acquisition_events(
        xy_positions=[(0.0, 0.0), (1000.0, -500.0)], position_labels=["a", "b"]
    )
    grid = GridPlan(rows=1, columns=2, overlap=OVERLAP, centre=GridCentre.EACH_POSITION)
    tiled = tile_events(events, grid, CAMERA, here=None)
    got = [(e["axes"]["position"], e["axes"]["column"], e["x"], e["y"]) for e in tiled]
    half = STEP_X / 2
    assert got == [
        ("a", 0, -half, 0.0),
        ("a", 1, half, 0.0),
        ("b", 0, 1000 - half, -500.0),
        ("b", 1, 1000 + half, -500.0),
    ]
