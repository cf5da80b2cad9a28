"""The comparison of the solvers run on the instance: cost, gap, time, feasibility."""

from __future__ import annotations

from PySide6 import QtWidgets

from engines.routing.report import COMPARISON_COLUMNS, comparison_rows
from studio import theme

HINT = "A row per solver run on this instance (cost, gap, time) appears here. Press Compare all solvers."


class CompareTable(QtWidgets.QTableWidget):
    """One row per solver run on the current instance; the cost in the instance's distance unit."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, len(COMPARISON_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COMPARISON_COLUMNS))
        head = self.horizontalHeader()
        head.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hint = theme.EmptyHint(self, HINT)

    def show_comparison(self, problem, comparison) -> None:
        unit = problem.distance_unit
        heads = list(COMPARISON_COLUMNS)
        heads[1] = f"cost ({unit})" if unit else "cost"
        self.setHorizontalHeaderLabels(heads)
        rows = comparison_rows(problem, comparison)
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.setItem(i, j, QtWidgets.QTableWidgetItem(text))
        self.hint.set_empty(not rows)
