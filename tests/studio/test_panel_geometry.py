"""The Population geometry panel in the real main window: analyze, draw in 3-D and in plots, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from engines.geometry.params import AnalysisParams
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


def test_noise_slider_shows_levels_analysed_in_one_run_without_recomputing(panel, qtbot):
    panel.form.set_params(
        AnalysisParams(
            **{**TINY, "models": "stochastic", "eps": "0,0.1", "layers": "fc1", "noise_levels": "0.5,2"}
        )
    )
    with qtbot.waitSignal(panel.runner.job_finished, timeout=180000):
        panel.analyze()
    qtbot.waitUntil(lambda: panel._snap is not None and len(panel._snap.rows) == 4, timeout=10000)
    assert panel.noise_levels(panel._snap) == [0.5, 2.0]
    rows = {r["noise_scale"]: r for r in panel._snap.rows if r["eps"] == 0.1}
    cap = panel.curves[("eps", "capacity", "stochastic")]
    panel.noise_slider.setValue(40)  # 2.0: analysed, so shown at once
    qtbot.waitUntil(lambda: float(cap.yData[-1]) == pytest.approx(rows[2.0]["capacity"]), timeout=5000)
    panel.noise_slider.setValue(10)  # 0.5
    qtbot.waitUntil(lambda: float(cap.yData[-1]) == pytest.approx(rows[0.5]["capacity"]), timeout=5000)
    qtbot.wait(800)  # past the slider's debounce: no new analysis started
    assert panel.runner.state != "job" and len(panel._snap.rows) == 4


def _write_activations(path, seed=0, P=5, M=12, N=40):
    rng = np.random.default_rng(seed)
    feats = np.concatenate([rng.standard_normal(N) * 3 + rng.standard_normal((M, N)) for _ in range(P)])
    labels = np.repeat(np.arange(P), M)
    np.savez(path, features=feats, labels=labels)
    return [feats[labels == i] for i in range(P)]


def test_import_activations_analyses_the_file_and_shows_it(panel, qtbot, tmp_path):
    from engines.geometry import manifold_analysis

    mans = _write_activations(tmp_path / "layer4.npz")
    p = panel.form.params()
    with qtbot.waitSignal(panel.runner.job_finished, timeout=120000) as sig:
        assert panel.import_activations(tmp_path / "layer4.npz")
    assert sig.args[1] is True
    qtbot.waitUntil(lambda: panel.import_table.rowCount() == 1, timeout=10000)
    assert panel.right_tabs.currentIndex() == 1
    assert panel.import_table.item(0, 0).text() == "layer4.npz"
    want = manifold_analysis(mans, kappa=p.kappa, n_t=p.n_t, seed=panel.runner.engine.seed)
    assert float(panel.import_table.item(0, 1).text()) == pytest.approx(want.capacity_mean, rel=1e-3)
    qtbot.waitUntil(lambda: panel.imported_points_drawn == 5 * 12, timeout=5000)
    img = panel.import_canvas.render()
    assert len(np.unique(img.reshape(-1, 4), axis=0)) > 10  # coloured manifolds drawn
    # into the CSV export, with the columns
    panel.export_csv(tmp_path / "g.csv")
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert lines[-1].startswith("layer4.npz,imported,0.0,")
    # a corrupt file: a clear error naming it, and the imported result is kept
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert not panel.import_activations(bad)
    assert panel.banner.isVisible() and "broken.npz" in panel.banner.label.text()
    ragged = tmp_path / "ragged.npz"
    np.savez(ragged, features=np.ones((10, 4)), labels=np.arange(9))
    assert not panel.import_activations(ragged)
    assert "labels do not match" in panel.banner.label.text()
    assert panel.import_table.rowCount() == 1


def test_export_csv_does_not_wait_for_a_busy_worker(panel, qtbot, tmp_path):
    """The CSV is written from the newest snapshot: no call waits on the worker."""
    import time

    panel.form.set_params(AnalysisParams(**{**TINY, "models": "standard", "layers": "fc1", "eps": "0"}))
    with qtbot.waitSignal(panel.runner.job_finished, timeout=180000):
        panel.analyze()
    qtbot.waitUntil(lambda: panel.runner.latest() is not None and len(panel.runner.latest().rows) == 1)
    panel.runner.submit(lambda e: time.sleep(1.5))
    t0 = time.perf_counter()
    panel.export_csv(tmp_path / "g.csv")
    assert time.perf_counter() - t0 < 0.5
    lines = (tmp_path / "g.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("standard,fc1,0.0,")
