"""The Table tab: the results (the newest rows), failed points in red with their traceback as tooltip."""

from __future__ import annotations

import math
from typing import Any

from PySide6 import QtGui, QtWidgets

from engines.sweep.engine import SweepSnapshot

MAX_TABLE_ROWS = 1000


def cell_text(v: Any) -> str:
    """A value as the table shows it: 6 significant digits, empty for None and non-finite numbers."""
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else ""
    return "" if v is None else str(v)


class ResultsTable(QtWidgets.QTableWidget):
    """Status, swept parameters, seed, metrics, time and id of each point (read-only)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, 0, parent)
        self.setObjectName("SweepTable")
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(False)
        self.version = -1  # the snapshot version drawn

    def draw(self, s: SweepSnapshot) -> None:
        self.version = s.version
        cols = s.columns
        names = [n for n in ["status", *s.swept, "seed", *s.metrics, "elapsed_s", "point_id"] if n in cols]
        n = len(cols.get("status", ()))
        start = max(0, n - MAX_TABLE_ROWS)
        self.setUpdatesEnabled(False)
        self.clear()
        self.setColumnCount(len(names))
        self.setHorizontalHeaderLabels(names)
        self.setRowCount(n - start)
        errors = dict(s.errors)
        red = QtGui.QBrush(QtGui.QColor(230, 90, 90))
        for r in range(start, n):
            failed = cols["status"][r] == "failed"
            tb = errors.get(cols["point_id"][r]) if failed else None
            for c, name in enumerate(names):
                item = QtWidgets.QTableWidgetItem(cell_text(cols[name][r]))
                if failed:
                    item.setForeground(red)
                    if tb:
                        item.setToolTip(tb[-2000:])
                self.setItem(r - start, c, item)
        self.setUpdatesEnabled(True)
