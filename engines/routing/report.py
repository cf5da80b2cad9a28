"""What the Route maps panel writes: hover texts, the instance line, table rows, Gantt bars, matrices.

Plain functions of a problem and its :class:`~engines.routing.problem.Evaluation`
(no Qt); the panel puts their strings and arrays on screen as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engines.routing.problem import Evaluation, Problem

__all__ = [
    "MATRIX_KINDS",
    "GanttBars",
    "comparison_rows",
    "format_cost",
    "gantt_bars",
    "matrix_image",
    "matrix_label",
    "problem_summary",
    "route_columns",
    "route_rows",
    "stop_tips",
]

#: the matrices the matrix view can show, in its menu's order
MATRIX_KINDS = ("distance", "duration", "asymmetry |d_ij - d_ji|")

#: the columns of :func:`route_rows` and :func:`comparison_rows`
ROUTE_COLUMNS = ("route", "stops", "distance", "duration", "load %", "wait", "violations")
COMPARISON_COLUMNS = ("solver", "cost", "gap %", "time (s)", "feasible")


def stop_tips(problem: Problem, evaluation: Evaluation | None) -> list[str]:
    """The hover text of each customer (1 .. n-1): demand, time window, and its route's arrival, wait, load."""
    p = problem
    info = {}
    if evaluation is not None:
        for k, rs in enumerate(evaluation.routes):
            load = 0.0
            for j, c in enumerate(rs.nodes):
                load += p.demand[c]
                info[c] = (k + 1, rs.arrival[j], rs.start[j] - rs.arrival[j], load)
    tw = p.windows
    tips = []
    for c in range(1, p.n):
        t = f"customer {c}\ndemand {p.demand[c]:g}"
        if p.time_windows is not None:
            t += f"\nwindow [{tw[c, 0]:g}, {tw[c, 1]:g}]"
        if c in info:
            k, a, w, ld = info[c]
            t += f"\nroute {k}: arrival {a:.4g}, wait {w:.4g}, load {ld:g}"
            if p.capacity:
                t += f" ({100 * ld / p.capacity:.0f} %)"
        tips.append(t)
    return tips


def problem_summary(problem: Problem) -> str:
    """One line: name, variant, customers, capacity, vehicles and best known cost."""
    p = problem
    text = f"{p.name} [{p.variant}] {p.n - 1} customers"
    if p.capacity is not None:
        text += f", capacity {p.capacity:g}"
    if p.num_vehicles is not None:
        text += f", {p.num_vehicles} vehicles"
    if p.bks:
        text += f"; best known {p.bks:g}"
    return text


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def route_columns(problem: Problem) -> tuple[str, ...]:
    """:data:`ROUTE_COLUMNS` with the instance's units: "distance (km)", "duration (min)", "wait (min)"."""
    du, tu = problem.distance_unit, problem.duration_unit
    return ("route", "stops", _with_unit("distance", du), _with_unit("duration", tu), "load %",
            _with_unit("wait", tu), "violations")  # fmt: skip


def _decimals(unit: str, precision: int | None) -> int:
    """Decimals that mean something: 10 m in km, 0.1 min, else the instance's own precision (or 1)."""
    if unit == "km":
        return 2
    if unit in ("m", "s"):
        return 0
    if unit in ("min", "h"):
        return 1 if unit == "min" else 2
    return 1 if precision is None else min(precision, 2)


def route_rows(problem: Problem, evaluation: Evaluation | None) -> list[list[str]]:
    """One row of :data:`ROUTE_COLUMNS` per route (load in percent of the capacity, '-' without one);
    distances and times rounded to what they mean in their unit (10 m, 0.1 min)."""
    rows = []
    dd = _decimals(problem.distance_unit, problem.precision)
    td = _decimals(problem.duration_unit, problem.precision)
    for k, rs in enumerate(evaluation.routes if evaluation is not None else ()):
        load = f"{100 * rs.load / problem.capacity:.0f}" if problem.capacity else "-"
        rows.append(
            [
                str(k + 1),
                str(len(rs.nodes)),
                f"{rs.distance:.{dd}f}",
                f"{rs.duration:.{td}f}",
                load,
                f"{rs.wait:.{td}f}",
                "; ".join(rs.violations) or "-",
            ]
        )
    return rows


def format_cost(problem: Problem, cost: float, unit: bool = False) -> str:
    """A cost rounded to the matrices' precision, or to what its unit means (10 m in km); with
    ``unit`` the unit follows ("33.01 km")."""
    du = problem.distance_unit
    text = (
        f"{cost:.{_decimals(du, None)}f}"
        if du and problem.precision is None
        else f"{problem.round_cost(cost):g}"
    )
    return f"{text} {du}" if unit and du else text


def comparison_rows(
    problem: Problem, comparison: Sequence[tuple[str, float, float | None, float, bool]]
) -> list[list[str]]:
    """One row of :data:`COMPARISON_COLUMNS` per solver run (cost rounded to the matrices' precision)."""
    return [
        [
            solver,
            format_cost(problem, cost),
            "-" if gap is None else f"{gap:.2f}",
            f"{t:.2f}",
            "yes" if feasible else "NO",
        ]
        for solver, cost, gap, t, feasible in comparison
    ]


Bars = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class GanttBars:
    """Bars of the Gantt chart, each as (x0, y, width) arrays; y is the route number (1, 2, ...).

    Times are in the instance's duration unit. Without time windows ``windows`` is empty and the
    chart still shows each route's legs and stops."""

    windows: Bars  #: each stop's time window (empty without time windows)
    wait: Bars  #: arrival to service start
    service: Bars  #: service (at least 1e-3 wide, to stay visible)
    travel: Bars = (np.zeros(0), np.zeros(0), np.zeros(0))  #: every leg, the return to the depot included
    stops: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.intp)
    )  #: customer of each stop bar
    end: float = 0.0  #: the latest return to the depot


def gantt_bars(problem: Problem, evaluation: Evaluation | None) -> GanttBars | None:
    """The Gantt chart of a solution (one row per route), or None without a solution."""
    if evaluation is None:
        return None
    tw = problem.windows
    svc = problem.service_times
    k, nodes, arrival, start = [], [], [], []
    leg_y, leg_x0, leg_x1 = [], [], []
    for r, rs in enumerate(evaluation.routes):
        m = len(rs.nodes)
        k.extend([r + 1] * m)
        nodes.extend(rs.nodes)
        arrival.extend(rs.arrival[:m])
        start.extend(rs.start[:m])
        # a leg leaves after the previous service (the depot's opening first) and ends on arrival
        leave = [float(tw[0, 0]) + float(svc[0])]
        leave += [float(s) + float(svc[c]) for s, c in zip(rs.start[:m], rs.nodes)]
        leg_y.extend([r + 1] * (m + 1))
        leg_x0.extend(leave)
        leg_x1.extend(rs.arrival[: m + 1])
    y = np.asarray(k, dtype=np.float64)
    c = np.asarray(nodes, dtype=np.intp)
    a = np.asarray(arrival, dtype=np.float64)
    s = np.asarray(start, dtype=np.float64)
    lx0 = np.asarray(leg_x0, dtype=np.float64)
    lx1 = np.asarray(leg_x1, dtype=np.float64)
    if problem.time_windows is not None:
        windows = (tw[c, 0].astype(np.float64), y, (tw[c, 1] - tw[c, 0]).astype(np.float64))
    else:
        windows = (np.zeros(0), np.zeros(0), np.zeros(0))
    return GanttBars(
        windows=windows,
        wait=(a, y.copy(), s - a),
        service=(s, y.copy(), np.maximum(svc[c], 1e-3).astype(np.float64)),
        travel=(lx0, np.asarray(leg_y, dtype=np.float64), lx1 - lx0),
        stops=c,
        end=float(lx1.max()) if len(lx1) else 0.0,
    )


def matrix_label(problem: Problem, kind: str) -> tuple[str, str]:
    """The colour bar's title and unit for the matrix ``kind`` ('' when the instance has no unit)."""
    if kind == MATRIX_KINDS[1]:
        return "duration", problem.duration_unit
    if kind == MATRIX_KINDS[2]:
        return "asymmetry |d_ij - d_ji|", problem.distance_unit
    return "distance", problem.distance_unit


def matrix_image(problem: Problem, kind: str) -> tuple[np.ndarray, float]:
    """The matrix ``kind`` (one of :data:`MATRIX_KINDS`) and the top of its colour scale (max, or 1 if 0)."""
    p = problem
    if kind == MATRIX_KINDS[0]:
        m = p.distance
    elif kind == MATRIX_KINDS[1]:
        m = p.duration
    elif kind == MATRIX_KINDS[2]:
        m = np.abs(p.distance - p.distance.T)
    else:
        raise ValueError(f"matrix kind {kind!r}: allowed values are {', '.join(map(repr, MATRIX_KINDS))}")
    return m, float(m.max()) or 1.0
