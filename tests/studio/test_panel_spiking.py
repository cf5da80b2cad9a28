"""The spiking panel in the real main window: run COBA, draw the raster, pick neurons, errors."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from engines.spiking import preset
from studio.panels.spiking import E_RGB, I_RGB, SpikingPanel
from studio.window import MainWindow

pytestmark = pytest.mark.gui


def count_rgb(img: QtGui.QImage, rgb: tuple[int, int, int]) -> int:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height())
    value = 0xFF000000 | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]
    return int(np.sum(arr == value))


def data_area(view, plot) -> QtGui.QImage:
    """The pixels of ``plot``'s data area in ``view`` (legends and axes left out: they use the series colours)."""
    rect = view.mapFromScene(plot.getViewBox().sceneBoundingRect()).boundingRect()
    return view.grab(rect).toImage()


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(panel_classes={"spiking": SpikingPanel}, settings_file=tmp_path / "settings.ini")
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_runs_coba_and_draws_the_raster(window, qtbot):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    assert panel.runner is runner
    assert runner.engine.params == preset("coba")
    blank = data_area(panel.activity, panel.activity.raster)
    assert count_rgb(blank, E_RGB) == 0
    runner.run_for(3000)  # 0.3 s of COBA
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == 3000, timeout=120_000)
    qtbot.waitUntil(lambda: panel._last_snap is not None and panel._last_snap.step == 3000, timeout=10_000)
    assert panel.drawn_frames >= 1
    assert panel.activity.raster.points_drawn > 10_000  # ~19 Hz x 4000 neurons x 0.3 s
    img = data_area(panel.activity, panel.activity.raster)
    # excitatory (vermillion) and inhibitory (blue) spikes are on screen
    assert count_rgb(img, E_RGB) > 2000
    assert count_rgb(img, I_RGB) > 500
    assert "t = 0.300 s" in panel.controls.readout.text()
    # the rate curves hold 1 ms bins over the run
    x, y = panel.activity.rates.rate_e.getData()
    assert x is not None and len(x) >= 250 and 5 < float(np.mean(y)) < 60

    # clicking the raster picks the neuron under the mouse and records its membrane potential
    vb = panel.activity.raster.getViewBox()
    (x0, x1), _ = vb.viewRange()
    scene_pt = vb.mapViewToScene(QtCore.QPointF(0.5 * (x0 + x1), 2000.0))
    widget_pt = panel.activity.mapFromScene(scene_pt)
    qtbot.mouseClick(panel.activity.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=widget_pt)
    qtbot.waitUntil(lambda: len(panel._picked) == 1, timeout=5_000)
    assert abs(panel._picked[0] - 2000) <= 20  # one screen pixel spans ~13 neurons here
    panel.pick_neuron(17)  # and programmatically
    runner.run_for(500)
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == 3500, timeout=60_000)
    qtbot.waitUntil(lambda: panel._last_snap.step == 3500, timeout=10_000)
    assert panel._last_snap.monitor_idx[:2].tolist() == panel._picked
    assert 17 in panel._picked
    xs, ys = panel.activity.traces.lines[0].getData()
    assert xs is not None and len(xs) > 10 and np.all((ys > -90) & (ys < -40))
    # one curve per monitor slot, each with its own neuron's trace
    assert len(panel.activity.traces.lines) == panel._last_snap.monitor_idx.size
    assert not np.array_equal(panel.activity.traces.lines[1].getData()[1], ys)


def test_preset_switch_and_blow_up_is_shown(window, qtbot):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    idx = panel.controls.preset_box.findText("cuba")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    qtbot.waitUntil(lambda: runner.call(lambda e: e.params.model) == "cuba_exp", timeout=30_000)
    assert panel.controls.form.params().model == "cuba_exp"
    bad = preset("coba", n_neurons=200, ge0_mean=-1000.0, ge0_std=0.0)
    panel.controls.form.set_params(bad)
    panel.controls.form.params_changed.emit(bad)
    runner.run_for(1000)
    qtbot.waitUntil(lambda: runner.state == "error", timeout=30_000)
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=5_000)
    assert "blew up" in panel.banner.label.text()


def test_network_view_flashes_spikes(window, qtbot):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    idx = panel.controls.preset_box.findText("small-world")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    qtbot.waitUntil(lambda: runner.call(lambda e: e.n) == 400, timeout=30_000)
    panel.view_tabs.setCurrentIndex(2)
    runner.start()
    qtbot.waitUntil(lambda: panel.network.flashes > 0, timeout=60_000)
    runner.pause()
    x, y = panel.network.nodes.getData()
    assert len(x) == 400
    img = data_area(panel.network, panel.network.getPlotItem())
    assert count_rgb(img, E_RGB) > 0 or count_rgb(img, I_RGB) > 0


def test_training_tab_shows_accuracy_and_confusion(window, qtbot):
    from engines.spiking.tess import TessParams

    panel = window.panels["spiking"]
    window.runner_for("spiking")
    assert panel.start_training("neurocorex-digits")
    qtbot.waitUntil(lambda: panel.train_result is not None, timeout=120_000)
    assert panel.train_result["preset"] == "neurocorex-digits"
    assert panel.train_result["test_accuracy"] >= 0.66
    assert "test accuracy" in panel.training.status.text()
    assert panel.training.conf_img.image is not None and panel.training.conf_img.image.sum() == 594
    panel.train_result = None
    assert panel.start_training("tess-digits", TessParams(hidden=(16,), epochs=2, n_train=200))
    qtbot.waitUntil(lambda: panel.train_result is not None, timeout=120_000)
    x, y = panel.training.acc_curve.getData()
    assert list(x) == [1, 2] and 0.1 < y[-1] <= 1.0


def test_weights_tab_follows_plasticity(window, qtbot):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    idx = panel.controls.preset_box.findText("stdp-poisson")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    qtbot.waitUntil(lambda: runner.call(lambda e: e.params.stdp) == "additive", timeout=30_000)
    panel.view_tabs.setCurrentIndex(1)
    w0 = runner.call(lambda e: e.weights())
    runner.run_for(5000)  # 0.5 s
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == 5000, timeout=60_000)
    qtbot.waitUntil(lambda: panel._last_snap is not None and panel._last_snap.step == 5000, timeout=10_000)
    panel.weights.draw(panel._last_snap)
    assert not np.array_equal(runner.call(lambda e: e.weights()), w0)
    img = panel.weights.w_img.image
    assert img is not None and img.shape == (1100, 100)
    heights = panel.weights.w_hist.opts["height"]
    assert int(np.sum(heights)) == 100_000  # every input synapse is plastic


def test_workspace_round_trip_restores_the_network(window, qtbot, tmp_path):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    panel.pick_neuron(42)
    runner.run_for(1000)
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == 1000, timeout=60_000)
    v_saved = runner.call(lambda e: e.v.copy())
    path = tmp_path / "coba.nsw"
    assert window.save_workspace(path)
    runner.run_for(500)
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == 1500, timeout=60_000)
    assert window.open_workspace(path)
    assert runner.call(lambda e: e.step_count) == 1000
    assert np.array_equal(runner.call(lambda e: e.v.copy()), v_saved)
    assert panel._picked == [42] and runner.call(lambda e: int(e.monitor_idx[0])) == 42
    qtbot.waitUntil(lambda: panel._last_snap is not None and panel._last_snap.step == 1000, timeout=10_000)
    assert panel.activity.raster.points_drawn > 0


def test_neurocorex_tab_streams_digits_and_can_be_stopped(window, qtbot):
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    assert panel.start_ncx_demo(pause_s=0.0, limit=20)
    qtbot.waitUntil(lambda: "test accuracy" in panel.ncx.status.text(), timeout=120_000)
    assert "on 20 digits" in panel.ncx.status.text()
    assert panel.ncx.samples >= 1  # progress is throttled to ~30 a second: not every digit is drawn
    assert panel.ncx.img.image is not None and panel.ncx.img.image.shape == (8, 8)
    assert float(np.sum(panel.ncx.bars.opts["height"])) > 0
    x, y = panel.ncx.inp.getData()
    assert len(x) > 50 and np.all(np.asarray(y) >= 10)
    # a slow, full run is stopped by Cancel between two digits
    assert panel.start_ncx_demo(pause_s=0.05)
    qtbot.waitUntil(lambda: panel.ncx.samples >= 3, timeout=60_000)
    runner.cancel_job()
    qtbot.waitUntil(lambda: "stopped after" in panel.ncx.status.text(), timeout=30_000)
    assert runner.state == "paused"


def test_neurocorex_profile_combo_picks_the_model_the_demo_runs(window, qtbot):
    panel = window.panels["spiking"]
    combo = panel.ncx.profile_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["chip", "extended"]
    assert combo.currentText() == "chip" and "one leak for all neurons" in combo.toolTip().lower()
    seen = {}
    for profile in ("extended", "chip"):
        combo.setCurrentIndex(combo.findText(profile))
        assert panel.start_ncx_demo(pause_s=0.0, limit=30)
        qtbot.waitUntil(lambda: "test accuracy" in panel.ncx.status.text(), timeout=120_000)
        seen[profile] = panel.ncx.status.text()
        x, y = panel.ncx.out.getData()
        assert len(x) > 0 and np.all((np.asarray(y) >= 0) & (np.asarray(y) < 10))
    assert seen["extended"].startswith("NeuroCoreX (extended profile)")
    assert seen["chip"].startswith("NeuroCoreX (chip profile)")


class _GuiThreadWatch:
    """Stands in for the runner's engine and notes every attribute the spiking panel reads on the GUI thread."""

    def __init__(self, engine):
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "hits", [])

    def __getattr__(self, name):
        if QtCore.QThread.currentThread() is QtCore.QCoreApplication.instance().thread():
            code = sys._getframe(1).f_code
            if "panels/spiking" in code.co_filename.replace("\\", "/"):
                self.hits.append(f"{code.co_filename}:{code.co_name} reads engine.{name}")
        return getattr(self._engine, name)

    def __setattr__(self, name, value):
        setattr(self._engine, name, value)


def test_the_gui_thread_never_touches_the_engine_and_the_layout_runs_on_the_worker(
    window, qtbot, monkeypatch
):
    import studio.panels.spiking.panel as panel_mod

    layout_threads = []
    real_layout = panel_mod.network_layout

    def layout(*args, **kwargs):
        layout_threads.append(threading.current_thread())
        return real_layout(*args, **kwargs)

    monkeypatch.setattr(panel_mod, "network_layout", layout)
    panel = window.panels["spiking"]
    runner = window.runner_for("spiking")
    watch = _GuiThreadWatch(runner.engine)
    runner.engine = watch
    idx = panel.controls.preset_box.findText("small-world")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    panel.view_tabs.setCurrentIndex(2)
    runner.run_for(1000)
    qtbot.waitUntil(lambda: panel._last_snap is not None and panel._last_snap.step == 1000, timeout=60_000)
    qtbot.waitUntil(lambda: panel.network.layout_shown is not None, timeout=30_000)
    assert panel.activity.raster.points_drawn > 0
    assert watch.hits == []
    assert layout_threads and threading.main_thread() not in layout_threads
    runner.engine = watch._engine
