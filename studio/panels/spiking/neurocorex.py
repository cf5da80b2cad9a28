"""The NeuroCoreX tab: watch the integer datapath classify the test digits."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from studio import theme

from .constants import E_RGB, IN_RGB

_OTHER = (150, 150, 150)
_CHIP_TIP = (
    "chip: as the public VHDL does. One leak for all neurons (neuron 8's register), reset to 0, bias on "
    "the debug neuron only, feed-forward scale in neuron 0's refractory register, lateral scale 1 and one "
    "undecaying lateral register, inputs acting one step later, only slots 4-93 fire. STDP as the VHDL's "
    "fast-clock scans do it: 8-bit wrapping potentiation, and a spike of neuron c potentiates the "
    "feed-forward synapses of input c+1, not its own. Digits: the STDP weights with host-fitted per-neuron "
    "thresholds, outputs in slots 4-13."
)
_EXTENDED_TIP = (
    "extended: the project's generalisations. Per-neuron leak and bias, reset to v_reset, free amp_ff and "
    "amp_aa, saturating potentiation, instantaneous inputs. Digits: the STDP weights with per-neuron leaks."
)
EMPTY_TEXT = (
    "Each test digit, the spikes of its 64 inputs and 10 outputs and the output spike counts appear "
    "here. Press Watch NeuroCoreX classify digits above."
)


class NeuroCoreXView(QtWidgets.QWidget):
    """A start button (:attr:`demo_requested`), status, and per digit: image, spikes, output counts."""

    demo_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        self.start_btn = QtWidgets.QPushButton("Watch NeuroCoreX classify digits")
        self.start_btn.setObjectName("spiking_ncx_demo")
        self.start_btn.setToolTip(
            "64 inputs -> 10 integer LIF neurons (Q7.10, int8 weights), 32 steps per digit"
        )
        self.start_btn.clicked.connect(lambda: self.demo_requested.emit())
        row.addWidget(self.start_btn)
        row.addWidget(QtWidgets.QLabel("profile"))
        self.profile_combo = QtWidgets.QComboBox()
        self.profile_combo.setObjectName("spiking_ncx_profile")
        self.profile_combo.addItem("chip", "chip")
        self.profile_combo.addItem("extended", "extended")
        self.profile_combo.setItemData(0, _CHIP_TIP, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.profile_combo.setItemData(1, _EXTENDED_TIP, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.profile_combo.setToolTip(_CHIP_TIP + "\n\n" + _EXTENDED_TIP)
        row.addWidget(self.profile_combo)
        row.addStretch(1)
        lay.addLayout(row)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("spiking_ncx_status")
        lay.addWidget(self.status)
        lay.addWidget(self._plots(), 1)
        self.samples = 0

    def _plots(self) -> pg.GraphicsLayoutWidget:
        view = pg.GraphicsLayoutWidget()
        self.img_plot = view.addPlot(row=0, col=0)
        theme.style_plot(
            self.img_plot,
            x=("pixel column", None),
            y=("pixel row", None),
            title="input digit",
            grid=False,
            si_prefix=False,
        )
        self.img_plot.invertY(True)
        self.img_plot.setAspectLocked(True)
        self.img = pg.ImageItem(axisOrder="row-major")
        self.img.setColorMap(pg.colormap.get("CET-L1"))
        self.img_plot.addItem(self.img)
        self.raster_plot = view.addPlot(row=0, col=1)
        theme.style_plot(
            self.raster_plot,
            x=("time step", None),
            y=("unit (0-9 outputs, 10-73 inputs)", None),
            title="spikes: 10 outputs (vermillion), 64 inputs (grey)",
            si_prefix=False,
        )
        self.out = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*E_RGB), symbol="s")
        self.inp = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*IN_RGB), symbol="s")
        self.raster_plot.addItem(self.inp)
        self.raster_plot.addItem(self.out)
        self.count_plot = view.addPlot(row=0, col=2)
        theme.style_plot(
            self.count_plot,
            x=("output digit", None),
            y=("spikes", None),
            title="output spike counts",
            si_prefix=False,
        )
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.8, brush=(120, 120, 120))
        self.count_plot.addItem(self.bars)
        view.ci.layout.setColumnStretchFactor(1, 3)
        self.hint = theme.EmptyHint(view, EMPTY_TEXT)
        return view

    def profile(self) -> str:
        """The NeuroCoreX profile chosen in the combo: ``chip`` or ``extended``."""
        return str(self.profile_combo.currentData())

    def show_sample(self, v: dict) -> None:
        """One classified digit: ``image``, ``spikes`` (step, unit; outputs < 10), ``counts``, ``predicted``..."""
        self.samples = int(v["n"])
        self.hint.set_empty(False)
        self.img.setImage(np.asarray(v["image"], float), autoLevels=False, levels=(0.0, 1.0))
        sp = np.asarray(v["spikes"])
        out = sp[sp[:, 1] < 10]
        inp = sp[sp[:, 1] >= 10]
        self.out.setData(out[:, 0], out[:, 1])
        self.inp.setData(inp[:, 0], inp[:, 1])
        brushes = [pg.mkBrush(*(E_RGB if k == v["predicted"] else _OTHER)) for k in range(10)]
        self.bars.setOpts(height=np.asarray(v["counts"], float), brushes=brushes)
        ok = "right" if v["predicted"] == v["label"] else "wrong"
        self.status.setText(
            f"digit {v['label']}: predicted {v['predicted']} ({ok}); accuracy {v['accuracy']:.3f} "
            f"after {v['n']} test digits"
        )
