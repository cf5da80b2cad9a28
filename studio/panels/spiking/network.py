"""The Network tab: a spring layout of the network whose neurons flash when they spike."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engines.spiking.display import NetworkLayout
from studio import theme

from .constants import E_RGB, I_RGB, NETWORK_VIEW_MAX

_QUIET = (190, 190, 190, 255)
EMPTY_TEXT = (
    f"The network appears here (networks up to {NETWORK_VIEW_MAX} neurons), each neuron flashing when "
    "it spikes. Choose the preset small-world and press Run (Space)."
)
TOO_LARGE_TEXT = (
    f"This network is too large to draw: the network view shows networks up to {NETWORK_VIEW_MAX} "
    "neurons. Choose a smaller preset (small-world) or fewer neurons."
)


class NetworkView(pg.PlotWidget):
    """Nodes and a sample of edges placed by a layout computed elsewhere (on the worker).

    The positions of a spring layout have no unit, so the axes are hidden; a legend above says
    what the colours mean, and a hint what to do while nothing is laid out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("spiking_network")
        theme.style_plot(self, grid=False)
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setAspectLocked(True)
        self.edges = pg.PlotCurveItem(pen=pg.mkPen(theme.current().grid, width=1), connect="pairs")
        self.nodes = pg.ScatterPlotItem(size=7, pen=None)
        self.addItem(self.edges)
        self.addItem(self.nodes)
        self._legend()
        self.hint = theme.EmptyHint(self, EMPTY_TEXT)
        self.layout_shown: NetworkLayout | None = None
        self.flashes = 0

    def _legend(self) -> None:
        theme.legend_above(self)
        for rgb, name in ((E_RGB, "E spiking"), (I_RGB, "I spiking"), (_QUIET[:3], "quiet")):
            self.addItem(pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(*rgb), name=name))

    def show_too_large(self) -> None:
        self.nodes.setData([], [])
        self.edges.setData([], [])
        self.hint.set_empty(True, TOO_LARGE_TEXT)
        self.layout_shown = None

    def show_layout(self, layout: NetworkLayout) -> None:
        self.layout_shown = layout
        self.nodes.setData(layout.xy[:, 0], layout.xy[:, 1])
        self.edges.setData(layout.segments[:, 0], layout.segments[:, 1])
        self.hint.set_empty(False)

    def flash(self, lit: np.ndarray, n_exc: int) -> None:
        """Colour the neurons in ``lit`` by population, the others grey."""
        n = lit.size
        self.flashes = int(lit.sum())
        colours = np.empty((n, 4), np.uint8)
        colours[:] = _QUIET
        exc = np.arange(n) < n_exc
        colours[lit & exc, :3] = E_RGB
        colours[lit & ~exc, :3] = I_RGB
        self.nodes.setBrush([pg.mkBrush(*c) for c in colours])
