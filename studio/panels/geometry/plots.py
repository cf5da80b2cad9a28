"""The Networks tab: capacity, radius and dimension against eps and against layer (one line per
model, error bars over seeds, the simulated capacity dashed), and accuracy against eps."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from engines.geometry import curves as cv
from engines.geometry.models import KINDS, LAYERS
from studio.panels.geometry.views3d import MODEL_PENS

METRICS = ("capacity", "radius", "dimension")


class CurvePlots(pg.GraphicsLayoutWidget):
    """Two rows of three plots (against eps, against layer) and the accuracy plot below.

    ``curves[(axis, metric, model)]`` are the lines (metric also ``simcap`` and ``accuracy``),
    ``errbars[(axis, metric, model)]`` their error bars.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self.errbars: dict[tuple[str, str, str], pg.ErrorBarItem] = {}
        self.plot_items: dict[tuple[str, str], pg.PlotItem] = {}
        for r, axis in enumerate(("eps", "layer")):
            for c, metric in enumerate(METRICS):
                self._add_metric_plot(r, c, axis, metric)
        for metric in METRICS:
            self.plot_items[("layer", metric)].getAxis("bottom").setTicks([list(enumerate(LAYERS))])
        self._add_accuracy_plot()

    def _add_metric_plot(self, row: int, col: int, axis: str, metric: str) -> None:
        pl = self.addPlot(row=row, col=col, title=f"{metric} vs {axis}")
        pl.showGrid(x=True, y=True, alpha=0.2)
        if row == 0 and col == 0:
            pl.addLegend(offset=(5, 5))
        self.plot_items[(axis, metric)] = pl
        for kind in KINDS:
            pen = pg.mkPen(MODEL_PENS[kind], width=1)
            cur = pl.plot([], [], pen=pen, symbol="o", symbolSize=5, symbolBrush=MODEL_PENS[kind], name=kind)
            eb = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), pen=pen)
            pl.addItem(eb)
            self.curves[(axis, metric, kind)] = cur
            self.errbars[(axis, metric, kind)] = eb
            if metric == "capacity":  # the simulated capacity, dashed, when measured
                dash = pg.mkPen(MODEL_PENS[kind], width=1, style=QtCore.Qt.PenStyle.DashLine)
                self.curves[(axis, "simcap", kind)] = pl.plot([], [], pen=dash, symbol="s", symbolSize=4)

    def _add_accuracy_plot(self) -> None:
        acc = self.addPlot(row=2, col=0, colspan=3, title="accuracy vs eps")
        acc.setYRange(0, 1)
        acc.showGrid(x=True, y=True, alpha=0.2)
        self.plot_items[("eps", "accuracy")] = acc
        for kind in KINDS:
            pen = pg.mkPen(MODEL_PENS[kind], width=1)
            self.curves[("eps", "accuracy", kind)] = acc.plot(
                [], [], pen=pen, symbol="t", symbolSize=6, symbolBrush=MODEL_PENS[kind]
            )

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
