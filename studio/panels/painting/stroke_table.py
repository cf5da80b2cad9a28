"""The stroke list: the most recent strokes of the painting, newest first, their numbers editable."""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore, QtWidgets

from engines.painting.engine import PaintingSnapshot


class StrokeTable(QtWidgets.QTableWidget):
    """The last ``ROWS`` strokes of a snapshot; an edited number is emitted as ``edited(id, field, text)``.

    Refills follow the painting's version, at most ``HZ`` times a second while strokes
    stream in (live painting, a session); the newest snapshot is shown when the wait is over.
    """

    COLUMNS = ("id", "author", "x", "y", "w", "h", "theta", "r", "g", "b", "opacity")
    ROWS = 200
    HZ = 5

    edited = QtCore.Signal(str, str, str)  # stroke id, field, the text typed

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        self.setToolTip(f"the last {self.ROWS} strokes; edit a number to change the stroke")
        self.setMinimumWidth(260)
        flag = QtCore.Qt.ItemFlag
        fixed = flag.ItemIsSelectable | flag.ItemIsEnabled
        self._flags = (fixed, fixed | flag.ItemIsEditable)
        self._version = -1
        self._filling = False
        self._filled_at = 0.0
        self._latest: PaintingSnapshot | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self._latest is not None and self.show_snapshot(self._latest))
        self.itemChanged.connect(self._item_changed)

    def show_snapshot(self, snap: PaintingSnapshot) -> None:
        """Refill when the painting changed, at most ``HZ`` times a second."""
        self._latest = snap
        if snap.version == self._version:
            return
        wait = self._filled_at + 1.0 / self.HZ - time.monotonic()
        if wait <= 0:
            self._version = snap.version
            self.fill(snap)
        elif not self._timer.isActive():
            self._timer.start(int(wait * 1000) + 1)

    def invalidate(self) -> None:
        """Show the stored values again with the next snapshot (an edit was refused)."""
        self._version = -1

    def fill(self, snap: PaintingSnapshot) -> None:
        self._filling = True
        self._filled_at = time.monotonic()
        # (one pass, then one column fit: fitting the columns to their contents on every
        # cell change made a refill of 200 rows quadratic, seconds long)
        self.setUpdatesEnabled(False)
        self.blockSignals(True)
        try:
            n = snap.n_strokes
            first = max(0, n - self.ROWS)
            rows = n - first
            grew = rows != self.rowCount()
            self.setRowCount(rows)
            newest = slice(n - 1, first - 1 if first > 0 else None, -1)
            numbers = np.char.mod("%.4f", np.asarray(snap.params[newest], np.float64))
            opacity = np.char.mod("%.3f", np.asarray(snap.opacity[newest], np.float64))
            fixed, editable = self._flags
            for row in range(rows):
                k = n - 1 - row  # newest first
                values = [snap.ids[k], snap.authors[k], *numbers[row].tolist(), str(opacity[row])]
                for col, text in enumerate(values):
                    item = self.item(row, col)
                    if item is None:
                        item = QtWidgets.QTableWidgetItem()
                        item.setFlags(fixed if col < 2 else editable)
                        self.setItem(row, col, item)
                    if item.text() != text:
                        item.setText(text)
        finally:
            self.blockSignals(False)
            if grew:
                self.resizeColumnsToContents()
            self.setUpdatesEnabled(True)
            self._filling = False

    def _item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._filling or item.column() < 2:
            return
        self.edited.emit(self.item(item.row(), 0).text(), self.COLUMNS[item.column()], item.text())


__all__ = ["StrokeTable"]
