"""The controls left of the map: open an instance, pick a solver and its time, solve, compare, export."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from engines.paths import REPO_ROOT, shared_data
from engines.routing.report import format_cost
from engines.routing.solvers import SOLVER_HELP, SOLVERS

ASSETS = REPO_ROOT / "assets" / "routing"
DEMO = ASSETS / "helsinki-200.npz"
SMALL_DEMO = ASSETS / "helsinki-40.npz"
#: the demo's solve: long enough to watch the improvement curve step down (``studio --screenshot``);
#: PyVRP's search keeps finding improvements on the 199-customer city through such a budget
DEMO_TIME_LIMIT_S = 12.0
DEMO_SOLVER = "pyvrp"
SHARED = shared_data("routing")

HINT = (
    "<small>Map (instances with coordinates, not road networks): click on empty map adds a "
    "customer; drag a customer (or the depot) to move "
    "it; right-click a customer, or click it and press Delete, to delete it. The instance is "
    "then re-solved in the background. Drag empty map to pan, wheel to zoom.</small>"
)


def sample_files() -> list[tuple[str, Path]]:
    """The shipped demo instance, then the instances of the shared data folder (label, path)."""
    out = []
    for path, label in ((DEMO, "Helsinki streets, 199 customers (ACVRP)"),
                        (SMALL_DEMO, "Helsinki streets, 39 customers (ACVRP)")):  # fmt: skip
        if path.exists():
            out.append((label, path))
    for sub, pattern in (
        ("cvrplib", "*.vrp"),
        ("solomon", "*.txt"),
        ("tsplib_atsp", "*.atsp"),
        ("osm", "*.npz"),
    ):
        folder = SHARED / sub
        for f in sorted(folder.glob(pattern)) if folder.exists() else []:
            out.append((f"{sub}/{f.name}", f))
    return out


class SolverForm(QtWidgets.QWidget):
    """Buttons and fields of the Route maps panel; the panel connects them.

    Also shows the instance's one-line summary (:attr:`info`) and the solution's result (:attr:`result`).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setMaximumWidth(300)
        layout = QtWidgets.QVBoxLayout(self)
        self._build_files(layout)
        self._build_solver(layout)
        self._build_actions(layout)
        self._build_labels(layout)
        layout.addStretch(1)

    def _build_files(self, layout: QtWidgets.QVBoxLayout) -> None:
        self.open_button = QtWidgets.QPushButton("Open instance…")
        layout.addWidget(self.open_button)
        self.samples = QtWidgets.QComboBox()
        self.samples.setObjectName("RoutingSamples")
        self.samples.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.samples.setMinimumContentsLength(12)
        self.samples.setMinimumWidth(120)  # long file names must not widen the controls
        self.samples.addItem("Samples…", None)
        for label, path in sample_files():
            self.samples.addItem(label, str(path))
        layout.addWidget(self.samples)

    def _build_solver(self, layout: QtWidgets.QVBoxLayout) -> None:
        grid = QtWidgets.QFormLayout()
        self.solver_box = QtWidgets.QComboBox()
        self.solver_box.addItems(list(SOLVERS))
        for i, name in enumerate(SOLVERS):
            self.solver_box.setItemData(i, SOLVER_HELP.get(name, ""), QtCore.Qt.ItemDataRole.ToolTipRole)
        self.solver_box.setCurrentText("neural+ls" if (ASSETS / "routenet.state").exists() else "ls")
        grid.addRow("Solver", self.solver_box)
        self.time_box = QtWidgets.QDoubleSpinBox()
        self.time_box.setRange(0.1, 3600.0)
        self.time_box.setValue(2.0)
        self.time_box.setSuffix(" s")
        grid.addRow("Time limit", self.time_box)
        layout.addLayout(grid)
        self.min_vehicles_box = QtWidgets.QCheckBox("Fewest vehicles first")
        self.min_vehicles_box.setToolTip(
            "Number of routes first, distance second (local search: route elimination; "
            "PyVRP: its minimise_fleet for a third of the time)"
        )
        layout.addWidget(self.min_vehicles_box)

    def _build_actions(self, layout: QtWidgets.QVBoxLayout) -> None:
        row = QtWidgets.QHBoxLayout()
        self.solve_button = QtWidgets.QPushButton("Solve")
        self.stop_button = QtWidgets.QPushButton("Stop")
        row.addWidget(self.solve_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        self.compare_button = QtWidgets.QPushButton("Compare all solvers")
        layout.addWidget(self.compare_button)
        self.export_button = QtWidgets.QPushButton("Export solution…")
        layout.addWidget(self.export_button)

    def _build_labels(self, layout: QtWidgets.QVBoxLayout) -> None:
        self.info = QtWidgets.QLabel("No instance")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.result = QtWidgets.QLabel("")
        self.result.setObjectName("RoutingResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        hint = QtWidgets.QLabel(HINT)
        hint.setWordWrap(True)
        layout.addWidget(hint)

    def show_result(self, problem, evaluation, solver: str) -> None:
        """The solution's cost, gap to the best known, routes and feasibility (the first violations)."""
        ev = evaluation
        if ev is None:
            self.result.setText("not solved yet")
            return
        gap = problem.gap(ev.cost)
        text = f"<b>{solver or 'solution'}</b>: cost {format_cost(problem, ev.cost, unit=True)}"
        if gap is not None and ev.feasible:
            text += f", gap {gap:+.2f} %"
        text += f", {ev.num_routes} routes, " + ("feasible" if ev.feasible else "<b>INFEASIBLE</b>")
        if not ev.feasible:
            text += "<br>" + "<br>".join(ev.violations[:5])
        self.result.setText(text)
