"""The Sweeps panel: wires the definition, launch, plot, table, runs and kind-help areas to the sweep engine.

A thin view over :class:`engines.sweep.engine.SweepEngine`. On the left: the
sweep definition (TOML, from a template per kind or a file), the results
folder, where the points run (local workers or a Dask scheduler's address),
Run / Stop / Export, a progress bar (done, running, failed) and the link to
the Dask dashboard. On the right: a live heat map (metric against two swept
parameters, mean over seeds) or line plot (metric against one parameter, one
curve per value of a second), the table of results (failed points in red,
their traceback as tooltip), and every run of this session with its own
progress bar.

The definition is checked on the GUI thread (a pure function of the text);
the engine receives it through ``runner.submit`` and the job through
``runner.run_job``: no slot waits for the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from engines.sweep.engine import SweepEngine, SweepSnapshot
from engines.sweep.io import export_results, read_sweep_text, remove_results, sweeps_dir, write_sweep_text
from engines.sweep.model import SweepError, SweepSpec, sweep_from_text
from engines.sweep.params import SweepParams
from engines.sweep.templates import EXAMPLES, demo_text, template_text
from studio.panels.base import Panel
from studio.panels.sweeps.definition import DefinitionEditor
from studio.panels.sweeps.kind_help import KindHelp
from studio.panels.sweeps.launch import LaunchBox
from studio.panels.sweeps.plot import ResultsPlot
from studio.panels.sweeps.runs import RunsTree
from studio.panels.sweeps.table import ResultsTable
from studio.runner import RunnerState

PLOT_TAB, TABLE_TAB, RUNS_TAB = 0, 1, 2


class SweepsPanel(Panel[SweepSnapshot]):
    name = "sweeps"
    title = "Sweeps"
    engine_type = SweepEngine
    steppable = False  # a sweep runs as a job: Run starts it, Step has nothing to do

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._snap: SweepSnapshot | None = None
        self._source = "<editor>"
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(split)
        split.addWidget(self._build_side())
        split.addWidget(self._build_tabs())
        split.setStretchFactor(1, 3)
        split.setSizes([420, 980])
        self._expose_children()
        self._connect()
        self.use_template("demo")
        self.kind_help.show_kind(self.kind_box.currentText())

    def _build_side(self) -> QtWidgets.QWidget:
        side = QtWidgets.QWidget()
        side.setMinimumWidth(320)
        lay = QtWidgets.QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 4, 0)
        self.definition = DefinitionEditor()
        self.launch = LaunchBox()
        lay.addWidget(self.definition, 1)
        lay.addWidget(self.launch)
        return side

    def _build_tabs(self) -> QtWidgets.QTabWidget:
        self.tabs = QtWidgets.QTabWidget()
        self.results_plot = ResultsPlot()
        self.table = ResultsTable()
        self.runs = RunsTree()
        self.kind_help = KindHelp()
        self.tabs.addTab(self.results_plot, "Plot")
        self.tabs.addTab(self.table, "Table")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.kind_help, "Parameters")
        return self.tabs

    def _expose_children(self) -> None:
        """The areas' controls under the names scripts and tests use."""
        self.kind_box = self.definition.kind_box
        self.editor = self.definition.editor
        self.check_label = self.definition.check_label
        self.out_edit = self.definition.out_edit
        self.template_button = self.definition.template_button
        self.open_button = self.definition.open_button
        self.save_button = self.definition.save_button
        self.form = self.launch.form
        self.run_button = self.launch.run_button
        self.stop_button = self.launch.stop_button
        self.export_button = self.launch.export_button
        self.progress = self.launch.progress
        self.status = self.launch.status
        self.dashboard = self.launch.dashboard
        self.metric_box = self.results_plot.metric_box
        self.x_box = self.results_plot.x_box
        self.y_box = self.results_plot.y_box
        self.mode_box = self.results_plot.mode_box
        self.plot = self.results_plot.plot
        self.plot_item = self.results_plot.plot_item
        self.image = self.results_plot.image
        self.colorbar = self.results_plot.colorbar
        self.scatter = self.results_plot.scatter
        self.curves = self.results_plot.curves

    def _connect(self) -> None:
        self.definition.template_requested.connect(self.use_template)
        self.definition.open_requested.connect(self.open_dialog)
        self.definition.save_requested.connect(self.save_dialog)
        self.definition.check_requested.connect(self.check_text)
        self.kind_box.currentTextChanged.connect(self.kind_help.show_kind)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.export_button.clicked.connect(self.export_dialog)
        self.tabs.currentChanged.connect(lambda _i: self._redraw_current())

    # ------------------------------------------------------------------
    # definition and files
    # ------------------------------------------------------------------
    def use_template(self, kind: str) -> None:
        try:
            text = template_text(kind)
        except ValueError as e:
            self.show_error(str(e))
            return
        self.definition.set_text(text)
        self._source = "<editor>"
        if self.kind_box.currentText() != kind:
            self.kind_box.setCurrentText(kind)

    def show_demo_definition(self) -> None:
        """The studio's demo sweep in the editor (192 points, 10-20 s: the heat map fills in live)."""
        self.definition.set_text(demo_text())
        self._source = "<editor>"
        if self.kind_box.currentText() != "demo":
            self.kind_box.setCurrentText("demo")

    def _checked_spec(self) -> SweepSpec:
        """The editor's definition, validated (a pure function of the text: no engine involved)."""
        return sweep_from_text(self.definition.text(), self._source)

    def check_text(self) -> bool:
        """Validate the editor's text as it is typed: the number of points, or the error."""
        try:
            spec = self._checked_spec()
        except ValueError as e:  # SweepError included
            self.definition.show_check(None, str(e))
            return False
        self.definition.show_check(spec)
        return True

    def open_file(self, path: str | Path) -> bool:
        try:
            text = read_sweep_text(path)
        except SweepError as e:
            self.show_error(str(e))
            return False
        self.definition.set_text(text)
        self._source = str(path)
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
            write_sweep_text(path, self.definition.text())
            self._source = path

    def apply(self, then: Callable[[], None] | None = None) -> bool:
        """Validate the editor's definition and send it to the engine (errors in the banner).

        The check happens here, at once; the engine takes the definition on its worker and
        then ``then()`` runs on the GUI thread. False if the definition was refused here.
        """
        try:
            self._checked_spec()
        except ValueError as e:
            self.show_error(str(e))
            return False
        text, source, out = self.definition.text(), self._source, self.definition.out()

        def applied(_spec: SweepSpec) -> None:
            self.clear_error()
            self.runner.refresh()
            if then is not None:
                then()

        self.runner.submit(
            lambda e: e.set_text(text, source=source, out=out),
            done=applied,
            failed=lambda exc: self.show_error(str(exc)),
            context=self,
        )
        return True

    # ------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------
    def on_attached(self) -> None:
        # the engine was made with default parameters (Panel.create_engine), which the form shows
        self.form.params_changed.connect(self.runner.set_params)

    def run(self) -> bool:
        """Send the definition and parameters, then start the job; False if refused at once."""
        if self.runner.state == RunnerState.JOB:
            self.show_error("a sweep is already running: stop it first")
            return False
        return self.apply(then=self._start_job)

    def _start_job(self) -> None:
        self.runner.set_params(self.form.params())
        self.runner.run_job(lambda e: e.sweep_job())

    def stop(self) -> None:
        if self.runner is not None and self.runner.state == RunnerState.JOB:
            self.runner.cancel_job()

    def run_or_pause(self) -> None:
        """The toolbar's Run (Space) runs the sweep, and stops it while it runs."""
        if self.runner.state == RunnerState.JOB:
            self.stop()
        else:
            self.run()

    def start_demo(self) -> None:
        """The demo sweep in this process, into ``studio-demo.parquet`` in the user's sweeps folder.

        Its earlier results there are deleted first (on the worker), so every launch computes the
        whole grid and the heat map fills in point by point. Nothing happens while a sweep runs."""
        if self.runner is None or self.runner.state == RunnerState.JOB:
            return
        self.show_demo_definition()
        out = sweeps_dir() / "studio-demo.parquet"
        self.out_edit.setText(str(out))
        self.form.set_params(SweepParams(workers=0))
        self.runner.submit(
            lambda _e: remove_results(out),
            done=lambda _n: self.run(),
            failed=lambda exc: self.show_error(f"the demo's earlier results in {out}: {exc}"),
            context=self,
        )

    def export(self, path: str | Path) -> int:
        """Write the results of the sweep shown to ``path`` (CSV, Parquet, JSON lines); rows written."""
        snap = self.runner.latest() if self.runner is not None else None
        out = snap.out if snap is not None else ""
        if not out or not Path(out).exists():
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

    def state_text(self, state: RunnerState) -> str:
        """One word for the status bar: running while the sweep job runs, else how the last sweep
        ended (done, stopped, failed) or ready; never the runner's "paused" (a sweep does not pause)."""
        if state == RunnerState.JOB:
            return "running sweep"
        if state == RunnerState.ERROR:
            return "error"
        ended = self._snap.state if self._snap is not None else "idle"
        return {"done": "sweep done", "stopped": "sweep stopped", "error": "sweep failed"}.get(ended, "ready")

    # ------------------------------------------------------------------
    # drawing
    # ------------------------------------------------------------------
    def update_view(self, snapshot: SweepSnapshot) -> None:
        self._snap = snapshot
        self.launch.draw(snapshot)
        self.results_plot.set_snapshot(snapshot)
        self._redraw_current()

    def _redraw_current(self) -> None:
        s = self._snap
        if s is None:
            return
        page = self.tabs.currentIndex()
        if page == PLOT_TAB:
            self.results_plot.draw(s)
        elif page == TABLE_TAB and self.table.version != s.version:
            self.table.draw(s)
        elif page == RUNS_TAB:
            self.runs.draw(s)

    # ------------------------------------------------------------------
    # workspace
    # ------------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        return {
            "text": self.definition.text(),
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
            self.definition.set_text(str(state["text"]))
        self._source = str(state.get("source") or "<editor>")
        self.out_edit.setText(str(state.get("out") or ""))
        if state.get("mode"):
            self.mode_box.setCurrentText(str(state["mode"]))
        self.tabs.setCurrentIndex(int(state.get("tab", 0) or 0))
        self.results_plot.pending_axes = (state.get("metric"), state.get("x"), state.get("y"))
