"""The Gantt chart: one row per route with its legs, waits, stops and (when the instance has them) time windows."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from engines.routing.report import gantt_bars
from studio import theme

from .colours import route_colours

HINT = "Each route's timeline (legs, waits, stops, time windows) appears here after a solve. Press Solve."
#: stops labelled with their customer number when there are at most this many (else: hover a stop)
MAX_LABELS = 60


class GanttChart(pg.PlotWidget):
    """Bar items (windows, legs, waits, services) and a stop marker per customer, updated in place.

    Route ``k`` is row ``k`` (route 1 at the top) in the route's colour; the y axis names each
    route and its number of stops; hovering a stop shows its customer, arrival and wait.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RoutingGantt")
        th = theme.current()
        self._unit = None
        theme.style_plot(self, x=("time", None), y=("route", None), si_prefix=False)
        self.legend = theme.legend_above(self, columns=5)
        self.getPlotItem().invertY(True)
        # _name_rows spaces the route names itself: the axis must not drop any of them
        self.getAxis("left").setStyle(textFillLimits=[(0, 1.0)])
        self.window_bars = self._bars(0.8, th.grid, "time window")
        self.travel_bars = self._bars(0.3, th.muted, "travel")
        hatch = QtGui.QBrush(th.qcolor("foreground"), QtCore.Qt.BrushStyle.BDiagPattern)
        self.wait_bars = self._bars(0.5, hatch, "wait")
        self.service_bars = self._bars(0.6, th.foreground, "service")
        self.stops = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(th.muted, width=0.5), brush=pg.mkBrush(th.muted), hoverable=True, hoverSize=11,
            tip=lambda x, y, data: data,
        )  # fmt: skip
        self.stops.setZValue(10)
        self.addItem(self.stops)
        self.legend.addItem(self.stops, "stop (hover for details)")
        self.labels: list[pg.TextItem] = []
        self._row_names: list[str] = []
        self.setMinimumHeight(170)  # room for seven routes and the legend on a 1280x720 screen
        self.getViewBox().sigResized.connect(self._name_rows)
        self.hint = theme.EmptyHint(self, HINT)

    def _bars(self, height: float, brush, name: str) -> pg.BarGraphItem:
        item = pg.BarGraphItem(x0=[], y=[], width=[], height=height, brush=pg.mkBrush(brush), pen=None)
        self.addItem(item)
        self.legend.addItem(item, name)  # bars are no plot-data items: the legend takes them by hand
        return item

    def show_solution(self, problem, evaluation) -> None:
        bars = gantt_bars(problem, evaluation)
        if bars is None or not len(bars.stops):
            for item in (self.window_bars, self.travel_bars, self.wait_bars, self.service_bars):
                item.setOpts(x0=[], y=[], width=[], brushes=None)
            self.stops.setData([], [])
            self._row_names = []
            self._name_rows()
            self._label_stops(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.intp), [])
            self.hint.set_empty(True)
            return
        self._set_unit(problem.duration_unit)
        n = int(bars.travel[1].max())
        cols = route_colours(n)
        for item, (x0, y, width) in ((self.window_bars, bars.windows), (self.wait_bars, bars.wait)):
            item.setOpts(x0=x0, y=y, width=width)
        self.service_bars.setOpts(x0=bars.service[0], y=bars.service[1], width=bars.service[2],
                                  brushes=[cols[int(k) - 1] for k in bars.service[1]])  # fmt: skip
        travel = [pg.mkColor(cols[int(k) - 1]) for k in bars.travel[1]]
        for c in travel:
            c.setAlphaF(0.45)
        self.travel_bars.setOpts(x0=bars.travel[0], y=bars.travel[1], width=bars.travel[2], brushes=travel)
        sx, sy = bars.service[0], bars.service[1]
        unit = f" {problem.duration_unit}" if problem.duration_unit else ""
        tips = [
            f"route {int(k)}, customer {int(c)}\narrival {a:.1f}{unit}, wait {w:.1f}{unit}"
            for k, c, a, w in zip(sy, bars.stops, bars.wait[0], bars.wait[2])
        ]
        self.stops.setData(sx, sy, brush=[pg.mkBrush(cols[int(k) - 1]) for k in sy], data=tips)
        self._label_stops(sx, sy, bars.stops, cols)
        counts = np.bincount(sy.astype(np.intp), minlength=n + 1)
        self._row_names = [f"{k} · {counts[k]} stops" for k in range(1, n + 1)]
        self._name_rows()
        self.setXRange(0.0, max(bars.end, 1e-9), padding=0.02)
        self.hint.set_empty(False)

    def _name_rows(self, *_args) -> None:
        """Name each route's row on the y axis; when rows are too thin for a line of text each,
        name every second (third, ...) one so that the names never overlap."""
        n = len(self._row_names)
        if not n:
            self.getAxis("left").setTicks(None)
            return
        text_px = self.fontMetrics().height() + 1
        height = max(self.getViewBox().height(), 1.0)
        pad = 0.6  # rows above the first and below the last: room for the first and last names
        for _ in range(2):
            row_px = height / (n - 1 + 2 * pad)
            pad = max(0.6, 0.5 * text_px / row_px + 0.05)
        every = max(1, int(np.ceil(text_px / row_px)))
        major = [(k + 1, self._row_names[k]) for k in range(0, n, every)]
        minor = [(k + 1, "") for k in range(n) if k % every]
        self.getAxis("left").setTicks([major, minor])
        self.setYRange(1 - pad, n + pad, padding=0)

    def _set_unit(self, unit: str) -> None:
        if unit != self._unit:
            self._unit = unit
            self.getPlotItem().setLabel(
                "bottom", "time", units=unit or None, color=theme.current().foreground
            )

    def _label_stops(self, x: np.ndarray, y: np.ndarray, stops: np.ndarray, cols) -> None:
        """The customer number above each stop, when there are few enough to read."""
        show = len(stops) if len(stops) <= MAX_LABELS else 0
        fg = theme.current().foreground
        while len(self.labels) < show:
            label = pg.TextItem(color=fg, anchor=(0.5, 1.15))
            label.setZValue(11)
            self.addItem(label)
            self.labels.append(label)
        for i, label in enumerate(self.labels):
            if i < show:
                label.setText(str(int(stops[i])))
                label.setPos(float(x[i]), float(y[i]))
                label.show()
            else:
                label.hide()

    def bar_count(self) -> int:
        """How many stop bars are drawn (used by tests)."""
        x0 = self.service_bars.opts.get("x0")
        return 0 if x0 is None else len(x0)
