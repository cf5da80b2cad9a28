"""The painting panel in the real main window: drag to paint, undo/redo, reference, proposals, files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6 import QtCore, QtGui

from studio.panels.painting import PaintingPanel
from studio.window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot, tmp_path):
    w = MainWindow(panel_classes={"painting": PaintingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["painting"]
    w.runner_for("painting")
    qtbot.waitUntil(lambda: p._snap is not None, timeout=10000)
    yield p
    w.close()


def _grab(widget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def _drag(qtbot, canvas, points):
    pts = [canvas.to_widget(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pts[-1])


def test_mouse_drag_paints_strokes_and_undo_redo(panel, qtbot):
    canvas = panel.canvas
    before = _grab(canvas)
    panel.set_color(QtGui.QColor("#2060e0"))
    panel.size_slider.setValue(60)
    _drag(qtbot, canvas, [(0.15 + 0.05 * i, 0.5 + 0.02 * np.sin(i)) for i in range(15)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=30000)
    n = panel._snap.n_strokes
    assert n >= 5 and panel._snap.n_mine == n
    params = np.asarray(panel._snap.params)
    assert np.allclose(params[:, 3], 0.06) and np.allclose(
        params[:, 5:8], [0x20 / 255, 0x60 / 255, 0xE0 / 255], atol=1e-3
    )
    qtbot.waitUntil(lambda: canvas.image is not None, timeout=2000)
    after = _grab(canvas)
    changed = np.abs(after.astype(int) - before).sum(-1) > 30
    assert changed.mean() > 0.01  # the stroke is on screen
    # the painted pixels are blue-ish, where the drag went
    mid = canvas.to_widget(0.5, 0.5 + 0.02 * np.sin(7)).toPoint()
    r, g, b = after[mid.y(), mid.x()]
    assert b > 150 and r < 100, (r, g, b)
    # Ctrl+Z removes my drag, Ctrl+Shift+Z puts it back
    panel.window().activateWindow()
    qtbot.waitActive(panel.window())
    canvas.setFocus()
    qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 0, timeout=30000)
    qtbot.keyClick(
        canvas,
        QtCore.Qt.Key.Key_Z,
        QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: panel._snap.n_strokes == n, timeout=30000)


def test_eraser_removes_strokes(panel, qtbot):
    _drag(qtbot, panel.canvas, [(0.2, 0.2), (0.3, 0.2), (0.4, 0.2)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=30000)
    panel.tool_box.setCurrentText("eraser")
    panel.size_slider.setValue(150)
    _drag(qtbot, panel.canvas, [(0.3, 0.2)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 0, timeout=30000)


def test_paint_reference_live_then_cancel_keeps_painting(panel, qtbot, tmp_path):
    from engines.painting.imageio import save_png

    img = np.ones((64, 64, 3))
    img[:32] = (0.9, 0.2, 0.1)
    src = tmp_path / "ref.png"
    save_png(img, src)
    panel.runner.call(
        lambda e: e.set_params(e.params.replace(decompose_strokes=12, decompose_px=32, decompose_iters=8))
    )
    with qtbot.waitSignal(panel.runner.job_finished, timeout=120000) as sig:
        assert panel.paint_reference(src)
    assert sig.args[1] is True
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 12, timeout=30000)
    assert set(panel._snap.authors) == {"reference"}
    # a second, long run cancelled mid-way adds nothing
    panel.runner.call(lambda e: e.set_params(e.params.replace(decompose_iters=2000)))
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        panel.paint_reference(src)
        qtbot.waitUntil(lambda: panel.cancel_button.isEnabled(), timeout=30000)
        qtbot.mouseClick(panel.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is False
    panel.runner.refresh()
    qtbot.waitUntil(lambda: panel._snap.busy == "", timeout=30000)
    assert panel._snap.n_strokes == 12
    # a bad reference is a message, not a crash
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    assert not panel.paint_reference(bad)
    assert "bad.png" in panel.banner.label.text()


def use_tiny_model(panel, steps: int) -> None:
    """Give the panel's engine an untrained 30-slot model sampling in ``steps`` DDIM steps."""
    from engines.painting.model import ModelConfig, StrokeDenoiser

    torch.manual_seed(0)
    tiny = StrokeDenoiser(ModelConfig(n_strokes=30, d_model=16, layers=1, heads=2, timesteps=50))

    def use_tiny(e):
        e.model = tiny
        e.set_params(e.params.replace(complete_steps=steps))

    panel.runner.call(use_tiny)
    panel._has_model = True


def test_complete_proposals_accept(panel, qtbot):
    use_tiny_model(panel, 4)
    _drag(qtbot, panel.canvas, [(0.3, 0.3), (0.6, 0.6)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=30000)
    n = panel._snap.n_strokes
    panel.proposals_box.setValue(2)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        qtbot.mouseClick(panel.complete_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is True
    qtbot.waitUntil(lambda: len(panel._thumb_buttons) == 2, timeout=30000)
    assert panel.accept_button.isEnabled()
    qtbot.mouseClick(panel._thumb_buttons[1], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel._snap.selected == 1, timeout=30000)
    qtbot.mouseClick(panel.accept_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 30, timeout=30000)
    assert panel._snap.authors.count("model") == 30 - n
    assert not panel._thumb_buttons
    # a rectangle region: proposals only inside it
    panel.undo()  # the accepted proposal (one operation)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == n, timeout=30000)
    panel.tool_box.setCurrentText("region")
    _drag(qtbot, panel.canvas, [(0.5, 0.5), (0.7, 0.6), (0.95, 0.95)])
    assert panel.canvas.region is not None and panel.canvas.region[0] == pytest.approx(0.5, abs=0.01)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000):
        panel.complete()
    props = panel.runner.call(lambda e: [p.copy() for p in e.proposals])
    assert props and all(np.all(p[:, :2] >= 0.49) for p in props)
    assert panel.runner.call(lambda e: e.params.samples) == 1
    # best guess: each proposal fitted to several samples
    panel.best_guess_box.setChecked(True)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        panel.complete()
    assert sig.args[1] is True
    assert panel.runner.call(lambda e: e.params.samples) > 1
    qtbot.waitUntil(lambda: len(panel._thumb_buttons) == 2, timeout=30000)
    # the first proposal is fitted to the painting the shipped render network expects; the box turns it off
    assert panel.completion.expected_box.isEnabled() and panel.completion.expected_box.isChecked()
    assert panel.runner.call(lambda e: e.params.expected_fit)
    assert "fitted to the expected painting" in panel._thumb_buttons[0].toolTip()
    assert "fitted" not in panel._thumb_buttons[1].toolTip()
    panel.completion.expected_box.setChecked(False)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        panel.complete()
    assert sig.args[1] is True and not panel.runner.call(lambda e: e.params.expected_fit)
    qtbot.waitUntil(lambda: len(panel._thumb_buttons) == 2, timeout=30000)
    assert "fitted" not in panel._thumb_buttons[0].toolTip()


def test_files_open_save_export_and_bad_json(panel, qtbot, tmp_path):
    _drag(qtbot, panel.canvas, [(0.1, 0.8), (0.9, 0.8)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=30000)
    n = panel._snap.n_strokes
    # (written on the worker: the panel does not wait, the test does)
    panel.save_json(tmp_path / "p.json").result(timeout=30)
    panel.export_png(tmp_path / "p.png", size=128).result(timeout=30)
    panel.export_svg(tmp_path / "p.svg", size=128).result(timeout=30)
    assert json.loads((tmp_path / "p.json").read_text())["format"] == "neural-studio-painting"
    assert (tmp_path / "p.png").stat().st_size > 100
    assert (tmp_path / "p.svg").read_text().count("<rect") == n + 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "neural-studio-painting", "version": 1, "strokes": [{"id": "a"}]}')
    assert not panel.open_json(bad)
    assert "bad.json: strokes[0]: missing field" in panel.banner.label.text()
    assert panel.runner.call(lambda e: len(e.doc)) == n  # the painting is kept
    panel.runner.call(lambda e: e.clear())
    assert panel.open_json(tmp_path / "p.json")
    qtbot.waitUntil(lambda: panel._snap.n_strokes == n, timeout=30000)


def test_a_file_opened_into_a_new_window_fills_the_stroke_list(panel, qtbot, tmp_path):
    """A file opened first thing (its version counter as read, 0, like the empty canvas's) is listed."""
    from engines.painting.strokes import Painting, save_painting

    doc = Painting()
    for k in range(5):
        doc.add(np.array([0.2 + 0.1 * k, 0.5, 0.1, 0.05, 0.0, 0.8, 0.2, 0.1]), author="file")
    doc.version = 0
    save_painting(doc, tmp_path / "five.json")
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0 and panel.table._version >= 0, timeout=30000)
    assert panel.open_json(tmp_path / "five.json")
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 5, timeout=30000)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 5, timeout=30000)  # was: an empty list
    assert {panel.table.item(r, 1).text() for r in range(5)} == {"file"}


def test_timelapse_replay(panel, qtbot):
    _drag(qtbot, panel.canvas, [(0.1, 0.5), (0.9, 0.5)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 3, timeout=30000)
    full = panel._snap.image.copy()
    panel.show_prefix(0)
    qtbot.waitUntil(lambda: int(panel._snap.image.min()) == 255, timeout=30000)  # blank canvas
    with qtbot.waitSignal(panel.play_button.toggled, timeout=30000):
        panel.play_button.setChecked(True)  # starts
    qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=60000)  # plays to the end
    qtbot.waitUntil(lambda: np.array_equal(panel._snap.image, full), timeout=30000)


def test_stroke_list_edits_and_refuses_bad_values(panel, qtbot):
    _drag(qtbot, panel.canvas, [(0.3, 0.3)])
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=30000)
    sid = panel.table.item(0, 0).text()
    col = panel.COLUMNS.index("r")
    panel.table.item(0, col).setText("0.1")
    qtbot.waitUntil(
        lambda: panel.runner.call(lambda e: e.doc.strokes[sid].r) == pytest.approx(0.1), timeout=30000
    )
    col = panel.COLUMNS.index("theta")
    before = panel.runner.call(lambda e: e.doc.strokes[sid].theta)
    panel.table.item(0, col).setText("7")
    # refused on the worker: the banner says so a moment later
    qtbot.waitUntil(lambda: "theta = 7.0" in panel.banner.label.text(), timeout=30000)
    assert panel.runner.call(lambda e: e.doc.strokes[sid].theta) == before
    qtbot.waitUntil(lambda: panel.table.item(0, col).text() == f"{before:.4f}", timeout=30000)


def test_zoom_and_pan_keep_strokes_where_the_mouse_is(panel, qtbot):
    c = panel.canvas
    c.set_view(4.0, (0.25, 0.75))  # zoomed on the lower-left quarter
    _drag(qtbot, c, [(0.2, 0.7), (0.3, 0.8)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=30000)
    xy = np.asarray(panel._snap.params)[:, :2]
    assert np.all(np.abs(xy - [0.25, 0.75]) < 0.06), xy
    # pan with the right button: the view centre moves against the drag
    start = c.to_widget(0.25, 0.75).toPoint()
    qtbot.mousePress(c, QtCore.Qt.MouseButton.RightButton, pos=start)
    qtbot.mouseMove(c, start + QtCore.QPoint(40, 0))
    qtbot.mouseRelease(c, QtCore.Qt.MouseButton.RightButton, pos=start + QtCore.QPoint(40, 0))
    assert c.center[0] < 0.25
    c.set_view(1.0, (0.5, 0.5))
    assert c.to_canvas(c.to_widget(0.3, 0.6)) == pytest.approx((0.3, 0.6), abs=1e-3)
