"""The spiking panel's geometry: "Analyse geometry" sends the responses to the geometry workbench, and
the Training tab plots the readout's capacity against the training step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from engines.spiking.tess import TessParams
from studio.panels.geometry import GeometryPanel
from studio.panels.spiking import SpikingPanel
from studio.window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.gl]


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(
        panel_classes={"spiking": SpikingPanel, "geometry": GeometryPanel}, settings_file=tmp_path / "s.ini"
    )
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    w.runner_for("spiking")
    w.runner_for("geometry")
    yield w
    w.close()


def test_analyse_geometry_sends_every_population_and_window_to_the_geometry_workbench(window, qtbot):
    spiking, geometry = window.panels["spiking"], window.panels["geometry"]
    spiking.view_tabs.setCurrentWidget(spiking.training)
    with qtbot.waitSignal(geometry.runner.job_finished, timeout=180_000) as sig:
        qtbot.mouseClick(spiking.training.geometry_btn, QtCore.Qt.MouseButton.LeftButton)
    assert sig.args[1] is True
    assert window.current_panel() is geometry
    table = geometry.import_table
    qtbot.waitUntil(lambda: table.rowCount() == 8, timeout=10_000)  # 4 populations x 2 windows
    names = [table.item(i, 0).text() for i in range(8)]
    assert names[:2] == ["tess input t0-16", "tess input t16-32"] and "tess output t16-32" in names
    caps = np.array([float(table.item(i, 1).text()) for i in range(8)])
    assert np.all((caps > 0) & (caps < 2))
    # the shipped network untangles the digits: the readout's capacity above the pixels'
    assert caps[names.index("tess output t16-32")] > caps[names.index("tess input t16-32")]
    assert "sent 8 response sets" in spiking.training.status.text()


def test_without_the_geometry_workbench_the_button_says_what_to_do(qtbot, tmp_path):
    w = MainWindow(panel_classes={"spiking": SpikingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.show()
    w.runner_for("spiking")
    panel = w.panels["spiking"]
    qtbot.mouseClick(panel.training.geometry_btn, QtCore.Qt.MouseButton.LeftButton)
    assert "open the Population geometry workbench" in panel.training.status.text()
    w.close()


def test_training_tab_plots_capacity_against_the_training_step(window, qtbot):
    panel = window.panels["spiking"]
    plot = panel.training.geometry
    assert plot.hint.empty and plot.capacity.getData()[0] is None
    assert panel.start_training("tess-digits", TessParams(hidden=(16,), epochs=1, n_train=120, steps=12))
    qtbot.waitUntil(lambda: panel.train_result is not None, timeout=120_000)
    curve = panel.train_result["geometry_curve"]
    x, y = plot.capacity.getData()
    assert list(x) == [g["step"] for g in curve] and len(x) >= 5 and x[0] == 0
    assert np.allclose(y, [g["capacity"] for g in curve])
    assert np.all(np.isfinite(plot.accuracy.getData()[1]))
    assert not plot.hint.empty
    assert plot.getPlotItem().getAxis("bottom").labelText == "training step"
    img = plot.grab().toImage()
    colours = {img.pixel(i, j) for i in range(0, img.width(), 4) for j in range(0, img.height(), 4)}
    assert len(colours) > 5  # curves drawn, not a blank plot
