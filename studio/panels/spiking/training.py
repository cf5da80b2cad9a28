"""The Training tab: start a training preset, watch its accuracy curve and confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from .geometry_curve import GeometryCurvePlot


class TrainingView(QtWidgets.QWidget):
    """Buttons for the training presets (:attr:`train_requested` names one), status, accuracy, confusion."""

    train_requested = QtCore.Signal(str)
    geometry_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(self._buttons())
        self.status = QtWidgets.QLabel("No training yet.")
        self.status.setObjectName("spiking_train_status")
        lay.addWidget(self.status)
        lay.addWidget(self._plots(), 1)
        self.geometry = GeometryCurvePlot()
        lay.addWidget(self.geometry, 1)

    def _buttons(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.tess_btn = QtWidgets.QPushButton("Train TESS digits")
        self.tess_btn.setObjectName("spiking_train_tess")
        self.tess_btn.setToolTip("Feed-forward SNN on 8x8 digits, local TESS rule (about a minute)")
        self.tess_btn.clicked.connect(lambda: self.train_requested.emit("tess-digits"))
        self.ncx_btn = QtWidgets.QPushButton("NeuroCoreX digits")
        self.ncx_btn.setToolTip("int8 templates on the NeuroCoreX integer datapath")
        self.ncx_btn.clicked.connect(lambda: self.train_requested.emit("neurocorex-digits"))
        self.geometry_btn = QtWidgets.QPushButton("Analyse geometry")
        self.geometry_btn.setObjectName("spiking_analyse_geometry")
        self.geometry_btn.setToolTip(
            "Record the digits network's spike counts per population and time window and send them "
            "to the Population geometry workbench (capacity, radius, dimension, center correlation)"
        )
        self.geometry_btn.clicked.connect(self.geometry_requested)
        row.addWidget(self.tess_btn)
        row.addWidget(self.ncx_btn)
        row.addWidget(self.geometry_btn)
        row.addStretch(1)
        return row

    def _plots(self) -> pg.GraphicsLayoutWidget:
        view = pg.GraphicsLayoutWidget()
        view.setBackground("w")
        self.acc_plot = view.addPlot(row=0, col=0, title="test accuracy per epoch")
        self.acc_plot.setYRange(0, 1)
        self.acc_curve = self.acc_plot.plot(pen=pg.mkPen((40, 120, 40), width=2), symbol="o", symbolSize=6)
        self.conf_plot = view.addPlot(row=0, col=1, title="confusion (true x predicted)")
        self.conf_plot.invertY(True)
        self.conf_img = pg.ImageItem(axisOrder="row-major")
        self.conf_img.setColorMap(pg.colormap.get("viridis"))
        self.conf_plot.addItem(self.conf_img)
        return view

    def starting(self, which: str) -> None:
        self.acc_curve.setData([], [])
        self.geometry.clear_curve()
        self.status.setText(f"{which}: starting...")

    def show_result(self, value: Any) -> None:
        """Draw the accuracy curve and confusion matrix of a progress value or result (a dict)."""
        if not isinstance(value, dict):
            return
        curve = value.get("accuracy_curve")
        if curve is None and "test_accuracy" in value:
            curve = [value["test_accuracy"]]
        if curve:
            self.acc_curve.setData(np.arange(1, len(curve) + 1), np.asarray(curve, float))
        self.geometry.show_curve(value.get("geometry_curve"))
        conf = value.get("confusion")
        if conf is not None:
            c = np.asarray(conf, float)
            self.conf_img.setImage(c, autoLevels=False, levels=(0, max(1.0, c.max())))
