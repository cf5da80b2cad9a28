"""The Population geometry panel: wires the controls, the 3-D views, the curves and the Imported tab.

A thin view over :class:`engines.geometry.engine.GeometryEngine`. Left: the
analysis parameters (models, manifold kind, layers, eps list, attack, noise),
Analyze / Stop, a noise-scale slider that shows an analysed noise level at
once (the noise levels field analyses several in one run) or recomputes in
the background, and the view selectors (layer, eps). Centre: one vispy canvas
per model, laid out near-square (linked turntable cameras, fitted to the data,
"Reset camera" or R), each a 3-D scatter of the chosen layer (PCA to 3-D) with
labelled PC axes: one colour per manifold (legend beside them), clean points
as discs and perturbed points as crosses, freely rotatable. Right:
capacity, radius and dimension against eps (one line per model, error bars
over seeds), the same against layer at the chosen eps, and accuracy against
eps. CSV and PNG export. "Import activations…" reads the user's own
activations (.npz, .npy, .h5: a P x M x N array, or features with labels),
analyses them in the background with the same kappa and n_t, and lists them
in the "Imported" tab (a table of capacity, radius, dimension, center
correlation, K, PR, EVD90, P, M, N, and a 3-D PCA view of the file's
manifolds); they go into the CSV export too. ``python -m engines geometry
activations`` writes such a file from a shipped network.

Results appear as each layer is measured; until then every view says what will
appear there (an :class:`~studio.theme.EmptyHint`).

What is drawn comes from snapshots (the curves from :mod:`engines.geometry.curves`);
the engine is reached only through the runner's asynchronous commands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from engines.geometry.curves import eps_values, nearest_level, noise_levels
from engines.geometry.engine import GeometryEngine, GeometrySnapshot
from engines.geometry.io import load_activations, rows_to_csv
from engines.geometry.mftma import check_manifolds
from engines.geometry.models import LAYERS
from engines.geometry.params import AnalysisParams
from studio import theme
from studio.panels.base import Panel
from studio.panels.geometry.controls import NOISE_STEPS, PANEL_DEFAULTS, Controls
from studio.panels.geometry.imported import ImportedTab
from studio.panels.geometry.plots import CurvePlots
from studio.panels.geometry.views3d import ModelViews
from studio.runner import RunnerState

NETWORKS_TAB, IMPORTED_TAB = 0, 1
#: the demo's layers: enough for the layer plots to draw lines, few enough to finish in seconds
#: (fc1, the layer the 3-D views show, first: it appears in seconds)
DEMO_LAYERS = "fc1,conv3,conv2"


class GeometryPanel(Panel[GeometrySnapshot]):
    name = "geometry"
    title = "Population geometry"
    engine_type = GeometryEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._snap: GeometrySnapshot | None = None
        self._drawn_rows = -1
        self.controls = Controls()
        self.views = ModelViews(self)
        self.plots = CurvePlots()
        self.imported = ImportedTab()
        self.right_tabs = QtWidgets.QTabWidget()
        self.right_tabs.addTab(self.plots, "Networks")
        self.right_tabs.addTab(self.imported, "Imported")
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self.views)
        split.addWidget(self.right_tabs)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 5)
        split.setSizes([400, 500])
        self.splitter = split
        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.controls)
        outer.addWidget(split, 1)
        self._expose_children()
        self._connect()

    def _expose_children(self) -> None:
        """The areas' parts under the names scripts and tests use."""
        self.form = self.controls.form
        self.analyze_button = self.controls.analyze_button
        self.stop_button = self.controls.stop_button
        self.progress = self.controls.progress
        self.status = self.controls.status
        self.noise_slider = self.controls.noise_slider
        self.noise_label = self.controls.noise_label
        self.layer_box = self.controls.layer_box
        self.eps_slider = self.controls.eps_slider
        self.eps_label = self.controls.eps_label
        self.csv_button = self.controls.csv_button
        self.png_button = self.controls.png_button
        self.import_button = self.controls.import_button
        self.canvas = self.views.canvas
        self.points_by_model = self.views.points_by_model
        self.curves = self.plots.curves
        self.errbars = self.plots.errbars
        self.plot_items = self.plots.plot_items
        self.import_table = self.imported.table
        self.import_canvas = self.imported.canvas

    def _connect(self) -> None:
        self.form.params_changed.connect(self._on_params)
        self.analyze_button.clicked.connect(self.analyze)
        self.stop_button.clicked.connect(self.stop)
        self._noise_timer = QtCore.QTimer(self)
        self._noise_timer.setSingleShot(True)
        self._noise_timer.setInterval(400)
        self._noise_timer.timeout.connect(self._apply_noise)
        self.noise_slider.valueChanged.connect(self._on_noise_slider)
        self.layer_box.currentIndexChanged.connect(self._view_changed)
        self.eps_slider.valueChanged.connect(self._view_changed)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.png_button.clicked.connect(self.export_png_dialog)
        self.import_button.clicked.connect(self.import_dialog)
        self.imported.import_button.clicked.connect(self.import_dialog)
        self.imported.import_button.setToolTip(self.import_button.toolTip())

    @property
    def points_drawn(self) -> int:
        return self.views.points_drawn

    @property
    def imported_points_drawn(self) -> int:
        return self.imported.points_drawn

    # -- engine ------------------------------------------------------------------
    def create_engine(self, params: AnalysisParams | None = None, seed: int = 0) -> GeometryEngine:
        params = params or self.form.params()
        self.form.set_params(params)  # the form shows what the engine starts with
        return GeometryEngine(params, seed=seed)

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
            AnalysisParams(**{**PANEL_DEFAULTS, "P": 6, "M": 6, "eps": "0,0.2", "layers": DEMO_LAYERS})
        )
        self.analyze()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.cancel_job()

    def _on_noise_slider(self, _v: int) -> None:
        self.controls.show_noise()
        self._noise_timer.start()

    def _apply_noise(self) -> None:
        level = self.controls.noise()
        if self._snap is not None and level in self.noise_levels(self._snap):
            self._view_changed()  # analysed in the last run: show it, nothing to compute
            return
        self.form.set_params(self.form.params().replace(noise_scale=level, noise_levels=""))
        if self.runner is not None and self.runner.state != RunnerState.JOB:
            self.analyze()

    @staticmethod
    def noise_levels(snap: GeometrySnapshot) -> list[float]:
        """The noise levels of the stochastic net in the results."""
        return noise_levels(snap.rows)

    def shown_noise(self, snap: GeometrySnapshot) -> float | None:
        """The analysed level nearest to the slider (what the stochastic curves and 3-D view show)."""
        return nearest_level(self.noise_levels(snap), self.controls.noise())

    def planned_eps(self) -> tuple[float, ...]:
        """The eps grid of the analysis in the form (empty while the form's eps list is not valid)."""
        try:
            return self.form.params().eps_list
        except (ValueError, TypeError):
            return ()

    def current_eps(self, eps_vals: list[float]) -> float | None:
        return self.controls.current_eps(eps_vals)

    def on_job_progress(self, progress) -> None:
        if progress.fraction is not None:
            self.progress.setValue(int(1000 * progress.fraction))
        self.status.setText(progress.message)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        self.progress.setValue(1000 if completed else self.progress.value())
        self.status.setText("done" if completed else "stopped")
        self._view_changed()  # a view still missing now says how to get it, not that it is coming

    # -- import --------------------------------------------------------------------
    def import_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Import activations", "", "Activations (*.npz *.npy *.h5 *.hdf5);;All files (*)"
        )
        if path:
            self.import_activations(path)

    def import_activations(self, path: str | Path) -> bool:
        """Read ``path`` now (a bad file is reported here and changes nothing), analyse it in the background."""
        if self.runner is None:
            return False
        try:
            manifolds = load_activations(path)
        except (OSError, ValueError) as e:  # FormatError is a ValueError
            self.show_error(f"Import activations: {e}")
            return False
        return self.analyse_activations({Path(path).name: manifolds})

    def analyse_activations(self, sets: Mapping[str, Sequence[np.ndarray]]) -> bool:
        """Analyse named sets of manifolds (``{name: P arrays (M_i, N)}``, from a file or another
        workbench) in the background: one row each in the Imported tab, as an imported file."""
        if self.runner is None or not sets:
            return False
        try:
            checked = {str(name): check_manifolds(m) for name, m in sets.items()}
        except ValueError as e:
            self.show_error(f"Analyse activations: {e}")
            return False
        self.clear_error()
        self.runner.set_params(self.form.params())
        self.progress.setValue(0)
        first = next(iter(checked))
        self.status.setText(f"analysing {first}…" if len(checked) == 1 else f"analysing {len(checked)} sets…")
        self.right_tabs.setCurrentIndex(IMPORTED_TAB)
        return self.runner.run_job(lambda eng: eng.import_sets_job(checked))

    # -- drawing -----------------------------------------------------------------
    def update_view(self, snap: GeometrySnapshot) -> None:
        self._snap = snap
        eps_vals = eps_values(snap.rows)
        self.controls.set_eps_count(len(eps_vals))
        if len(snap.rows) != self._drawn_rows:
            self._draw_plots(snap, eps_vals)
            self._drawn_rows = len(snap.rows)
            self.views.invalidate()
        self._draw_scatter(snap, eps_vals)
        self.imported.draw(snap.imported, snap.imported_embeddings)

    def _view_changed(self, *_) -> None:
        if self._snap is not None:
            eps_vals = eps_values(self._snap.rows)
            self.views.invalidate()
            self._draw_plots(self._snap, eps_vals)
            self._draw_scatter(self._snap, eps_vals)

    def _draw_plots(self, snap: GeometrySnapshot, eps_vals: list[float]) -> None:
        eps_now = self.current_eps(eps_vals)
        self.eps_label.setText(f"eps {eps_now:g}" if eps_now is not None else "eps –")
        level = self.shown_noise(snap)
        self.controls.show_noise(level)
        self.plots.draw(snap.rows, snap.accuracy, self.layer_box.currentText(), eps_vals, eps_now, level)
        self.plots.set_eps_axis([*eps_vals, *self.planned_eps()])

    def _draw_scatter(self, snap: GeometrySnapshot, eps_vals: list[float]) -> None:
        layer, eps = self.layer_box.currentText(), self.current_eps(eps_vals)
        measuring = self.runner is not None and self.runner.state == RunnerState.JOB
        self.views.draw(snap.embeddings, layer, eps, self.shown_noise(snap), measuring)

    # -- export ------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> None:
        """The result rows and the imported ones, from the newest snapshot, as CSV."""
        snap = self.runner.latest() if self.runner is not None else None
        if snap is None:
            return
        rows_to_csv(list(snap.rows) + list(snap.imported), path)

    def export_png(self, path: str | Path) -> None:
        """The 3-D views and the plots side by side, as one image."""
        img = self.views.render()
        h, w = img.shape[:2]
        qimg = QtGui.QImage(np.ascontiguousarray(img).data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888)
        view = qimg.copy()
        plots = self.plots.grab().toImage()
        out = QtGui.QImage(
            view.width() + plots.width(), max(view.height(), plots.height()), QtGui.QImage.Format.Format_RGB32
        )
        out.fill(theme.current().qcolor("background"))
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
        self.noise_slider.setValue(int(state.get("noise", NOISE_STEPS)))
        self.controls.show_noise()
        self.noise_slider.blockSignals(False)
