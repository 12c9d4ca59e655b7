"""Rectangle statistics and line profiles on the raw frame (Qt-free), on known arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.processing import region_stats
from app.processing.region_stats import line_profile, pixel_bounds, region_statistics

# 4 rows x 5 columns: value = 10 * row + column
IMAGE = (10 * np.arange(4)[:, None] + np.arange(5)[None, :]).astype(np.uint16)


def test_a_rectangle_inside_the_image():
    stats = region_statistics(IMAGE, 1, 1, 3, 2)  # rows 1-2, columns 1-3
    assert stats.bounds == (1, 1, 4, 3)
    assert stats.n == 6
    assert stats.mean == 17.0  # 11 12 13 21 22 23
    assert stats.min == 11.0 and stats.max == 23.0
    # deviations -6 -5 -4 4 5 6: squares add up to 154, over n - 1 = 5
    assert stats.std == pytest.approx(math.sqrt(154 / 5), rel=1e-15)
    assert np.array_equal(stats.region(IMAGE), IMAGE[1:3, 1:4])


def test_the_whole_image_matches_numpy():
    stats = region_statistics(IMAGE, 0, 0, 5, 4)
    assert stats.n == 20
    assert stats.mean == IMAGE.mean() == 17.0
    assert stats.std == pytest.approx(IMAGE.std(ddof=1), rel=1e-14)
    assert (stats.min, stats.max) == (0.0, 34.0)


def test_a_rectangle_partly_outside_is_clipped_to_the_image():
    stats = region_statistics(IMAGE, -2, 2, 4, 10)  # columns -2..1, rows 2..11
    assert stats.bounds == (0, 2, 2, 4)
    assert stats.n == 4  # 20 21 30 31
    assert stats.mean == 25.5
    assert (stats.min, stats.max) == (20.0, 31.0)
    assert stats.std == pytest.approx(np.std([20, 21, 30, 31], ddof=1), rel=1e-15)
    over_the_far_corner = region_statistics(IMAGE, 4, 3, 100, 100)
    assert over_the_far_corner.bounds == (4, 3, 5, 4)
    assert over_the_far_corner.n == 1 and over_the_far_corner.mean == 34.0
    assert over_the_far_corner.std == 0.0  # one pixel: 0, as ImageJ says, not NaN


def test_a_rectangle_outside_or_of_zero_size_has_no_pixels():
    for x, y, w, h in ((10, 10, 3, 3), (-5, 0, 3, 2), (1, 1, 0, 2), (1, 1, 2, 0), (0, 0, 0, 0)):
        stats = region_statistics(IMAGE, x, y, w, h)
        assert stats.n == 0, (x, y, w, h)
        assert all(math.isnan(v) for v in (stats.mean, stats.std, stats.min, stats.max))
        assert stats.region(IMAGE).size == 0


def test_pixels_count_when_their_centre_is_inside():
    # [0.6, 2.4) holds the centres 1.5 (column 1) only; [0.4, 2.6): 0.5, 1.5, 2.5
    assert pixel_bounds(IMAGE.shape, 0.6, 0, 1.8, 1) == (1, 0, 2, 1)
    assert pixel_bounds(IMAGE.shape, 0.4, 0, 2.2, 1) == (0, 0, 3, 1)
    # a rectangle dragged inside out (negative size) is the same rectangle
    assert pixel_bounds(IMAGE.shape, 4, 3, -3, -2) == pixel_bounds(IMAGE.shape, 1, 1, 3, 2)
    assert pixel_bounds(IMAGE.shape, float("nan"), 0, 2, 2) == (0, 0, 0, 2)


def test_float_and_constant_images():
    image = np.full((3, 3), 2.5, np.float32)
    stats = region_statistics(image, 0, 0, 3, 3)
    assert (stats.n, stats.mean, stats.std, stats.min, stats.max) == (9, 2.5, 0.0, 2.5, 2.5)
    with pytest.raises(ValueError, match="2-D"):
        region_statistics(np.zeros((2, 2, 3)), 0, 0, 1, 1)


def test_a_large_region_is_measured_in_blocks_and_matches_numpy(monkeypatch):
    monkeypatch.setattr(region_stats, "BLOCK_PIXELS", 7 * 50)  # 7 rows a block, 3 left over
    rng = np.random.default_rng(3)
    image = rng.integers(0, 65535, (80, 60), dtype=np.uint16)
    stats = region_statistics(image, 5, 3, 50, 73)
    region = image[3:76, 5:55]
    assert stats.n == region.size
    assert stats.mean == pytest.approx(region.mean(), rel=1e-15)
    assert stats.std == pytest.approx(region.std(ddof=1), rel=1e-12)
    assert (stats.min, stats.max) == (region.min(), region.max())


def test_a_profile_through_pixel_centres_reads_the_pixels():
    profile = line_profile(IMAGE, (0.5, 2.5), (4.5, 2.5))  # along row 2, centre to centre
    assert profile.length == 4.0
    assert np.array_equal(profile.distances, [0, 1, 2, 3, 4])
    assert np.array_equal(profile.values, IMAGE[2].astype(float))
    down = line_profile(IMAGE, (3.5, 0.5), (3.5, 3.5))  # down column 3
    assert np.array_equal(down.values, IMAGE[:, 3].astype(float))


def test_a_profile_between_centres_is_interpolated():
    # the image is linear (10 y + x in centre units): bilinear values are exact
    profile = line_profile(IMAGE, (1.0, 1.0), (4.0, 3.0))  # length sqrt(13): 4 steps
    assert profile.length == pytest.approx(math.sqrt(13))
    assert len(profile.values) == 5
    xs = np.linspace(1.0, 4.0, 5) - 0.5
    ys = np.linspace(1.0, 3.0, 5) - 0.5
    assert np.allclose(profile.values, 10 * ys + xs, rtol=0, atol=1e-12)
    assert np.allclose(profile.distances, np.linspace(0, math.sqrt(13), 5))


def test_a_profile_leaving_the_image_is_nan_outside():
    profile = line_profile(IMAGE, (-1.5, 0.5), (2.5, 0.5))
    # samples at x = -1.5, -0.5 (outside), 0.5, 1.5, 2.5 (centres of columns 0-2)
    assert np.isnan(profile.values[:2]).all()
    assert np.array_equal(profile.values[2:], [0.0, 1.0, 2.0])


def test_a_profile_of_length_zero_is_one_sample():
    profile = line_profile(IMAGE, (2.5, 1.5), (2.5, 1.5))
    assert profile.length == 0.0
    assert np.array_equal(profile.distances, [0.0])
    assert np.array_equal(profile.values, [12.0])
    outside = line_profile(IMAGE, (50, 50), (50, 50))
    assert outside.values.shape == (1,) and np.isnan(outside.values[0])


def test_the_outer_half_pixel_takes_the_edge_value():
    assert line_profile(IMAGE, (0.0, 0.0), (0.0, 0.0)).values[0] == 0.0
    assert line_profile(IMAGE, (5.0, 4.0), (5.0, 4.0)).values[0] == 34.0
    one_row = np.array([[1.0, 3.0]])
    assert np.array_equal(line_profile(one_row, (0.5, 0.5), (1.5, 0.5)).values, [1.0, 3.0])
