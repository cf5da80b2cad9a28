"""The improvement curve: best cost against time, with the best known cost as a dashed line."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets


class ImprovementCurve(pg.PlotWidget):
    """One curve updated in place from the snapshot's (time s, best cost) pairs."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RoutingCurve")
        self.setBackground("w")
        self.setLabel("bottom", "time", units="s")
        self.setLabel("left", "best cost")
        self.curve = self.plot(pen=pg.mkPen((30, 90, 200), width=2), stepMode=None, symbol="o", symbolSize=4)
        self.bks_line = pg.InfiniteLine(angle=0, pen=pg.mkPen((200, 0, 0), style=QtCore.Qt.PenStyle.DashLine))
        self.bks_line.hide()
        self.addItem(self.bks_line)
        self.setMaximumWidth(380)

    def show_curve(self, curve: np.ndarray) -> None:
        if len(curve):
            self.curve.setData(curve[:, 0], curve[:, 1])
        else:
            self.curve.setData([], [])

    def show_best_known(self, bks: float | None) -> None:
        if bks:
            self.bks_line.setValue(bks)
            self.bks_line.show()
        else:
            self.bks_line.hide()
