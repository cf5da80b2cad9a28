"""The painting panel's proposals as ghost strokes on the canvas, its demo progress, its size at 1280x720."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore

from studio.panels.painting import PaintingPanel
from studio.window import MainWindow

from .test_panel_painting import _drag, _grab, use_tiny_model

pytestmark = pytest.mark.gui

T = 30000
Key = QtCore.Qt.Key


@pytest.fixture
def win(qtbot, tmp_path):
    w = MainWindow(panel_classes={"painting": PaintingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["painting"]
    w.runner_for("painting")
    qtbot.waitUntil(lambda: p._snap is not None, timeout=T)
    yield w
    w.close()


def _key(qtbot, panel, key) -> None:
    panel.window().activateWindow()
    panel.canvas.setFocus()
    qtbot.keyClick(panel.canvas, key)


def _complete(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
        qtbot.mouseClick(panel.complete_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is True
    n = panel.proposals_box.value()
    qtbot.waitUntil(lambda: len(panel._snap.proposals) == n and panel._snap.busy == "", timeout=T)
    qtbot.waitUntil(lambda: panel.canvas.ghosts.count > 0 and panel.canvas.ghosts.draws > 0, timeout=T)


def test_proposals_are_ghost_strokes_on_the_canvas_a_key_accepts_one_another_rejects(win, qtbot):
    panel = win.panels["painting"]
    canvas = panel.canvas
    use_tiny_model(panel, 3)
    # (the model's own samples: the untrained model's strokes are visible ghosts; a fit to the expected
    # painting would leave few of them on so small a painting)
    panel.completion.expected_box.setChecked(False)
    _drag(qtbot, canvas, [(0.3, 0.3), (0.6, 0.6)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=T)
    n = panel._snap.n_strokes
    assert not panel.proposal_bar.accept_button.isEnabled() and canvas.ghosts.count == 0
    panel.proposals_box.setValue(2)
    canvas.ghosts.ALPHA_LOW = canvas.ghosts.ALPHA_HIGH = 0.8  # (no pulse: compare grabs)
    before = _grab(canvas)
    _complete(qtbot, panel)
    # the proposal is drawn over the painting, which itself is unchanged (no proposal baked in)
    shown = np.asarray(panel._snap.proposals[panel._snap.selected])
    assert canvas.ghosts.count == len(shown) == 30 - n
    assert panel._snap.n_strokes == n
    after = _grab(canvas)
    changed = np.abs(after.astype(int) - before).sum(-1) > 30
    assert changed.mean() > 0.01
    # on the paper, not only around it (the untrained model may put its strokes at the edges)
    sq = canvas.square().toRect()
    assert changed[sq.top() : sq.bottom(), sq.left() : sq.right()].mean() > 0.01
    assert (
        panel.proposal_bar.accept_button.isEnabled() and "Proposal 1 of 2" in panel.proposal_bar.label.text()
    )
    # Right goes to the next proposal: its ghosts are drawn instead
    _key(qtbot, panel, Key.Key_Right)
    qtbot.waitUntil(lambda: panel._snap.selected == 1, timeout=T)
    second = np.asarray(panel._snap.proposals[1])
    qtbot.waitUntil(lambda: np.array_equal(canvas.ghosts.params, second.astype(np.float64)), timeout=T)
    assert "Proposal 2 of 2" in panel.proposal_bar.label.text()
    # Enter accepts it: its strokes join the painting, the ghosts go
    _key(qtbot, panel, Key.Key_Return)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == n + len(second), timeout=T)
    assert canvas.ghosts.count == 0 and not panel.proposal_bar.accept_button.isEnabled()
    assert panel._snap.authors.count("model") == len(second)
    # one undo takes the whole proposal back
    qtbot.keyClick(canvas, Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == n, timeout=T)
    # Esc rejects the next proposals: nothing changes in the painting
    _complete(qtbot, panel)
    ids = panel._snap.ids
    _key(qtbot, panel, Key.Key_Escape)
    qtbot.waitUntil(lambda: not panel._snap.proposals, timeout=T)
    assert panel._snap.ids == ids and canvas.ghosts.count == 0
    # and the buttons beside the canvas do the same as the keys
    _complete(qtbot, panel)
    qtbot.mouseClick(panel.proposal_bar.accept_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 30, timeout=T)


def test_the_first_proposal_is_on_the_canvas_while_the_others_are_computed(win, qtbot):
    panel = win.panels["painting"]
    use_tiny_model(panel, 12)
    # slow each model call a little, so the proposals take long enough to be watched one by one
    panel.runner.call(lambda e: e.model.register_forward_hook(lambda *_a: time.sleep(0.01)))
    _drag(qtbot, panel.canvas, [(0.3, 0.3), (0.6, 0.6)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=T)
    seen = []  # (ghosts drawn?, proposals ready, job running) at every snapshot shown
    show = panel.update_view

    def watch(snap):
        show(snap)
        seen.append((panel.canvas.ghosts.count > 0, len(snap.proposals), snap.busy == "complete"))

    panel.update_view = watch
    panel.proposals_box.setValue(3)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60000):
        qtbot.mouseClick(panel.complete_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][1] == 3, timeout=T)
    assert (True, 1, True) in seen  # one proposal on the canvas, the job still running
    assert panel.overlay.isHidden()  # the progress over the canvas went with the job


def test_demo_progress_over_the_canvas_then_hidden(win, qtbot):
    panel = win.panels["painting"]
    assert panel.canvas_hint.empty and panel.table_hint.empty  # an empty painting says what to do
    texts = []
    panel.runner.job_progress.connect(lambda _p: texts.append(panel.overlay.label.text()))
    panel.start_demo()
    assert panel.overlay.isVisible() and not panel.canvas_hint.empty
    qtbot.waitUntil(lambda: any("Painting the demo:" in t and "/ 180 strokes" in t for t in texts), timeout=T)
    assert panel.overlay.bar.maximum() == 1000
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 180 and panel.overlay.isHidden(), timeout=T)
    assert any(t.startswith("Painting the demo: preparing") for t in texts)
    assert not panel.canvas_hint.empty and not panel.table_hint.empty


def test_minimum_size_fits_a_laptop_and_the_table_and_canvas_share_720_px(win, qtbot):
    panel = win.panels["painting"]
    hint = panel.minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 500, hint
    panel.start_demo()
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 180, timeout=T)
    qtbot.wait(200)  # (the table fills at most 5 times a second)
    table = panel.table
    rows_visible = table.viewport().height() / table.rowHeight(0)
    assert rows_visible >= 4, rows_visible
    assert min(panel.canvas.width(), panel.canvas.height()) >= 300


def test_a_1000_stroke_canvas_is_completed_over_its_empty_part(win, qtbot):
    import torch

    from engines.painting.model import ModelConfig, StrokeDenoiser
    from tests.engines.painting.test_regions import _canvas, _cell_of

    panel = win.panels["painting"]
    canvas = panel.canvas
    torch.manual_seed(0)
    cfg = ModelConfig(n_strokes=30, d_model=16, layers=1, heads=2, timesteps=50, prediction="x0")
    tiny = StrokeDenoiser(cfg)
    torch.nn.init.normal_(tiny.out.weight, std=0.2)  # (untrained: strokes all over each window)

    def use_tiny(e):
        e.model = tiny
        e.set_params(e.params.replace(complete_steps=3))

    panel.runner.call(use_tiny)
    panel._has_model = True
    strokes = _canvas([0, 1, 2, 3, 4, 5, 6, 7], per_cell=125, seed=2)  # 1,000 strokes, the last ninth bare

    def paint(e):  # (a painting of 1,000 strokes in place of whatever is on the canvas)
        e.clear()
        e.add_strokes(strokes, author="me")

    panel._edit(paint)
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 1000, timeout=T)
    panel.proposals_box.setValue(1)
    canvas.ghosts.ALPHA_LOW = canvas.ghosts.ALPHA_HIGH = 0.8  # (no pulse: compare grabs)
    before = _grab(canvas)
    _complete(qtbot, panel)
    assert panel.runner.call(lambda e: e.last_completion.get("windows")) is True
    shown = np.asarray(panel._snap.proposals[0])
    assert len(shown) > 29 and canvas.ghosts.count == len(shown)  # more than the model's 30 slots
    assert np.isin(_cell_of(shown), [8]).mean() > 0.9
    # the ghosts are drawn in the bare ninth of the paper (bottom right)
    changed = np.abs(_grab(canvas).astype(int) - before).sum(-1) > 30
    sq = canvas.square().toRect()
    third = sq.width() // 3
    corner = changed[sq.bottom() - third + 4 : sq.bottom() - 4, sq.right() - third + 4 : sq.right() - 4]
    assert corner.mean() > 0.05
