"""The tiled sink's pyramid on a synthetic sample: every level equals the stitched map
averaged over 2x2 pixels, level after level, whatever order the tiles come in (negative
rows and columns too), read while it is written and after."""

from __future__ import annotations

import numpy as np
import pytest

from app.storage.ndtiff_writer import UnsupportedImageError
from app.storage.tile_pyramid import PyramidBuilder, downsample2, levels_for_span
from app.storage.tiled_dataset import TiledDataset
from app.storage.tiled_ndtiff_sink import TiledNDTiffSink

HEIGHT, WIDTH = 30, 44
OVERLAP_X, OVERLAP_Y = 6, 4
STEP_Y, STEP_X = HEIGHT - OVERLAP_Y, WIDTH - OVERLAP_X


def sample(rows, columns, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, size=(rows * STEP_Y + OVERLAP_Y, columns * STEP_X + OVERLAP_X))


def tile_of(image, row, column, first_row, first_column):
    top, left = (row - first_row) * STEP_Y, (column - first_column) * STEP_X
    return image[top : top + HEIGHT, left : left + WIDTH].astype(np.uint16)


def expected_levels(image, levels, first_row=0, first_column=0):
    """The stitched map, then each level below averaged over the 2x2 blocks of the map's
    pixel grid (zeros past the map's edge), each with the map pixel it starts at."""
    kept = image[
        OVERLAP_Y // 2 : OVERLAP_Y // 2 + (image.shape[0] - OVERLAP_Y),
        OVERLAP_X // 2 : OVERLAP_X // 2 + (image.shape[1] - OVERLAP_X),
    ].astype(np.uint16)
    out = [(kept, first_row * STEP_Y, first_column * STEP_X)]
    for _ in range(levels):
        below, y0, x0 = out[-1]
        top, left = y0 % 2, x0 % 2  # a block starts at an even pixel of the grid
        height, width = below.shape[0] + top, below.shape[1] + left
        padded = np.zeros((height + height % 2, width + width % 2), np.uint16)
        padded[top : top + below.shape[0], left : left + below.shape[1]] = below
        out.append((downsample2(padded), (y0 - top) // 2, (x0 - left) // 2))
    return out


@pytest.mark.parametrize("order", ["snake", "shuffled"])
def test_every_level_is_the_level_below_averaged(tmp_path, order):
    rows, columns = range(-2, 3), range(-3, 4)  # 5 x 7 tiles around (0, 0)
    image = sample(len(rows), len(columns))
    positions = [(r, c) for r in rows for c in columns]
    if order == "shuffled":
        np.random.default_rng(1).shuffle(positions)
    sink = TiledNDTiffSink.create(
        tmp_path, "map", {"Width": WIDTH, "Height": HEIGHT}, (OVERLAP_X, OVERLAP_Y)
    )
    for row, column in positions:
        tile = tile_of(image, row, column, rows[0], columns[0])
        sink.put({"channel": "DAPI", "row": row, "column": column}, tile, {"BitDepth": 16})
    live = sink.dataset
    assert live.levels == 1 + levels_for_span(5, 7) == 4
    sink.finish()
    reopened = TiledDataset.open(sink.path)
    levels = expected_levels(image, 3, rows[0], columns[0])
    for dataset in (live, reopened):
        for level, (expected, y0, x0) in enumerate(levels):
            region = dataset.read_region(
                level, {"channel": "DAPI"}, y0, y0 + expected.shape[0], x0, x0 + expected.shape[1]
            )
            assert np.array_equal(region, expected), f"level {level}"


def test_levels_read_while_written_are_current(tmp_path):
    """A downsampled tile is rewritten in place as tiles arrive: what a reader gets
    after each tile is the level as it is then (no stale buffered bytes)."""
    image = sample(2, 2, seed=3)
    sink = TiledNDTiffSink.create(
        tmp_path, "live", {"Width": WIDTH, "Height": HEIGHT}, (OVERLAP_X, OVERLAP_Y)
    )
    sink.put({"row": 0, "column": 0}, tile_of(image, 0, 0, 0, 0), {})
    with pytest.raises(KeyError, match="no resolution level 1"):
        sink.dataset.read_image(row=0, column=0, resolution_level=1)  # one tile: no level yet
    for row, column in ((0, 1), (1, 0), (1, 1)):
        sink.put({"row": row, "column": column}, tile_of(image, row, column, 0, 0), {})
        before = sink.dataset.read_image(row=0, column=0, resolution_level=1).copy()
        assert np.array_equal(before, sink.dataset.read_region(1, {}, 0, STEP_Y, 0, STEP_X))
    assert np.array_equal(
        before[:STEP_Y, :STEP_X], expected_levels(image, 1)[1][0][:STEP_Y, :STEP_X]
    )
    sink.finish()


def test_tiles_of_another_size_or_without_a_place_are_refused(tmp_path):
    sink = TiledNDTiffSink.create(tmp_path, "bad", {}, (OVERLAP_X, OVERLAP_Y))
    with pytest.raises(UnsupportedImageError, match="'row' and 'column' axes"):
        sink.put({"time": 0}, np.zeros((HEIGHT, WIDTH), np.uint16), {})
    sink.put({"row": 0, "column": 0}, np.zeros((HEIGHT, WIDTH), np.uint16), {})
    with pytest.raises(UnsupportedImageError, match="one size"):
        sink.put({"row": 0, "column": 1}, np.zeros((HEIGHT, WIDTH + 2), np.uint16), {})
    sink.finish()
    sink.finish()  # twice is safe


def test_eight_bit_tiles(tmp_path):
    image = sample(2, 3, seed=5) % 256
    sink = TiledNDTiffSink.create(tmp_path, "bytes", {}, (OVERLAP_X, OVERLAP_Y))
    for row in range(2):
        for column in range(3):
            tile = tile_of(image, row, column, 0, 0).astype(np.uint8)
            sink.put({"row": row, "column": column}, tile, {})
    sink.finish()
    reopened = TiledDataset.open(sink.path)
    level1 = reopened.read_image(row=0, column=0, resolution_level=1)
    assert level1.dtype == np.uint8
    expected = expected_levels(image, 1)[1][0]
    assert np.array_equal(
        level1[: expected.shape[0], : expected.shape[1]], expected[:STEP_Y, :STEP_X]
    )


def test_a_map_gone_on_with_is_the_map_written_at_once(tmp_path):
    """Explore reopens a map and adds tiles: the saved tiles stay and feed the levels,
    the new ones go to new files, and the result is the map one run would write."""
    rows, columns = range(0, 4), range(-1, 3)
    image = sample(len(rows), len(columns), seed=7)
    positions = [(r, c) for r in rows for c in columns]
    summary = {"Width": WIDTH, "Height": HEIGHT, "BitDepth": 16}
    sink = TiledNDTiffSink.create(tmp_path, "explore", summary, (OVERLAP_X, OVERLAP_Y))
    for row, column in positions[:3]:  # one row only: a map of one level less
        sink.put({"z": 0, "row": row, "column": column}, tile_of(image, row, column, 0, -1), {})
    sink.finish()
    for chunk in (positions[3:9], positions[9:]):  # reopened twice
        sink = TiledNDTiffSink.resume(sink.path)
        assert len(sink.dataset.tiles(0, {"z": 0})) == positions.index(chunk[0])
        for row, column in chunk:
            sink.put({"z": 0, "row": row, "column": column}, tile_of(image, row, column, 0, -1), {})
        sink.finish()
    reopened = TiledDataset.open(sink.path)
    assert sorted(reopened.tiles(0, {"z": 0})) == sorted(positions)
    for level, (expected, y0, x0) in enumerate(expected_levels(image, 2, 0, -1)):
        region = reopened.read_region(
            level, {"z": 0}, y0, y0 + expected.shape[0], x0, x0 + expected.shape[1]
        )
        assert np.array_equal(region, expected), f"level {level}"
    assert len(list((sink.path / "Full resolution").glob("*.tif"))) == 3


def test_a_map_whose_writer_stopped_mid_tile_is_whole_once_gone_on_with(tmp_path, monkeypatch):
    """A crash (or a full disk) after a tile's full resolution was written and before
    its levels were: going on with the map brings that tile into every level."""
    image = sample(3, 3, seed=11)
    summary = {"Width": WIDTH, "Height": HEIGHT}
    sink = TiledNDTiffSink.create(tmp_path, "crash", summary, (OVERLAP_X, OVERLAP_Y))
    positions = [(r, c) for r in range(3) for c in range(3)]
    for row, column in positions[:-1]:
        sink.put({"row": row, "column": column}, tile_of(image, row, column, 0, 0), {})

    def crash(*args):
        raise OSError("no space left on device")

    with monkeypatch.context() as patch, pytest.raises(OSError, match="no space"):
        patch.setattr(PyramidBuilder, "add_tile", crash)
        sink.put({"row": 2, "column": 2}, tile_of(image, 2, 2, 0, 0), {})
    # the process dies here: nothing closed; the map is gone on with later
    resumed = TiledNDTiffSink.resume(sink.path)
    resumed.finish()
    reopened = TiledDataset.open(sink.path)
    for level, (expected, y0, x0) in enumerate(expected_levels(image, 2)):
        region = reopened.read_region(
            level, {}, y0, y0 + expected.shape[0], x0, x0 + expected.shape[1]
        )
        assert np.array_equal(region, expected), f"level {level}"


def test_a_level_read_with_a_channel_index_is_current(tmp_path):
    """channel=0 (pycro-manager's way) reads the same refined pixels as the name."""
    image = sample(2, 2, seed=4)
    sink = TiledNDTiffSink.create(tmp_path, "index", {}, (OVERLAP_X, OVERLAP_Y))
    for row, column in ((0, 0), (0, 1), (1, 0), (1, 1)):
        tile = tile_of(image, row, column, 0, 0)
        sink.put({"channel": "DAPI", "row": row, "column": column}, tile, {})
        if (row, column) != (0, 0):
            by_name = sink.dataset.read_image(channel="DAPI", row=0, column=0, resolution_level=1)
            by_index = sink.dataset.read_image(channel=0, row=0, column=0, resolution_level=1)
            assert np.array_equal(by_name, by_index)
    sink.finish()
