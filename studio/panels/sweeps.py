"""Sweeps: define a parameter sweep of any engine, run it on Dask, watch results arrive.

A thin view over :class:`engines.sweep.engine.SweepEngine`. On the left: the
sweep definition (TOML, from a template per kind or a file), the results
folder, where the points run (local workers or a Dask scheduler's address),
Run / Stop / Export, a progress bar (done, running, failed) and the link to
the Dask dashboard. On the right: a live heat map (metric against two swept
parameters, mean over seeds) or line plot (metric against one parameter, one
curve per value of a second), the table of results (failed points in red,
their traceback as tooltip), and every run of this session with its own
progress bar.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from engines.sweep.engine import SweepEngine, SweepParams, SweepSnapshot
from engines.sweep.kinds import get_kind, kind_names
from engines.sweep.model import SweepError
from studio.panels.base import Panel
from studio.widgets.paramform import ParamForm

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"
TEMPLATES = {
    "demo": "demo.toml",
    "spiking": "coba_ei.toml",
    "routing": "cvrp_solvers.toml",
    "geometry": "geometry_eps.toml",
}
NONE = "(none)"
MAX_TABLE_ROWS = 1000
MAX_CELLS = 40  # heat-map cells per axis; beyond, a scatter coloured by the metric


def template_text(kind: str) -> str:
    """A starting definition for ``kind``: the shipped example, else one built from its defaults."""
    name = TEMPLATES.get(kind)
    if name and (EXAMPLES / name).exists():
        return (EXAMPLES / name).read_text()
    k = get_kind(kind)
    numeric = [p for p, v in k.defaults.items() if isinstance(v, float)][:2]
    lines = ["[sweep]", f'name = "{kind}-sweep"', f'kind = "{kind}"', "seeds = 2", "", "[grid]"]
    for p in numeric:
        v = k.defaults[p] or 1.0
        lines.append(f"{p} = [{v * 0.5!r}, {v!r}, {v * 1.5!r}]")
    return "\n".join(lines) + "\n"


def codes(values: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(sorted unique values, their labels, the index of each value)."""
    if values.dtype == object:
        uniq, idx = np.unique(values.astype(str), return_inverse=True)
        return uniq, [str(u) for u in uniq], idx
    uniq, idx = np.unique(values, return_inverse=True)
    return uniq, [f"{u:.4g}" for u in uniq], idx


def _cell_means(xi: np.ndarray, yi: np.ndarray, m: np.ndarray, nx: int, ny: int) -> np.ndarray:
    good = np.isfinite(m)
    s = np.zeros((nx, ny))
    c = np.zeros((nx, ny))
    np.add.at(s, (xi[good], yi[good]), m[good])
    np.add.at(c, (xi[good], yi[good]), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


class SweepsPanel(Panel):
    name = "sweeps"
    title = "Sweeps"
    engine_type = SweepEngine
    steppable = False  # a sweep runs as a job: Run starts it, Step has nothing to do

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._snap: SweepSnapshot | None = None
        self._plot_key: tuple | None = None
        self._table_version = -1
        self._axes_for: tuple = ()
        self._source = "<editor>"
        self._run_bars: list[QtWidgets.QProgressBar] = []

        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        outer.addWidget(split)

        # -- definition and launch ----------------------------------------------
        side = QtWidgets.QWidget()
        side.setMinimumWidth(320)
        lay = QtWidgets.QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 4, 0)
        row = QtWidgets.QHBoxLayout()
        self.kind_box = QtWidgets.QComboBox()
        self.kind_box.setObjectName("SweepKind")
        self.kind_box.addItems(kind_names())
        self.kind_box.setToolTip("Kind of point: which engine each point runs")
        row.addWidget(self.kind_box, 1)
        self.template_button = QtWidgets.QPushButton("Template")
        self.template_button.setToolTip("Replace the definition with a starting sweep of this kind")
        self.template_button.clicked.connect(lambda: self.use_template(self.kind_box.currentText()))
        row.addWidget(self.template_button)
        self.open_button = QtWidgets.QPushButton("Open…")
        self.open_button.clicked.connect(self.open_dialog)
        row.addWidget(self.open_button)
        self.save_button = QtWidgets.QPushButton("Save…")
        self.save_button.clicked.connect(self.save_dialog)
        row.addWidget(self.save_button)
        lay.addLayout(row)

        self.editor = QtWidgets.QPlainTextEdit()
        self.editor.setObjectName("SweepEditor")
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.editor.setFont(font)
        self.editor.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setToolTip(
            "The sweep in TOML: [sweep] kind, seeds, metrics; [fixed] values; [grid] lists or "
            "{start, stop, num[, log]}; [sample] method = random|lhs|sobol|halton, n, [sample.ranges]"
        )
        lay.addWidget(self.editor, 1)
        self.check_label = QtWidgets.QLabel("")
        self.check_label.setObjectName("SweepCheck")
        self.check_label.setWordWrap(True)
        lay.addWidget(self.check_label)
        self._check_timer = QtCore.QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(400)
        self._check_timer.timeout.connect(self.check_text)
        self.editor.textChanged.connect(self._check_timer.start)

        out_row = QtWidgets.QHBoxLayout()
        out_row.addWidget(QtWidgets.QLabel("Results"))
        self.out_edit = QtWidgets.QLineEdit()
        self.out_edit.setObjectName("SweepOut")
        self.out_edit.setPlaceholderText("folder (default: next to the sweep file, or the sweeps folder)")
        out_row.addWidget(self.out_edit, 1)
        browse = QtWidgets.QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._browse_out)
        out_row.addWidget(browse)
        lay.addLayout(out_row)

        self.form = ParamForm(SweepParams())
        lay.addWidget(self.form)

        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setObjectName("SweepRun")
        self.run_button.setToolTip("Run the points not yet in the results folder")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.export_button = QtWidgets.QPushButton("Export…")
        self.export_button.clicked.connect(self.export_dialog)
        for b in (self.run_button, self.stop_button, self.export_button):
            row.addWidget(b)
        lay.addLayout(row)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("SweepProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("no sweep")
        lay.addWidget(self.progress)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("SweepStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.dashboard = QtWidgets.QLabel("")
        self.dashboard.setObjectName("SweepDashboard")
        self.dashboard.setOpenExternalLinks(True)
        self.dashboard.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        lay.addWidget(self.dashboard)
        split.addWidget(side)

        # -- results ----------------------------------------------------------------
        self.tabs = QtWidgets.QTabWidget()
        plot_page = QtWidgets.QWidget()
        pl = QtWidgets.QVBoxLayout(plot_page)
        pl.setContentsMargins(0, 0, 0, 0)
        ctl = QtWidgets.QHBoxLayout()
        self.metric_box = QtWidgets.QComboBox()
        self.x_box = QtWidgets.QComboBox()
        self.y_box = QtWidgets.QComboBox()
        for label, box in (("Metric", self.metric_box), ("X", self.x_box), ("Y / curves", self.y_box)):
            ctl.addWidget(QtWidgets.QLabel(label))
            box.setMinimumContentsLength(10)
            box.currentIndexChanged.connect(self._replot)
            ctl.addWidget(box, 1)
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.addItems(["heat map", "lines"])
        self.mode_box.setToolTip("With a Y parameter: a heat map of X x Y, or one curve per Y value")
        self.mode_box.currentIndexChanged.connect(self._replot)
        ctl.addWidget(self.mode_box)
        pl.addLayout(ctl)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("SweepPlot")
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot_item = self.plot.getPlotItem()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.cmap = pg.colormap.get("viridis")
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=self.cmap, interactive=False, pen="k")
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.scatter = pg.ScatterPlotItem(size=7, pen=None)
        self.plot_item.addItem(self.scatter)
        self.curves: list[pg.PlotDataItem] = []
        self.legend = self.plot_item.addLegend(offset=(10, 10))
        pl.addWidget(self.plot, 1)
        self.tabs.addTab(plot_page, "Plot")

        self.table = QtWidgets.QTableWidget(0, 0)
        self.table.setObjectName("SweepTable")
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(False)
        self.tabs.addTab(self.table, "Table")

        self.runs = QtWidgets.QTreeWidget()
        self.runs.setObjectName("SweepRuns")
        self.runs.setHeaderLabels(["Sweep", "Progress", "Done", "Failed", "State", "Results"])
        self.runs.setRootIsDecorated(False)
        self.tabs.addTab(self.runs, "Runs")
        self.kind_help = QtWidgets.QTextBrowser()
        self.kind_help.setObjectName("SweepKindHelp")
        self.tabs.addTab(self.kind_help, "Parameters")
        self.kind_box.currentTextChanged.connect(self._show_kind_help)
        self.tabs.currentChanged.connect(lambda _i: self._redraw_current())
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 3)
        split.setSizes([420, 980])

        self.use_template("demo")
        self._show_kind_help(self.kind_box.currentText())

    # ------------------------------------------------------------------
    # definition
    # ------------------------------------------------------------------
    def _show_kind_help(self, kind: str) -> None:
        """List the parameters (with defaults) and metrics of ``kind`` in the Parameters tab."""
        import html

        try:
            k = get_kind(kind)
        except ValueError as e:
            self.kind_help.setHtml(f"<p>{html.escape(str(e))}</p>")
            return
        rows = "".join(
            f"<tr><td><tt>{html.escape(p)}</tt></td><td><tt>{html.escape(repr(v))}</tt></td>"
            f"<td>{html.escape(k.docs.get(p, ''))}</td></tr>"
            for p, v in k.defaults.items()
        )
        self.kind_help.setHtml(
            f'<h3>{html.escape(k.title)} (<tt>kind = "{kind}"</tt>)</h3>'
            f"<p><b>Metrics:</b> {', '.join(k.metrics)}</p>"
            "<p>Any parameter below may go in <tt>[fixed]</tt>, <tt>[grid]</tt> or "
            "<tt>[sample.ranges]</tt>; the others keep their default.</p>"
            f"<table cellspacing=4><tr><th align=left>parameter</th><th align=left>default</th>"
            f"<th align=left>meaning</th></tr>{rows}</table>"
        )

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    def use_template(self, kind: str) -> None:
        try:
            text = template_text(kind)
        except ValueError as e:
            self.show_error(str(e))
            return
        self.editor.setPlainText(text)
        self._source = "<editor>"
        if self.kind_box.currentText() != kind:
            self.kind_box.setCurrentText(kind)

    def check_text(self) -> bool:
        """Validate the editor's text as it is typed: the number of points, or the error."""
        from engines.sweep.model import parse_sweep_toml, sweep_from_dict

        try:
            data = parse_sweep_toml(self.editor.toPlainText(), self._source)
            spec = sweep_from_dict(data, source=self._source)
        except (SweepError, ValueError) as e:
            import html

            self.check_label.setText(f'<span style="color:#c03030">{html.escape(str(e))}</span>')
            return False
        self.check_label.setText(
            f'<span style="color:#2a8a2a">✓ {spec.n_points()} points of kind {spec.kind}</span>'
        )
        return True

    def open_file(self, path: str | Path) -> bool:
        from engines.serialize import read_text_bounded
        from engines.sweep.model import MAX_SWEEP_BYTES

        p = Path(path)
        try:
            text = read_text_bounded(p, str(p), max_bytes=MAX_SWEEP_BYTES, error=SweepError)
        except (OSError, SweepError) as e:
            self.show_error(f"{p}: {e}" if isinstance(e, OSError) else str(e))
            return False
        self.editor.setPlainText(text)
        self._source = str(p)
        self.out_edit.clear()
        if self.runner is not None:
            return self.apply()
        return True

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open sweep", str(EXAMPLES), "Sweeps (*.toml);;All files (*)"
        )
        if path:
            self.open_file(path)

    def save_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save sweep", "sweep.toml", "Sweeps (*.toml)")
        if path:
            Path(path).write_text(self.editor.toPlainText())
            self._source = path

    def _browse_out(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Results folder")
        if path:
            self.out_edit.setText(path)

    def apply(self) -> bool:
        """Validate the editor's definition and give it to the engine (errors in the banner)."""
        text = self.editor.toPlainText()
        out = self.out_edit.text().strip() or None
        source = self._source
        try:
            self.runner.call(lambda e: e.set_text(text, source=source, out=out))
        except (SweepError, ValueError) as e:
            self.show_error(str(e))
            return False
        self.clear_error()
        self.runner.refresh()
        return True

    # ------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------
    def on_attached(self) -> None:
        self.form.params_changed.connect(self.runner.set_params)
        self.form.set_params(self.runner.engine.params)

    def run(self) -> bool:
        if self.runner.state == "job":
            self.show_error("a sweep is already running: stop it first")
            return False
        if not self.apply():
            return False
        self.runner.set_params(self.form.params())
        return self.runner.run_job(lambda e: e.sweep_job())

    def stop(self) -> None:
        if self.runner is not None and self.runner.state == "job":
            self.runner.cancel_job()

    def run_or_pause(self) -> None:
        """The toolbar's Run (Space) runs the sweep, and stops it while it runs."""
        if self.runner.state == "job":
            self.stop()
        else:
            self.run()

    def start_demo(self) -> None:
        """The demo sweep (20 points) in this process, into a temporary folder."""
        self.use_template("demo")
        self.out_edit.setText(str(Path(tempfile.mkdtemp(prefix="sweep-demo-")) / "demo.parquet"))
        self.form.set_params(SweepParams(workers=0))
        self.run()

    def export(self, path: str | Path) -> int:
        from engines.sweep.store import export_results

        out = self.runner.call(lambda e: e.out)
        if out is None or not Path(out).exists():
            raise SweepError("nothing to export: run a sweep first")
        return export_results(out, path)

    def export_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export results", "results.csv", "CSV (*.csv);;Parquet (*.parquet);;JSON lines (*.jsonl)"
        )
        if path:
            try:
                n = self.export(path)
            except (SweepError, ValueError, OSError) as e:
                self.show_error(str(e))
                return
            self.status.setText(f"{n} rows exported to {path}")

    def on_job_finished(self, result: Any, completed: bool) -> None:
        if result is not None and getattr(result, "failed", 0):
            self.show_error(
                f"{result.failed} point(s) failed: see the Table tab (red rows, traceback as tooltip)"
            )

    # ------------------------------------------------------------------
    # drawing
    # ------------------------------------------------------------------
    def update_view(self, snapshot: Any) -> None:
        s: SweepSnapshot = snapshot
        self._snap = s
        self._draw_status(s)
        if (s.swept, s.metrics) != self._axes_for:
            self._set_axes(s)
        self._redraw_current()

    def _redraw_current(self) -> None:
        s = self._snap
        if s is None:
            return
        page = self.tabs.currentIndex()
        if page == 0:
            self._draw_plot(s)
        elif page == 1 and self._table_version != s.version:
            self._draw_table(s)
        elif page == 2:
            self._draw_runs(s)

    def _replot(self) -> None:
        self._plot_key = None
        if self._snap is not None:
            self._draw_plot(self._snap)

    def _draw_status(self, s: SweepSnapshot) -> None:
        st = s.status
        if s.total == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("no sweep")
            self.status.setText("")
        else:
            self.progress.setRange(0, s.total)
            self.progress.setValue(s.finished)
            self.progress.setFormat(f"{s.finished}/{s.total} points  (%p%)")
            text = f"<b>{s.name}</b> ({s.kind}): {s.ok} ok, {s.failed_total} failed"
            if s.state == "running" and st is not None:
                text += f", {st.running} running, {st.pending - st.running} queued"
                if st.skipped:
                    text += f"; {st.skipped} done before"
                text += f"; {st.elapsed_s:.1f} s"
            elif s.state != "idle":
                text += f" — {s.state}"
            text += f"<br><small>{s.out}</small>"
            self.status.setText(text)
        if s.dashboard and s.state == "running":  # the cluster (and its dashboard) ends with the run
            self.dashboard.setText(f'Dask dashboard: <a href="{s.dashboard}">{s.dashboard}</a>')
        elif s.state == "running" and st is not None and st.workers:
            p = self.form.params()
            if p.workers == 0 and not p.scheduler.strip():
                self.dashboard.setText("points run in the studio's process, one after the other")
            else:
                self.dashboard.setText(
                    f"{st.workers} Dask worker thread(s); no dashboard (it needs the bokeh package)"
                )
        else:
            self.dashboard.setText("")

    def _set_axes(self, s: SweepSnapshot) -> None:
        self._axes_for = (s.swept, s.metrics)
        for box in (self.metric_box, self.x_box, self.y_box):
            box.blockSignals(True)
            box.clear()
        self.metric_box.addItems(list(s.metrics))
        self.x_box.addItems(list(s.swept))
        self.y_box.addItem(NONE)
        self.y_box.addItems(list(s.swept))
        if len(s.swept) >= 2:
            self.y_box.setCurrentIndex(2)
        pending = getattr(self, "_pending_axes", None)
        if pending:
            for box, text in zip((self.metric_box, self.x_box, self.y_box), pending):
                if text and box.findText(text) >= 0:
                    box.setCurrentText(text)
            self._pending_axes = None
        for box in (self.metric_box, self.x_box, self.y_box):
            box.blockSignals(False)
        self._plot_key = None

    def _clear_plot(self) -> None:
        self.image.clear()
        self.image.hide()
        self.colorbar.hide()
        self.scatter.clear()
        for c in self.curves:
            c.setData([], [])
            c.hide()
        self.legend.clear()

    def _curve(self, k: int) -> pg.PlotDataItem:
        while len(self.curves) <= k:
            colour = pg.intColor(len(self.curves), hues=9, values=1, maxValue=200)
            c = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour)
            self.plot_item.addItem(c)
            self.curves.append(c)
        return self.curves[k]

    def _draw_plot(self, s: SweepSnapshot) -> None:
        metric, xname, yname = (
            self.metric_box.currentText(),
            self.x_box.currentText(),
            self.y_box.currentText(),
        )
        mode = self.mode_box.currentText()
        key = (s.version, metric, xname, yname, mode)
        if key == self._plot_key:
            return
        self._plot_key = key
        self._clear_plot()
        cols = s.columns
        if not metric or not xname or metric not in cols or xname not in cols:
            return
        ok = cols["status"] == "ok"
        if not ok.any():
            return
        m = cols[metric][ok].astype(float)
        xv, xl, xi = codes(cols[xname][ok])
        numeric_x = cols[xname].dtype != object
        ax_b, ax_l = self.plot_item.getAxis("bottom"), self.plot_item.getAxis("left")
        ax_b.setLabel(xname)
        use_y = yname != NONE and yname != xname and yname in cols
        if use_y:
            yv, yl, yi = codes(cols[yname][ok])
        if use_y and mode == "heat map" and len(xv) <= MAX_CELLS and len(yv) <= MAX_CELLS:
            grid = _cell_means(xi, yi, m, len(xv), len(yv))
            finite = grid[np.isfinite(grid)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if hi <= lo:
                hi = lo + 1e-12
            self.image.setImage(grid.T, autoLevels=False, levels=(lo, hi))
            self.image.setColorMap(self.cmap)
            self.image.setRect(QtCore.QRectF(0, 0, len(xv), len(yv)))
            self.image.show()
            self.colorbar.setLevels((lo, hi))
            self.colorbar.show()
            ax_b.setTicks([[(i + 0.5, t) for i, t in enumerate(xl)]])
            ax_l.setTicks([[(j + 0.5, t) for j, t in enumerate(yl)]])
            ax_l.setLabel(yname)
            self.plot_item.setTitle(f"{metric} (mean over seeds)")
            self.plot_item.autoRange()
            return
        if use_y and mode == "heat map":  # too many distinct values: scatter coloured by the metric
            x = cols[xname][ok].astype(float) if numeric_x else xi.astype(float)
            y = cols[yname][ok].astype(float) if cols[yname].dtype != object else yi.astype(float)
            good = np.isfinite(m)
            lo, hi = (float(m[good].min()), float(m[good].max())) if good.any() else (0.0, 1.0)
            t = (m - lo) / max(hi - lo, 1e-12)
            brushes = [
                pg.mkBrush(self.cmap.map(float(v) if math.isfinite(v) else 0.0, mode="qcolor")) for v in t
            ]
            self.scatter.setData(x=x, y=y, brush=brushes)
            ax_b.setTicks(None if numeric_x else [[(i, lab) for i, lab in enumerate(xl)]])
            ax_l.setTicks(None if cols[yname].dtype != object else [[(j, lab) for j, lab in enumerate(yl)]])
            ax_l.setLabel(yname)
            self.colorbar.setLevels((lo, hi if hi > lo else lo + 1e-12))
            self.colorbar.show()
            self.plot_item.setTitle(f"{metric}")
            self.plot_item.autoRange()
            return
        # lines: mean over seeds against X, one curve per Y value (at most 9)
        ax_l.setTicks(None)
        ax_l.setLabel(metric)
        ax_b.setTicks(None if numeric_x else [[(i, lab) for i, lab in enumerate(xl)]])
        xpos = xv.astype(float) if numeric_x else np.arange(len(xv), dtype=float)
        groups = [(None, np.ones(len(m), bool))]
        if use_y:
            groups = [(yl[j], yi == j) for j in range(min(len(yl), 9))]
        for k, (label, sel) in enumerate(groups):
            grid = _cell_means(xi[sel], np.zeros(int(sel.sum()), int), m[sel], len(xv), 1)[:, 0]
            have = np.isfinite(grid)
            c = self._curve(k)
            c.setData(xpos[have], grid[have])
            c.show()
            if label is not None:
                self.legend.addItem(c, f"{yname} = {label}")
        if not use_y:  # every seed as a dot
            x = xpos[xi]
            self.scatter.setData(x=x, y=m, brush=pg.mkBrush(80, 80, 200, 90))
        self.plot_item.setTitle(f"{metric} (mean over seeds)")
        self.plot_item.autoRange()

    def _draw_table(self, s: SweepSnapshot) -> None:
        self._table_version = s.version
        cols = s.columns
        names = ["status", *s.swept, "seed", *s.metrics, "elapsed_s", "point_id"]
        names = [n for n in names if n in cols]
        n = len(cols.get("status", ()))
        start = max(0, n - MAX_TABLE_ROWS)
        self.table.setUpdatesEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(names))
        self.table.setHorizontalHeaderLabels(names)
        self.table.setRowCount(n - start)
        errors = dict(s.errors)
        red = QtGui.QBrush(QtGui.QColor(230, 90, 90))
        for r in range(start, n):
            failed = cols["status"][r] == "failed"
            for c, name in enumerate(names):
                v = cols[name][r]
                text = (
                    f"{v:.6g}" if isinstance(v, float) and math.isfinite(v) else ("" if v is None else str(v))
                )
                if isinstance(v, float) and not math.isfinite(v):
                    text = ""
                item = QtWidgets.QTableWidgetItem(text)
                if failed:
                    item.setForeground(red)
                    tb = errors.get(cols["point_id"][r])
                    if tb:
                        item.setToolTip(tb[-2000:])
                self.table.setItem(r - start, c, item)
        self.table.setUpdatesEnabled(True)

    def _draw_runs(self, s: SweepSnapshot) -> None:
        records = list(s.history)
        live = s.state == "running" and s.status is not None
        rows = len(records) + (1 if live else 0)
        while self.runs.topLevelItemCount() < rows:
            item = QtWidgets.QTreeWidgetItem(self.runs)
            bar = QtWidgets.QProgressBar()
            bar.setMaximumHeight(16)
            self.runs.setItemWidget(item, 1, bar)
            self._run_bars.append(bar)
        entries = [(r.name, r.to_run, r.done, r.failed, r.state, r.out) for r in records]
        if live:
            st = s.status
            entries.append((s.name, st.to_run, st.done, st.failed, f"running ({st.running})", s.out))
        for k, (name, to_run, done, failed, state, out) in enumerate(entries):
            item = self.runs.topLevelItem(k)
            item.setText(0, name)
            item.setText(2, f"{done}/{to_run}")
            item.setText(3, str(failed))
            item.setText(4, state)
            item.setText(5, out)
            bar = self._run_bars[k]
            bar.setRange(0, max(1, to_run))
            bar.setValue(done)
            bar.setFormat(f"{done}/{to_run} ({failed} failed)")

    # ------------------------------------------------------------------
    # workspace
    # ------------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        return {
            "text": self.editor.toPlainText(),
            "source": self._source,
            "out": self.out_edit.text(),
            "metric": self.metric_box.currentText(),
            "x": self.x_box.currentText(),
            "y": self.y_box.currentText(),
            "mode": self.mode_box.currentText(),
            "tab": self.tabs.currentIndex(),
        }

    def on_params_restored(self, params: SweepParams) -> None:
        self.form.set_params(params)

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        if state.get("text"):
            self.editor.setPlainText(str(state["text"]))
        self._source = str(state.get("source") or "<editor>")
        self.out_edit.setText(str(state.get("out") or ""))
        for box, key in ((self.mode_box, "mode"),):
            if state.get(key):
                box.setCurrentText(str(state[key]))
        self.tabs.setCurrentIndex(int(state.get("tab", 0) or 0))
        self._pending_axes = (state.get("metric"), state.get("x"), state.get("y"))
