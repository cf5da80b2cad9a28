"""The Weights tab: the weight matrix and the histogram of plastic weights."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engines.spiking import SpikingSnapshot
from studio import theme

EMPTY_TEXT = (
    "The weight matrix (networks up to a few thousand synapses) and the histogram of the plastic "
    "weights appear here while the network runs. Choose the preset stdp-poisson and press Run (Space)."
)


class WeightsView(pg.GraphicsLayoutWidget):
    """Weight matrix (source x target, small networks) over the histogram of the plastic weights;
    a hint says what to do while there is neither."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("spiking_weights")
        self.w_plot = self.addPlot(row=0, col=0)
        theme.style_plot(
            self.w_plot, x=("target neuron", None), y=("source (neuron or input)", None), si_prefix=False
        )
        self.w_plot.setTitle("weights (source x target)", color=theme.current().foreground)
        self.w_img = pg.ImageItem(axisOrder="row-major")
        self.w_plot.addItem(self.w_img)
        self.w_plot.invertY(True)
        # SI prefix on the bar: weights of 0.001-0.01 read as 1-10 with "(x0.001)", not as "0.008"
        # labels wider than the bar's axis
        self.w_bar = theme.colorbar(self.w_plot, self.w_img, "weight", limits=(0.0, 1.0), si_prefix=True)
        self.h_plot = self.addPlot(row=1, col=0)
        theme.style_plot(self.h_plot, x=("plastic weight", None), y=("synapses", None), si_prefix=False)
        self.w_hist = pg.BarGraphItem(x=[0.0], height=[0.0], width=1.0, brush=theme.category_colour(0))
        self.h_plot.addItem(self.w_hist)
        self.hint = theme.EmptyHint(self, EMPTY_TEXT)

    def draw(self, snap: SpikingSnapshot) -> None:
        if snap.weight_matrix is not None:
            w = snap.weight_matrix
            lo, hi = float(np.min(w)), float(np.max(w))
            levels = (lo, hi if hi > lo else lo + 1)
            self.w_img.setImage(w, autoLevels=False, levels=levels)
            self.w_bar.setLevels(levels)
        if snap.weight_hist is not None and snap.weight_edges is not None:
            edges = snap.weight_edges
            self.w_hist.setOpts(
                x=0.5 * (edges[1:] + edges[:-1]),
                height=snap.weight_hist,
                width=float(edges[1] - edges[0]),
            )
        self.hint.set_empty(snap.weight_matrix is None and snap.weight_hist is None)
