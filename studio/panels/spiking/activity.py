"""The Activity tab: raster, population rates and membrane traces on one time axis."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore

from engines.spiking import SpikingParams
from studio import theme

from .raster import RasterPlot
from .rates import RatePlot
from .traces import TracePlot


class ActivityView(pg.GraphicsLayoutWidget):
    """Three plots stacked with linked time axes; :attr:`user_moved` when a person pans or zooms."""

    user_moved = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("spiking_plots")
        self.setBackground(theme.current().background)
        self.raster = RasterPlot()
        self.rates = RatePlot()
        self.traces = TracePlot()
        for row, (plot, stretch) in enumerate(((self.raster, 5), (self.rates, 2), (self.traces, 3))):
            self.addItem(plot, row=row, col=0)
            self.ci.layout.setRowStretchFactor(row, stretch)
        self._align()
        self.raster.listen_to_clicks()
        self.raster.getViewBox().sigRangeChangedManually.connect(lambda *_: self.user_moved.emit())

    def _align(self) -> None:
        """One time axis for the three plots; fixed axes and y ranges (no re-layout while scrolling)."""
        for p in (self.rates, self.traces):
            p.setXLink(self.raster)
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            p.enableAutoRange(y=False)  # y ranges are set by hand, not on every setData
        for p in (self.raster, self.rates, self.traces):
            p.getAxis("left").setWidth(64)  # the three plots share one time axis: align them
            for side in ("left", "bottom"):
                p.getAxis(side).enableAutoSIPrefix(False)  # no label re-layout on every scroll
        self.rates.setYRange(0, 50, padding=0)

    def adopt(self, p: SpikingParams) -> None:
        """Ranges and trace slots for a network of these parameters."""
        self.traces.ensure_traces(p.monitor_count)
        self.raster.setYRange(0, p.n_neurons + p.n_inputs, padding=0)
        self.traces.setYRange(p.v_reset_mV - 25.0, p.v_thresh_mV + 5.0, padding=0)
        self.traces.set_threshold(p.v_thresh_mV)

    def follow(self, t_now: float, window_s: float) -> None:
        """Show the last ``window_s`` seconds up to ``t_now`` (the right edge is the time read-out's)."""
        self.raster.setXRange(max(0.0, t_now - window_s), max(t_now, window_s), padding=0)

    def time_shown(self) -> float:
        """The time at the right edge of the time axis (s)."""
        (_, x1), _ = self.raster.getViewBox().viewRange()
        return float(x1)

    def visible_steps(self, dt_s: float) -> tuple[float, float]:
        """The time steps in view, one step of margin on each side."""
        (x0, x1), _ = self.raster.getViewBox().viewRange()
        return x0 / dt_s - 1, x1 / dt_s + 1
