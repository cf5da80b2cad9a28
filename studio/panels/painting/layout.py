"""The painting workbench's arrangement: controls | canvas | session and strokes, in splitters."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets


def _column(*widgets: QtWidgets.QWidget, stretch: int = 0) -> QtWidgets.QWidget:
    """``widgets`` stacked, the one at index ``stretch`` taking the spare height."""
    box = QtWidgets.QWidget()
    col = QtWidgets.QVBoxLayout(box)
    col.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        col.addWidget(w, 1 if i == stretch else 0)
    return box


def workbench_splitter(
    controls: Sequence[QtWidgets.QWidget],
    canvas: QtWidgets.QWidget,
    under_canvas: QtWidgets.QWidget,
    session: QtWidgets.QWidget,
    info: QtWidgets.QWidget,
    table: QtWidgets.QWidget,
) -> QtWidgets.QSplitter:
    """The controls in a column that scrolls when the window is short, the canvas (taking the spare
    room) over ``under_canvas``, and the session box over ``info`` and the stroke ``table`` (which
    takes the spare height of its column). The side columns can be narrowed or folded away."""
    inner = QtWidgets.QWidget()
    side = QtWidgets.QVBoxLayout(inner)
    side.setContentsMargins(0, 0, 4, 0)
    for w in controls:
        side.addWidget(w)
    side.addStretch(1)
    scroll = QtWidgets.QScrollArea()
    scroll.setWidget(inner)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(inner.minimumSizeHint().width() + 16)
    right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
    right.addWidget(session)
    right.addWidget(_column(info, table, stretch=1))
    right.setStretchFactor(1, 1)
    right.setSizes([session.minimumSizeHint().height(), 1 << 20])  # the list takes the spare height
    split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
    centre = _column(canvas, under_canvas, stretch=0)
    for i, (w, stretch) in enumerate(((scroll, 0), (centre, 1), (right, 0))):
        split.addWidget(w)
        split.setStretchFactor(i, stretch)
        split.setCollapsible(i, w is not centre)
    return split


__all__ = ["workbench_splitter"]
