"""Spiking activity workbench: a live view over :class:`engines.spiking.SpikingEngine`.

* raster: spikes read by cursor from the engine's ring buffer, kept for the
  last seconds, and drawn as one image binned at the view's own pixel
  resolution (excitatory red, inhibitory blue, inputs grey); zoom and pan
  re-bin at full resolution; the view scrolls with time while "follow" is on;
* population rates of E and I (1 ms bins), membrane traces of the neurons
  clicked on the raster, weight matrix and weight histogram under plasticity;
* presets, the parameter form, "run for" and real-time pacing, and read-outs
  (biological time, real-time factor, synaptic events per second).

Every pyqtgraph item is made once and updated with ``setData``/``setImage``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from numba import njit
from PySide6 import QtCore, QtWidgets

from engines.base import Progress
from engines.spiking import PRESETS, SpikingEngine, SpikingParams, preset
from studio.panels.base import Panel
from studio.widgets.paramform import ParamForm

E_RGB = (228, 87, 46)
I_RGB = (59, 139, 212)
IN_RGB = (150, 150, 150)
KEEP_S = 10.0  # seconds of spikes, rates and traces kept for the views
MAX_KEEP_SPIKES = 3_000_000
NETWORK_VIEW_MAX = 500  # neurons drawn in the network view
FLASH_S = 0.005  # a neuron flashes this long after a spike


@njit(nogil=True, cache=True)
def _bin_raster(data, s0, sx, y0, sy, wpx, hpx, n_exc, n, lut32, pix):
    """Paint the pixel of every spike (step, id) in its population's colour; returns the count."""
    k = 0
    for r in range(data.shape[0]):
        xi = int(np.floor((data[r, 0] - s0) * sx))
        yi = int(np.floor((data[r, 1] - y0) * sy))
        if 0 <= xi < wpx and 0 <= yi < hpx:
            j = data[r, 1]
            pix[yi * wpx + xi] = lut32[1 if j < n_exc else (2 if j < n else 3)]
            k += 1
    return k


class _Chunks:
    """Rolling store of record arrays with a time column, bounded in time and size."""

    def __init__(self, keep_s: float, max_rows: int):
        self.keep_s = keep_s
        self.max_rows = max_rows
        self.chunks: list[np.ndarray] = []
        self.rows = 0

    def clear(self) -> None:
        self.chunks = []
        self.rows = 0

    def add(self, rec: np.ndarray, t_now: float, time_of) -> None:
        if rec.shape[0]:
            self.chunks.append(rec)
            self.rows += rec.shape[0]
        lo = t_now - self.keep_s
        while self.chunks and (
            time_of(self.chunks[0][-1]) < lo or self.rows - self.chunks[0].shape[0] > self.max_rows
        ):
            self.rows -= self.chunks[0].shape[0]
            self.chunks.pop(0)

    def window(self, s0: float, s1: float, width: int) -> np.ndarray:
        """Rows whose first column (a step, sorted) lies in [s0, s1]."""
        parts = []
        for c in self.chunks:
            if c[-1, 0] < s0 or c[0, 0] > s1:
                continue
            if c[0, 0] >= s0 and c[-1, 0] <= s1:
                parts.append(c)
            else:
                a, b = np.searchsorted(c[:, 0], [s0, s1 + 1e-9])
                parts.append(c[a:b])
        if not parts:
            return np.zeros((0, width))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def all(self, width: int) -> np.ndarray:
        if not self.chunks:
            return np.zeros((0, width))
        return np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]


class SpikingPanel(Panel):
    name = "spiking"
    title = "Spiking activity"
    engine_type = SpikingEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._params = preset("coba")
        self._dt_s = self._params.dt_ms * 1e-3
        self._n = self._params.n_neurons
        self._n_exc = self._params.n_exc
        self._n_in = self._params.n_inputs
        self._spike_cursor = 0
        self._rate_cursor = 0
        self._mon_cursor = 0
        self._mon_since = -1
        self._picked: list[int] = []
        self._follow = True
        self._last_snap: Any = None
        self._weights_frame = 0
        self.raster_points_drawn = 0
        self._spikes = _Chunks(KEEP_S, MAX_KEEP_SPIKES)
        self._rates = _Chunks(KEEP_S, 10_000_000)
        self._mon = _Chunks(KEEP_S, 10_000_000)
        self._build()

    # ------------------------------------------------------------------ UI
    def _build(self) -> None:
        lay = QtWidgets.QHBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        lay.addWidget(split)

        # plots ---------------------------------------------------------
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setObjectName("spiking_plots")
        self.plots.setBackground("w")
        self.raster_plot = self.plots.addPlot(row=0, col=0)
        self.raster_plot.setLabel("left", "neuron")
        self.raster_plot.setMenuEnabled(False)
        self.raster_plot.showGrid(x=False, y=False)
        self.raster_img = pg.ImageItem(axisOrder="row-major")
        lut = np.array([(255, 255, 255, 255), (*E_RGB, 255), (*I_RGB, 255), (*IN_RGB, 255)], np.uint8)
        self._raster_lut32 = lut.view(np.uint32).ravel().copy()  # RGBA bytes as one word per colour
        self.raster_plot.addItem(self.raster_img)
        self.raster_plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.raster_plot.scene().sigMouseClicked.connect(self._raster_clicked)
        self.raster_plot.hideAxis("bottom")
        self.rate_plot = self.plots.addPlot(row=1, col=0)
        self.rate_plot.hideAxis("bottom")
        self.rate_plot.setLabel("left", "rate", units="Hz")
        self.rate_plot.setXLink(self.raster_plot)
        self.rate_plot.setMenuEnabled(False)
        self.rate_e = self.rate_plot.plot(pen=pg.mkPen(E_RGB, width=1), name="E")
        self.rate_i = self.rate_plot.plot(pen=pg.mkPen(I_RGB, width=1), name="I")
        self.trace_plot = self.plots.addPlot(row=2, col=0)
        self.trace_plot.setLabel("left", "v", units="mV")
        self.trace_plot.setLabel("bottom", "time", units="s")
        self.trace_plot.setXLink(self.raster_plot)
        self.trace_plot.setMenuEnabled(False)
        self.trace_items: list[pg.PlotDataItem] = []
        self.plots.ci.layout.setRowStretchFactor(0, 5)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.plots.ci.layout.setRowStretchFactor(2, 2)
        for p in (self.raster_plot, self.rate_plot, self.trace_plot):
            p.getAxis("left").setWidth(56)  # the three plots share one time axis: align them
            for side in ("left", "bottom"):
                p.getAxis(side).enableAutoSIPrefix(False)  # no label re-layout on every scroll
        for p in (self.rate_plot, self.trace_plot):
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            p.enableAutoRange(y=False)  # y ranges are set by hand, not on every setData
        self.rate_plot.setYRange(0, 50, padding=0)
        self._rate_top = 50.0

        self.weights_view = pg.GraphicsLayoutWidget()
        self.weights_view.setBackground("w")
        self.w_plot = self.weights_view.addPlot(row=0, col=0, title="weights (source x target)")
        self.w_img = pg.ImageItem(axisOrder="row-major")
        self.w_img.setColorMap(pg.colormap.get("viridis"))
        self.w_plot.addItem(self.w_img)
        self.w_plot.invertY(True)
        self.h_plot = self.weights_view.addPlot(row=1, col=0, title="plastic weights")
        self.w_hist = pg.BarGraphItem(x=[0.0], height=[0.0], width=1.0, brush=(90, 90, 200))
        self.h_plot.addItem(self.w_hist)

        # network view: a networkx layout, neurons flash when they spike
        self.net_view = pg.PlotWidget()
        self.net_view.setObjectName("spiking_network")
        self.net_view.setBackground("w")
        self.net_view.hideAxis("left")
        self.net_view.hideAxis("bottom")
        self.net_view.setAspectLocked(True)
        self.net_edges = pg.PlotCurveItem(pen=pg.mkPen((200, 200, 200), width=1), connect="pairs")
        self.net_nodes = pg.ScatterPlotItem(size=7, pen=None)
        self.net_view.addItem(self.net_edges)
        self.net_view.addItem(self.net_nodes)
        self.net_note = pg.TextItem("", color=(120, 120, 120))
        self.net_view.addItem(self.net_note)
        self._net_key: Any = None
        self._net_pos: np.ndarray | None = None
        self.net_flashes = 0

        # training: progress, accuracy curve, confusion matrix
        train = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(train)
        row = QtWidgets.QHBoxLayout()
        self.train_tess_btn = QtWidgets.QPushButton("Train TESS digits")
        self.train_tess_btn.setObjectName("spiking_train_tess")
        self.train_tess_btn.setToolTip("Feed-forward SNN on 8x8 digits, local TESS rule (about a minute)")
        self.train_tess_btn.clicked.connect(lambda: self.start_training("tess-digits"))
        self.train_ncx_btn = QtWidgets.QPushButton("NeuroCoreX digits")
        self.train_ncx_btn.setToolTip("int8 templates on the NeuroCoreX integer datapath")
        self.train_ncx_btn.clicked.connect(lambda: self.start_training("neurocorex-digits"))
        row.addWidget(self.train_tess_btn)
        row.addWidget(self.train_ncx_btn)
        row.addStretch(1)
        tl.addLayout(row)
        self.train_status = QtWidgets.QLabel("No training yet.")
        self.train_status.setObjectName("spiking_train_status")
        tl.addWidget(self.train_status)
        self.train_view = pg.GraphicsLayoutWidget()
        self.train_view.setBackground("w")
        self.acc_plot = self.train_view.addPlot(row=0, col=0, title="test accuracy per epoch")
        self.acc_plot.setYRange(0, 1)
        self.acc_curve = self.acc_plot.plot(pen=pg.mkPen((40, 120, 40), width=2), symbol="o", symbolSize=6)
        self.conf_plot = self.train_view.addPlot(row=0, col=1, title="confusion (true x predicted)")
        self.conf_plot.invertY(True)
        self.conf_img = pg.ImageItem(axisOrder="row-major")
        self.conf_img.setColorMap(pg.colormap.get("viridis"))
        self.conf_plot.addItem(self.conf_img)
        tl.addWidget(self.train_view, 1)
        self.train_result: dict | None = None

        # NeuroCoreX: watch the integer datapath classify the test digits
        ncx = QtWidgets.QWidget()
        nl = QtWidgets.QVBoxLayout(ncx)
        row = QtWidgets.QHBoxLayout()
        self.ncx_btn = QtWidgets.QPushButton("Watch NeuroCoreX classify digits")
        self.ncx_btn.setObjectName("spiking_ncx_demo")
        self.ncx_btn.setToolTip(
            "64 inputs -> 10 integer LIF neurons (Q7.10, int8 weights), 32 steps per digit"
        )
        self.ncx_btn.clicked.connect(lambda: self.start_ncx_demo())
        row.addWidget(self.ncx_btn)
        row.addStretch(1)
        nl.addLayout(row)
        self.ncx_status = QtWidgets.QLabel("")
        self.ncx_status.setObjectName("spiking_ncx_status")
        nl.addWidget(self.ncx_status)
        self.ncx_view = pg.GraphicsLayoutWidget()
        self.ncx_view.setBackground("w")
        self.ncx_img_plot = self.ncx_view.addPlot(row=0, col=0, title="input digit")
        self.ncx_img_plot.invertY(True)
        self.ncx_img_plot.setAspectLocked(True)
        self.ncx_img = pg.ImageItem(axisOrder="row-major")
        self.ncx_img.setColorMap(pg.colormap.get("CET-L1"))
        self.ncx_img_plot.addItem(self.ncx_img)
        self.ncx_raster_plot = self.ncx_view.addPlot(
            row=0, col=1, title="spikes: 10 outputs (red), 64 inputs (grey)"
        )
        self.ncx_raster_plot.setLabel("bottom", "time step")
        self.ncx_out = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*E_RGB), symbol="s")
        self.ncx_in = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(*IN_RGB), symbol="s")
        self.ncx_raster_plot.addItem(self.ncx_in)
        self.ncx_raster_plot.addItem(self.ncx_out)
        self.ncx_count_plot = self.ncx_view.addPlot(row=0, col=2, title="output spike counts")
        self.ncx_bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.8, brush=(120, 120, 120)
        )
        self.ncx_count_plot.addItem(self.ncx_bars)
        self.ncx_view.ci.layout.setColumnStretchFactor(1, 3)
        nl.addWidget(self.ncx_view, 1)
        self.ncx_samples = 0

        self.view_tabs = QtWidgets.QTabWidget()
        self.view_tabs.setObjectName("spiking_tabs")
        self.view_tabs.addTab(self.plots, "Activity")
        self.view_tabs.addTab(self.weights_view, "Weights")
        self.view_tabs.addTab(self.net_view, "Network")
        self.view_tabs.addTab(train, "Training")
        self.view_tabs.addTab(ncx, "NeuroCoreX")
        split.addWidget(self.view_tabs)

        # controls --------------------------------------------------------
        side = QtWidgets.QWidget()
        side_lay = QtWidgets.QVBoxLayout(side)
        side_lay.setContentsMargins(4, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Preset"))
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.setObjectName("spiking_preset")
        for key, (doc, _) in PRESETS.items():
            self.preset_box.addItem(key)
            self.preset_box.setItemData(self.preset_box.count() - 1, doc, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.preset_box.activated.connect(self._preset_chosen)
        row.addWidget(self.preset_box, 1)
        side_lay.addLayout(row)

        row = QtWidgets.QHBoxLayout()
        self.run_for_s = QtWidgets.QDoubleSpinBox()
        self.run_for_s.setRange(0.001, 3600.0)
        self.run_for_s.setValue(1.0)
        self.run_for_s.setSuffix(" s")
        self.run_for_btn = QtWidgets.QPushButton("Run for")
        self.run_for_btn.setObjectName("spiking_run_for")
        self.run_for_btn.clicked.connect(self._run_for)
        row.addWidget(self.run_for_btn)
        row.addWidget(self.run_for_s)
        side_lay.addLayout(row)

        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Speed"))
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.setObjectName("spiking_speed")
        for label, factor in (("as fast as possible", None), ("real time", 1.0), ("0.1x real time", 0.1)):
            self.speed_box.addItem(label, factor)
        self.speed_box.currentIndexChanged.connect(self._speed_changed)
        row.addWidget(self.speed_box, 1)
        side_lay.addLayout(row)

        row = QtWidgets.QHBoxLayout()
        self.follow_box = QtWidgets.QCheckBox("Follow")
        self.follow_box.setChecked(True)
        self.follow_box.toggled.connect(self._set_follow)
        row.addWidget(self.follow_box)
        row.addWidget(QtWidgets.QLabel("window"))
        self.window_s = QtWidgets.QDoubleSpinBox()
        self.window_s.setRange(0.01, KEEP_S)
        self.window_s.setValue(1.0)
        self.window_s.setSuffix(" s")
        row.addWidget(self.window_s)
        side_lay.addLayout(row)

        self.readout = QtWidgets.QLabel("not started")
        self.readout.setObjectName("spiking_readout")
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        side_lay.addWidget(self.readout)
        hint = QtWidgets.QLabel("Click the raster to record a neuron's membrane potential.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        side_lay.addWidget(hint)

        self.form = ParamForm(self._params)
        self.form.setObjectName("spiking_form")
        self.form.params_changed.connect(self._form_changed)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        side_lay.addWidget(scroll, 1)
        side.setMinimumWidth(320)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

    # ------------------------------------------------------------------ engine
    def create_engine(self, params: SpikingParams | None = None, seed: int = 0) -> SpikingEngine:
        return SpikingEngine(params or self._params, seed=seed)

    def on_attached(self) -> None:
        # longer engine calls: every return to Python waits for the GIL that the GUI thread
        # holds while drawing (up to the 5 ms switch interval), so few long calls keep more
        # of the headless speed; 30 ms still pauses at once for a person
        self.runner.target_chunk_s = 0.03
        self._adopt_params(self.runner.engine.params)

    def _adopt_params(self, p: SpikingParams) -> None:
        self._params = p
        self._dt_s = p.dt_ms * 1e-3
        self._n, self._n_exc, self._n_in = p.n_neurons, p.n_exc, p.n_inputs
        self.form.set_params(p)
        while len(self.trace_items) < p.monitor_count:
            k = len(self.trace_items)
            colour = pg.intColor(k, hues=max(p.monitor_count, 1))
            self.trace_items.append(self.trace_plot.plot(pen=pg.mkPen(colour, width=1)))
        self.raster_plot.setYRange(0, self._n + self._n_in, padding=0)
        self.trace_plot.setYRange(p.v_reset_mV - 25.0, p.v_thresh_mV + 5.0, padding=0)
        self._picked = []

    def on_params_restored(self, params: SpikingParams) -> None:
        """A workspace was opened: new parameters and engine state, so redraw from scratch."""
        self._adopt_params(params)
        self._clear_views()
        self._last_snap = None
        self._mon_since = -1

    def _apply(self, p: SpikingParams) -> None:
        if self.runner is None:
            self._params = p
            return
        self.runner.set_params(p)
        self._adopt_params(p)

    def _preset_chosen(self, index: int) -> None:
        self._apply(preset(self.preset_box.itemText(index)))

    def _form_changed(self, p: SpikingParams) -> None:
        self._apply(p)

    def _run_for(self) -> None:
        if self.runner is not None:
            self.runner.run_for(int(round(self.run_for_s.value() / self._dt_s)))

    def _speed_changed(self, _index: int) -> None:
        if self.runner is not None:
            self.runner.set_realtime(self.speed_box.currentData())

    def _set_follow(self, on: bool) -> None:
        self._follow = bool(on)

    def _user_moved(self, *_args) -> None:
        if self._follow:
            self.follow_box.setChecked(False)

    def _raster_clicked(self, ev) -> None:
        vb = self.raster_plot.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        pt = vb.mapSceneToView(ev.scenePos())
        self.pick_neuron(int(np.floor(pt.y())))

    def pick_neuron(self, j: int) -> None:
        """Record neuron ``j``'s state (the oldest pick makes room)."""
        if self.runner is None or not 0 <= j < self._n:
            return
        if j in self._picked:
            return
        self._picked = (self._picked + [j])[-max(1, self._params.monitor_count) :]
        picked = list(self._picked)
        self.runner.call_async(lambda e: e.set_monitor(picked))

    def start_demo(self) -> None:
        self.runner.start()

    # ------------------------------------------------------------------ drawing
    def update_view(self, snap: Any) -> None:
        if snap is None or self.runner is None:
            return
        eng = self.runner.engine
        if snap.spike_cursor < self._spike_cursor or snap.step < getattr(self._last_snap, "step", 0):
            self._clear_views()
        self._last_snap = snap
        t_now = snap.t_s
        dt = snap.dt_ms * 1e-3
        self._dt_s = dt
        # new events since our cursors (the ring buffers are thread-safe)
        rec, self._spike_cursor, _ = eng.spikes.read_since(self._spike_cursor)
        self._spikes.add(rec, t_now, lambda r: r[0] * dt)
        rec, self._rate_cursor, _ = eng.rates.read_since(self._rate_cursor)
        self._rates.add(rec, t_now, lambda r: r[0] * dt)
        if snap.monitor_since_step != self._mon_since:
            self._mon.clear()
            self._mon_since = snap.monitor_since_step
        rec, self._mon_cursor, _ = eng.monitor.read_since(self._mon_cursor)
        if rec.shape[0]:
            rec = rec[rec[:, 0] >= self._mon_since]
        self._mon.add(rec, t_now, lambda r: r[0] * dt)

        if self._follow:
            w = self.window_s.value()
            self.raster_plot.setXRange(max(0.0, t_now - w), max(t_now, w), padding=0)
        self._draw_raster()
        self._draw_rates()
        self._draw_traces(snap)
        self._weights_frame += 1
        if self.view_tabs.currentIndex() == 1 and self._weights_frame % 6 == 0:
            self._draw_weights(snap)
        if self.view_tabs.currentIndex() == 2:
            self._draw_network(snap)
        self._draw_readout(snap)

    def _clear_views(self) -> None:
        self._spikes.clear()
        self._rates.clear()
        self._mon.clear()
        self._spike_cursor = self._rate_cursor = self._mon_cursor = 0

    def _draw_raster(self) -> None:
        vb = self.raster_plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        wpx = int(max(16, min(2000, vb.width())))
        hpx = int(max(16, min(2000, vb.height())))
        y0, y1 = max(y0, 0.0), min(y1, float(self._n + self._n_in))
        if x1 <= x0 or y1 <= y0:
            return
        data = self._spikes.window(x0 / self._dt_s - 1, x1 / self._dt_s + 1, 2)
        pix = np.full(hpx * wpx, self._raster_lut32[0], np.uint32)
        if data.shape[0]:
            self.raster_points_drawn = _bin_raster(
                data,
                x0 / self._dt_s,
                wpx / ((x1 - x0) / self._dt_s),
                y0,
                hpx / (y1 - y0),
                wpx,
                hpx,
                self._n_exc,
                self._n,
                self._raster_lut32,
                pix,
            )
        img = pix.view(np.uint8).reshape(hpx, wpx, 4)
        # uint8 RGBA without levels: pyqtgraph hands the buffer to a QImage as is
        self.raster_img.setImage(img, autoLevels=False, levels=None)
        self.raster_img.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))

    def _visible_steps(self) -> tuple[float, float]:
        (x0, x1), _ = self.raster_plot.getViewBox().viewRange()
        return x0 / self._dt_s - 1, x1 / self._dt_s + 1

    def _draw_rates(self) -> None:
        rec = self._rates.window(*self._visible_steps(), 3)
        if rec.shape[0] == 0:
            return
        per_bin = max(1, int(round(1e-3 / self._dt_s)))  # 1 ms bins
        b = rec[:, 0] // per_bin
        b0 = b[0]
        idx = b - b0
        ne = np.bincount(idx, weights=rec[:, 1])
        ni = np.bincount(idx, weights=rec[:, 2])
        cnt = np.bincount(idx)
        keep = cnt > 0
        t = (np.arange(ne.size) + b0) * per_bin * self._dt_s
        bin_s = np.maximum(cnt, 1) * self._dt_s
        n_i = self._n - self._n_exc
        re = ne / max(self._n_exc, 1) / bin_s
        ri = ni / max(n_i, 1) / bin_s
        self.rate_e.setData(t[keep], re[keep], skipFiniteCheck=True)
        top = float(max(re[keep].max(initial=0), ri[keep].max(initial=0) if n_i else 0.0))
        if top > self._rate_top or top < 0.3 * self._rate_top:  # rescale rarely
            self._rate_top = max(5.0, 1.25 * top)
            self.rate_plot.setYRange(0, self._rate_top, padding=0)
        if n_i:
            self.rate_i.setData(t[keep], ri[keep], skipFiniteCheck=True)
        else:
            self.rate_i.setData([], [])

    def _draw_traces(self, snap: Any) -> None:
        rec = self._mon.window(*self._visible_steps(), 1)
        m = snap.monitor_idx.size
        for k, item in enumerate(self.trace_items):
            if k < m and snap.monitor_idx[k] >= 0 and rec.shape[0]:
                item.setData(rec[:, 0] * self._dt_s, rec[:, 1 + k], skipFiniteCheck=True)
            elif item.xData is not None and len(item.xData):  # clear once, not every frame
                item.setData([], [])

    def _draw_weights(self, snap: Any) -> None:
        if snap.weight_matrix is not None:
            w = snap.weight_matrix
            lo, hi = float(np.min(w)), float(np.max(w))
            self.w_img.setImage(w, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1))
        if snap.weight_hist is not None:
            edges = snap.weight_edges
            self.w_hist.setOpts(
                x=0.5 * (edges[1:] + edges[:-1]),
                height=snap.weight_hist,
                width=float(edges[1] - edges[0]),
            )

    def _draw_network(self, snap: Any) -> None:
        n = snap.n_neurons
        if n > NETWORK_VIEW_MAX:
            self.net_nodes.setData([], [])
            self.net_edges.setData([], [])
            self.net_note.setText(f"the network view shows networks up to {NETWORK_VIEW_MAX} neurons")
            self._net_key = None
            return
        key = (self._params, snap.n_synapses)
        if key != self._net_key:
            self._layout_network(n)
            self._net_key = key
        if self._net_pos is None:
            return
        t1 = snap.t_s
        rec = self._spikes.window((t1 - FLASH_S) / self._dt_s, t1 / self._dt_s + 1, 2)
        ids = rec[:, 1]
        lit = np.zeros(n, bool)
        lit[ids[ids < n].astype(np.int64)] = True
        self.net_flashes = int(lit.sum())
        colours = np.empty((n, 4), np.uint8)
        colours[:] = (210, 210, 210, 255)
        exc = np.arange(n) < snap.n_exc
        colours[lit & exc, :3] = E_RGB
        colours[lit & ~exc, :3] = I_RGB
        self.net_nodes.setBrush([pg.mkBrush(*c) for c in colours])

    def _layout_network(self, n: int) -> None:
        import networkx as nx

        try:
            pre, post = self.runner.call(lambda e: (e.conn.sources(), e.conn.indices.copy()), 10)
        except Exception:
            return
        rec = pre < n
        pre, post = pre[rec], post[rec]
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(pre.tolist(), post.tolist()))
        pos = nx.spring_layout(g, seed=0, iterations=40)
        xy = np.array([pos[i] for i in range(n)])
        self._net_pos = xy
        self.net_nodes.setData(xy[:, 0], xy[:, 1])
        if pre.size > 6000:  # draw a sample of the edges
            keep = np.random.default_rng(0).choice(pre.size, 6000, replace=False)
            pre, post = pre[keep], post[keep]
        seg = np.empty((2 * pre.size, 2))
        seg[0::2], seg[1::2] = xy[pre], xy[post]
        self.net_edges.setData(seg[:, 0], seg[:, 1])
        self.net_note.setText("")

    # ------------------------------------------------------------------ training
    def start_training(self, which: str, tess_params=None) -> bool:
        """Run a training job on the worker (the network keeps its state)."""
        if self.runner is None:
            return False
        if which == "tess-digits":
            from engines.spiking import tess

            tp = tess_params or tess.TessParams()
            factory = lambda _eng: tess.train_job(tp, seed=0)  # noqa: E731
        elif which == "neurocorex-digits":
            from engines.spiking import ncx_digits

            factory = lambda _eng: ncx_digits.train_job()  # noqa: E731
        else:
            raise ValueError(f"unknown training preset {which!r}")
        self.acc_curve.setData([], [])
        self.train_status.setText(f"{which}: starting...")
        self.view_tabs.setCurrentIndex(3)
        return self.runner.run_job(factory)

    def start_ncx_demo(self, pause_s: float = 0.05, limit: int | None = None) -> bool:
        """Stream the NeuroCoreX digits test set through the integer datapath (a job)."""
        if self.runner is None:
            return False
        from engines.spiking import ncx_digits

        self.ncx_samples = 0
        self.ncx_status.setText("NeuroCoreX: loading the digits...")
        self.view_tabs.setCurrentIndex(4)
        return self.runner.run_job(lambda _eng: ncx_digits.demo_job(pause_s=pause_s, limit=limit))

    def _show_ncx_sample(self, v: dict) -> None:
        self.ncx_samples = int(v["n"])
        self.ncx_img.setImage(np.asarray(v["image"], float), autoLevels=False, levels=(0.0, 1.0))
        sp = np.asarray(v["spikes"])
        out = sp[sp[:, 1] < 10]
        inp = sp[sp[:, 1] >= 10]
        self.ncx_out.setData(out[:, 0], out[:, 1])
        self.ncx_in.setData(inp[:, 0], inp[:, 1])
        brushes = [pg.mkBrush(*(E_RGB if k == v["predicted"] else (150, 150, 150))) for k in range(10)]
        self.ncx_bars.setOpts(height=np.asarray(v["counts"], float), brushes=brushes)
        ok = "right" if v["predicted"] == v["label"] else "wrong"
        self.ncx_status.setText(
            f"digit {v['label']}: predicted {v['predicted']} ({ok}); accuracy {v['accuracy']:.3f} "
            f"after {v['n']} test digits"
        )

    def on_job_progress(self, progress: Progress) -> None:
        v = progress.value
        if isinstance(v, dict) and "image" in v:
            self._show_ncx_sample(v)
            return
        self.train_status.setText(progress.message)
        self._show_training(v)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        if isinstance(result, dict) and "image" in result:  # the demo was stopped
            self.ncx_status.setText(f"NeuroCoreX: stopped after {result['n']} digits")
            return
        if isinstance(result, dict) and result.get("preset") == "neurocorex-digits-demo":
            self.ncx_status.setText(
                f"NeuroCoreX: test accuracy {result['test_accuracy']:.3f} on {result['n_test']} digits"
            )
            return
        if isinstance(result, dict):
            self._show_training(result)
            acc = result.get("test_accuracy")
            if acc is None or not completed:
                self.train_status.setText("training stopped")
                return
            self.train_result = result
            self.train_status.setText(
                f"{result.get('preset', 'training')}: test accuracy {acc:.3f}"
                + (f" in {result['wall_s']:.0f} s" if "wall_s" in result else "")
            )
        elif not completed:
            self.train_status.setText("training stopped")

    def _show_training(self, value: Any) -> None:
        if not isinstance(value, dict):
            return
        curve = value.get("accuracy_curve")
        if curve is None and "test_accuracy" in value:
            curve = [value["test_accuracy"]]
        if curve:
            self.acc_curve.setData(np.arange(1, len(curve) + 1), np.asarray(curve, float))
        conf = value.get("confusion")
        if conf is not None:
            c = np.asarray(conf, float)
            self.conf_img.setImage(c, autoLevels=False, levels=(0, max(1.0, c.max())))

    def _draw_readout(self, snap: Any) -> None:
        now = time.monotonic()
        if now - getattr(self, "_readout_at", 0.0) < 0.2 and self.runner.state == "running":
            return  # a rich-text label re-laid out 5 times a second is enough to read
        self._readout_at = now
        rt = snap.realtime_factor
        self.readout.setText(
            f"<b>t = {snap.t_s:.3f} s</b> biological<br>"
            f"{rt:.2f}x real time (engine)<br>"
            f"{snap.events_per_s / 1e6:.1f} M synaptic events/s<br>"
            f"E {snap.rate_e_hz:.1f} Hz, I {snap.rate_i_hz:.1f} Hz (last 100 ms)<br>"
            f"{snap.total_spikes:,} spikes, {snap.n_synapses:,} synapses"
        )

    # ------------------------------------------------------------------ workspace
    def panel_state(self) -> dict[str, Any]:
        return {"follow": self._follow, "window_s": self.window_s.value(), "picked": list(self._picked)}

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        self.follow_box.setChecked(bool(state.get("follow", True)))
        self.window_s.setValue(float(state.get("window_s", 1.0)))
        picked = state.get("picked", [])
        if isinstance(picked, list):  # the engine state already records these neurons
            self._picked = [int(j) for j in picked if isinstance(j, int) and 0 <= j < self._n]
