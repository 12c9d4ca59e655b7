"""The histogram's range (``steady_range``): it holds while what it shows stays inside
and fills at least half of it."""

from __future__ import annotations

import pytest

from app.processing.contrast import steady_range


def test_a_first_range_has_a_margin_and_does_not_go_below_zero_for_values_that_do_not():
    assert steady_range(None, (100.0, 900.0)) == (0.0, 1000.0)
    assert steady_range(None, (-800.0, 800.0)) == (-1000.0, 1000.0)  # a signed image's


def test_the_range_holds_while_the_values_stay_inside_and_fill_half_of_it():
    shown = steady_range(None, (400.0, 3000.0))
    assert steady_range(shown, (380.0, 3040.0)) == shown  # noise moved the ends
    assert steady_range(shown, (800.0, 2500.0)) == shown  # still half of it
    assert steady_range(shown, (380.0, 4000.0)) != shown  # brighter than it holds
    assert steady_range(shown, (1000.0, 1100.0)) == pytest.approx((987.5, 1112.5))
