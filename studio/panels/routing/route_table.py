"""The per-route table under the map: stops, distance, duration, load, wait, violations."""

from __future__ import annotations

from PySide6 import QtWidgets

from engines.routing.report import ROUTE_COLUMNS, route_rows

from .colours import route_colour


class RouteTable(QtWidgets.QTableWidget):
    """One row per route of the current solution; the first cell has the route's colour."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, len(ROUTE_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(ROUTE_COLUMNS))
        self.horizontalHeader().setStretchLastSection(True)

    def show_solution(self, problem, evaluation) -> None:
        rows = route_rows(problem, evaluation)
        self.setRowCount(len(rows))
        for k, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QtWidgets.QTableWidgetItem(text)
                if j == 0:
                    item.setBackground(route_colour(k))
                self.setItem(k, j, item)
