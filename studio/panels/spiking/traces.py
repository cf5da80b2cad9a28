"""Membrane traces of the neurons picked on the raster."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class TracePlot(pg.PlotItem):
    """One curve per monitored neuron (coloured by slot), made once and updated in place."""

    def __init__(self) -> None:
        super().__init__()
        self.setLabel("left", "v", units="mV")
        self.setLabel("bottom", "time", units="s")
        self.setMenuEnabled(False)
        self.lines: list[pg.PlotDataItem] = []

    def ensure_traces(self, count: int) -> None:
        """At least ``count`` curves (their colours spread over ``count`` hues)."""
        while len(self.lines) < count:
            colour = pg.intColor(len(self.lines), hues=max(count, 1))
            self.lines.append(self.plot(pen=pg.mkPen(colour, width=1)))

    def draw(self, monitor: np.ndarray, monitor_idx: np.ndarray, dt_s: float) -> None:
        """``monitor`` rows ``(step, v[0], v[1]...)``; slot ``k`` is shown while ``monitor_idx[k] >= 0``."""
        m = monitor_idx.size
        for k, item in enumerate(self.lines):
            if k < m and monitor_idx[k] >= 0 and monitor.shape[0]:
                item.setData(monitor[:, 0] * dt_s, monitor[:, 1 + k], skipFiniteCheck=True)
            elif item.xData is not None and len(item.xData):  # clear once, not every frame
                item.setData([], [])
