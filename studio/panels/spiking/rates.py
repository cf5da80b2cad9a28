"""Population rates of the excitatory and inhibitory neurons."""

from __future__ import annotations

import pyqtgraph as pg

from engines.spiking.display import PopulationRates
from studio import theme

from .constants import E_RGB, I_RGB


class RatePlot(pg.PlotItem):
    """Two curves (E vermillion, I blue, named in a legend above the data) whose y range follows
    the rates, rescaled rarely."""

    def __init__(self) -> None:
        super().__init__()
        self.hideAxis("bottom")  # the time axis is the traces' below
        # no grid: translucent grid lines across a plot that scrolls every frame halve the frame rate
        theme.style_plot(self, y=("rate", "Hz"), grid=False, si_prefix=False)
        self.setMenuEnabled(False)
        self.legend = theme.legend_above(self)
        # 1-px pens: pyqtgraph draws them as line segments, many times faster than wider paths
        self.rate_e = self.plot(pen=pg.mkPen(E_RGB, width=1), name="E (excitatory)")
        self.rate_i = self.plot(pen=pg.mkPen(I_RGB, width=1), name="I (inhibitory)")
        self.setYRange(0, 50, padding=0)
        self.top = 50.0

    def legend_labels(self) -> list[str]:
        """The legend's entries, in order."""
        return [label.text for _, label in self.legend.items]

    def draw(self, rates: PopulationRates) -> None:
        if rates.t_s.size == 0:
            return
        self.rate_e.setData(rates.t_s, rates.e_hz, skipFiniteCheck=True)
        top = float(max(rates.e_hz.max(initial=0), rates.i_hz.max(initial=0)))
        if top > self.top or top < 0.3 * self.top:  # rescale rarely
            self.top = max(5.0, 1.25 * top)
            self.setYRange(0, self.top, padding=0)
        if rates.i_hz.size:
            self.rate_i.setData(rates.t_s, rates.i_hz, skipFiniteCheck=True)
        else:
            self.rate_i.setData([], [])
