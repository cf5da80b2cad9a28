"""The Training tab's geometry plot: capacity of the readout against the training step, beside accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from studio import theme


class GeometryCurvePlot(pg.PlotWidget):
    """Readout manifold capacity (MFTMA) and accuracy on the same test images, per training step."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spiking_geometry_curve")
        theme.style_plot(self, x=("training step", None), y=("capacity, accuracy", None))
        theme.legend_above(self)
        self.capacity = self.plot(
            pen=theme.category_pen(0), symbol="o", symbolSize=5, name="readout capacity"
        )
        self.capacity.setSymbolBrush(theme.category_colour(0))
        self.accuracy = self.plot(pen=theme.category_pen(1), name="accuracy (same images)")
        self.setYRange(0, 1)
        self.setMinimumHeight(120)
        self.hint = theme.EmptyHint(
            self, "The readout's manifold capacity appears here during TESS training (Train TESS digits)."
        )

    def show_curve(self, curve: Sequence[dict] | None) -> None:
        """Draw the ``geometry_curve`` of a TESS training's progress value or result."""
        if not curve:
            return
        step = np.array([g["step"] for g in curve], float)
        cap = np.array([g["capacity"] for g in curve], float)
        self.capacity.setData(step, cap)
        self.accuracy.setData(step, np.array([g.get("probe_accuracy", np.nan) for g in curve], float))
        self.setYRange(0, max(1.0, float(np.nanmax(cap)) * 1.05))
        self.hint.set_empty(False)

    def clear_curve(self) -> None:
        self.capacity.setData([], [])
        self.accuracy.setData([], [])
        self.hint.set_empty(True)
