"""Route maps: open a routing instance, solve it with a chosen solver, watch routes and cost.

The wiring of the Route maps panel, a thin view over
:class:`engines.routing.engine.RoutingEngine`. The map (:class:`.RouteMap`)
shows routes coloured per vehicle with direction arrows, the depot as a
square, and, for road-network instances, routes along the streets over the
road graph, with a legend, a scale bar and the OpenStreetMap credit. Below the
map: a per-route table, a Gantt chart per route (legs, waits, stops, time
windows), a matrix view (distances, durations or their asymmetry |d_ij - d_ji|,
with a labelled colour bar) and a comparison of the solvers run on the instance.
On the right, the improvement curve: the best cost held as steps until the next
improvement, with the solve's time limit marked. Every view says what will
appear in it while it has nothing to show.

Map editing (coordinate instances): click on empty map adds a customer
there, a left drag of a customer (or of the depot) moves it, right-click on
a customer (or Delete / Backspace after clicking it, or Ctrl+click) deletes
it; a left drag on empty map pans and the wheel zooms, as in every plot.
Each edit goes to the engine's thread without waiting (``Runner.submit``);
when it is applied the instance is re-solved in the background with the
local search (a running solve is stopped first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from engines.routing.engine import RoutingEngine, RoutingSnapshot
from engines.routing.report import problem_summary
from engines.routing.solvers import SOLVERS
from studio.panels.base import Panel
from studio.runner import RunnerState

from .compare_table import CompareTable
from .controls import DEMO, DEMO_SOLVER, DEMO_TIME_LIMIT_S, SHARED, SolverForm
from .curve import HINT as CURVE_HINT
from .curve import ImprovementCurve
from .gantt import GanttChart
from .map_view import RouteMap
from .matrix import MatrixView
from .route_table import RouteTable

FILTER = "Routing instances (*.vrp *.txt *.atsp *.npz *.csv);;All files (*)"
EXPORT_FILTER = "VRPLIB solution (*.sol);;CSV (*.csv);;GeoJSON (*.geojson)"
WARMING = "Loading the solvers (a few seconds). Then press Solve: the best cost appears here step by step."
WARMING_PENDING = "Loading the solvers (a few seconds); the solve then starts and its best cost appears here."


class RoutingPanel(Panel[RoutingSnapshot]):
    """The Route maps workbench: controls, map, tabs (routes, Gantt, matrix, compare), improvement curve."""

    name = "routing"
    title = "Route maps"
    engine_type = RoutingEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._version = -1
        self._snap: RoutingSnapshot | None = None
        self._opened = False  # an instance was handed to the engine (its snapshot may still be on its way)
        self._compare_queue: list[str] = []
        self._pending: tuple[str, float] | None = None  # a solve asked for while warming up
        self.warming = False
        self.form = SolverForm()
        self.map = RouteMap()
        self.map_box = self.map.box
        self.streets, self.customers = self.map.streets, self.map.customers
        self.tabs = self._build_tabs()
        self.curve_plot = ImprovementCurve()
        self.curve = self.curve_plot.curve
        self._lay_out()
        self._alias_controls()
        self._connect()

    def _build_tabs(self) -> QtWidgets.QTabWidget:
        tabs = QtWidgets.QTabWidget()
        self.route_table = RouteTable()
        self.gantt = GanttChart()
        self.gantt_windows, self.gantt_wait, self.gantt_service = (
            self.gantt.window_bars,
            self.gantt.wait_bars,
            self.gantt.service_bars,
        )
        self.matrix = MatrixView()
        self.compare_table = CompareTable()
        for widget, label in (
            (self.route_table, "Routes"),
            (self.gantt, "Gantt"),
            (self.matrix, "Matrix"),
            (self.compare_table, "Compare"),
        ):
            tabs.addTab(widget, label)
        return tabs

    def _lay_out(self) -> None:
        """Controls (scrolling when the window is short) | map over the tabs | improvement curve,
        in splitters, so that the panel works from a 1280x720 screen up."""
        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(210)
        scroll.setMaximumWidth(300)
        middle = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        middle.addWidget(self.map)
        middle.addWidget(self.tabs)
        middle.setStretchFactor(0, 1)
        middle.setStretchFactor(1, 1)
        middle.setSizes([560, 400])
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for k, (widget, stretch) in enumerate(((scroll, 0), (middle, 3), (self.curve_plot, 1))):
            split.addWidget(widget)
            split.setStretchFactor(k, stretch)
            split.setCollapsible(k, False)
        split.setSizes([250, 800, 320])
        outer.addWidget(split)

    def _alias_controls(self) -> None:
        """The form's controls as the panel's attributes (tests and the workspace use these names)."""
        f = self.form
        self.open_button, self.samples = f.open_button, f.samples
        self.solver_box, self.time_box, self.min_vehicles_box = f.solver_box, f.time_box, f.min_vehicles_box
        self.solve_button, self.stop_button = f.solve_button, f.stop_button
        self.compare_button, self.export_button = f.compare_button, f.export_button
        self.info, self.result = f.info, f.result

    def _connect(self) -> None:
        f = self.form
        f.open_button.clicked.connect(self.open_dialog)
        f.samples.activated.connect(self._on_sample)
        f.solve_button.clicked.connect(lambda: self.solve())
        f.stop_button.clicked.connect(self.stop)
        f.compare_button.clicked.connect(self.compare_all)
        f.export_button.clicked.connect(self.export_dialog)
        self.map.add_requested.connect(lambda xy: self._request_edit("add", xy=xy))
        self.map.move_requested.connect(lambda i, xy: self._request_edit("move", index=i, xy=xy))
        self.map.delete_requested.connect(lambda i: self._request_edit("delete", index=i))

    # -- what tests read ---------------------------------------------------
    @property
    def _route_items(self):
        return self.map.route_items

    @property
    def _map_xy(self):
        return self.map.xy

    @property
    def _selected(self) -> int | None:
        return self.map.selected

    def drawn_routes(self) -> int:
        """How many route lines hold data (used by tests)."""
        return self.map.drawn_routes()

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    def on_attached(self) -> None:
        if DEMO.exists() and self.runner is not None:
            self.load(DEMO)
        if self.runner is not None:  # load kernels and weights now, not on the first Solve
            self.warming = self.runner.run_job(lambda e: e.warm_up_job())
            if self.warming:
                self.curve_plot.hint.set_empty(True, WARMING)

    def load(self, path) -> bool:
        """Read an instance (errors go to the banner at once) and hand it to the engine's thread.

        The file is read here, not on the worker, so that a refused file is said before this
        returns; the engine takes the parsed instance without the GUI waiting for it.
        """
        from engines.routing.io import load_problem

        try:
            problem = load_problem(path)
        except Exception as e:  # shown, never fatal
            self.show_error(f"Cannot open {path}: {e}")
            return False
        self.clear_error()
        self._opened = True
        self.runner.submit(lambda e: e.open_problem(problem), failed=self._failed, context=self)
        self.runner.refresh()
        return True

    def open_dialog(self) -> None:
        start = str(SHARED) if SHARED.exists() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open routing instance", start, FILTER)
        if path:
            self.load(path)

    def _on_sample(self, index: int) -> None:
        path = self.samples.itemData(index)
        if path:
            self.load(path)

    def export(self, path: str | Path) -> None:
        """Write the drawn solution: GeoJSON (.geojson, .json), CSV (.csv), else a VRPLIB solution."""
        from engines.routing.io import write_geojson, write_solution, write_solution_csv

        s = self._snap
        if s is None or s.problem is None or not s.routes:
            raise ValueError("nothing to export: solve an instance first")
        path = str(path)
        if path.endswith((".geojson", ".json")):
            write_geojson(path, s.problem, s.routes)
        elif path.endswith(".csv"):
            write_solution_csv(path, s.problem, s.routes)
        else:
            write_solution(path, s.problem, s.routes)

    def export_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export solution", "", EXPORT_FILTER)
        if path:
            try:
                self.export(path)
            except (ValueError, OSError) as e:
                self.show_error(str(e))

    def _failed(self, e: BaseException) -> None:
        self.show_error(str(e))

    # ------------------------------------------------------------------
    # solving
    # ------------------------------------------------------------------
    def _has_problem(self) -> bool:
        return self._opened or (self._snap is not None and self._snap.problem is not None)

    def solve(self, solver: str | None = None, limit: float | None = None) -> bool:
        if self.runner is None:
            return False
        if not self._has_problem():
            self.show_error("Open an instance first")
            return False
        solver = solver or self.solver_box.currentText()
        limit = float(self.time_box.value() if limit is None else limit)
        self.clear_error()
        if self.warming:  # runs as soon as the warm-up ends
            self._pending = (solver, limit)
            self.curve_plot.hint.set_empty(True, WARMING_PENDING)
            return True
        return self._run_solve(solver, limit)

    def _run_solve(self, solver: str, limit: float) -> bool:
        mv = self.min_vehicles_box.isChecked()
        return self.runner.run_job(lambda e: e.solve_job(solver, limit, mv))

    def stop(self) -> None:
        self._compare_queue.clear()
        self._pending = None
        if self.runner is not None:
            self.runner.cancel_job()

    def compare_all(self) -> None:
        self._compare_queue = [s for s in SOLVERS if s != self.solver_box.currentText()]
        self.solve()

    def start_demo(self) -> None:
        """Solve the demo city with :data:`DEMO_SOLVER` for :data:`DEMO_TIME_LIMIT_S` seconds: long
        enough to watch the curve step down and the routes change (the instance opened at start is
        the demo)."""
        self.solver_box.setCurrentText(DEMO_SOLVER)
        self.time_box.setValue(DEMO_TIME_LIMIT_S)
        self.solve()

    def on_job_finished(self, result: Any, completed: bool) -> None:
        if self.warming:
            self.warming = False
            self.curve_plot.hint.set_empty(not self.curve_plot.has_data(), CURVE_HINT)
            if self._pending is not None:
                solver, limit = self._pending
                self._pending = None
                self._run_solve(solver, limit)
            return
        if completed and self._compare_queue:
            nxt = self._compare_queue.pop(0)
            QtCore.QTimer.singleShot(0, lambda: self.solve(nxt))

    # ------------------------------------------------------------------
    # editing on the map
    # ------------------------------------------------------------------
    def _request_edit(self, op: str, index: int | None = None, xy=None) -> None:
        """An edit asked for on the map; the depot stays, said on the banner."""
        if self.runner is None or not self._has_problem():
            return
        if op == "delete" and index == 0:
            self.show_error("the depot cannot be deleted")
            return
        self.edit(op, index=index, xy=xy)

    def delete_selected(self) -> None:
        """Delete the selected customer (what Delete / Backspace on the map does)."""
        if self.map.selected is not None:
            self._request_edit("delete", index=self.map.selected)

    def edit(self, op: str, index: int | None = None, xy=None) -> None:
        """Apply an edit on the engine thread, then re-solve in the background; a refusal goes to the banner."""
        if self.runner.state == RunnerState.JOB and not self.warming:
            self._compare_queue.clear()
            self.runner.cancel_job()  # commands run in order: the edit below comes after it
        self.runner.submit(
            lambda e: e.edit(op, index, xy),
            done=lambda _r: self._edited(op),
            failed=self._failed,
            context=self,
        )

    def _edited(self, op: str) -> None:
        if op == "delete":
            self.map.select(None)
        self.runner.refresh()
        self.solve("ls", min(1.0, float(self.time_box.value())))

    # ------------------------------------------------------------------
    # drawing
    # ------------------------------------------------------------------
    def update_view(self, snapshot: Any) -> None:
        if not isinstance(snapshot, RoutingSnapshot):
            return
        self._snap = snapshot
        if snapshot.version != self._version:
            self._version = snapshot.version
            self._draw_all(snapshot)
        self.curve_plot.show_curve(snapshot.curve, snapshot.time_limit_s, snapshot.elapsed_s)

    def _draw_all(self, s: RoutingSnapshot) -> None:
        p = s.problem
        if p is None:
            return
        self.map.show_problem(p, s.evaluation, fit=not p.name.endswith("(edited)"))
        self.info.setText(problem_summary(p))
        self.map.show_routes(p, s.routes)
        self.form.show_result(p, s.evaluation, s.solver)
        self.route_table.show_solution(p, s.evaluation)
        self.compare_table.show_comparison(p, s.comparison)
        self.gantt.show_solution(p, s.evaluation)
        self.matrix.show_problem(p)
        self.curve_plot.set_cost_unit(p.distance_unit)
        self.curve_plot.show_best_known(p.bks)

    # ------------------------------------------------------------------
    # workspace
    # ------------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        return {
            "solver": self.solver_box.currentText(),
            "time_limit_s": float(self.time_box.value()),
            "min_vehicles": self.min_vehicles_box.isChecked(),
        }

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        if state.get("solver") in SOLVERS:
            self.solver_box.setCurrentText(state["solver"])
        if "time_limit_s" in state:
            self.time_box.setValue(float(state["time_limit_s"]))
        self.min_vehicles_box.setChecked(bool(state.get("min_vehicles", False)))
