"""Map geometry of the Route maps panel, headless: MDS layout, map coordinates, route paths, arrows, picking."""

import math

import numpy as np
import pytest

from engines.routing.layout import (
    KM_PER_DEGREE,
    arrow_segments,
    arrow_size,
    map_xy,
    mds_layout,
    pick,
    route_path,
    scale_bar,
    street_segments,
    to_problem_xy,
)
from engines.routing.problem import Problem, RoadGeometry


def _pairwise(xy):
    return np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))


def test_mds_layout_reproduces_planar_distances():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-50, 50, size=(12, 2))
    d = _pairwise(pts)
    xy = mds_layout(d)
    assert xy.shape == (12, 2)
    np.testing.assert_allclose(_pairwise(xy), d, atol=1e-8)


def test_mds_layout_symmetrises_an_asymmetric_matrix():
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 10, size=(8, 2))
    d = _pairwise(pts)
    skew = rng.uniform(0, 1, size=d.shape)
    np.fill_diagonal(skew, 0)
    asym = d + skew  # d_ij + s_ij: not symmetric
    np.testing.assert_allclose(mds_layout(asym), mds_layout((asym + asym.T) / 2), atol=1e-9)


def test_map_xy_of_matrix_only_coordinate_and_latlon_instances():
    d = _pairwise(np.array([[0.0, 0], [3, 0], [0, 4]]))
    xy, kx = map_xy(Problem("m", d))
    assert kx == 1.0 and xy.shape == (3, 2)
    np.testing.assert_allclose(_pairwise(xy), d, atol=1e-9)
    coords = np.array([[1.0, 2], [3, 4], [5, 7]])
    xy, kx = map_xy(Problem("c", _pairwise(coords), coords=coords))
    assert kx == 1.0
    np.testing.assert_array_equal(xy, coords)
    ll = np.array([[60.0, 24.9], [60.2, 25.0], [60.1, 24.8]])
    xy, kx = map_xy(Problem("g", d, coords=ll, coord_kind="latlon"))
    assert kx == pytest.approx(math.cos(math.radians(60.1)))
    np.testing.assert_allclose(xy, np.stack([ll[:, 1] * kx, ll[:, 0]], 1))
    # a map point goes back to (lat, lon)
    assert to_problem_xy(xy[1], kx, "latlon") == pytest.approx((60.2, 25.0))
    assert to_problem_xy((2.0, 3.0), 1.0, "xy") == (2.0, 3.0)


def _roads():
    # a line of road nodes 0-1-2-3 at x = 0..3; problem node i sits on road node point_node[i]
    node_xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    point_node = np.array([0, 3])
    pred = np.array([[-1, 0, 1, 2], [1, 2, 3, -1]])  # shortest-path trees from road nodes 0 and 3
    return RoadGeometry(node_xy=node_xy, edges=edges, point_node=point_node, pred=pred)


def test_street_segments_and_route_path_along_the_streets():
    roads = _roads()
    seg = street_segments(roads, 0.5)
    np.testing.assert_allclose(seg[:, 0], [0, 0.5, 0.5, 1.0, 1.0, 1.5])
    assert street_segments(None, 1.0).shape == (0, 2)
    coords = np.array([[0.0, 0.0], [0.0, 3.0]])  # (lat, lon)
    p = Problem("r", np.array([[0.0, 3.0], [3.0, 0.0]]), coords=coords, coord_kind="latlon", roads=roads)
    xy, kx = map_xy(p)
    path, at = route_path(p, (1,), xy, kx)
    # out along the four road nodes, back along them: every street vertex, arrows mid-leg
    np.testing.assert_allclose(path[:, 0], [0, 1, 2, 3, 3, 2, 1, 0])
    np.testing.assert_array_equal(at, [2, 6])


def test_route_path_without_roads_goes_stop_to_stop():
    coords = np.array([[0.0, 0], [1, 0], [1, 1]])
    p = Problem("c", _pairwise(coords), coords=coords)
    path, at = route_path(p, (2, 1), coords, 1.0)
    np.testing.assert_array_equal(path, coords[[0, 2, 1, 0]])
    np.testing.assert_array_equal(at, [1, 2, 3])


def test_arrow_segments_point_along_the_segment():
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    bars = arrow_segments(xy, np.array([0, 1, 2, 5]), 0.2)  # only index 1 gets an arrow
    assert bars.shape == (4, 2)
    tip = np.array([1.1, 0.0])
    np.testing.assert_allclose(bars[0], tip)
    np.testing.assert_allclose(bars[2], tip)
    assert bars[1, 0] < tip[0] and bars[3, 0] < tip[0]  # barbs trail behind the tip
    assert bars[1, 1] == pytest.approx(-bars[3, 1])
    np.testing.assert_allclose(np.hypot(*(bars[1] - tip)), 0.2)
    assert arrow_segments(xy, np.array([], dtype=int), 0.2).shape == (0, 2)
    assert arrow_size(np.array([[0.0, 0], [10, 5]])) == pytest.approx(0.12)


def test_pick_finds_the_nearest_node_within_the_radius():
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    assert pick(xy, (9.0, 0.5), (0.5, 0.5), 9.0) == 1  # 2.2 px away
    assert pick(xy, (5.0, 5.0), (0.5, 0.5), 9.0) is None
    assert pick(np.zeros((0, 2)), (0.0, 0.0), (1.0, 1.0), 9.0) is None


def test_scale_bar_is_a_round_distance_near_the_target_length():
    """Map units of lat/lon maps are degrees of latitude: 1 km is 1 / 111.19 of one."""
    length, label = scale_bar(1e-5, target_px=100)  # 100 px = 111 m
    assert label == "100 m" and length * KM_PER_DEGREE == pytest.approx(0.1)
    length, label = scale_bar(2e-4, target_px=100)  # 100 px = 2.2 km
    assert label == "2 km" and length / 2e-4 == pytest.approx(89.9, abs=0.1)  # drawn 90 px long
    assert scale_bar(4.5e-4, 100)[1] == "5 km" and scale_bar(5e-2, 100)[1] == "500 km"
    with pytest.raises(ValueError, match="map_units_per_px"):
        scale_bar(0.0)
