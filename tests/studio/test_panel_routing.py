"""The Route maps panel in the real main window: open, solve, stop, draw, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore

from engines.paths import shared_data
from studio.panels.routing import RoutingPanel
from studio.window import MainWindow

from .test_panel_painting import _grab  # the widget as (h, w, 3) RGB pixels

pytestmark = pytest.mark.gui

DATA = shared_data("routing")


@pytest.fixture
def panel(qtbot, tmp_path):
    w = MainWindow(panel_classes={"routing": RoutingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["routing"]
    w.runner_for("routing")
    qtbot.waitUntil(lambda: p._snap is not None and p._snap.problem is not None, timeout=10000)
    qtbot.waitUntil(lambda: not p.warming, timeout=60000)  # kernels and weights loaded
    yield p
    w.close()


def test_demo_instance_opens_with_streets(panel):
    s = panel._snap
    assert s.problem.roads is not None and s.problem.variant == "ACVRP"
    assert len(panel.streets.xData) > 100  # the road graph is drawn as background
    assert "ACVRP" in panel.info.text()


def test_solve_draws_routes_curve_and_tables(panel, qtbot, tmp_path):
    panel.solver_box.setCurrentText("ls")
    panel.time_box.setValue(0.5)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        qtbot.mouseClick(panel.solve_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is True  # completed
    qtbot.waitUntil(
        lambda: bool(panel._snap.routes) and panel.drawn_routes() == len(panel._snap.routes), timeout=5000
    )
    s = panel._snap
    assert s.evaluation.feasible
    assert panel.route_table.rowCount() == len(s.routes)
    assert len(panel.curve.xData) >= 1 and panel.curve.yData[-1] == pytest.approx(s.evaluation.cost)
    qtbot.waitUntil(lambda: panel.compare_table.rowCount() == 1, timeout=5000)  # drawn on the next frame
    assert panel.compare_table.item(0, 0).text() == "ls"
    assert "feasible" in panel.result.text()
    # route lines follow the streets: many more vertices than stops
    line, _ = panel._route_items[0]
    assert len(line.xData) > len(s.routes[0]) + 2
    # hover text of a stop holds its arrival and load
    tips = panel.customers.data["data"]
    assert any("arrival" in t and "load" in t for t in tips)
    # compare: every other solver runs in turn on the same instance
    panel.time_box.setValue(0.3)
    qtbot.mouseClick(panel.compare_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: panel.compare_table.rowCount() == 5 and panel.runner.state != "job", timeout=90000
    )
    names = {panel.compare_table.item(i, 0).text() for i in range(5)}
    assert names == {"ls", "pyvrp", "neural", "neural+ls", "neural+pyvrp"}
    tips = [
        panel.solver_box.itemData(i, QtCore.Qt.ItemDataRole.ToolTipRole)
        for i in range(panel.solver_box.count())
    ]
    assert all(tips) and "time limit" in tips[panel.solver_box.findText("neural")]  # what each solver does
    s = panel._snap
    out = tmp_path / "r.geojson"
    panel.export(out)
    gj = json.loads(out.read_text())
    assert sum(f["geometry"]["type"] == "LineString" for f in gj["features"]) == len(s.routes)


@pytest.mark.skipif(not DATA.exists(), reason="routing data not found")
def test_stop_keeps_last_good_solution_and_gantt(panel, qtbot):
    assert panel.load(DATA / "solomon" / "C101.txt")
    qtbot.waitUntil(lambda: panel._snap.problem.name == "C101", timeout=5000)
    panel.solver_box.setCurrentText("ls")
    panel.time_box.setValue(60)
    panel.solve()
    qtbot.waitUntil(lambda: bool(panel._snap.routes), timeout=30000)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=10000) as sig:
        qtbot.mouseClick(panel.stop_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is False
    qtbot.waitUntil(lambda: not panel._snap.solving, timeout=5000)
    s = panel._snap
    assert s.routes and s.evaluation.feasible
    assert panel.drawn_routes() == len(s.routes)
    assert len(panel.gantt_service.opts["x0"]) == 100  # one service bar per customer
    assert "gap" in panel.result.text()


def test_bad_file_shows_line(panel, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("id,x,y\n0,0,0\n1,zz,3\n")
    assert not panel.load(f)
    assert panel.banner.isVisible() or "bad.csv:3" in panel.banner.label.text()
    assert "bad.csv:3" in panel.banner.label.text()


def test_edit_adds_customer_and_resolves(panel, qtbot, tmp_path):
    f = tmp_path / "small.csv"
    f.write_text("# capacity: 10\nid,x,y,demand\n0,0,0,0\n1,10,0,4\n2,0,10,4\n3,10,10,4\n")
    assert panel.load(f)
    qtbot.waitUntil(lambda: panel._snap.problem.n == 4, timeout=5000)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=30000):
        panel.edit("add", xy=(-5.0, -5.0))  # re-solves with "ls" in the background
    qtbot.waitUntil(lambda: panel._snap.problem.n == 5 and bool(panel._snap.routes), timeout=5000)
    s = panel._snap
    assert sorted(c for r in s.routes for c in r) == [1, 2, 3, 4]
    assert s.evaluation.feasible and panel.drawn_routes() == len(s.routes)
    # road-network instances cannot be edited point by point: a clear message, nothing breaks
    panel.load(Path(__file__).resolve().parents[2] / "assets" / "routing" / "helsinki-40.npz")
    with pytest.raises(ValueError, match="road-network instance"):
        panel.runner.call(lambda e: e.edit("add", xy=(60.17, 24.94)))


def test_infeasible_instance_reported_before_solving(panel, qtbot, tmp_path):
    f = tmp_path / "over.csv"
    f.write_text("# capacity: 5\nid,x,y,demand\n0,0,0,0\n1,10,0,4\n2,0,10,9\n")
    assert panel.load(f)
    qtbot.waitUntil(lambda: panel._snap.problem.n == 3, timeout=5000)
    panel.solve("ls")
    qtbot.waitUntil(lambda: "infeasible instance" in panel.banner.label.text(), timeout=10000)
    assert "customer 2 demands 9, above the vehicle capacity 5" in panel.banner.label.text()
    assert not panel._snap.routes


def test_a_solve_with_one_solution_shows_it_on_the_curve(panel, qtbot):
    """Neural alone at 0.1 s on the 199-stop demo finds its solutions in one or two passes, the last
    of which may end past the limit: each improvement is drawn as a dot, inside the time axis, in
    the curve's colour (a step of no length alone would draw nothing)."""
    from studio import theme

    panel.solver_box.setCurrentText("neural")
    panel.time_box.setValue(0.1)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000):
        qtbot.mouseClick(panel.solve_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel._snap.curve) >= 1 and not panel._snap.solving, timeout=5000)
    qtbot.waitUntil(lambda: len(panel.curve_plot.points.getData()[0]) == len(panel._snap.curve), timeout=5000)
    plot = panel.curve_plot
    xs, ys = plot.points.getData()
    curve = panel._snap.curve
    assert len(xs) == len(curve) >= 1 and ys[-1] == pytest.approx(panel._snap.evaluation.cost)
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1
    # what it drew: pixels of the curve's colour on the plot
    rgb = _grab(plot).astype(int)
    c = theme.category_colour(0)
    near = np.abs(rgb - np.array([c.red(), c.green(), c.blue()])).sum(-1) < 40
    box = plot.mapFromScene(plot.getViewBox().sceneBoundingRect()).boundingRect()  # the data area
    assert near[box.top() : box.bottom(), box.left() : box.right()].sum() >= 12
