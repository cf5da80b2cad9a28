"""Texts, rows and bars of the Route maps panel, headless."""

import numpy as np
import pytest

from engines.routing.problem import Problem, evaluate
from engines.routing.report import (
    COMPARISON_COLUMNS,
    MATRIX_KINDS,
    ROUTE_COLUMNS,
    comparison_rows,
    format_cost,
    gantt_bars,
    matrix_image,
    matrix_label,
    problem_summary,
    route_columns,
    route_rows,
    stop_tips,
)


@pytest.fixture
def tw_problem():
    """Depot and three customers on a line, with time windows and service times."""
    coords = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    d = np.abs(coords[:, None, 0] - coords[None, :, 0])
    tw = np.array([[0.0, 100], [0, 10], [5, 20], [0, 100]])
    return Problem(
        "line", d, coords=coords, demand=np.array([0.0, 2, 3, 4]), capacity=10.0,
        time_windows=tw, service=np.array([0.0, 1, 1, 0]), bks=8.0,
    )  # fmt: skip


def test_stop_tips_say_window_arrival_wait_and_load(tw_problem):
    ev = evaluate(tw_problem, [[1, 2], [3]])
    tips = stop_tips(tw_problem, ev)
    assert len(tips) == 3
    assert tips[0] == "customer 1\ndemand 2\nwindow [0, 10]\nroute 1: arrival 1, wait 0, load 2 (20 %)"
    # customer 2: arrives at 1 + 1 + 1 = 3, waits until 5; load 2 + 3
    assert tips[1].endswith("route 1: arrival 3, wait 2, load 5 (50 %)")
    assert "route 2" in tips[2]
    assert "route" not in stop_tips(tw_problem, None)[0]


def test_problem_summary(tw_problem):
    assert problem_summary(tw_problem) == "line [VRPTW] 3 customers, capacity 10; best known 8"


def test_route_and_comparison_rows(tw_problem):
    ev = evaluate(tw_problem, [[1, 2], [3]])
    rows = route_rows(tw_problem, ev)
    assert [len(r) for r in rows] == [len(ROUTE_COLUMNS)] * 2
    assert rows[0][:2] == ["1", "2"] and rows[0][4] == "50" and rows[0][6] == "-"
    assert rows[1][4] == "40"
    assert route_rows(tw_problem, None) == []
    uncapacitated = Problem("u", tw_problem.distance)
    assert route_rows(uncapacitated, evaluate(uncapacitated, [[1, 2, 3]]))[0][4] == "-"
    comp = comparison_rows(tw_problem, [("ls", 8.0, 0.0, 1.234, True), ("neural", 9.5, None, 0.5, False)])
    assert comp == [["ls", "8", "0.00", "1.23", "yes"], ["neural", "9.5", "-", "0.50", "NO"]]
    assert len(comp[0]) == len(COMPARISON_COLUMNS)


def test_gantt_bars_one_per_stop(tw_problem):
    ev = evaluate(tw_problem, [[1, 2], [3]])
    bars = gantt_bars(tw_problem, ev)
    x0, y, w = bars.windows
    np.testing.assert_array_equal(y, [1, 1, 2])
    np.testing.assert_array_equal(x0, [0, 5, 0])
    np.testing.assert_array_equal(w, [10, 15, 100])
    ax, _, aw = bars.wait
    np.testing.assert_allclose(ax, [1, 3, 3])
    np.testing.assert_allclose(aw, [0, 2, 0])
    sx, _, sw = bars.service
    np.testing.assert_allclose(sx, [1, 5, 3])
    np.testing.assert_allclose(sw, [1, 1, 1e-3])  # zero service stays visible
    assert gantt_bars(tw_problem, None) is None
    assert gantt_bars(Problem("u", tw_problem.distance), None) is None


def test_matrix_image_kinds(tw_problem):
    d = tw_problem.distance.copy()
    d[0, 1] = 4.0
    p = Problem("a", d)
    m, hi = matrix_image(p, MATRIX_KINDS[0])
    assert m is p.distance and hi == 4.0
    m, hi = matrix_image(p, MATRIX_KINDS[2])
    assert m[0, 1] == m[1, 0] == 3.0 and hi == 3.0
    m, hi = matrix_image(Problem("s", tw_problem.distance), MATRIX_KINDS[2])
    assert hi == 1.0 and not m.any()  # a symmetric instance: all zero, the scale stays usable
    with pytest.raises(ValueError, match="matrix kind"):
        matrix_image(p, "speed")


def test_gantt_bars_without_time_windows_show_legs_and_stops(tw_problem):
    """An instance without time windows (a CVRP) still gets one bar per stop and one per leg."""
    p = Problem("cvrp", tw_problem.distance, demand=tw_problem.demand, capacity=10.0)
    bars = gantt_bars(p, evaluate(p, [[1, 2], [3]]))
    assert len(bars.windows[0]) == 0
    np.testing.assert_array_equal(bars.stops, [1, 2, 3])
    lx0, ly, lw = bars.travel
    np.testing.assert_array_equal(ly, [1, 1, 1, 2, 2])  # depot -> 1 -> 2 -> depot, depot -> 3 -> depot
    np.testing.assert_allclose(lx0, [0, 1, 2, 0, 3])
    np.testing.assert_allclose(lw, [1, 1, 2, 3, 3])
    assert bars.end == 6.0


def test_route_columns_and_rows_carry_units_and_rounding(tw_problem):
    p = Problem("km", tw_problem.distance * 1.23456, demand=tw_problem.demand, capacity=10.0,
                distance_unit="km", duration_unit="min")  # fmt: skip
    assert (
        route_columns(p)[2:4] == ("distance (km)", "duration (min)") and route_columns(p)[5] == "wait (min)"
    )
    assert route_columns(tw_problem)[2] == "distance"  # no unit known: no brackets
    row = route_rows(p, evaluate(p, [[1, 2, 3]]))[0]
    assert row[2] == "7.41" and row[3] == "7.4"  # 10 m and 0.1 min
    assert format_cost(p, 7.40736, unit=True) == "7.41 km"
    assert matrix_label(p, MATRIX_KINDS[1]) == ("duration", "min")
    assert matrix_label(tw_problem, MATRIX_KINDS[0]) == ("distance", "")
