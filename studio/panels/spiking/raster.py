"""The spike raster: one image binned at the view's own pixel resolution."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from engines.spiking.display import RollingRecords, bin_raster
from studio import theme

from .constants import E_RGB, I_RGB, IN_RGB


class RasterPlot(pg.PlotItem):
    """Spikes of the excitatory (vermillion), inhibitory (blue) neurons and inputs (grey) as one image
    on the theme's background (opaque: an opaque image is the cheapest to paint).

    Zoom and pan re-bin at full resolution; a click on a neuron's row emits
    :attr:`neuron_clicked` with its index.
    """

    neuron_clicked = QtCore.Signal(int)

    def __init__(self) -> None:
        super().__init__()
        theme.style_plot(self, y=("neuron index", None), grid=False, si_prefix=False)
        self.setMenuEnabled(False)
        self.hideAxis("bottom")  # the time axis is the traces' below
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        bg = theme.current().qcolor("background")
        lut = np.array(
            [(bg.red(), bg.green(), bg.blue(), 255), (*E_RGB, 255), (*I_RGB, 255), (*IN_RGB, 255)], np.uint8
        )
        self.lut32 = lut.view(np.uint32).ravel().copy()  # RGBA bytes as one word per colour
        self.points_drawn = 0

    def listen_to_clicks(self) -> None:
        """Connect to the scene's clicks (call once the plot is in a scene)."""
        self.scene().sigMouseClicked.connect(self._clicked)

    def _clicked(self, ev) -> None:
        vb = self.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        self.neuron_clicked.emit(int(np.floor(vb.mapSceneToView(ev.scenePos()).y())))

    def draw(self, spikes: RollingRecords, dt_s: float, n_exc: int, n: int, n_units: int) -> None:
        """Bin the spikes in view into an image as large as the view in pixels."""
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        wpx = int(max(16, min(2000, vb.width())))
        hpx = int(max(16, min(2000, vb.height())))
        y0, y1 = max(y0, 0.0), min(y1, float(n_units))
        if x1 <= x0 or y1 <= y0:
            return
        data = spikes.window(x0 / dt_s - 1, x1 / dt_s + 1, 2)
        pix, drawn = bin_raster(data, (x0 / dt_s, x1 / dt_s), (y0, y1), (wpx, hpx), n_exc, n, self.lut32)
        if data.shape[0]:
            self.points_drawn = drawn
        # uint8 RGBA without levels: pyqtgraph hands the buffer to a QImage as is
        self.image.setImage(pix.view(np.uint8).reshape(hpx, wpx, 4), autoLevels=False, levels=None)
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
