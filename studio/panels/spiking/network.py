"""The Network tab: a spring layout of the network whose neurons flash when they spike."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engines.spiking.display import NetworkLayout

from .constants import E_RGB, I_RGB, NETWORK_VIEW_MAX

_QUIET = (210, 210, 210, 255)


class NetworkView(pg.PlotWidget):
    """Nodes and a sample of edges placed by a layout computed elsewhere (on the worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("spiking_network")
        self.setBackground("w")
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setAspectLocked(True)
        self.edges = pg.PlotCurveItem(pen=pg.mkPen((200, 200, 200), width=1), connect="pairs")
        self.nodes = pg.ScatterPlotItem(size=7, pen=None)
        self.addItem(self.edges)
        self.addItem(self.nodes)
        self.note = pg.TextItem("", color=(120, 120, 120))
        self.addItem(self.note)
        self.layout_shown: NetworkLayout | None = None
        self.flashes = 0

    def show_too_large(self) -> None:
        self.nodes.setData([], [])
        self.edges.setData([], [])
        self.note.setText(f"the network view shows networks up to {NETWORK_VIEW_MAX} neurons")
        self.layout_shown = None

    def show_layout(self, layout: NetworkLayout) -> None:
        self.layout_shown = layout
        self.nodes.setData(layout.xy[:, 0], layout.xy[:, 1])
        self.edges.setData(layout.segments[:, 0], layout.segments[:, 1])
        self.note.setText("")

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
