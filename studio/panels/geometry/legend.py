"""The colour legend beside the 3-D views: which colour is which manifold, and what the marker shapes mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from studio import theme

#: more manifolds than this are summarised in one last entry
MAX_ENTRIES = 24
SWATCH_PX = 12
PLACEHOLDER = "colours: one per manifold"
ITEM_W, ITEM_H = 112, 20  # about one entry's size, for the height the legend asks for


def swatch(rgba: Sequence[float], symbol: str = "disc") -> QtGui.QIcon:
    """A small icon: a filled disc (or a cross) in colour ``rgba`` (floats 0-1)."""
    pix = QtGui.QPixmap(SWATCH_PX, SWATCH_PX)
    pix.fill(QtCore.Qt.GlobalColor.transparent)
    colour = QtGui.QColor.fromRgbF(*[float(c) for c in rgba[:4]])
    painter = QtGui.QPainter(pix)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    if symbol == "x":
        painter.setPen(QtGui.QPen(colour, 2))
        painter.drawLine(2, 2, SWATCH_PX - 2, SWATCH_PX - 2)
        painter.drawLine(2, SWATCH_PX - 2, SWATCH_PX - 2, 2)
    else:
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(1, 1, SWATCH_PX - 2, SWATCH_PX - 2)
    painter.end()
    return QtGui.QIcon(pix)


class ClassLegend(QtWidgets.QListWidget):
    """The manifolds' colours (``names[i]`` in ``colours[i]``) and the marker shapes, laid out in rows that wrap.

    ``labels()`` gives the entries' texts (for scripts and tests)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("GeometryLegend")
        self.setFlow(QtWidgets.QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.setSpacing(2)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setIconSize(QtCore.QSize(SWATCH_PX, SWATCH_PX))
        self.setToolTip(
            "colour: which manifold (class) a point belongs to; disc: clean input; cross: perturbed"
        )
        t = theme.current()
        self.setStyleSheet(
            f"QListWidget#GeometryLegend {{ background: {t.background}; color: {t.foreground}; }}"
        )
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.addItem(PLACEHOLDER)

    def show_classes(self, names: Sequence[str], colours: np.ndarray, perturbed: str | None = None) -> None:
        """List ``names`` with their ``colours`` (n x 4 floats), then the marker shapes when ``perturbed``
        names what the crosses are (discs: clean points)."""
        self.clear()
        shown = list(names)[:MAX_ENTRIES]
        for name, col in zip(shown, colours):
            self.addItem(QtWidgets.QListWidgetItem(swatch(col), str(name)))
        if len(names) > len(shown):
            self.addItem(QtWidgets.QListWidgetItem(f"… {len(names) - len(shown)} more"))
        if perturbed:  # the marker shapes, when there are two kinds of points
            grey = theme.current().qcolor("muted").getRgbF()
            self.addItem(QtWidgets.QListWidgetItem(swatch(grey), "clean"))
            self.addItem(QtWidgets.QListWidgetItem(swatch(grey, "x"), perturbed))
        self.updateGeometry()

    def labels(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        """Tall enough for every entry at the present width (they wrap into rows)."""
        per_row = max(1, self.width() // ITEM_W)
        rows = max(1, -(-self.count() // per_row))
        return QtCore.QSize(4 * ITEM_W, min(rows, 6) * ITEM_H + 8)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        return QtCore.QSize(80, 24)
