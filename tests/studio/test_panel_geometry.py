"""The Population geometry panel in the real main window: analyze, draw in 3-D and in plots, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from engines.geometry.analysis import AnalysisParams
from studio.panels.geometry import GeometryPanel
from studio.window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.gl]

TINY = dict(models="all", P=4, M=5, steps=2, eot=2, n_t=30, layers="conv3,fc1", eps="0,0.1,0.2")


@pytest.fixture
def panel(qtbot, tmp_path):
    w = MainWindow(panel_classes={"geometry": GeometryPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["geometry"]
    w.runner_for("geometry")
    yield p
    w.close()


def test_analysis_draws_manifolds_in_3d_and_curves(panel, qtbot, tmp_path):
    panel.form.set_params(AnalysisParams(**TINY))
    before = panel.canvas.render()
    with qtbot.waitSignal(panel.runner.job_finished, timeout=180000) as sig:
        qtbot.mouseClick(panel.analyze_button, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is True
    assert panel.progress.value() == 1000
    qtbot.waitUntil(lambda: panel._snap is not None and len(panel._snap.rows) == 3 * 3 * 2, timeout=10000)
    # 3-D views, models side by side: clean and attacked exemplar points of fc1 at the last eps
    panel.layer_box.setCurrentText("fc1")
    qtbot.waitUntil(lambda: panel.points_by_model["stochastic"] == 2 * 4 * 5, timeout=5000)
    # deterministic nets: the clean exemplar is one point repeated, plus the attacked points
    assert panel.points_by_model["standard"] == 2 * 4 * 5
    assert panel.current_eps(sorted({r["eps"] for r in panel._snap.rows})) == 0.2
    after = panel.canvas.render()
    colours = len(np.unique(after.reshape(-1, 4), axis=0))
    assert colours > 20  # several manifolds coloured, not a blank canvas
    assert not np.array_equal(before, after)
    # curves: one point per eps for every model, accuracy beside them
    for kind in ("standard", "adversarial", "stochastic"):
        cap = panel.curves[("eps", "capacity", kind)]
        assert len(cap.xData) == 3 and np.all(np.isfinite(cap.yData))
        acc = panel.curves[("eps", "accuracy", kind)]
        assert len(acc.xData) == 3 and np.all((acc.yData >= 0) & (acc.yData <= 1))
        lay = panel.curves[("layer", "radius", kind)]
        assert len(lay.xData) == 2
    # exports
    panel.export_csv(tmp_path / "g.csv")
    text = (tmp_path / "g.csv").read_text().splitlines()
    assert text[0].startswith("model,layer,eps,seed,capacity,radius,dimension") and len(text) == 19
    panel.export_png(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 5000


def test_missing_weights_show_an_error_not_a_crash(panel, qtbot, monkeypatch, tmp_path):
    eng = panel.runner.engine
    eng._asset_dir = tmp_path  # no weights there
    eng._models.clear()
    panel.form.set_params(AnalysisParams(**{**TINY, "models": "standard"}))
    panel.analyze()
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=20000)
    assert "digits_standard.zip" in panel.banner.label.text()


def test_noise_slider_recomputes_in_the_background(panel, qtbot):
    panel.form.set_params(AnalysisParams(**{**TINY, "models": "stochastic", "eps": "0,0.1", "layers": "fc1"}))
    with qtbot.waitSignal(panel.runner.job_finished, timeout=180000):
        panel.noise_slider.setValue(10)  # noise scale 0.5, debounced
    qtbot.waitUntil(lambda: panel._snap is not None and len(panel._snap.rows) == 2, timeout=10000)
    assert {r["noise_scale"] for r in panel._snap.rows} == {0.5}
    assert panel.form.params().noise_scale == 0.5
    assert panel.noise_label.text() == "0.50"
