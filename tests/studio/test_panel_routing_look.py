"""What the Route maps panel shows, in the real window: hints before data, the live demo curve with
its time limit, the Gantt, the labelled matrix, the map's legend, scale bar and attribution."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from engines.routing.layout import KM_PER_DEGREE
from studio import theme
from studio.panels.routing import RoutingPanel
from studio.panels.routing.colours import route_colours, route_line_style
from studio.panels.routing.controls import DEMO_SOLVER, DEMO_TIME_LIMIT_S
from studio.window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot, tmp_path):
    """The real window with the Route maps panel, its demo city opened and the solvers loaded."""
    w = MainWindow(panel_classes={"routing": RoutingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["routing"]
    w.runner_for("routing")
    qtbot.waitUntil(lambda: p._snap is not None and p._snap.problem is not None, timeout=10000)
    yield p
    w.close()


def _shown_hints(p: RoutingPanel) -> dict[str, bool]:
    """Whether each view's EmptyHint is on screen (each tab under the map brought to the front in turn)."""
    out = {"map": p.map.hint.isVisible(), "curve": p.curve_plot.hint.isVisible()}
    for name, view in (
        ("routes", p.route_table),
        ("gantt", p.gantt),
        ("matrix", p.matrix),
        ("compare", p.compare_table),
    ):
        p.tabs.setCurrentWidget(view)
        out[name] = view.hint.isVisible()
    p.tabs.setCurrentIndex(0)
    return out


def test_every_view_says_what_will_appear_before_there_is_data(qtbot):
    p = RoutingPanel()
    qtbot.addWidget(p)
    p.resize(1000, 500)
    p.show()
    qtbot.waitExposed(p)
    assert all(_shown_hints(p).values()), _shown_hints(p)
    for view in (p.map, p.route_table, p.gantt, p.matrix, p.compare_table, p.curve_plot):
        assert "appear" in view.hint.text() and "." in view.hint.text()  # what appears, then what to do
    assert "Press Solve" in p.gantt.hint.text() and "Open an instance" in p.matrix.hint.text()
    # it fits a 1280x720 screen beside the window's other parts
    hint = p.minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 500


def test_demo_solve_steps_down_live_then_fills_gantt_and_matrix(panel, qtbot):
    p = panel
    shown = _shown_hints(p)
    assert not shown["map"] and not shown["matrix"]  # the demo city is open
    assert shown["gantt"] and shown["routes"] and shown["compare"]  # not solved yet
    p.start_demo()
    assert p.solver_box.currentText() == DEMO_SOLVER and p.time_box.value() == DEMO_TIME_LIMIT_S
    # the curve steps down while the solve runs; the time limit is drawn and named
    qtbot.waitUntil(lambda: p.curve_plot.step_count() >= 2 and p._snap.solving, timeout=90000)
    assert p.curve_plot.hint.isHidden()
    curve = p.curve_plot.curve
    assert curve.opts["stepMode"] == "center" and len(curve.xData) == len(curve.yData) + 1
    assert np.all(np.diff(curve.yData) <= 0) and np.all(np.diff(curve.xData) >= 0)
    line = p.curve_plot.limit_line
    assert line.isVisible() and line.value() == DEMO_TIME_LIMIT_S and line.label.toPlainText() == "time limit"
    assert p.curve_plot.getViewBox().viewRange()[0][1] >= DEMO_TIME_LIMIT_S  # the whole budget in view
    left = p.curve_plot.getAxis("left")
    assert (left.labelText, left.labelUnits) == ("best cost", "km")
    with qtbot.waitSignal(p.runner.job_finished, timeout=20000):
        p.stop()
    qtbot.waitUntil(lambda: not p._snap.solving and p.drawn_routes() == len(p._snap.routes), timeout=5000)
    s = p._snap
    n = len(s.routes)
    # the Gantt (blank after a solve before): a stop bar per customer, a row per route, named
    p.tabs.setCurrentWidget(p.gantt)
    qtbot.waitUntil(p.gantt.isVisible, timeout=2000)
    assert p.gantt.bar_count() == s.problem.n - 1 and p.gantt.hint.isHidden()
    assert len(p.gantt.travel_bars.opts["x0"]) == s.problem.n - 1 + n  # every leg, the returns too
    names = [f"{k + 1} · {len(r)} stops" for k, r in enumerate(s.routes)]
    ticks = p.gantt.getAxis("left")._tickLevels[0]  # every row named, or every other when rows are thin
    every = int(ticks[1][0] - ticks[0][0]) if len(ticks) > 1 else 1
    assert ticks[0] == (1, names[0]) and [t[1] for t in ticks] == names[::every] and every <= 2
    assert p.gantt.getAxis("bottom").labelUnits == "min"
    # one colour per route, the same on the map, in the table and on the Gantt
    cols = route_colours(n)
    for k in range(n):
        assert p._route_items[k][0].opts["pen"].color().name() == cols[k].name()
        assert p._route_items[k][0].opts["pen"].style() == route_line_style(k, n)
        assert p.route_table.item(k, 0).background().color().name() == cols[k].name()
    gantt_brush = p.gantt.stops.data["brush"][0].color().name()
    assert gantt_brush == cols[int(p.gantt.stops.data["y"][0]) - 1].name()
    heads = [p.route_table.horizontalHeaderItem(j).text() for j in range(p.route_table.columnCount())]
    assert heads[:4] == ["route", "stops", "distance (km)", "duration (min)"] and "load %" in heads
    assert not any(_shown_hints(p).values())
    # the matrix: a labelled colour bar with the unit, and it follows the menu
    assert p.matrix.bar_label() == "distance (km)"
    p.matrix.kind.setCurrentIndex(1)
    assert p.matrix.bar_label() == "duration (min)"
    assert p.matrix.image.image is not None and p.matrix.image.image.shape == s.problem.distance.shape


def test_map_has_legend_scale_bar_and_osm_attribution(panel, qtbot, tmp_path):
    p = panel
    m = p.map
    labels = [label.text for _, label in m.legend.items]
    assert labels[:2] == ["depot", "stop"]
    assert m.attribution.isVisible() and "© OpenStreetMap contributors" in m.attribution.text
    assert m.scale.isVisible()
    qtbot.waitUntil(lambda: bool(m.scale.label), timeout=2000)
    # the bar is as long on screen as the distance it names (map units are degrees of latitude)
    px = m.box.viewPixelSize()[0]
    metres = m.scale.bar.rect().width() * px * KM_PER_DEGREE * 1000
    value, unit = m.scale.label.split()
    assert metres == pytest.approx(float(value) * (1000 if unit == "km" else 1), rel=1e-6)
    assert 30 < m.scale.bar.rect().width() <= 120
    # a route in the legend per route once solved
    p.solver_box.setCurrentText("ls")
    with qtbot.waitSignal(p.runner.job_finished, timeout=90000):
        p.solve("ls", 0.3)
    qtbot.waitUntil(lambda: p.drawn_routes() == len(p._snap.routes) > 0, timeout=5000)
    labels = [label.text for _, label in m.legend.items]
    assert labels[2:] == [f"route {k + 1}" for k in range(len(p._snap.routes))]
    # an instance in plain coordinates: axes instead of a scale bar, and no OpenStreetMap credit
    f = tmp_path / "xy.csv"
    f.write_text("# capacity: 10\nid,x,y,demand\n0,0,0,0\n1,10,0,4\n2,0,10,4\n")
    assert p.load(f)
    qtbot.waitUntil(lambda: p._snap.problem.n == 3, timeout=5000)
    assert not m.scale.isVisible() and not m.attribution.isVisible()


def test_route_colours_are_colour_blind_safe_and_distinct():
    """Okabe-Ito for up to eight routes (routes 4-6 far apart), a perceptual map past eight."""
    seven = route_colours(7)
    assert [c.name().upper() for c in seven] == list(theme.OKABE_ITO[:7])

    def rgb_distance(a: QtGui.QColor, b: QtGui.QColor) -> float:
        return float(np.linalg.norm(np.subtract(a.getRgbF()[:3], b.getRgbF()[:3])))

    r4, r5, r6 = seven[3:6]
    assert min(rgb_distance(r4, r5), rgb_distance(r5, r6), rgb_distance(r4, r6)) > 0.3
    many = route_colours(14)
    assert len({c.name() for c in many}) == 14
    assert min(rgb_distance(a, b) for a, b in zip(many, many[1:])) > 0.05
    # past eight routes the map's lines also differ in pattern from the routes next in number
    solid = QtCore.Qt.PenStyle.SolidLine
    assert {route_line_style(k, 8) for k in range(8)} == {solid}
    styles = [route_line_style(k, 14) for k in range(14)]
    assert all(a != b for a, b in zip(styles, styles[1:])) and len(set(styles)) == 4
