"""What the Route maps panel writes: hover texts, the instance line, table rows, Gantt bars, matrices.

Plain functions of a problem and its :class:`~engines.routing.problem.Evaluation`
(no Qt); the panel puts their strings and arrays on screen as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.routing.problem import Evaluation, Problem

__all__ = [
    "MATRIX_KINDS",
    "GanttBars",
    "comparison_rows",
    "gantt_bars",
    "matrix_image",
    "problem_summary",
    "route_rows",
    "stop_tips",
]

#: the matrices the matrix view can show, in its menu's order
MATRIX_KINDS = ("distance", "duration", "asymmetry |d_ij - d_ji|")

#: the columns of :func:`route_rows` and :func:`comparison_rows`
ROUTE_COLUMNS = ("route", "stops", "distance", "duration", "load %", "wait", "violations")
COMPARISON_COLUMNS = ("solver", "cost", "gap %", "time s", "feasible")


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


def route_rows(problem: Problem, evaluation: Evaluation | None) -> list[list[str]]:
    """One row of :data:`ROUTE_COLUMNS` per route (load in percent of the capacity, '-' without one)."""
    rows = []
    for k, rs in enumerate(evaluation.routes if evaluation is not None else ()):
        load = f"{100 * rs.load / problem.capacity:.0f}" if problem.capacity else "-"
        rows.append(
            [
                str(k + 1),
                str(len(rs.nodes)),
                f"{rs.distance:.6g}",
                f"{rs.duration:.6g}",
                load,
                f"{rs.wait:.4g}",
                "; ".join(rs.violations) or "-",
            ]
        )
    return rows


def comparison_rows(
    problem: Problem, comparison: Sequence[tuple[str, float, float | None, float, bool]]
) -> list[list[str]]:
    """One row of :data:`COMPARISON_COLUMNS` per solver run (cost rounded to the matrices' precision)."""
    return [
        [
            solver,
            f"{problem.round_cost(cost):g}",
            "-" if gap is None else f"{gap:.2f}",
            f"{t:.2f}",
            "yes" if feasible else "NO",
        ]
        for solver, cost, gap, t, feasible in comparison
    ]


@dataclass(frozen=True)
class GanttBars:
    """Bars of the Gantt chart, each as (x0, y, width) arrays; y is the route number (1, 2, ...)."""

    windows: tuple[np.ndarray, np.ndarray, np.ndarray]  #: each stop's time window
    wait: tuple[np.ndarray, np.ndarray, np.ndarray]  #: arrival to service start
    service: tuple[np.ndarray, np.ndarray, np.ndarray]  #: service (at least 1e-3 wide, to stay visible)


def gantt_bars(problem: Problem, evaluation: Evaluation | None) -> GanttBars | None:
    """The Gantt chart of a solution, or None without a solution or time windows."""
    if evaluation is None or problem.time_windows is None:
        return None
    tw = problem.time_windows
    svc = problem.service_times
    k, nodes, arrival, start = [], [], [], []
    for r, rs in enumerate(evaluation.routes):
        m = len(rs.nodes)
        k.extend([r + 1] * m)
        nodes.extend(rs.nodes)
        arrival.extend(rs.arrival[:m])
        start.extend(rs.start[:m])
    y = np.asarray(k, dtype=np.float64)
    c = np.asarray(nodes, dtype=np.intp)
    a = np.asarray(arrival, dtype=np.float64)
    s = np.asarray(start, dtype=np.float64)
    return GanttBars(
        windows=(tw[c, 0].astype(np.float64), y, (tw[c, 1] - tw[c, 0]).astype(np.float64)),
        wait=(a, y.copy(), s - a),
        service=(s, y.copy(), np.maximum(svc[c], 1e-3).astype(np.float64)),
    )


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
