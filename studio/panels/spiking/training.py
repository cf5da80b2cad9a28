"""The Training tab: start a training preset, watch its accuracy curve and confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from studio import theme

from .geometry_curve import GeometryCurvePlot

EMPTY_TEXT = (
    "Run a training preset (Train TESS digits or NeuroCoreX digits above) to see the test accuracy "
    "per epoch and the confusion matrix here."
)


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
        self.acc_plot = view.addPlot(row=0, col=0)
        theme.style_plot(
            self.acc_plot,
            x=("epoch", None),
            y=("test accuracy", None),
            title="accuracy per epoch",
            si_prefix=False,
        )
        self.acc_plot.setYRange(0, 1)
        colour = theme.category_colour(2)
        self.acc_curve = self.acc_plot.plot(
            pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour
        )
        self.conf_plot = view.addPlot(row=0, col=1)
        theme.style_plot(
            self.conf_plot,
            x=("predicted digit", None),
            y=("true digit", None),
            title="confusion",
            grid=False,
            si_prefix=False,
        )
        self.conf_plot.invertY(True)
        # ten digits, even before the first result
        self.conf_plot.setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 9.5), padding=0.02)
        # digits at their cells' centres: even ones always named, odd ones where there is room
        ticks = [[(k, str(k)) for k in range(0, 10, 2)], [(k, str(k)) for k in range(1, 10, 2)]]
        for side in ("bottom", "left"):
            self.conf_plot.getAxis(side).setTicks(ticks)
        self.conf_img = pg.ImageItem(axisOrder="row-major")
        self.conf_plot.addItem(self.conf_img)
        self.conf_bar = theme.colorbar(self.conf_plot, self.conf_img, "test digits", limits=(0.0, 1.0))
        self.hint = theme.EmptyHint(view, EMPTY_TEXT)
        return view

    def starting(self, which: str) -> None:
        self.acc_curve.setData([], [])
        self.geometry.clear_curve()
        self.status.setText(f"{which}: starting...")
        self.hint.set_empty(True, f"{which}: training; the accuracy of each epoch appears here as it ends.")

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
            levels = (0.0, max(1.0, float(c.max())))
            self.conf_img.setImage(c, autoLevels=False, levels=levels)
            self.conf_img.setRect(QtCore.QRectF(-0.5, -0.5, c.shape[1], c.shape[0]))  # digit k centred on k
            self.conf_bar.setLevels(levels)
        if curve or conf is not None:
            self.hint.set_empty(False)
