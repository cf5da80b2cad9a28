"""The Sweeps panel at first launch and while a sweep runs: the heat map fills in cell by cell with a
labelled colour bar, the TOML is highlighted, the status says one true thing, a laptop-sized minimum."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from engines.sweep.engine import SweepParams
from engines.sweep.io import sweeps_dir
from studio.panels.sweeps import SweepsPanel
from studio.window import MainWindow

pytestmark = pytest.mark.gui

GRID = """
[sweep]
name = "live"
kind = "demo"
seeds = [0]
[fixed]
sleep_s = 0.08
[grid]
x = [0.0, 0.5, 1.0, 1.5]
y = [0.0, 1.0, 2.0]
"""


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURAL_STUDIO_SWEEPS_DIR", str(tmp_path / "sweeps"))
    w = MainWindow(panel_classes={"sweeps": SweepsPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    w.runner_for("sweeps")
    yield w
    w.close()


def start(panel, qtbot, tmp_path, text=GRID):
    panel.editor.setPlainText(text)
    panel.out_edit.setText(str(tmp_path / "live.parquet"))
    panel.form.set_params(SweepParams(workers=0))
    qtbot.mouseClick(panel.run_button, QtCore.Qt.MouseButton.LeftButton)


def test_heat_map_fills_cell_by_cell_over_the_whole_grid(window, qtbot, tmp_path):
    panel = window.panels["sweeps"]
    plot = panel.results_plot
    assert plot.hint.isVisible() and "point by point" in plot.hint.text()
    seen: list[tuple[int, tuple]] = []

    def watch():
        img = plot.image.image
        seen.append((plot.filled_cells(), None if img is None else img.shape))
        return panel._snap is not None and panel._snap.state == "done"

    start(panel, qtbot, tmp_path)
    qtbot.waitUntil(watch, timeout=60_000)
    qtbot.waitUntil(lambda: plot.filled_cells() == 12, timeout=5_000)
    partial = {n for n, _ in seen if 0 < n < 12}
    assert len(partial) >= 2, f"the heat map went from empty to full without steps between: {seen}"
    # from its first cell on, the heat map spans the whole 4 x 3 grid (rows y, columns x)
    assert {shape for n, shape in seen if n > 0} == {(3, 4)}
    assert not plot.hint.isVisible()
    # a labelled colour bar and axes titled with the swept parameters
    assert panel.colorbar.isVisible() and panel.colorbar.axis.labelText == "f, mean over seeds"
    assert panel.plot_item.getAxis("bottom").labelText == "x"
    assert panel.plot_item.getAxis("left").labelText == "y"


def test_axes_and_colour_bar_carry_units(window):
    from engines.sweep.engine import SweepSnapshot

    def col(values, dtype=None):
        a = np.array(values, dtype=dtype)
        a.setflags(write=False)
        return a

    panel = window.panels["sweeps"]
    snap = SweepSnapshot(
        name="s",
        kind="spiking",
        out="",
        spec_toml="",
        swept=("tau_m_ms", "w_exc"),
        metrics=("rate_hz",),
        total=2,
        finished=2,
        ok=2,
        failed_total=0,
        running=0,
        state="done",
        status=None,
        dashboard=None,
        columns={
            "point_id": col(["a", "b"], object),
            "seed": col([0.0, 0.0]),
            "status": col(["ok", "ok"], object),
            "tau_m_ms": col([10.0, 20.0]),
            "w_exc": col([0.5, 0.5]),
            "rate_hz": col([3.0, 5.0]),
            "elapsed_s": col([0.1, 0.1]),
        },
        errors=(),
        history=(),
        version=1,
        grid={"tau_m_ms": (10.0, 20.0), "w_exc": (0.5, 1.0)},
    )
    panel.update_view(snap)
    bottom = panel.plot_item.getAxis("bottom")
    assert (bottom.labelText, bottom.labelUnits) == ("tau_m_ms", "ms")
    assert (panel.colorbar.axis.labelText, panel.colorbar.axis.labelUnits) == (
        "rate_hz, mean over seeds",
        "Hz",
    )
    assert panel.image.image.shape == (2, 2) and int(np.isfinite(panel.image.image).sum()) == 2


def _format_at(editor, line: int, column: int) -> QtGui.QTextCharFormat:
    block = editor.document().findBlockByNumber(line)
    for r in block.layout().formats():
        if r.start <= column < r.start + r.length:
            return QtGui.QTextCharFormat(r.format)  # a copy: the range goes with its list
    return QtGui.QTextCharFormat()


def test_toml_is_highlighted(window):
    panel = window.panels["sweeps"]
    panel.editor.setPlainText('# a note = "x"\n[sweep]\nname = "n"  # why\nseeds = [0, 1]\n')
    comment, section = _format_at(panel.editor, 0, 2), _format_at(panel.editor, 1, 1)
    key, string, number = (
        _format_at(panel.editor, 2, 0),
        _format_at(panel.editor, 2, 8),
        _format_at(panel.editor, 3, 9),
    )
    trailing = _format_at(panel.editor, 2, 14)
    colours = {f.foreground().color().name() for f in (comment, section, key, string, number)}
    assert len(colours) == 5  # five kinds of token, five colours
    assert comment.fontItalic() and not key.fontItalic()
    assert comment.foreground().color() != key.foreground().color()
    assert section.fontWeight() == QtGui.QFont.Weight.Bold
    assert trailing.foreground().color() == comment.foreground().color()  # a comment after a value


def test_first_line_is_not_clipped(window, qtbot):
    panel = window.panels["sweeps"]
    editor = panel.editor
    first = editor.document().firstBlock()
    top = editor.blockBoundingGeometry(first).translated(editor.contentOffset()).top()
    # clear of the frame: Qt's default 4 px margin put the first line against the border
    assert top >= 5
    assert editor.blockBoundingGeometry(first).height() < editor.viewport().height() - top
    assert editor.verticalScrollBar().value() == 0


def test_status_never_says_finished_and_paused_at_once(window, qtbot, tmp_path):
    panel = window.panels["sweeps"]
    texts: list[tuple[str, str]] = []

    def record():
        window._update_status()
        texts.append((window.lbl_state.text(), window.statusBar().currentMessage()))

    timer = QtCore.QTimer()
    timer.timeout.connect(record)
    timer.start(20)
    with qtbot.waitSignal(panel.runner.job_finished, timeout=60_000):
        start(panel, qtbot, tmp_path, GRID.replace("sleep_s = 0.08", "sleep_s = 0.02"))
    qtbot.wait(400)
    timer.stop()
    record()
    assert any("running sweep" in s for s, _ in texts)
    # the end of the job is said once, by the state label (the window no longer adds a message)
    assert any("sweep done" in s for s, _ in texts)
    for state, message in texts:
        both = f"{state} {message}"
        assert not ("finished" in both and "paused" in both), both
    assert "paused" not in texts[-1][0] and "sweep done" in texts[-1][0]


def test_results_go_to_the_per_user_sweeps_folder_shown_in_the_panel(window, tmp_path):
    panel = window.panels["sweeps"]
    assert sweeps_dir() == tmp_path / "sweeps"
    assert str(sweeps_dir()) in panel.out_edit.placeholderText()
    assert str(sweeps_dir()) in panel.out_edit.toolTip()


def test_the_panel_fits_a_laptop_screen(window):
    hint = window.panels["sweeps"].minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 500
