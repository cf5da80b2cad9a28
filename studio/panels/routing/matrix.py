"""The matrix tab: distances, durations or their asymmetry |d_ij - d_ji| as an image."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from engines.routing.report import MATRIX_KINDS, matrix_image


class MatrixView(QtWidgets.QWidget):
    """A menu of :data:`~engines.routing.report.MATRIX_KINDS` over a viridis image of the chosen matrix."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._problem = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(list(MATRIX_KINDS))
        self.kind.currentIndexChanged.connect(lambda _i: self._draw())
        layout.addWidget(self.kind)
        self.plot = pg.PlotWidget()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        layout.addWidget(self.plot)

    def show_problem(self, problem) -> None:
        self._problem = problem
        self._draw()

    def _draw(self) -> None:
        if self._problem is None:
            return
        m, hi = matrix_image(self._problem, self.kind.currentText())
        self.image.setImage(m.T.astype(np.float32), autoLevels=False, levels=(0.0, hi))
