"""The Weights tab: the weight matrix and the histogram of plastic weights."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engines.spiking import SpikingSnapshot


class WeightsView(pg.GraphicsLayoutWidget):
    """Weight matrix (source x target, small networks) over the histogram of the plastic weights."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.w_plot = self.addPlot(row=0, col=0, title="weights (source x target)")
        self.w_img = pg.ImageItem(axisOrder="row-major")
        self.w_img.setColorMap(pg.colormap.get("viridis"))
        self.w_plot.addItem(self.w_img)
        self.w_plot.invertY(True)
        self.h_plot = self.addPlot(row=1, col=0, title="plastic weights")
        self.w_hist = pg.BarGraphItem(x=[0.0], height=[0.0], width=1.0, brush=(90, 90, 200))
        self.h_plot.addItem(self.w_hist)

    def draw(self, snap: SpikingSnapshot) -> None:
        if snap.weight_matrix is not None:
            w = snap.weight_matrix
            lo, hi = float(np.min(w)), float(np.max(w))
            self.w_img.setImage(w, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
        if snap.weight_hist is not None and snap.weight_edges is not None:
            edges = snap.weight_edges
            self.w_hist.setOpts(
                x=0.5 * (edges[1:] + edges[:-1]),
                height=snap.weight_hist,
                width=float(edges[1] - edges[0]),
            )
