"""Route maps: open a routing instance, solve it with a chosen solver, watch routes and cost.

A thin view over :class:`engines.routing.engine.RoutingEngine`. The map shows
routes coloured per vehicle with direction arrows, the depot as a square,
and, for road-network instances, routes drawn along the streets over the road
graph as a faint background (no online tiles). Hovering a stop shows its
arrival, wait, load and time window. Below the map: a per-route table, a
Gantt chart per vehicle (time windows), a matrix view (distances or their
asymmetry |d_ij - d_ji|) and a comparison of the solvers run on the
instance. On the right, the improvement curve (best cost against time).

Map editing (coordinate instances): click on empty map adds a customer
there, a left drag of a customer (or of the depot) moves it, right-click on
a customer (or Delete / Backspace after clicking it, or Ctrl+click) deletes
it; a left drag on empty map pans and the wheel zooms, as in every plot.
After each edit the instance is re-solved in the background with the local
search (a running solve is stopped first).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from engines.routing.engine import RoutingEngine, RoutingSnapshot
from engines.routing.solvers import SOLVERS
from studio.panels.base import Panel

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "routing"
DEMO = ASSETS / "helsinki-40.npz"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing"

FILTER = "Routing instances (*.vrp *.txt *.atsp *.npz *.csv);;All files (*)"


def _colour(k: int) -> QtGui.QColor:
    return pg.intColor(k, hues=12, values=2, minValue=170, maxValue=255, sat=220)


def _arrow_segments(xy: np.ndarray, at: np.ndarray, size: float) -> np.ndarray:
    """Two barb segments (pairs of points) for an arrow at each index of ``at``."""
    out = []
    for i in at:
        if i <= 0 or i >= len(xy):
            continue
        p, q = xy[i - 1], xy[i]
        d = q - p
        n = math.hypot(*d)
        if n == 0:
            continue
        d = d / n
        tip = (p + q) / 2 + d * size * 0.5
        for ang in (2.6, -2.6):
            c, s = math.cos(ang), math.sin(ang)
            b = tip + size * np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
            out.extend([tip, b])
    return np.asarray(out).reshape(-1, 2)


class _MapViewBox(pg.ViewBox):
    """The map's view box: clicks and left drags near a stop edit the instance, the rest pans/zooms."""

    def __init__(self, panel: RoutingPanel):
        super().__init__()
        self._panel = panel
        self._dragging: int | None = None

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if self._panel._map_clicked(ev.button(), ev.modifiers(), self.mapToView(ev.pos())):
            ev.accept()
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if axis is None and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            if ev.isStart():
                self._dragging = self._panel._pick(self.mapToView(ev.buttonDownPos()))
            if self._dragging is not None:
                ev.accept()
                pos = self.mapToView(ev.pos())
                if ev.isFinish():
                    index, self._dragging = self._dragging, None
                    self._panel._drop(index, pos)
                else:
                    self._panel._drag_preview(self._dragging, pos)
                return
        super().mouseDragEvent(ev, axis)


class RoutingPanel(Panel):
    name = "routing"
    title = "Route maps"
    engine_type = RoutingEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._version = -1
        self._snap: RoutingSnapshot | None = None
        self._compare_queue: list[str] = []
        self._pending: tuple[str, float] | None = None  # a solve asked for while warming up
        self.warming = False
        self._selected: int | None = None
        self._kx = 1.0  # x scale (cos latitude) for lat/lon maps
        self._route_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._map_xy = np.zeros((0, 2))

        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)

        # -- controls -------------------------------------------------------
        side = QtWidgets.QWidget()
        side.setMaximumWidth(300)
        form = QtWidgets.QVBoxLayout(side)
        self.open_button = QtWidgets.QPushButton("Open instance…")
        self.open_button.clicked.connect(self.open_dialog)
        form.addWidget(self.open_button)
        self.samples = QtWidgets.QComboBox()
        self.samples.setObjectName("RoutingSamples")
        self.samples.addItem("Samples…", None)
        for label, path in self._sample_files():
            self.samples.addItem(label, str(path))
        self.samples.activated.connect(self._on_sample)
        form.addWidget(self.samples)
        grid = QtWidgets.QFormLayout()
        self.solver_box = QtWidgets.QComboBox()
        self.solver_box.addItems(list(SOLVERS))
        self.solver_box.setCurrentText("neural+ls" if (ASSETS / "routenet.state").exists() else "ls")
        grid.addRow("Solver", self.solver_box)
        self.time_box = QtWidgets.QDoubleSpinBox()
        self.time_box.setRange(0.1, 3600.0)
        self.time_box.setValue(2.0)
        self.time_box.setSuffix(" s")
        grid.addRow("Time limit", self.time_box)
        form.addLayout(grid)
        self.min_vehicles_box = QtWidgets.QCheckBox("Fewest vehicles first")
        self.min_vehicles_box.setToolTip(
            "Number of routes first, distance second (local search: route elimination; "
            "PyVRP: its minimise_fleet for a third of the time)"
        )
        form.addWidget(self.min_vehicles_box)
        row = QtWidgets.QHBoxLayout()
        self.solve_button = QtWidgets.QPushButton("Solve")
        self.solve_button.clicked.connect(self.solve)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.solve_button)
        row.addWidget(self.stop_button)
        form.addLayout(row)
        self.compare_button = QtWidgets.QPushButton("Compare all solvers")
        self.compare_button.clicked.connect(self.compare_all)
        form.addWidget(self.compare_button)
        self.export_button = QtWidgets.QPushButton("Export solution…")
        self.export_button.clicked.connect(self.export_dialog)
        form.addWidget(self.export_button)
        self.info = QtWidgets.QLabel("No instance")
        self.info.setWordWrap(True)
        form.addWidget(self.info)
        self.result = QtWidgets.QLabel("")
        self.result.setObjectName("RoutingResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addWidget(self.result)
        hint = QtWidgets.QLabel(
            "<small>Map (instances with coordinates, not road networks): click on empty map adds a "
            "customer; drag a customer (or the depot) to move "
            "it; right-click a customer, or click it and press Delete, to delete it. The instance is "
            "then re-solved in the background. Drag empty map to pan, wheel to zoom.</small>"
        )
        hint.setWordWrap(True)
        form.addWidget(hint)
        form.addStretch(1)
        outer.addWidget(side)

        # -- map + tabs ------------------------------------------------------------
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.map_box = _MapViewBox(self)
        self.map = pg.PlotWidget(viewBox=self.map_box)
        self.map.setObjectName("RoutingMap")
        self.map.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.map.setBackground("w")
        self.map.setAspectLocked(True)
        self.map.showGrid(x=False, y=False)
        self.streets = pg.PlotDataItem(connect="pairs", pen=pg.mkPen((200, 200, 200), width=1))
        self.map.addItem(self.streets)
        self.customers = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(60, 60, 60), brush=pg.mkBrush(255, 255, 255), hoverable=True,
            hoverSize=11, tip=lambda x, y, data: data,
        )  # fmt: skip
        self.customers.setZValue(10)
        self.map.addItem(self.customers)
        self.depot = pg.ScatterPlotItem(size=15, symbol="s", pen=pg.mkPen("k"), brush=pg.mkBrush(20, 20, 20))
        self.depot.setZValue(11)
        self.map.addItem(self.depot)
        self.selection = pg.ScatterPlotItem(
            size=17, pen=pg.mkPen((220, 30, 30), width=2), brush=pg.mkBrush(None)
        )  # the clicked (or dragged) stop
        self.selection.setZValue(12)
        self.map.addItem(self.selection)
        self.customers.sigClicked.connect(lambda _item, pts, ev: self._point_clicked(pts, ev, offset=1))
        self.depot.sigClicked.connect(lambda _item, pts, ev: self._point_clicked(pts, ev, offset=0))
        self.map.installEventFilter(self)  # Delete / Backspace while the map has the focus
        split.addWidget(self.map)

        self.tabs = QtWidgets.QTabWidget()
        self.route_table = QtWidgets.QTableWidget(0, 7)
        self.route_table.setHorizontalHeaderLabels(
            ["route", "stops", "distance", "duration", "load %", "wait", "violations"]
        )
        self.route_table.horizontalHeader().setStretchLastSection(True)
        self.tabs.addTab(self.route_table, "Routes")
        self.gantt = pg.PlotWidget()
        self.gantt.setBackground("w")
        self.gantt.setLabel("bottom", "time")
        self.gantt.setLabel("left", "vehicle")
        self.gantt_windows = pg.BarGraphItem(
            x0=[], y=[], width=[], height=0.8, brush=(220, 220, 255), pen=None
        )
        self.gantt_wait = pg.BarGraphItem(x0=[], y=[], width=[], height=0.5, brush=(250, 200, 120), pen=None)
        self.gantt_service = pg.BarGraphItem(x0=[], y=[], width=[], height=0.5, brush=(60, 140, 60), pen=None)
        for it in (self.gantt_windows, self.gantt_wait, self.gantt_service):
            self.gantt.addItem(it)
        self.tabs.addTab(self.gantt, "Gantt")
        mat = QtWidgets.QWidget()
        ml = QtWidgets.QVBoxLayout(mat)
        ml.setContentsMargins(0, 0, 0, 0)
        self.matrix_kind = QtWidgets.QComboBox()
        self.matrix_kind.addItems(["distance", "duration", "asymmetry |d_ij - d_ji|"])
        self.matrix_kind.currentIndexChanged.connect(lambda _i: self._draw_matrix())
        ml.addWidget(self.matrix_kind)
        self.matrix_view = pg.PlotWidget()
        self.matrix_view.invertY(True)
        self.matrix_view.setAspectLocked(True)
        self.matrix_img = pg.ImageItem()
        self.matrix_img.setColorMap(pg.colormap.get("viridis"))
        self.matrix_view.addItem(self.matrix_img)
        ml.addWidget(self.matrix_view)
        self.tabs.addTab(mat, "Matrix")
        self.compare_table = QtWidgets.QTableWidget(0, 5)
        self.compare_table.setHorizontalHeaderLabels(["solver", "cost", "gap %", "time s", "feasible"])
        self.compare_table.horizontalHeader().setStretchLastSection(True)
        self.tabs.addTab(self.compare_table, "Compare")
        split.addWidget(self.tabs)
        split.setSizes([600, 250])
        outer.addWidget(split, 3)

        # -- improvement curve ------------------------------------------------------
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setObjectName("RoutingCurve")
        self.curve_plot.setBackground("w")
        self.curve_plot.setLabel("bottom", "time", units="s")
        self.curve_plot.setLabel("left", "best cost")
        self.curve = self.curve_plot.plot(
            pen=pg.mkPen((30, 90, 200), width=2), stepMode=None, symbol="o", symbolSize=4
        )
        self.bks_line = pg.InfiniteLine(angle=0, pen=pg.mkPen((200, 0, 0), style=QtCore.Qt.PenStyle.DashLine))
        self.bks_line.hide()
        self.curve_plot.addItem(self.bks_line)
        self.curve_plot.setMaximumWidth(380)
        outer.addWidget(self.curve_plot, 1)

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    @staticmethod
    def _sample_files() -> list[tuple[str, Path]]:
        out = []
        if DEMO.exists():
            out.append(("Helsinki streets, 39 customers (ACVRP)", DEMO))
        for sub, pat in (
            ("cvrplib", "*.vrp"),
            ("solomon", "*.txt"),
            ("tsplib_atsp", "*.atsp"),
            ("osm", "*.npz"),
        ):
            for f in sorted((SHARED / sub).glob(pat)) if (SHARED / sub).exists() else []:
                out.append((f"{sub}/{f.name}", f))
        return out

    def on_attached(self) -> None:
        if DEMO.exists() and self.runner is not None:
            self.load(DEMO)
        if self.runner is not None:  # load kernels and weights now, not on the first Solve
            self.warming = self.runner.run_job(lambda e: e.warm_up_job())

    def load(self, path) -> bool:
        """Load an instance on the engine's thread; errors go to the banner."""
        try:
            self.runner.call(lambda e: e.load(path))
        except Exception as e:  # shown, never fatal
            self.show_error(f"Cannot open {path}: {e}")
            return False
        self.clear_error()
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
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export solution", "", "VRPLIB solution (*.sol);;CSV (*.csv);;GeoJSON (*.geojson)"
        )
        if path:
            try:
                self.export(path)
            except (ValueError, OSError) as e:
                self.show_error(str(e))

    # ------------------------------------------------------------------
    # solving
    # ------------------------------------------------------------------
    def solve(self, solver: str | None = None, limit: float | None = None) -> bool:
        if self.runner is None:
            return False
        if self.runner.call(lambda e: e.problem is None):
            self.show_error("Open an instance first")
            return False
        solver = solver or self.solver_box.currentText()
        limit = float(self.time_box.value() if limit is None else limit)
        self.clear_error()
        if self.warming:  # runs as soon as the warm-up ends
            self._pending = (solver, limit)
            return True
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
        self.time_box.setValue(1.5)
        self.solve()

    def on_job_finished(self, result: Any, completed: bool) -> None:
        if self.warming:
            self.warming = False
            if self._pending is not None:
                solver, limit = self._pending
                self._pending = None
                mv = self.min_vehicles_box.isChecked()
                self.runner.run_job(lambda e: e.solve_job(solver, limit, mv))
            return
        if completed and self._compare_queue:
            nxt = self._compare_queue.pop(0)
            QtCore.QTimer.singleShot(0, lambda: self.solve(nxt))

    # ------------------------------------------------------------------
    # editing on the map
    # ------------------------------------------------------------------
    def _to_data(self, xy) -> np.ndarray:
        return np.array([xy[0] / self._kx, xy[1]]) if self._kx != 1.0 else np.asarray(xy, float)

    def _problem_xy(self, data_xy) -> tuple[float, float]:
        """Map coordinates back to the problem's (x, y) or (lat, lon)."""
        s = self._snap
        x, y = float(data_xy[0]) / self._kx, float(data_xy[1])
        return (y, x) if s.problem.coord_kind == "latlon" else (x, y)

    def _nearest(self, pos) -> int | None:
        if len(self._map_xy) == 0:
            return None
        d = np.hypot(*(self._map_xy - np.asarray(pos)).T)
        return int(np.argmin(d))

    def _pick(self, view_pos, radius_px: float = 9.0) -> int | None:
        """The stop (0 = depot) within ``radius_px`` screen pixels of a map point, else None."""
        if len(self._map_xy) == 0 or self._snap is None or self._snap.problem is None:
            return None
        pw, ph = self.map_box.viewPixelSize()
        d = np.hypot((self._map_xy[:, 0] - view_pos.x()) / pw, (self._map_xy[:, 1] - view_pos.y()) / ph)
        i = int(np.argmin(d))
        return i if d[i] <= radius_px else None

    def _select(self, index: int | None) -> None:
        self._selected = index
        if index is None or index >= len(self._map_xy):
            self._selected = None
            self.selection.setData([], [])
        else:
            self.selection.setData([self._map_xy[index, 0]], [self._map_xy[index, 1]])

    def _point_clicked(self, pts, ev, offset: int) -> None:
        """A left click on a drawn stop (the scatter items take those clicks): select it."""
        if not len(pts):
            return
        i = int(pts[0].index()) + offset
        self.map.setFocus()
        if offset and ev is not None and ev.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            self._try_edit("delete", index=i)
        else:
            self._select(i)

    def _map_clicked(self, button, modifiers, view_pos) -> bool:
        """A click on the map that no stop took; True when it was an edit."""
        s = self._snap
        if s is None or s.problem is None or self.runner is None:
            return False
        self.map.setFocus()
        B = QtCore.Qt.MouseButton
        hit = self._pick(view_pos)
        if button == B.RightButton:
            if hit is None:
                return False  # the view's own menu
            if hit == 0:
                self.show_error("the depot cannot be deleted")
            else:
                self._try_edit("delete", index=hit)
            return True
        if button != B.LeftButton:
            return False
        if hit is not None:
            if hit and modifiers & QtCore.Qt.KeyboardModifier.ControlModifier:
                self._try_edit("delete", index=hit)
            else:
                self._select(hit)
            return True
        self._try_edit("add", xy=self._problem_xy((view_pos.x(), view_pos.y())))
        return True

    def _drag_preview(self, index: int, view_pos) -> None:
        """While a stop is dragged: the ring follows the mouse (the edit happens on release)."""
        self._selected = index
        self.selection.setData([view_pos.x()], [view_pos.y()])

    def _drop(self, index: int, view_pos) -> None:
        if self._snap is None or self._snap.problem is None or self.runner is None:
            return
        self._try_edit("move", index=index, xy=self._problem_xy((view_pos.x(), view_pos.y())))
        self._select(index)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt naming)
        if (
            obj is self.map
            and ev.type() == QtCore.QEvent.Type.KeyPress
            and ev.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace)
        ):
            self.delete_selected()
            return True
        return super().eventFilter(obj, ev)

    def delete_selected(self) -> None:
        """Delete / Backspace on the map: delete the selected customer."""
        i = self._selected
        if i is None or self._snap is None or self._snap.problem is None:
            return
        if i == 0:
            self.show_error("the depot cannot be deleted")
            return
        if self._try_edit("delete", index=i):
            self._select(None)

    def _try_edit(self, op: str, index: int | None = None, xy=None) -> bool:
        try:
            self.edit(op, index=index, xy=xy)
        except ValueError as e:  # e.g. a road-network instance: said on the banner
            self.show_error(str(e))
            return False
        if op == "delete":
            self._select(None)
        return True

    def edit(self, op: str, index: int | None = None, xy=None) -> None:
        """Apply an edit on the engine thread, then re-solve in the background."""
        if self.runner.state == "job" and not self.warming:
            self._compare_queue.clear()
            self.runner.cancel_job()  # commands run in order: the edit below waits for it
        self.runner.call(lambda e: e.edit(op, index, xy))
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
        c = snapshot.curve
        self.curve.setData(c[:, 0], c[:, 1]) if len(c) else self.curve.setData([], [])

    def _draw_all(self, s: RoutingSnapshot) -> None:
        p = s.problem
        if p is None:
            return
        self._draw_problem(s)
        self._draw_routes(s)
        self._draw_tables(s)
        self._draw_gantt(s)
        self._draw_matrix()
        if p.bks:
            self.bks_line.setValue(p.bks)
            self.bks_line.show()
        else:
            self.bks_line.hide()

    def _xy(self, p) -> np.ndarray:
        if p.coords is None:  # matrix-only instance: a classical MDS layout of the symmetrised distances
            D = (p.distance + p.distance.T) / 2
            J = np.eye(p.n) - 1.0 / p.n
            B = -0.5 * J @ (D**2) @ J
            w, v = np.linalg.eigh(B)
            xy = v[:, -2:] * np.sqrt(np.maximum(w[-2:], 0))
            self._kx = 1.0
            return xy[:, ::-1]
        if p.coord_kind == "latlon":
            self._kx = math.cos(math.radians(float(np.mean(p.coords[:, 0]))))
            return np.stack([p.coords[:, 1] * self._kx, p.coords[:, 0]], 1)
        self._kx = 1.0
        return np.asarray(p.coords)

    def _draw_problem(self, s: RoutingSnapshot) -> None:
        p = s.problem
        xy = self._xy(p)
        self._map_xy = xy
        if p.roads is not None:
            e = p.roads.edges
            pts = p.roads.node_xy[e.ravel()]
            self.streets.setData(pts[:, 0] * self._kx, pts[:, 1])
        else:
            self.streets.setData([], [])
        self.depot.setData(xy[:1, 0], xy[:1, 1])
        ev = s.evaluation
        info = {}
        if ev is not None:
            for k, rs in enumerate(ev.routes):
                load = 0.0
                for j, c in enumerate(rs.nodes):
                    load += p.demand[c]
                    info[c] = (k + 1, rs.arrival[j], rs.start[j] - rs.arrival[j], load)
        tw = p.windows
        tips = []
        for c in range(1, p.n):
            t = f"customer {c}\ndemand {p.demand[c]:g}"
            if p.time_windows is not None:
                t += f"\nwindow [{tw[c, 0]:g}, {tw[c, 1]:g}]"
            if c in info:
                k, a, w, ld = info[c]
                t += f"\nroute {k}: arrival {a:.4g}, wait {w:.4g}, load {ld:g}"
                if p.capacity:
                    t += f" ({100 * ld / p.capacity:.0f} %)"
            tips.append(t)
        self.customers.setData(xy[1:, 0], xy[1:, 1], data=tips)
        tip = f"{p.name} [{p.variant}] {p.n - 1} customers"
        if p.capacity is not None:
            tip += f", capacity {p.capacity:g}"
        if p.num_vehicles is not None:
            tip += f", {p.num_vehicles} vehicles"
        if p.bks:
            tip += f"; best known {p.bks:g}"
        self.info.setText(tip)
        geo = p.coords is not None and p.coord_kind == "latlon"
        for ax in ("bottom", "left"):
            self.map.getPlotItem().showAxis(ax, not geo and p.coords is not None)
        if not p.name.endswith("(edited)"):  # a new instance: fit it; after an edit the view stays put
            self.map.getPlotItem().vb.autoRange()
            self._select(None)
        else:
            self._select(self._selected)

    def _route_item(self, k: int) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        while len(self._route_items) <= k:
            line = pg.PlotDataItem()
            arrows = pg.PlotDataItem(connect="pairs")
            line.setZValue(5)
            arrows.setZValue(6)
            self.map.addItem(line)
            self.map.addItem(arrows)
            self._route_items.append((line, arrows))
        return self._route_items[k]

    def _draw_routes(self, s: RoutingSnapshot) -> None:
        p = s.problem
        xy = self._map_xy
        span = float(np.ptp(xy, axis=0).max()) if len(xy) else 1.0
        size = 0.012 * span
        for k, route in enumerate(s.routes):
            line, arrows = self._route_item(k)
            col = _colour(k)
            if p.roads is not None:
                parts, mids = [], []
                nodes = [0, *route, 0]
                for a, b in zip(nodes[:-1], nodes[1:]):
                    leg = p.roads.leg(a, b)
                    leg = np.stack([leg[:, 0] * self._kx, leg[:, 1]], 1)
                    off = sum(len(q) for q in parts)
                    mids.append(off + max(1, len(leg) // 2))
                    parts.append(leg)
                path = np.concatenate(parts)
                at = np.asarray(mids)
            else:
                path = xy[[0, *route, 0]]
                at = np.arange(1, len(path))
            line.setData(path[:, 0], path[:, 1], pen=pg.mkPen(col, width=2))
            bar = _arrow_segments(path, at, size)
            arrows.setData(bar[:, 0], bar[:, 1], pen=pg.mkPen(col, width=2))
            line.show()
            arrows.show()
        for line, arrows in self._route_items[len(s.routes) :]:
            line.setData([], [])
            arrows.setData([], [])
            line.hide()
            arrows.hide()
        ev = s.evaluation
        if ev is None:
            self.result.setText("not solved yet")
            return
        gap = p.gap(ev.cost)
        text = f"<b>{s.solver or 'solution'}</b>: cost {p.round_cost(ev.cost):g}"
        if gap is not None and ev.feasible:
            text += f", gap {gap:+.2f} %"
        text += f", {ev.num_routes} routes, " + ("feasible" if ev.feasible else "<b>INFEASIBLE</b>")
        if not ev.feasible:
            text += "<br>" + "<br>".join(ev.violations[:5])
        self.result.setText(text)

    def drawn_routes(self) -> int:
        """How many route lines hold data (used by tests)."""
        return sum(
            1
            for line, _ in self._route_items
            if line.isVisible() and line.xData is not None and len(line.xData)
        )

    def _draw_tables(self, s: RoutingSnapshot) -> None:
        p = s.problem
        ev = s.evaluation
        rows = ev.routes if ev is not None else ()
        self.route_table.setRowCount(len(rows))
        for k, rs in enumerate(rows):
            load = f"{100 * rs.load / p.capacity:.0f}" if p.capacity else "-"
            vals = [k + 1, len(rs.nodes), f"{rs.distance:.6g}", f"{rs.duration:.6g}", load, f"{rs.wait:.4g}",
                    "; ".join(rs.violations) or "-"]  # fmt: skip
            for j, v in enumerate(vals):
                item = QtWidgets.QTableWidgetItem(str(v))
                if j == 0:
                    item.setBackground(_colour(k))
                self.route_table.setItem(k, j, item)
        comp = s.comparison
        self.compare_table.setRowCount(len(comp))
        for i, (solver, cost, gap, t, feas) in enumerate(comp):
            vals = [
                solver,
                f"{p.round_cost(cost):g}",
                "-" if gap is None else f"{gap:.2f}",
                f"{t:.2f}",
                "yes" if feas else "NO",
            ]
            for j, v in enumerate(vals):
                self.compare_table.setItem(i, j, QtWidgets.QTableWidgetItem(v))

    def _draw_gantt(self, s: RoutingSnapshot) -> None:
        p = s.problem
        ev = s.evaluation
        if ev is None or p.time_windows is None:
            for it in (self.gantt_windows, self.gantt_wait, self.gantt_service):
                it.setOpts(x0=[], y=[], width=[])
            return
        tw = p.time_windows
        svc = p.service_times
        wx, wy, ww, ax, ay, aw, sx, sy, sw = ([] for _ in range(9))
        for k, rs in enumerate(ev.routes):
            for j, c in enumerate(rs.nodes):
                wx.append(tw[c, 0])
                ww.append(tw[c, 1] - tw[c, 0])
                wy.append(k + 1)
                ax.append(rs.arrival[j])
                aw.append(rs.start[j] - rs.arrival[j])
                ay.append(k + 1)
                sx.append(rs.start[j])
                sw.append(max(svc[c], 1e-3))
                sy.append(k + 1)
        self.gantt_windows.setOpts(x0=wx, y=wy, width=ww, height=0.8)
        self.gantt_wait.setOpts(x0=ax, y=ay, width=aw, height=0.5)
        self.gantt_service.setOpts(x0=sx, y=sy, width=sw, height=0.5)

    def _draw_matrix(self) -> None:
        s = self._snap
        if s is None or s.problem is None:
            return
        p = s.problem
        k = self.matrix_kind.currentIndex()
        M = p.distance if k == 0 else p.duration if k == 1 else np.abs(p.distance - p.distance.T)
        hi = float(M.max()) or 1.0
        self.matrix_img.setImage(M.T.astype(np.float32), autoLevels=False, levels=(0.0, hi))

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
