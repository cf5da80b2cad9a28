"""Aggregation of sweep results for the plots: axes, means over seeds, colour levels (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.sweep.aggregate import cell_means, codes, colour_levels, curve_means, unit_scale


def test_codes_of_numbers_are_sorted_and_labelled_with_four_digits():
    uniq, labels, idx = codes(np.array([2.0, 0.5, 2.0, 1.0 / 3.0]))
    assert list(uniq) == [1.0 / 3.0, 0.5, 2.0]
    assert labels == ["0.3333", "0.5", "2"]
    assert list(idx) == [2, 1, 2, 0]


def test_codes_of_text_sort_as_strings():
    uniq, labels, idx = codes(np.array(["pyvrp", "ls", "pyvrp"], dtype=object))
    assert labels == ["ls", "pyvrp"] and list(idx) == [1, 0, 1]


def test_cell_means_average_the_seeds_and_skip_non_finite_values():
    xi = np.array([0, 0, 1, 1, 1])
    yi = np.array([0, 0, 1, 1, 0])
    m = np.array([1.0, 3.0, 5.0, np.nan, np.inf])
    grid = cell_means(xi, yi, m, 2, 2)
    assert grid.shape == (2, 2)
    assert grid[0, 0] == 2.0 and grid[1, 1] == 5.0
    assert np.isnan(grid[0, 1]) and np.isnan(grid[1, 0])  # no value, or only a non-finite one


def test_curve_means_are_one_mean_per_x_value():
    means = curve_means(np.array([0, 1, 1, 2]), np.array([1.0, 2.0, 4.0, np.nan]), 3)
    assert means[0] == 1.0 and means[1] == 3.0 and np.isnan(means[2])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, np.nan, -1.0], (-1.0, 3.0)),
        ([np.nan, np.nan], (0.0, 1.0)),
        ([2.0, 2.0], (2.0, 2.0 + 1e-12)),
    ],
)
def test_colour_levels_span_the_finite_values_and_never_collapse(values, expected):
    lo, hi = colour_levels(np.array(values))
    assert (lo, hi) == pytest.approx(expected, abs=0, rel=0)
    assert hi > lo


def test_unit_scale_maps_the_levels_to_zero_and_one():
    t = unit_scale(np.array([-1.0, 1.0, 3.0, np.nan]), -1.0, 3.0)
    assert list(t[:3]) == [0.0, 0.5, 1.0] and np.isnan(t[3])
    assert list(unit_scale(np.array([2.0, 2.0]), 2.0, 2.0)) == [0.0, 0.0]
