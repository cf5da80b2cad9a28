"""The brush box: tool, size, opacity and colour of what a drag paints."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from studio import theme
from studio.panels.painting.canvas import Tool

PALETTE = ("#1d1d1d", "#ffffff", "#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9", "#8e44ad", "#7f5539")


class BrushBox(QtWidgets.QGroupBox):
    """Tool (brush, eraser, region), size and opacity sliders, a colour button and swatches.

    ``tool_changed(tool)``, ``brush_changed(size, opacity)`` (size in canvas fractions,
    opacity in [0, 1]) and ``color_changed(QColor)`` tell the canvas.
    """

    tool_changed = QtCore.Signal(str)
    brush_changed = QtCore.Signal(float, float)
    color_changed = QtCore.Signal(QtGui.QColor)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Brush", parent)
        self.color = QtGui.QColor(PALETTE[2])
        form = QtWidgets.QFormLayout(self)
        self.tool_box = QtWidgets.QComboBox()
        self.tool_box.addItems([t.value for t in Tool])
        self.tool_box.setToolTip("region: drag a rectangle; Complete then proposes strokes only inside it")
        form.addRow("Tool", self.tool_box)
        self.size_slider = self._slider(2, 200, 30)  # thousandths of the canvas side
        form.addRow("Size", self.size_slider)
        self.opacity_slider = self._slider(5, 100, 100)
        form.addRow("Opacity", self.opacity_slider)
        self.color_button = QtWidgets.QPushButton("Colour…")
        form.addRow("Colour", self.color_button)
        form.addRow(self._swatches())
        self.tool_box.currentTextChanged.connect(self.tool_changed)
        self.size_slider.valueChanged.connect(self._emit_brush)
        self.opacity_slider.valueChanged.connect(self._emit_brush)
        self.color_button.clicked.connect(self._pick_color)

    @staticmethod
    def _slider(lo: int, hi: int, value: int) -> QtWidgets.QSlider:
        s = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(value)
        return s

    def _swatches(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        for hexcol in PALETTE:
            b = QtWidgets.QToolButton()
            b.setFixedSize(18, 18)
            b.setStyleSheet(f"background: {hexcol}; border: 1px solid {theme.current().muted};")
            b.clicked.connect(lambda _c=False, h=hexcol: self.set_color(QtGui.QColor(h)))
            row.addWidget(b)
        return row

    @property
    def size(self) -> float:
        """Brush size in canvas fractions."""
        return self.size_slider.value() / 1000.0

    @property
    def opacity(self) -> float:
        return self.opacity_slider.value() / 100.0

    def set_color(self, color: QtGui.QColor) -> None:
        self.color = QtGui.QColor(color)
        self.color_button.setStyleSheet(
            f"background: {color.name()}; color: {'white' if color.lightness() < 128 else 'black'};"
        )
        self.color_button.setText(color.name())
        self.color_changed.emit(self.color)

    def _emit_brush(self) -> None:
        self.brush_changed.emit(self.size, self.opacity)

    def _pick_color(self) -> None:
        c = QtWidgets.QColorDialog.getColor(self.color, self, "Brush colour")
        if c.isValid():
            self.set_color(c)


__all__ = ["PALETTE", "BrushBox"]
