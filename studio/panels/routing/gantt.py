"""The Gantt chart: per vehicle, each stop's time window, the wait and the service."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from engines.routing.report import gantt_bars


class GanttChart(pg.PlotWidget):
    """Three bar items (windows, waits, services) updated in place; empty without time windows."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setBackground("w")
        self.setLabel("bottom", "time")
        self.setLabel("left", "vehicle")
        self.window_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.8, brush=(220, 220, 255), pen=None)
        self.wait_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.5, brush=(250, 200, 120), pen=None)
        self.service_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.5, brush=(60, 140, 60), pen=None)
        for item in (self.window_bars, self.wait_bars, self.service_bars):
            self.addItem(item)

    def show_solution(self, problem, evaluation) -> None:
        bars = gantt_bars(problem, evaluation)
        if bars is None:
            for item in (self.window_bars, self.wait_bars, self.service_bars):
                item.setOpts(x0=[], y=[], width=[])
            return
        for item, (x0, y, width), height in (
            (self.window_bars, bars.windows, 0.8),
            (self.wait_bars, bars.wait, 0.5),
            (self.service_bars, bars.service, 0.5),
        ):
            item.setOpts(x0=x0, y=y, width=width, height=height)
