"""The improvement curve: best cost against time, as steps, with the time limit and the best known cost."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from studio import theme

HINT = "The best cost found so far appears here, step by step, while a solve runs. Press Solve."


def held_steps(curve: np.ndarray, until_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The (time, best cost) improvements as step data for ``stepMode="center"``: ``x`` has one
    more value than ``y``, each cost held from its improvement to the next one, the last one
    until ``until_s`` (the time reached by the solve)."""
    if not len(curve):
        return np.zeros(0), np.zeros(0)
    t, c = curve[:, 0], curve[:, 1]
    return np.r_[t, max(float(until_s), float(t[-1]))], c.copy()


class ImprovementCurve(pg.PlotWidget):
    """One step curve updated in place from the snapshot: each best cost held until the next one.

    A vertical line marks the solve's time limit, a dashed horizontal one the best known cost.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RoutingCurve")
        th = theme.current()
        theme.style_plot(self, x=("time", "s"), y=("best cost", None), si_prefix=False)
        theme.legend_above(self, columns=2)
        self.curve = self.plot(pen=theme.category_pen(0, 2.0), stepMode="center", name="best cost")
        # a dot at each improvement: a solve that finds one solution (neural alone, say) draws a step
        # of no length, which the dot still shows
        self.points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(theme.category_colour(0)))
        self.addItem(self.points)
        self.bks_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(theme.category_colour(5), width=1.5, style=QtCore.Qt.PenStyle.DashLine),
            label="best known", labelOpts={"position": 0.3, "color": th.foreground, "anchors": [(0, 1), (0, 1)]},
        )  # fmt: skip
        self.bks_line.hide()
        self.addItem(self.bks_line)
        self.limit_line = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(th.muted, width=1.5, style=QtCore.Qt.PenStyle.DotLine),
            label="time limit", labelOpts={"position": 0.85, "color": th.foreground, "rotateAxis": (1, 0),
                                           "anchors": [(0, 1), (0, 1)]},
        )  # fmt: skip
        self.limit_line.hide()
        self.addItem(self.limit_line)
        self._limit = 0.0
        self._elapsed = 0.0
        self._cost_unit = ""
        self.setMinimumWidth(220)
        self.setMaximumWidth(420)
        self.hint = theme.EmptyHint(self, HINT)

    def set_cost_unit(self, unit: str) -> None:
        """The unit of the cost (the instance's distance unit, '' for none)."""
        if unit != self._cost_unit:
            self._cost_unit = unit
            self.getPlotItem().setLabel(
                "left", "best cost", units=unit or None, color=theme.current().foreground
            )

    def show_curve(self, curve: np.ndarray, time_limit_s: float = 0.0, elapsed_s: float = 0.0) -> None:
        """Draw the improvements so far, held until ``elapsed_s``, and the time limit (0: none)."""
        x, y = held_steps(curve, elapsed_s)
        self.curve.setData(x, y, stepMode="center")
        if len(y):
            self.points.setData(curve[:, 0], curve[:, 1])
        else:
            self.points.clear()
        if len(y) or time_limit_s > 0:  # else keep what the hint says (loading the solvers, say)
            self.hint.set_empty(not len(y), HINT)
        if time_limit_s > 0:
            self.limit_line.setValue(time_limit_s)
            self.limit_line.show()
            right = max(time_limit_s, float(x[-1]) if len(x) else 0.0)  # a last pass may end past the limit
            new_solve = time_limit_s != self._limit or elapsed_s < self._elapsed  # its whole time axis
            if new_solve or (right > time_limit_s and self.getViewBox().viewRange()[0][1] < right):
                self.setXRange(0.0, right * 1.04, padding=0)
        else:
            self.limit_line.hide()
        self._limit, self._elapsed = time_limit_s, elapsed_s
        if len(y):
            self._fit_costs(y)

    def _fit_costs(self, y: np.ndarray) -> None:
        lo, hi = float(y.min()), float(y.max())
        if self.bks_line.isVisible():
            lo = min(lo, float(self.bks_line.value()))
        pad = max(hi - lo, abs(hi) * 1e-3, 1e-9) * 0.06
        self.setYRange(lo - pad, hi + pad, padding=0)

    def show_best_known(self, bks: float | None) -> None:
        if bks:
            self.bks_line.setValue(bks)
            self.bks_line.show()
        else:
            self.bks_line.hide()

    def has_data(self) -> bool:
        return self.curve.yData is not None and len(self.curve.yData) > 0

    def step_count(self) -> int:
        """How many downward steps are drawn (used by tests)."""
        y = self.curve.yData
        return 0 if y is None else int(np.count_nonzero(np.diff(y) < 0))
