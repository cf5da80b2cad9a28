"""Membrane traces of the neurons picked on the raster, with the firing threshold."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from studio import theme


class TracePlot(pg.PlotItem):
    """One curve per monitored neuron (a series colour per slot), made once and updated in place.

    A legend above the data names each curve's neuron (``#17``); a dashed line labelled
    "threshold" marks the model's firing threshold (:meth:`set_threshold`).
    """

    def __init__(self) -> None:
        super().__init__()
        # no grid: translucent grid lines across a plot that scrolls every frame halve the frame rate
        theme.style_plot(self, x=("time", "s"), y=("membrane potential", "mV"), grid=False, si_prefix=False)
        self.setMenuEnabled(False)
        self.legend = theme.legend_above(self, columns=8)
        self.lines: list[pg.PlotDataItem] = []
        self._labelled: tuple[int, ...] = ()
        t = theme.current()
        fill = t.qcolor("background")
        fill.setAlpha(200)
        self.threshold = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen(t.foreground, width=1, style=QtCore.Qt.PenStyle.DashLine),
            movable=False,
            label="threshold",  # under the line at its left end, where the plot never clips it
            labelOpts={"position": 0.0, "color": t.foreground, "fill": fill, "anchors": [(0, 0), (0, 0)]},
        )
        self.threshold.setZValue(10)  # line and label above the traces
        self.addItem(self.threshold, ignoreBounds=True)

    def set_threshold(self, v_mV: float) -> None:
        self.threshold.setValue(v_mV)

    def ensure_traces(self, count: int) -> None:
        """At least ``count`` curves, each in its slot's series colour."""
        while len(self.lines) < count:
            # a 1-px pen: drawn as line segments, many times faster than a wider path
            line = pg.PlotDataItem(pen=theme.category_pen(len(self.lines), width=1.0))
            self.addItem(line)  # no name: the legend lists the slots in use (see _label)
            self.lines.append(line)

    def labels(self) -> list[str]:
        """The legend's entries (one per neuron recorded), in slot order."""
        return [label.text for _, label in self.legend.items]

    def _label(self, monitor_idx: np.ndarray) -> None:
        ids = tuple(int(j) for j in monitor_idx[: len(self.lines)])
        if ids == self._labelled:
            return
        self._labelled = ids
        self.legend.clear()
        for k, j in enumerate(ids):
            if j >= 0:
                self.legend.addItem(self.lines[k], f"#{j}")

    def draw(self, monitor: np.ndarray, monitor_idx: np.ndarray, dt_s: float) -> None:
        """``monitor`` rows ``(step, v[0], v[1]...)``; slot ``k`` is shown while ``monitor_idx[k] >= 0``."""
        m = monitor_idx.size
        self._label(monitor_idx)
        for k, item in enumerate(self.lines):
            if k < m and monitor_idx[k] >= 0 and monitor.shape[0]:
                item.setData(monitor[:, 0] * dt_s, monitor[:, 1 + k], skipFiniteCheck=True)
            elif item.xData is not None and len(item.xData):  # clear once, not every frame
                item.setData([], [])
