"""Editing the Route maps instance with the mouse, in the real window: drag, click, right-click, Delete."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtTest

from studio.panels.routing import RoutingPanel
from studio.window import MainWindow

pytestmark = pytest.mark.gui

L, R = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.RightButton
SMALL = "# capacity: 10\nid,x,y,demand\n0,0,0,0\n1,10,0,4\n2,0,10,4\n3,10,10,4\n4,5,5,3\n"


@pytest.fixture
def panel(qtbot, tmp_path):
    w = MainWindow(panel_classes={"routing": RoutingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["routing"]
    w.runner_for("routing")
    qtbot.waitUntil(lambda: p._snap is not None and p._snap.problem is not None, timeout=10000)
    qtbot.waitUntil(lambda: not p.warming, timeout=60000)
    f = tmp_path / "small.csv"
    f.write_text(SMALL)
    assert p.load(f)
    qtbot.waitUntil(lambda: p._snap.problem.n == 5 and p._map_xy.shape == (5, 2), timeout=5000)
    yield p
    w.close()


def _px(panel, x, y) -> QtCore.QPoint:
    """Widget pixel of a map point."""
    scene = panel.map_box.mapViewToScene(QtCore.QPointF(x, y))
    return panel.map.mapFromScene(scene)


def _view(panel, pt: QtCore.QPoint) -> np.ndarray:
    v = panel.map_box.mapSceneToView(panel.map.mapToScene(pt))
    return np.array([v.x(), v.y()])


def _wait_resolved(panel, qtbot, n):
    qtbot.waitUntil(
        lambda: panel._snap.problem.n == n and bool(panel._snap.routes) and panel.runner.state != "job",
        timeout=30000,
    )
    s = panel._snap
    assert sorted(c for r in s.routes for c in r) == list(range(1, n))  # re-solved on the new instance
    assert s.evaluation.feasible and panel.drawn_routes() == len(s.routes)


def test_left_drag_moves_a_customer_and_resolves(panel, qtbot):
    vp = panel.map.viewport()
    start = _px(panel, 10, 0)  # customer 1
    end = start + QtCore.QPoint(-60, -45)
    target = _view(panel, end)
    view_before = panel.map_box.viewRange()
    QtTest.QTest.mousePress(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 11):  # a real drag: several moves with the button held
        QtTest.QTest.mouseMove(vp, start + (end - start) * (k / 10))
        qtbot.wait(10)
    QtTest.QTest.mouseRelease(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, end)
    _wait_resolved(panel, qtbot, 5)
    p = panel._snap.problem
    pw, ph = panel.map_box.viewPixelSize()
    assert abs(p.coords[1, 0] - target[0]) < 2 * pw and abs(p.coords[1, 1] - target[1]) < 2 * ph
    np.testing.assert_array_equal(p.coords[[0, 2, 3, 4]], [[0, 0], [0, 10], [10, 10], [5, 5]])
    assert p.distance[0, 1] == pytest.approx(np.hypot(*p.coords[1]))
    # the stop was dragged, the map was not panned
    np.testing.assert_allclose(panel.map_box.viewRange(), view_before)
    # a drag that starts on empty map pans the view and leaves the instance alone
    empty = _px(panel, 2.5, 7.5)
    QtTest.QTest.mousePress(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, empty)
    for k in range(1, 6):
        QtTest.QTest.mouseMove(vp, empty + QtCore.QPoint(8 * k, 0))
        qtbot.wait(10)
    QtTest.QTest.mouseRelease(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, empty + QtCore.QPoint(40, 0))
    qtbot.wait(50)
    assert panel._snap.problem.n == 5 and np.allclose(panel._snap.problem.coords, p.coords)
    assert panel.map_box.viewRange()[0][0] < view_before[0][0]  # moved right: the view slid left


def test_click_adds_right_click_and_delete_key_delete(panel, qtbot):
    vp = panel.map.viewport()
    where = _px(panel, 2.5, 7.5)  # empty map
    target = _view(panel, where)
    QtTest.QTest.mouseClick(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, where)
    _wait_resolved(panel, qtbot, 6)
    p = panel._snap.problem
    pw, ph = panel.map_box.viewPixelSize()
    assert abs(p.coords[5, 0] - target[0]) < 2 * pw and abs(p.coords[5, 1] - target[1]) < 2 * ph
    # right-click on customer 2 (at 0, 10) deletes it; the others keep their places
    QtTest.QTest.mouseClick(vp, R, QtCore.Qt.KeyboardModifier.NoModifier, _px(panel, 0, 10))
    _wait_resolved(panel, qtbot, 5)
    coords = panel._snap.problem.coords
    assert not any(np.allclose(c, [0, 10]) for c in coords)
    assert any(np.allclose(c, [10, 10]) for c in coords)
    # click a customer (selects it), then Delete
    i = next(k for k, c in enumerate(coords) if np.allclose(c, [10, 10]))
    QtTest.QTest.mouseClick(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, _px(panel, 10, 10))
    qtbot.waitUntil(lambda: panel._selected == i, timeout=2000)
    assert panel._snap.problem.n == 5  # a click on a stop selects, it does not add
    QtTest.QTest.keyClick(panel.map, QtCore.Qt.Key.Key_Delete)
    _wait_resolved(panel, qtbot, 4)
    assert not any(np.allclose(c, [10, 10]) for c in panel._snap.problem.coords)
    # the depot: right-click says it cannot be deleted, the instance is kept
    QtTest.QTest.mouseClick(vp, R, QtCore.Qt.KeyboardModifier.NoModifier, _px(panel, 0, 0))
    qtbot.waitUntil(lambda: "depot cannot be deleted" in panel.banner.label.text(), timeout=2000)
    assert panel._snap.problem.n == 4


def test_fewest_vehicles_checkbox_reaches_the_solver(panel, qtbot):
    from engines.paths import shared_data

    data = shared_data("routing")
    if not (data / "solomon" / "RC201.txt").exists():
        pytest.skip("routing data not found")
    assert panel.load(data / "solomon" / "RC201.txt")
    qtbot.waitUntil(lambda: panel._snap.problem.name == "RC201", timeout=5000)
    panel.solver_box.setCurrentText("ls")
    panel.time_box.setValue(2.0)
    counts = []
    for checked in (False, True):
        panel.min_vehicles_box.setChecked(checked)
        with qtbot.waitSignal(panel.runner.job_finished, timeout=60000):
            qtbot.mouseClick(panel.solve_button, L)
        qtbot.waitUntil(lambda: not panel._snap.solving and bool(panel._snap.routes), timeout=5000)
        assert panel._snap.evaluation.feasible
        counts.append(len(panel._snap.routes))
    assert counts[1] < counts[0]  # measured: 4 routes against 9
    assert panel.panel_state()["min_vehicles"] is True


def test_edits_do_not_wait_for_a_busy_engine(panel, qtbot):
    """A click, a right-click and Delete return at once while the worker is busy; the edits then apply in order."""
    import time

    qtbot.waitUntil(lambda: panel.runner.state != "job", timeout=30000)
    vp = panel.map.viewport()
    panel.runner.submit(lambda e: time.sleep(2.0))  # the worker is busy for two seconds
    t0 = time.perf_counter()
    QtTest.QTest.mouseClick(vp, L, QtCore.Qt.KeyboardModifier.NoModifier, _px(panel, 2.5, 7.5))  # add
    QtTest.QTest.mouseClick(vp, R, QtCore.Qt.KeyboardModifier.NoModifier, _px(panel, 0, 10))  # delete 2
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0  # measured: a few ms; the old blocking call took the whole two seconds
    assert panel._snap.problem.n == 5  # nothing applied yet
    qtbot.waitUntil(
        lambda: panel._snap.problem.n == 5 and "(edited)" in panel._snap.problem.name, timeout=30000
    )
    _wait_resolved(panel, qtbot, 5)
    coords = panel._snap.problem.coords
    assert not any(np.allclose(c, [0, 10]) for c in coords)
    assert len(coords) == 5
