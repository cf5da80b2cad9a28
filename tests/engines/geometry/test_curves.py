"""What the geometry workbench plots, from result rows (no Qt, no torch models run)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.geometry import curves as cv
from engines.geometry.analysis import Embedding


def row(model, layer, eps, capacity, seed=0, noise=1.0, **extra):
    return dict(model=model, layer=layer, eps=eps, seed=seed, capacity=capacity, noise_scale=noise, **extra)


ROWS = (
    row("standard", "fc1", 0.1, 2.0, seed=0),
    row("standard", "fc1", 0.1, 4.0, seed=1),
    row("standard", "fc1", 0.0, 5.0),
    row("standard", "conv3", 0.1, 1.0, simcap=1.5),
    row("stochastic", "fc1", 0.1, 7.0, noise=0.5),
    row("stochastic", "fc1", 0.1, 9.0, noise=2.0),
)


def test_eps_values_and_noise_levels_are_sorted_and_distinct():
    assert cv.eps_values(ROWS) == [0.0, 0.1]
    assert cv.noise_levels(ROWS) == [0.5, 2.0]  # the stochastic net's only


@pytest.mark.parametrize(("value", "want"), [(0.4, 0.5), (1.25, 0.5), (1.9, 2.0), (5.0, 2.0)])
def test_nearest_level_prefers_the_lower_one_on_a_tie(value, want):
    assert cv.nearest_level([0.5, 2.0], value) == want


def test_no_level_when_none_was_analysed():
    assert cv.nearest_level([], 1.0) is None


def test_mean_sd_over_seeds():
    assert cv.mean_sd(ROWS[:2], "capacity") == (3.0, 1.0)
    assert cv.mean_sd(ROWS[2:3], "capacity") == (5.0, 0.0)


def test_the_stochastic_rows_are_those_of_the_level_shown():
    assert [r["capacity"] for r in cv.model_rows(ROWS, "stochastic", 2.0)] == [9.0]
    assert len(cv.model_rows(ROWS, "stochastic", None)) == 2
    assert len(cv.model_rows(ROWS, "standard", 2.0)) == 4  # the level filters the stochastic net only


def test_metric_against_eps_and_against_layer():
    mine = cv.model_rows(ROWS, "standard", None)
    c = cv.metric_vs_eps(mine, "capacity", "fc1", [0.0, 0.1, 0.2])
    assert list(c.x) == [0.0, 0.1] and list(c.y) == [5.0, 3.0] and list(c.sd) == [0.0, 1.0]
    c = cv.metric_vs_layer(mine, "capacity", 0.1, layers=("conv3", "fc1", "logits"))
    assert list(c.x) == [0, 1] and list(c.y) == [1.0, 3.0]


def test_simulated_capacity_only_where_measured():
    mine = cv.model_rows(ROWS, "standard", None)
    assert len(cv.simcap_vs_eps(mine, "fc1", [0.0, 0.1]).x) == 0
    c = cv.simcap_vs_layer(mine, 0.1, layers=("conv3", "fc1"))
    assert list(c.x) == [0] and list(c.y) == [1.5] and list(c.sd) == [0.0]


def test_accuracy_of_the_stochastic_net_at_the_level_shown():
    acc = {
        ("standard", 0.1): 0.5,
        ("standard", 0.0): 0.9,
        ("stochastic", 0.0, 0.5): 0.8,
        ("stochastic", 0.0, 2.0): 0.6,
    }
    c = cv.accuracy_vs_eps(acc, "standard", None)
    assert list(c.x) == [0.0, 0.1] and list(c.y) == [0.9, 0.5]
    assert list(cv.accuracy_vs_eps(acc, "stochastic", 2.0).y) == [0.6]


def _emb(n):
    return Embedding(np.ones((n, 3)), np.zeros(n, int), np.zeros(n, bool), np.ones(3))


def test_the_stochastic_embedding_of_the_level_shown_else_the_main_one():
    main, half = _emb(3), _emb(4)
    embs = {
        ("stochastic", "fc1", 0.1): main,
        ("stochastic", "fc1", 0.1, 0.5): half,
        ("standard", "fc1", 0.1): main,
    }
    assert cv.embedding_for(embs, "stochastic", "fc1", 0.1, 0.5) is half
    assert cv.embedding_for(embs, "stochastic", "fc1", 0.1, 2.0) is main
    assert cv.embedding_for(embs, "standard", "fc1", 0.1, 0.5) is main
    assert cv.embedding_for(embs, "adversarial", "fc1", 0.1, None) is None


def test_unit_scaled_points_fit_the_unit_cube():
    pts = cv.unit_scaled(np.array([[2.0, -4.0, 1.0], [0.0, 1.0, 0.0]]))
    assert pts.dtype == np.float32 and float(np.abs(pts).max()) == 1.0 and pts[0, 1] == -1.0
    assert not cv.unit_scaled(np.zeros((2, 3))).any()  # all at the origin: left there
    assert cv.unit_scaled(np.zeros((0, 3))).shape == (0, 3)
