"""The per-route table under the map: stops, distance, duration, load, wait, violations, with units."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engines.routing.report import ROUTE_COLUMNS, route_columns, route_rows
from studio import theme

from .colours import route_colours

HINT = "One row per route (stops, distance, duration, load) appears here after a solve. Press Solve."
RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter


class RouteTable(QtWidgets.QTableWidget):
    """One row per route of the current solution; the first cell has the route's colour (as on the map)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, len(ROUTE_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(ROUTE_COLUMNS))
        head = self.horizontalHeader()
        head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hint = theme.EmptyHint(self, HINT)

    def show_solution(self, problem, evaluation) -> None:
        self.setHorizontalHeaderLabels(list(route_columns(problem)))
        rows = route_rows(problem, evaluation)
        cols = route_colours(len(rows))
        self.setRowCount(len(rows))
        for k, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QtWidgets.QTableWidgetItem(text)
                if j == 0:
                    item.setBackground(cols[k])
                    light = cols[k].lightnessF() > 0.55
                    item.setForeground(QtCore.Qt.GlobalColor.black if light else QtCore.Qt.GlobalColor.white)
                if 0 < j < len(row) - 1:
                    item.setTextAlignment(RIGHT)
                self.setItem(k, j, item)
        self.hint.set_empty(not rows)
