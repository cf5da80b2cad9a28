"""The spiking panel reads as a finished instrument: legends, labelled traces and threshold, axis
titles with units, one time read-out, hints on the tabs that have nothing yet, a laptop-sized minimum."""

from __future__ import annotations

import re

import pytest
from PySide6 import QtCore

from engines.spiking import preset
from studio.panels.spiking import SpikingPanel
from studio.window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(panel_classes={"spiking": SpikingPanel}, settings_file=tmp_path / "settings.ini")
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    w.runner_for("spiking")
    yield w
    w.close()


def run_steps(panel, qtbot, steps: int) -> None:
    runner = panel.runner
    target = runner.call(lambda e: e.step_count) + steps
    runner.run_for(steps)
    qtbot.waitUntil(lambda: runner.state == "paused" and runner.engine.step_count == target, timeout=120_000)
    qtbot.waitUntil(lambda: panel._last_snap is not None and panel._last_snap.step == target, timeout=10_000)


def axis_title(plot, side: str) -> str:
    axis = plot.getAxis(side)
    return f"{axis.labelText} ({axis.labelUnits})" if axis.labelUnits else axis.labelText


def test_rates_have_an_e_and_i_legend_and_every_plot_titled_axes_with_units(window):
    panel = window.panels["spiking"]
    a = panel.activity
    assert [t.split()[0] for t in a.rates.legend_labels()] == ["E", "I"]
    assert axis_title(a.raster, "left") == "neuron index"
    assert axis_title(a.rates, "left") == "rate (Hz)"
    assert axis_title(a.traces, "left") == "membrane potential (mV)"
    assert axis_title(a.traces, "bottom") == "time (s)"
    w, t, n = panel.weights, panel.training, panel.ncx
    titled = {
        (w.w_plot, "bottom"): "target neuron",
        (w.h_plot, "bottom"): "plastic weight",
        (w.h_plot, "left"): "synapses",
        (t.acc_plot, "bottom"): "epoch",
        (t.acc_plot, "left"): "test accuracy",
        (t.conf_plot, "bottom"): "predicted digit",
        (n.raster_plot, "bottom"): "time step",
        (n.count_plot, "bottom"): "output digit",
    }
    for (plot, side), text in titled.items():
        assert axis_title(plot, side) == text
    assert w.w_bar.axis.labelText == "weight" and t.conf_bar.axis.labelText == "test digits"


def test_threshold_line_sits_at_the_models_threshold_and_follows_it(window, qtbot):
    panel = window.panels["spiking"]
    line = panel.activity.traces.threshold
    assert line.value() == pytest.approx(preset("coba").v_thresh_mV)
    assert line.label.textItem.toPlainText() == "threshold"
    assert line.pen.style() == QtCore.Qt.PenStyle.DashLine
    changed = preset("coba", v_thresh_mV=-52.5)
    panel.controls.form.set_params(changed)
    panel.controls.form.params_changed.emit(changed)
    assert line.value() == pytest.approx(-52.5)


def test_membrane_traces_are_labelled_with_their_neuron(window, qtbot):
    panel = window.panels["spiking"]
    panel.pick_neuron(17)
    panel.pick_neuron(42)
    run_steps(panel, qtbot, 300)
    ids = panel._last_snap.monitor_idx.tolist()
    assert ids[:2] == panel._picked == [17, 42]
    labels = panel.activity.traces.labels()
    assert labels == [f"#{j}" for j in ids if j >= 0]
    # each label belongs to its own curve (the slot's colour)
    items = [item for item, _ in panel.activity.traces.legend.items]
    assert [sample.item for sample in items][:2] == panel.activity.traces.lines[:2]


def test_the_time_read_out_is_the_time_axis_right_edge_at_every_frame(window, qtbot, monkeypatch):
    panel = window.panels["spiking"]
    panel.controls.window_s.setValue(0.05)
    seen = []
    draw = panel._draw

    def spy(snap):
        draw(snap)
        shown = float(re.search(r"t = ([0-9.]+) s", panel.controls.readout.text()).group(1))
        seen.append((shown, panel.activity.time_shown(), snap.t_s))

    monkeypatch.setattr(panel, "_draw", spy)
    panel.runner.start()
    qtbot.waitUntil(lambda: len(seen) >= 5 and seen[-1][2] > 0.1, timeout=120_000)
    panel.runner.pause()
    qtbot.waitUntil(lambda: panel.runner.state == "paused", timeout=10_000)
    # once a whole window has run, the axis ends at the time read out (before, it shows 0 to 0.05 s)
    later = [(shown, edge, t) for shown, edge, t in seen if t >= 0.05]
    assert len(later) >= 3
    for shown, right_edge, t in later:
        assert shown == pytest.approx(t, abs=6e-4)
        assert right_edge == pytest.approx(t, abs=1e-9)


def test_tabs_say_what_will_appear_until_their_data_does(window, qtbot):
    panel = window.panels["spiking"]
    tabs = panel.view_tabs
    views = {1: panel.weights, 2: panel.network, 3: panel.training, 4: panel.ncx}
    for index, view in views.items():
        tabs.setCurrentIndex(index)
        qtbot.waitUntil(lambda v=view: v.hint.isVisible(), timeout=5_000)
        assert len(view.hint.text()) > 40
    assert "Run a training preset" in panel.training.hint.text()

    # NeuroCoreX: the first classified digit hides the hint
    assert panel.start_ncx_demo(pause_s=0.0, limit=5)
    qtbot.waitUntil(lambda: "test accuracy" in panel.ncx.status.text(), timeout=120_000)
    assert not panel.ncx.hint.isVisible()
    # Training: the result of a training preset
    tabs.setCurrentIndex(3)
    assert panel.start_training("neurocorex-digits")
    qtbot.waitUntil(lambda: panel.train_result is not None, timeout=120_000)
    assert not panel.training.hint.isVisible()
    # Weights: a plastic network
    idx = panel.controls.preset_box.findText("stdp-poisson")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    qtbot.waitUntil(lambda: panel.runner.call(lambda e: e.params.stdp) == "additive", timeout=30_000)
    tabs.setCurrentIndex(1)
    assert panel.weights.hint.isVisible()
    run_steps(panel, qtbot, 200)
    qtbot.waitUntil(lambda: not panel.weights.hint.isVisible(), timeout=10_000)
    assert panel.weights.w_img.image is not None
    # Network: a small network laid out
    idx = panel.controls.preset_box.findText("small-world")
    panel.controls.preset_box.setCurrentIndex(idx)
    panel.controls.preset_box.activated.emit(idx)
    qtbot.waitUntil(lambda: panel.runner.call(lambda e: e.n) == 400, timeout=30_000)
    tabs.setCurrentIndex(2)
    assert panel.network.hint.isVisible()
    run_steps(panel, qtbot, 200)
    qtbot.waitUntil(lambda: panel.network.layout_shown is not None, timeout=60_000)
    assert not panel.network.hint.isVisible()


def test_the_panel_fits_a_laptop_screen(window):
    hint = window.panels["spiking"].minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 500
