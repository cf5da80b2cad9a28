"""Population geometry: manifolds of clean, adversarial and stochastic digit networks in 3-D.

A thin view over :class:`engines.geometry.engine.GeometryEngine`. Left: the
analysis parameters (models, manifold kind, layers, eps list, attack, noise),
Analyze / Stop, a noise-scale slider that shows an analysed noise level at
once (the noise levels field analyses several in one run) or recomputes in
the background, and
the view selectors (layer, eps). Centre: one vispy canvas with the three
models side by side (linked turntable cameras), each a 3-D scatter of the
chosen layer (PCA to 3-D): one colour per manifold, clean points as discs and
perturbed points as crosses, freely rotatable. Right: capacity, radius and
dimension against eps (one line per model, error bars over seeds), the same
against layer at the chosen eps, and accuracy against eps. CSV and PNG export.
"Import activations…" reads the user's own activations (.npz, .npy, .h5: a
P x M x N array, or features with labels), analyses them in the background
with the same kappa and n_t, and lists them in the "Imported" tab (a table of
capacity, radius, dimension, center correlation, K, PR, EVD90, P, M, N, and a
3-D PCA view of the file's manifolds); they go into the CSV export too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from engines.geometry.analysis import AnalysisParams
from engines.geometry.engine import GeometryEngine, GeometrySnapshot
from engines.geometry.models import KINDS, LAYERS
from studio.panels.base import Panel
from studio.widgets.paramform import ParamForm

_VISPY_READY = False
MAX_POINTS = 8192
MODEL_PENS = {"standard": (31, 119, 180), "adversarial": (214, 39, 40), "stochastic": (44, 160, 44)}
METRICS = ("capacity", "radius", "dimension")

#: lighter defaults than the engine's so that a first analysis takes seconds
PANEL_DEFAULTS = dict(P=8, M=10, steps=3, eot=2, n_t=60, layers="conv3,fc1", eps="0,0.1,0.2")


def _use_pyside6_for_vispy() -> None:
    global _VISPY_READY
    if not _VISPY_READY:
        import vispy.app

        vispy.app.use_app("pyside6")
        _VISPY_READY = True


def _palette(n: int) -> np.ndarray:
    cols = np.array([pg.intColor(i, hues=max(n, 1), values=1, maxValue=230).getRgbF() for i in range(n)])
    return cols.astype(np.float32)


def _mean_sd(rows: list[dict], key: str) -> tuple[float, float]:
    v = np.array([r[key] for r in rows], dtype=float)
    return float(v.mean()), float(v.std()) if len(v) > 1 else 0.0


class GeometryPanel(Panel):
    name = "geometry"
    title = "Population geometry"
    engine_type = GeometryEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        _use_pyside6_for_vispy()
        from vispy import scene

        self._snap: GeometrySnapshot | None = None
        self._drawn_rows = -1
        self._drawn_key: tuple | None = None
        self.points_drawn = 0

        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)

        # -- controls ---------------------------------------------------------
        side = QtWidgets.QWidget()
        side.setMaximumWidth(330)
        lay = QtWidgets.QVBoxLayout(side)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        self.form = ParamForm(AnalysisParams(**PANEL_DEFAULTS), exclude=("seed",))
        self.form.params_changed.connect(self._on_params)
        scroll.setWidget(self.form)
        lay.addWidget(scroll, 1)
        row = QtWidgets.QHBoxLayout()
        self.analyze_button = QtWidgets.QPushButton("Analyze")
        self.analyze_button.setObjectName("GeometryAnalyze")
        self.analyze_button.clicked.connect(self.analyze)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.analyze_button)
        row.addWidget(self.stop_button)
        lay.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.status = QtWidgets.QLabel("Press Analyze")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        noise_row = QtWidgets.QHBoxLayout()
        noise_row.addWidget(QtWidgets.QLabel("Noise"))
        self.noise_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 40)  # noise scale x 20
        self.noise_slider.setValue(20)
        self.noise_slider.setToolTip("noise scale of the stochastic front end; recomputes in the background")
        self.noise_label = QtWidgets.QLabel("1.00")
        noise_row.addWidget(self.noise_slider, 1)
        noise_row.addWidget(self.noise_label)
        lay.addLayout(noise_row)
        self._noise_timer = QtCore.QTimer(self)
        self._noise_timer.setSingleShot(True)
        self._noise_timer.setInterval(400)
        self._noise_timer.timeout.connect(self._apply_noise)
        self.noise_slider.valueChanged.connect(self._on_noise_slider)

        view_box = QtWidgets.QGroupBox("View")
        grid = QtWidgets.QFormLayout(view_box)
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.addItems(list(LAYERS))
        self.layer_box.setCurrentText("fc1")
        self.eps_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.eps_slider.setRange(0, 0)
        self.eps_label = QtWidgets.QLabel("eps 0")
        grid.addRow("Layer", self.layer_box)
        grid.addRow(self.eps_label, self.eps_slider)
        self.layer_box.currentIndexChanged.connect(self._view_changed)
        self.eps_slider.valueChanged.connect(self._view_changed)
        lay.addWidget(view_box)

        exp = QtWidgets.QHBoxLayout()
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.png_button.clicked.connect(self.export_png_dialog)
        exp.addWidget(self.csv_button)
        exp.addWidget(self.png_button)
        lay.addLayout(exp)
        self.import_button = QtWidgets.QPushButton("Import activations…")
        self.import_button.setToolTip(
            "MFTMA of your own activations: .npz / .h5 (a P x M x N array, or features with labels) "
            "or .npy (P x M x N), with the kappa and n t above"
        )
        self.import_button.clicked.connect(self.import_dialog)
        lay.addWidget(self.import_button)
        outer.addWidget(side)

        # -- 3-D view -----------------------------------------------------------
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.canvas = scene.SceneCanvas(keys=None, show=False, bgcolor="white", size=(500, 500))
        # the three models side by side, one view each, cameras linked
        grid3d = self.canvas.central_widget.add_grid()
        self.views3d: dict[str, Any] = {}
        self.clean_markers: dict[str, Any] = {}
        self.pert_markers: dict[str, Any] = {}
        for i, kind in enumerate(KINDS):
            label = scene.Label(kind, color=tuple(c / 255 for c in MODEL_PENS[kind]), font_size=9)
            label.height_max = 24
            grid3d.add_widget(label, row=0, col=i)
            view = grid3d.add_view(row=1, col=i, border_color=(0.8, 0.8, 0.8, 1))
            view.camera = "turntable"
            self.clean_markers[kind] = scene.visuals.Markers(parent=view.scene)
            self.pert_markers[kind] = scene.visuals.Markers(parent=view.scene)
            scene.visuals.XYZAxis(parent=view.scene)
            self.views3d[kind] = view
        first = self.views3d[KINDS[0]].camera
        for kind in KINDS[1:]:
            self.views3d[kind].camera.link(first)
        self.points_by_model: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._pos_by_model = {k: np.zeros((MAX_POINTS, 3), np.float32) for k in KINDS}
        self._col_by_model = {k: np.zeros((MAX_POINTS, 4), np.float32) for k in KINDS}
        self.canvas.native.setMinimumSize(300, 300)
        split.addWidget(self.canvas.native)

        # -- plots --------------------------------------------------------------
        self.plots = pg.GraphicsLayoutWidget()
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self.errbars: dict[tuple[str, str, str], pg.ErrorBarItem] = {}
        self.plot_items: dict[tuple[str, str], pg.PlotItem] = {}
        for r, axis in enumerate(("eps", "layer")):
            for c, metric in enumerate(METRICS):
                pl = self.plots.addPlot(row=r, col=c, title=f"{metric} vs {axis}")
                pl.showGrid(x=True, y=True, alpha=0.2)
                if r == 0 and c == 0:
                    pl.addLegend(offset=(5, 5))
                self.plot_items[(axis, metric)] = pl
                for kind in KINDS:
                    pen = pg.mkPen(MODEL_PENS[kind], width=1)
                    cur = pl.plot(
                        [], [], pen=pen, symbol="o", symbolSize=5, symbolBrush=MODEL_PENS[kind], name=kind
                    )
                    eb = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), pen=pen)
                    pl.addItem(eb)
                    self.curves[(axis, metric, kind)] = cur
                    self.errbars[(axis, metric, kind)] = eb
                    if metric == "capacity":  # the simulated capacity, dashed, when measured
                        dash = pg.mkPen(MODEL_PENS[kind], width=1, style=QtCore.Qt.PenStyle.DashLine)
                        self.curves[(axis, "simcap", kind)] = pl.plot(
                            [], [], pen=dash, symbol="s", symbolSize=4
                        )
            if axis == "layer":
                ax = self.plot_items[("layer", METRICS[0])].getAxis("bottom")
                for metric in METRICS:
                    self.plot_items[("layer", metric)].getAxis("bottom").setTicks([list(enumerate(LAYERS))])
                del ax
        acc = self.plots.addPlot(row=2, col=0, colspan=3, title="accuracy vs eps")
        acc.setYRange(0, 1)
        acc.showGrid(x=True, y=True, alpha=0.2)
        self.plot_items[("eps", "accuracy")] = acc
        for kind in KINDS:
            self.curves[("eps", "accuracy", kind)] = acc.plot(
                [],
                [],
                pen=pg.mkPen(MODEL_PENS[kind], width=1),
                symbol="t",
                symbolSize=6,
                symbolBrush=MODEL_PENS[kind],
            )
        self.right_tabs = QtWidgets.QTabWidget()
        self.right_tabs.addTab(self.plots, "Networks")
        self.right_tabs.addTab(self._build_imported(scene), "Imported")
        split.addWidget(self.right_tabs)
        split.setSizes([520, 640])
        outer.addWidget(split, 1)

    IMPORT_COLUMNS = ("model", "capacity", "radius", "dimension", "center_correlation", "K", "PR", "EVD90")
    IMPORT_COLUMNS += ("P", "M", "N", "kappa", "simcap")

    def _build_imported(self, scene) -> QtWidgets.QWidget:
        box = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.import_table = QtWidgets.QTableWidget(0, len(self.IMPORT_COLUMNS))
        self.import_table.setHorizontalHeaderLabels(
            [
                "file" if c == "model" else c.replace("center_correlation", "center corr.")
                for c in self.IMPORT_COLUMNS
            ]
        )
        self.import_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.import_table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.import_table.itemSelectionChanged.connect(self._draw_imported_scatter)
        box.addWidget(self.import_table)
        self.import_canvas = scene.SceneCanvas(keys=None, show=False, bgcolor="white", size=(400, 300))
        self.import_view = self.import_canvas.central_widget.add_view(border_color=(0.8, 0.8, 0.8, 1))
        self.import_view.camera = "turntable"
        self.import_markers = scene.visuals.Markers(parent=self.import_view.scene)
        scene.visuals.XYZAxis(parent=self.import_view.scene)
        self.import_canvas.native.setMinimumSize(200, 200)
        box.addWidget(self.import_canvas.native)
        self._imported_drawn: tuple = ()
        self.imported_points_drawn = 0
        return box

    def import_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import activations", "", "Activations (*.npz *.npy *.h5 *.hdf5);;All files (*)"
        )
        if path:
            self.import_activations(path)

    def import_activations(self, path: str | Path) -> bool:
        """Read ``path`` now (a bad file is reported here and changes nothing), analyse it in the background."""
        from engines.geometry.io import load_activations

        if self.runner is None:
            return False
        try:
            manifolds = load_activations(path)
        except (OSError, ValueError) as e:  # FormatError is a ValueError
            self.show_error(f"Import activations: {e}")
            return False
        self.clear_error()
        name = Path(path).name
        self.runner.set_params(self.form.params())
        self.progress.setValue(0)
        self.status.setText(f"analysing {name}…")
        self.right_tabs.setCurrentIndex(1)
        return self.runner.run_job(lambda eng: eng.import_job(name, manifolds))

    def _draw_imported(self, snap: GeometrySnapshot) -> None:
        key = tuple((r["model"], r["capacity"]) for r in snap.imported)
        if key == self._imported_drawn:
            return
        self._imported_drawn = key
        t = self.import_table
        t.setRowCount(len(snap.imported))
        for i, r in enumerate(snap.imported):
            for j, c in enumerate(self.IMPORT_COLUMNS):
                v = r.get(c, "")
                text = f"{v:.4g}" if isinstance(v, float) else str(v)
                t.setItem(i, j, QtWidgets.QTableWidgetItem(text))
        t.resizeColumnsToContents()
        if snap.imported:
            t.selectRow(len(snap.imported) - 1)  # the newest
        self._draw_imported_scatter()

    def _draw_imported_scatter(self) -> None:
        snap = self._snap
        rows = self.import_table.selectionModel().selectedRows() if self.import_table.selectionModel() else []
        if snap is None or not rows or rows[0].row() >= len(snap.imported):
            return
        emb = snap.imported_embeddings.get(snap.imported[rows[0].row()]["model"])
        if emb is None:  # restored from a workspace: the table only
            self.import_markers.set_data(np.zeros((1, 3), np.float32), face_color=(0, 0, 0, 0), size=1)
            self.imported_points_drawn = 0
        else:
            n = min(len(emb.points), MAX_POINTS)
            pts = np.asarray(emb.points[:n], np.float32)
            pts = pts / (float(np.abs(pts).max()) or 1.0)
            col = _palette(int(emb.manifold.max()) + 1 if n else 1)[emb.manifold[:n]]
            self.import_markers.set_data(pts, face_color=col, edge_color=col, size=7, symbol="disc")
            self.import_view.camera.set_range(x=(-1, 1), y=(-1, 1), z=(-1, 1))
            self.imported_points_drawn = n
        self.import_canvas.update()

    # -- engine ------------------------------------------------------------------
    def create_engine(self, params: AnalysisParams | None = None, seed: int = 0) -> GeometryEngine:
        return GeometryEngine(params or self.form.params(), seed=seed)

    def on_attached(self) -> None:
        self.form.set_params(self.runner.engine.params)

    def _on_params(self, params: AnalysisParams) -> None:
        if self.runner is not None:
            self.runner.set_params(params)

    def analyze(self) -> bool:
        if self.runner is None:
            return False
        self.runner.set_params(self.form.params())
        self.progress.setValue(0)
        self.status.setText("computing…")
        return self.runner.run_job(lambda eng: eng.analyze_job())

    def start_demo(self) -> None:
        """For ``studio --screenshot``: a small analysis of the three shipped networks."""
        self.form.set_params(
            AnalysisParams(**{**PANEL_DEFAULTS, "P": 6, "M": 6, "eps": "0,0.2", "layers": "fc1"})
        )
        self.analyze()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.cancel_job()

    def _on_noise_slider(self, v: int) -> None:
        self.noise_label.setText(f"{v / 20:.2f}")
        self._noise_timer.start()

    def _apply_noise(self) -> None:
        level = self.noise_slider.value() / 20.0
        if self._snap is not None and level in self.noise_levels(self._snap):
            self._view_changed()  # analysed in the last run: show it, nothing to compute
            return
        p = self.form.params().replace(noise_scale=level, noise_levels="")
        self.form.set_params(p)
        if self.runner is not None and self.runner.state != "job":
            self.analyze()

    @staticmethod
    def noise_levels(snap: GeometrySnapshot) -> list[float]:
        """The noise levels of the stochastic net in the results."""
        return sorted({float(r["noise_scale"]) for r in snap.rows if r["model"] == "stochastic"})

    def shown_noise(self, snap: GeometrySnapshot) -> float | None:
        """The analysed level nearest to the slider (what the stochastic curves and 3-D view show)."""
        levels = self.noise_levels(snap)
        if not levels:
            return None
        v = self.noise_slider.value() / 20.0
        return min(levels, key=lambda x: (abs(x - v), x))

    def on_job_progress(self, progress) -> None:
        frac = progress.fraction
        if frac is not None:
            self.progress.setValue(int(1000 * frac))
        self.status.setText(progress.message)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        self.progress.setValue(1000 if completed else self.progress.value())
        self.status.setText("done" if completed else "stopped")

    # -- drawing -----------------------------------------------------------------
    def update_view(self, snap: GeometrySnapshot) -> None:
        self._snap = snap
        eps_vals = sorted({r["eps"] for r in snap.rows})
        if self.eps_slider.maximum() != max(len(eps_vals) - 1, 0):
            self.eps_slider.blockSignals(True)
            self.eps_slider.setRange(0, max(len(eps_vals) - 1, 0))
            self.eps_slider.setValue(max(len(eps_vals) - 1, 0))
            self.eps_slider.blockSignals(False)
        if len(snap.rows) != self._drawn_rows:
            self._draw_plots(snap, eps_vals)
            self._drawn_rows = len(snap.rows)
            self._drawn_key = None
        self._draw_scatter(snap, eps_vals)
        self._draw_imported(snap)

    def _view_changed(self, *_):
        if self._snap is not None:
            eps_vals = sorted({r["eps"] for r in self._snap.rows})
            self._drawn_key = None
            self._draw_plots(self._snap, eps_vals)
            self._draw_scatter(self._snap, eps_vals)

    def current_eps(self, eps_vals: list[float]) -> float | None:
        if not eps_vals:
            return None
        return eps_vals[min(self.eps_slider.value(), len(eps_vals) - 1)]

    def _draw_plots(self, snap: GeometrySnapshot, eps_vals: list[float]) -> None:
        layer = self.layer_box.currentText()
        eps_now = self.current_eps(eps_vals)
        self.eps_label.setText(f"eps {eps_now:g}" if eps_now is not None else "eps –")
        level = self.shown_noise(snap)
        self.noise_label.setText(
            f"{self.noise_slider.value() / 20:.2f}"
            + (
                f" (showing {level:g})"
                if level is not None and level != self.noise_slider.value() / 20
                else ""
            )
        )
        for kind in KINDS:
            mine = [r for r in snap.rows if r["model"] == kind]
            if kind == "stochastic" and level is not None:
                mine = [r for r in mine if float(r["noise_scale"]) == level]
            for metric in METRICS:
                xs, ys, sd = [], [], []
                for e in eps_vals:
                    sel = [r for r in mine if r["layer"] == layer and r["eps"] == e]
                    if sel:
                        m, s = _mean_sd(sel, metric)
                        xs.append(e), ys.append(m), sd.append(s)
                self._set(("eps", metric, kind), xs, ys, sd)
                xs, ys, sd = [], [], []
                for li, ln in enumerate(LAYERS):
                    sel = [r for r in mine if r["layer"] == ln and r["eps"] == eps_now]
                    if sel:
                        m, s = _mean_sd(sel, metric)
                        xs.append(li), ys.append(m), sd.append(s)
                self._set(("layer", metric, kind), xs, ys, sd)
            for axis, xs_all, pick in (
                ("eps", eps_vals, lambda r, x: r["layer"] == layer and r["eps"] == x),
                (
                    "layer",
                    list(range(len(LAYERS))),
                    lambda r, x: r["layer"] == LAYERS[x] and r["eps"] == eps_now,
                ),
            ):
                pts = [(x, [r["simcap"] for r in mine if "simcap" in r and pick(r, x)]) for x in xs_all]
                pts = [(x, float(np.mean(v))) for x, v in pts if v]
                self.curves[(axis, "simcap", kind)].setData([x for x, _ in pts], [y for _, y in pts])
            if kind == "stochastic" and any(len(k) == 3 for k in snap.accuracy):
                acc = sorted((k[1], a) for k, a in snap.accuracy.items() if len(k) == 3 and k[2] == level)
            else:
                acc = sorted((k[1], a) for k, a in snap.accuracy.items() if len(k) == 2 and k[0] == kind)
            self.curves[("eps", "accuracy", kind)].setData([e for e, _ in acc], [a for _, a in acc])

    def _set(self, key, xs, ys, sd) -> None:
        self.curves[key].setData(np.asarray(xs, float), np.asarray(ys, float))
        self.errbars[key].setData(
            x=np.asarray(xs, float), y=np.asarray(ys, float), height=2 * np.asarray(sd, float)
        )

    def _draw_scatter(self, snap: GeometrySnapshot, eps_vals: list[float]) -> None:
        level = self.shown_noise(snap)
        key = (self.layer_box.currentText(), self.current_eps(eps_vals), level)
        if key == self._drawn_key:
            return
        drew = False
        for kind in KINDS:
            emb = snap.embeddings.get((kind, *key[:2], level)) if kind == "stochastic" else None
            if emb is None:
                emb = snap.embeddings.get((kind, *key[:2]))
            if emb is None:
                continue
            self._draw_model(kind, emb)
            drew = True
        if not drew:
            return
        if self._drawn_key is None or self._drawn_key[0] != key[0]:
            self.views3d[KINDS[0]].camera.set_range(x=(-1, 1), y=(-1, 1), z=(-1, 1))
        self.canvas.update()
        self.points_drawn = sum(self.points_by_model.values())
        self._drawn_key = key

    def _draw_model(self, kind: str, emb) -> None:
        pos, col = self._pos_by_model[kind], self._col_by_model[kind]
        n = min(len(emb.points), MAX_POINTS)
        pts = np.asarray(emb.points[:n], np.float32)
        scale = float(np.abs(pts).max()) or 1.0
        pos[:n] = pts / scale
        pal = _palette(int(emb.manifold.max()) + 1 if n else 1)
        col[:n] = pal[emb.manifold[:n]]
        pert = np.asarray(emb.perturbed[:n], bool)
        for markers, idx, symbol, size in (
            (self.clean_markers[kind], np.nonzero(~pert)[0], "disc", 8),
            (self.pert_markers[kind], np.nonzero(pert)[0], "x", 9),
        ):
            if idx.size:
                markers.set_data(pos[idx], face_color=col[idx], edge_color=col[idx], size=size, symbol=symbol)
            else:
                markers.set_data(np.zeros((1, 3), np.float32), face_color=(0, 0, 0, 0), size=1)
        self.points_by_model[kind] = n

    # -- export ------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> None:
        if self.runner is None:
            return
        self.runner.call(lambda eng: eng.to_csv(path))

    def export_png(self, path: str | Path) -> None:
        img = self.canvas.render()
        from PySide6 import QtGui

        h, w = img.shape[:2]
        qimg = QtGui.QImage(np.ascontiguousarray(img).data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888)
        view = qimg.copy()
        plots = self.plots.grab().toImage()
        out = QtGui.QImage(
            view.width() + plots.width(), max(view.height(), plots.height()), QtGui.QImage.Format.Format_RGB32
        )
        out.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(out)
        painter.drawImage(0, 0, view)
        painter.drawImage(view.width(), 0, plots)
        painter.end()
        out.save(str(path))

    def export_csv_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export CSV", "geometry.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_png_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export PNG", "geometry.png", "PNG (*.png)")
        if path:
            self.export_png(path)

    # -- workspace ---------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        return {
            "layer": self.layer_box.currentText(),
            "eps_index": self.eps_slider.value(),
            "noise": self.noise_slider.value(),
        }

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        if state.get("layer") in LAYERS:
            self.layer_box.setCurrentText(state["layer"])
        self.noise_slider.blockSignals(True)
        self.noise_slider.setValue(int(state.get("noise", 20)))
        self.noise_label.setText(f"{self.noise_slider.value() / 20:.2f}")
        self.noise_slider.blockSignals(False)
