"""The map's view box: clicks and left drags near a stop edit the instance, the rest pans and zooms."""

from __future__ import annotations

from typing import Protocol

import pyqtgraph as pg
from PySide6 import QtCore


class MapEditor(Protocol):
    """What :class:`MapEditBox` asks of its map (map coordinates in, decisions out)."""

    def map_clicked(self, button, modifiers, pos: QtCore.QPointF) -> bool:
        """A click that no stop took; True when it was an edit (the box then keeps the event)."""

    def pick(self, pos: QtCore.QPointF) -> int | None:
        """The stop (0 = depot) under ``pos``, else None."""

    def drag_preview(self, index: int, pos: QtCore.QPointF) -> None:
        """Stop ``index`` is being dragged to ``pos``."""

    def drop(self, index: int, pos: QtCore.QPointF) -> None:
        """Stop ``index`` was dropped at ``pos``."""


class MapEditBox(pg.ViewBox):
    """A view box whose left drags move the stop under the mouse (else pan) and whose clicks edit.

    The decisions belong to ``editor`` (the map): this class only routes the mouse events.
    """

    def __init__(self) -> None:
        super().__init__()
        self.editor: MapEditor | None = None
        self._dragging: int | None = None

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if self.editor is not None and self.editor.map_clicked(
            ev.button(), ev.modifiers(), self.mapToView(ev.pos())
        ):
            ev.accept()
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if self.editor is not None and axis is None and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            if ev.isStart():
                self._dragging = self.editor.pick(self.mapToView(ev.buttonDownPos()))
            if self._dragging is not None:
                ev.accept()
                pos = self.mapToView(ev.pos())
                if ev.isFinish():
                    index, self._dragging = self._dragging, None
                    self.editor.drop(index, pos)
                else:
                    self.editor.drag_preview(self._dragging, pos)
                return
        super().mouseDragEvent(ev, axis)
