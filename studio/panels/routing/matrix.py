"""The matrix tab: distances, durations or their asymmetry |d_ij - d_ji| as an image with a labelled colour bar."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from engines.routing.report import MATRIX_KINDS, matrix_image, matrix_label
from studio import theme

HINT = "The instance's distance and duration matrices appear here. Open an instance or pick a sample."


class MatrixView(QtWidgets.QWidget):
    """A menu of :data:`~engines.routing.report.MATRIX_KINDS` over an image of the chosen matrix.

    Row ``i`` (from stop ``i``) runs down, column ``j`` (to stop ``j``) across; the colour bar on
    the right is titled with the matrix's quantity and unit, on a perceptually uniform map."""

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
        theme.style_plot(self.plot, x=("to stop", None), y=("from stop", None), grid=False)
        self.plot.invertY(True)  # row 0 (the depot) at the top, as in a printed matrix
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.bar = theme.colorbar(self.plot, self.image, "distance", None, limits=(0.0, 1.0))
        self.plot.setMinimumHeight(140)  # the colour bar's title stays readable
        layout.addWidget(self.plot)
        self.hint = theme.EmptyHint(self.plot, HINT)

    def show_problem(self, problem) -> None:
        self._problem = problem
        self._draw()

    def bar_label(self) -> str:
        """The colour bar's title as drawn, unit included (used by tests)."""
        return self.bar.axis.label.toPlainText()

    def _draw(self) -> None:
        p = self._problem
        if p is None:
            self.hint.set_empty(True)
            return
        kind = self.kind.currentText()
        m, hi = matrix_image(p, kind)
        title, unit = matrix_label(p, kind)
        self.image.setImage(m.T.astype(np.float32), autoLevels=False, levels=(0.0, hi))
        self.bar.setLevels((0.0, hi))
        self.bar.axis.setLabel(title, units=unit or None, color=theme.current().foreground)
        self.plot.getPlotItem().vb.autoRange(padding=0)
        self.hint.set_empty(False)
