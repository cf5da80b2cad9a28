"""The Networks tab: capacity, radius and dimension against eps and against layer (one line per
model, error bars over seeds, the simulated capacity dashed), and accuracy against eps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from engines.geometry import curves as cv
from engines.geometry.models import KINDS, LAYERS
from studio import theme

METRICS = ("capacity", "radius", "dimension")
#: the y axis of each measure: its name and symbol (all three are pure numbers)
Y_TITLES = {
    "capacity": "capacity α_M",
    "radius": "radius R_M",
    "dimension": "dimension D_M",
    "accuracy": "accuracy (fraction)",
}
NORM_NAMES = {"linf": "L∞", "l2": "L2"}
HINT = (
    "Capacity, radius and dimension per layer and per attack strength ε appear here as each layer of each "
    "network is measured, the first a few seconds after launch. Analyze measures again."
)


def eps_title(norm: str | None = None, long: bool = False) -> str:
    """The title of an attack-strength axis: ε and, when known, its norm (``long``: and the pixel scale)."""
    name = "attack strength ε" if long else "attack ε"
    if not norm:
        return name
    return (
        f"{name} ({NORM_NAMES.get(norm, norm)} norm, pixels 0-1)"
        if long
        else f"{name} ({NORM_NAMES.get(norm, norm)})"
    )


class CurvePlots(pg.GraphicsLayoutWidget):
    """A legend row, two rows of three plots (against eps, against layer) and the accuracy plot below.

    ``curves[(axis, metric, model)]`` are the lines (metric also ``simcap`` and ``accuracy``),
    ``errbars[(axis, metric, model)]`` their error bars, ``legend`` the models' colours.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(theme.current().background)
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self.errbars: dict[tuple[str, str, str], pg.ErrorBarItem] = {}
        self.plot_items: dict[tuple[str, str], pg.PlotItem] = {}
        self.legend = self._add_legend()
        for r, axis in enumerate(("eps", "layer")):
            for c, metric in enumerate(METRICS):
                self._add_metric_plot(r + 1, c, axis, metric)
        for metric in METRICS:  # no layer ticks until layers are measured (see set_layers)
            self.plot_items[("layer", metric)].getAxis("bottom").setTicks([[]])
        self._add_accuracy_plot()
        self._norm: str | None = None
        self._layers: tuple[int, ...] = ()
        self._eps_axis: tuple[float, ...] = ()
        self.hint = theme.EmptyHint(self, HINT)

    def _add_legend(self) -> pg.LegendItem:
        """The models' colours in one row above every plot (it covers no data)."""
        t = theme.current()
        legend = pg.LegendItem(colCount=len(KINDS) + 1, labelTextColor=t.foreground, horSpacing=8)
        legend.setBrush(pg.mkBrush(None))
        legend.setPen(pg.mkPen(None))
        self.ci.addItem(legend, row=0, col=0, colspan=3)
        self.ci.layout.setRowFixedHeight(0, 24)
        return legend

    def _pen(self, k: int, dashed: bool = False):
        pen = theme.category_pen(k, width=1.5)
        if dashed:
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        return pen

    def _add_metric_plot(self, row: int, col: int, axis: str, metric: str) -> None:
        pl = self.addPlot(row=row, col=col)
        theme.style_plot(pl, x=eps_title() if axis == "eps" else "layer", y=Y_TITLES[metric], si_prefix=False)
        pl.setLimits(minYRange=1e-3)  # a flat curve (radius 0 at eps 0) is not blown up to 1e-32
        self.plot_items[(axis, metric)] = pl
        for k, kind in enumerate(KINDS):
            pen = self._pen(k)
            colour = theme.category_colour(k)
            cur = pl.plot([], [], pen=pen, symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=colour)
            cur.scatter.setBrush(colour)  # the legend's sample reads these before any data arrives
            cur.scatter.setPen(colour)
            cur.scatter.setSize(5)
            eb = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), pen=pen)
            pl.addItem(eb)
            self.curves[(axis, metric, kind)] = cur
            self.errbars[(axis, metric, kind)] = eb
            if row == 1 and col == 0:
                self.legend.addItem(cur, kind)
            if metric == "capacity":  # the simulated capacity, dashed, when measured
                sim = pl.plot([], [], pen=self._pen(k, True), symbol="s", symbolSize=4, symbolBrush=colour)
                self.curves[(axis, "simcap", kind)] = sim
        if row == 1 and col == 0:
            dashed = pg.mkPen(theme.current().muted, width=1.5, style=QtCore.Qt.PenStyle.DashLine)
            self.legend.addItem(pg.PlotDataItem([], [], pen=dashed), "simulated")

    def _add_accuracy_plot(self) -> None:
        acc = self.addPlot(row=3, col=0, colspan=3)
        theme.style_plot(acc, x=eps_title(long=True), y=Y_TITLES["accuracy"], si_prefix=False)
        acc.setYRange(0, 1)
        self.plot_items[("eps", "accuracy")] = acc
        for k, kind in enumerate(KINDS):
            colour = theme.category_colour(k)
            self.curves[("eps", "accuracy", kind)] = acc.plot(
                [], [], pen=self._pen(k), symbol="t", symbolSize=6, symbolBrush=colour, symbolPen=colour
            )

    def set_norm(self, norm: str | None) -> None:
        """Name the attack's norm on every eps axis."""
        if norm == self._norm:
            return
        self._norm = norm
        for (axis, metric), pl in self.plot_items.items():
            if axis == "eps":
                title = eps_title(norm, long=metric == "accuracy")
                pl.getAxis("bottom").setLabel(title, color=theme.current().foreground)

    def set_layers(self, rows) -> None:
        """Tick only the analysed layers on the layer axes (six names do not fit a small plot)."""
        shown = tuple(sorted({LAYERS.index(r["layer"]) for r in rows if r["layer"] in LAYERS}))
        if shown == self._layers or not shown:
            return
        self._layers = shown
        for metric in METRICS:
            pl = self.plot_items[("layer", metric)]
            pl.getAxis("bottom").setTicks([[(i, LAYERS[i]) for i in shown]])
            pl.setXRange(shown[0] - 0.8, shown[-1] + 0.8, padding=0)  # the end labels fit a narrow plot

    def set_eps_axis(self, eps: Sequence[float]) -> None:
        """Fit every eps axis to the analysis' eps grid ``eps`` (planned and measured): from 0 to the largest
        eps, never negative, ticked at the grid's own values while they are few and far enough apart to read."""
        grid = tuple(sorted({float(e) for e in eps if np.isfinite(e) and e >= 0}))
        if grid == self._eps_axis or not grid:
            return
        self._eps_axis = grid
        hi = grid[-1] if grid[-1] > 0 else 1.0
        pad = 0.25 * hi  # room for the last tick label at the axis end
        gaps = np.diff(grid)
        own_ticks = len(grid) <= 5 and (len(grid) < 2 or gaps.min() >= 0.12 * hi)
        ticks = [[(e, f"{e:g}") for e in grid]] if own_ticks else None
        for (axis, _metric), pl in self.plot_items.items():
            if axis != "eps":
                continue
            pl.setXRange(-pad, hi + pad, padding=0)
            pl.getAxis("bottom").setTicks(ticks)

    def draw(
        self,
        rows,
        accuracy,
        layer: str,
        eps_vals: list[float],
        eps_now: float | None,
        level: float | None,
    ) -> None:
        """Every curve of every model from the result ``rows`` and ``accuracy`` of a snapshot."""
        self.hint.set_empty(not rows)
        if rows:
            self.set_norm(rows[0].get("norm"))
            self.set_layers(rows)
        for kind in KINDS:
            mine = cv.model_rows(rows, kind, level)
            for metric in METRICS:
                self._set(("eps", metric, kind), cv.metric_vs_eps(mine, metric, layer, eps_vals))
                self._set(("layer", metric, kind), cv.metric_vs_layer(mine, metric, eps_now))
            self._set(("eps", "simcap", kind), cv.simcap_vs_eps(mine, layer, eps_vals))
            self._set(("layer", "simcap", kind), cv.simcap_vs_layer(mine, eps_now))
            self._set(("eps", "accuracy", kind), cv.accuracy_vs_eps(accuracy, kind, level))

    def _set(self, key: tuple[str, str, str], c: cv.Curve) -> None:
        self.curves[key].setData(c.x, c.y)
        if key in self.errbars:
            self.errbars[key].setData(x=c.x, y=c.y, height=2 * c.sd)

    def minimumSizeHint(self):  # noqa: N802 - Qt API
        return QtCore.QSize(360, 300)
