"""The Plot tab: a metric against one or two swept parameters, as a heat map, a scatter or lines.

The means over seeds, the axes of distinct values (a grid parameter's every value from the
start, so a heat map fills in cell by cell) and the colour levels come from
:mod:`engines.sweep.aggregate`, the units of the axes from :func:`engines.sweep.kinds.unit_of`;
this widget only draws them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from engines.sweep.aggregate import cell_means, codes, codes_on, colour_levels, curve_means, unit_scale
from engines.sweep.engine import SweepSnapshot
from engines.sweep.kinds import unit_of
from studio import theme

NONE = "(none)"
EMPTY_TEXT = "The results appear here point by point while the sweep runs: press Run (Space)."
MAX_CELLS = 40  # heat-map cells per axis; beyond, a scatter coloured by the metric
MAX_CURVES = 9


class ResultsPlot(QtWidgets.QWidget):
    """Metric / X / Y boxes and a mode (heat map or lines) above one pyqtgraph plot."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._build_controls())
        lay.addWidget(self._build_plot(), 1)
        self._key: tuple | None = None
        self._axes_for: tuple = ()
        self.pending_axes: tuple | None = None  # (metric, x, y) to select once they exist
        self._snap: SweepSnapshot | None = None

    def _build_controls(self) -> QtWidgets.QHBoxLayout:
        ctl = QtWidgets.QHBoxLayout()
        self.metric_box = QtWidgets.QComboBox()
        self.x_box = QtWidgets.QComboBox()
        self.y_box = QtWidgets.QComboBox()
        for label, box in (("Metric", self.metric_box), ("X", self.x_box), ("Y / curves", self.y_box)):
            ctl.addWidget(QtWidgets.QLabel(label))
            box.setMinimumContentsLength(10)
            box.currentIndexChanged.connect(self.replot)
            ctl.addWidget(box, 1)
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.addItems(["heat map", "lines"])
        self.mode_box.setToolTip("With a Y parameter: a heat map of X x Y, or one curve per Y value")
        self.mode_box.currentIndexChanged.connect(self.replot)
        ctl.addWidget(self.mode_box)
        return ctl

    def _build_plot(self) -> pg.PlotWidget:
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("SweepPlot")
        self.plot_item = theme.style_plot(self.plot, si_prefix=False)
        self.legend = theme.legend_above(self.plot_item, columns=5)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.cmap = pg.colormap.get(theme.SEQUENTIAL)
        self.colorbar = theme.colorbar(self.plot_item, self.image, "metric", limits=(0.0, 1.0))
        self.scatter = pg.ScatterPlotItem(size=7, pen=None)
        self.plot_item.addItem(self.scatter)
        self.curves: list[pg.PlotDataItem] = []
        self.hint = theme.EmptyHint(self.plot, EMPTY_TEXT)
        return self.plot

    # -- axes ------------------------------------------------------------
    def set_snapshot(self, s: SweepSnapshot) -> None:
        """Keep ``s`` for the next draw and fill the boxes with its metrics and swept parameters
        (if they changed)."""
        self._snap = s
        if (s.swept, s.metrics) == self._axes_for:
            return
        self._axes_for = (s.swept, s.metrics)
        boxes = (self.metric_box, self.x_box, self.y_box)
        for box in boxes:
            box.blockSignals(True)
            box.clear()
        self.metric_box.addItems(list(s.metrics))
        self.x_box.addItems(list(s.swept))
        self.y_box.addItem(NONE)
        self.y_box.addItems(list(s.swept))
        if len(s.swept) >= 2:
            self.y_box.setCurrentIndex(2)
        if self.pending_axes:
            for box, text in zip(boxes, self.pending_axes):
                if text and box.findText(text) >= 0:
                    box.setCurrentText(text)
            self.pending_axes = None
        for box in boxes:
            box.blockSignals(False)
        self._key = None

    # -- drawing ---------------------------------------------------------
    def replot(self) -> None:
        self._key = None
        if self._snap is not None:
            self.draw(self._snap)

    def _clear(self) -> None:
        self.image.clear()
        self.image.hide()
        self.colorbar.hide()
        self.scatter.clear()
        for c in self.curves:
            c.setData([], [])
            c.hide()
        self.legend.clear()

    def _curve(self, k: int) -> pg.PlotDataItem:
        while len(self.curves) <= k:
            n = len(self.curves)
            colour = theme.category_colour(n)
            c = pg.PlotDataItem(pen=theme.category_pen(n), symbol="o", symbolSize=6, symbolBrush=colour)
            self.plot_item.addItem(c)
            self.curves.append(c)
        return self.curves[k]

    def draw(self, s: SweepSnapshot) -> None:
        """Draw the chosen metric of ``s`` (nothing if the same as last time)."""
        self._snap = s
        metric, xname, yname = (
            self.metric_box.currentText(),
            self.x_box.currentText(),
            self.y_box.currentText(),
        )
        mode = self.mode_box.currentText()
        key = (s.version, metric, xname, yname, mode)
        if key == self._key:
            return
        self._key = key
        self._clear()
        cols = s.columns
        if not metric or not xname or metric not in cols or xname not in cols:
            return
        ok = cols["status"] == "ok"
        self.hint.set_empty(not ok.any())
        if not ok.any():
            return
        m = cols[metric][ok].astype(float)
        use_y = yname != NONE and yname != xname and yname in cols
        self._title_axis("bottom", xname)
        heat = use_y and mode == "heat map"
        self.plot_item.showGrid(x=not heat, y=not heat, alpha=0.25)  # grid lines would cut the cells
        if heat:
            xv, yv = codes(cols[xname][ok])[0], codes(cols[yname][ok])[0]
            if len(xv) <= MAX_CELLS and len(yv) <= MAX_CELLS:
                self._draw_heat_map(cols, ok, m, metric, xname, yname)
            else:  # too many distinct values: scatter coloured by the metric
                self._draw_scatter(cols, ok, m, metric, xname, yname)
        else:
            self._draw_lines(cols, ok, m, metric, xname, yname if use_y else None)
        self.plot_item.autoRange()

    def _unit(self, name: str) -> str | None:
        return unit_of(self._snap.kind, name) if self._snap is not None else None

    def _title_axis(self, side: str, name: str) -> None:
        """An axis titled with a parameter's or metric's name and unit."""
        self.plot_item.getAxis(side).setLabel(name, units=self._unit(name), color=theme.current().foreground)

    def _show_colorbar(self, metric: str, lo: float, hi: float, note: str = "") -> None:
        """The colour bar, labelled with the metric, its unit and ``note`` (no plot title: the row
        above the data holds the legend)."""
        label = f"{metric}{note}"
        self.colorbar.axis.setLabel(label, units=self._unit(metric), color=theme.current().foreground)
        self.colorbar.setLevels((lo, hi))
        self.colorbar.show()

    def filled_cells(self) -> int:
        """The heat-map cells that hold a value (0 when the heat map is not shown)."""
        img = self.image.image
        return int(np.isfinite(img).sum()) if img is not None and self.image.isVisible() else 0

    def _draw_heat_map(self, cols, ok, m, metric: str, xname: str, yname: str) -> None:
        grid_values = self._snap.grid if self._snap is not None else {}
        xv, xl, xi = codes_on(cols[xname][ok], tuple(grid_values.get(xname, ())))
        yv, yl, yi = codes_on(cols[yname][ok], tuple(grid_values.get(yname, ())))
        grid = cell_means(xi, yi, m, len(xv), len(yv))
        lo, hi = colour_levels(grid)
        self.image.setImage(grid.T, autoLevels=False, levels=(lo, hi))
        self.image.setColorMap(self.cmap)
        self.image.setRect(QtCore.QRectF(0, 0, len(xv), len(yv)))
        self.image.show()
        self._show_colorbar(metric, lo, hi, ", mean over seeds")
        self.plot_item.getAxis("bottom").setTicks([[(i + 0.5, t) for i, t in enumerate(xl)]])
        ax_l = self.plot_item.getAxis("left")
        ax_l.setTicks([[(j + 0.5, t) for j, t in enumerate(yl)]])
        self._title_axis("left", yname)

    def _draw_scatter(self, cols, ok, m, metric: str, xname: str, yname: str) -> None:
        _, xl, xi = codes(cols[xname][ok])
        _, yl, yi = codes(cols[yname][ok])
        numeric_x, numeric_y = cols[xname].dtype != object, cols[yname].dtype != object
        x = cols[xname][ok].astype(float) if numeric_x else xi.astype(float)
        y = cols[yname][ok].astype(float) if numeric_y else yi.astype(float)
        lo, hi = colour_levels(m)
        t = unit_scale(m, lo, hi)
        brushes = [pg.mkBrush(self.cmap.map(float(v) if math.isfinite(v) else 0.0, mode="qcolor")) for v in t]
        self.scatter.setData(x=x, y=y, brush=brushes)
        self.plot_item.getAxis("bottom").setTicks(None if numeric_x else [list(enumerate(xl))])
        ax_l = self.plot_item.getAxis("left")
        ax_l.setTicks(None if numeric_y else [list(enumerate(yl))])
        self._title_axis("left", yname)
        self._show_colorbar(metric, lo, hi)

    def _draw_lines(self, cols, ok, m, metric: str, xname: str, yname: str | None) -> None:
        """Mean over seeds against X, one curve per Y value (at most 9); without Y, every seed as a dot."""
        xv, xl, xi = codes(cols[xname][ok])
        numeric_x = cols[xname].dtype != object
        ax_l = self.plot_item.getAxis("left")
        ax_l.setTicks(None)
        self._title_axis("left", metric)
        self.plot_item.getAxis("bottom").setTicks(None if numeric_x else [list(enumerate(xl))])
        xpos = xv.astype(float) if numeric_x else np.arange(len(xv), dtype=float)
        groups: list[tuple[str | None, np.ndarray]] = [(None, np.ones(len(m), bool))]
        if yname is not None:
            _, yl, yi = codes(cols[yname][ok])
            groups = [(yl[j], yi == j) for j in range(min(len(yl), MAX_CURVES))]
        for k, (label, sel) in enumerate(groups):
            means = curve_means(xi[sel], m[sel], len(xv))
            have = np.isfinite(means)
            c = self._curve(k)
            c.setData(xpos[have], means[have])
            c.show()
            if label is not None:
                self.legend.addItem(c, f"{yname} = {label}")
        if yname is None:
            dots = theme.category_colour(0)
            dots.setAlpha(90)
            self.scatter.setData(x=xpos[xi], y=m, brush=pg.mkBrush(dots))
