"""The comparison of the solvers run on the instance: cost, gap, time, feasibility."""

from __future__ import annotations

from PySide6 import QtWidgets

from engines.routing.report import COMPARISON_COLUMNS, comparison_rows


class CompareTable(QtWidgets.QTableWidget):
    """One row per solver run on the current instance."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, len(COMPARISON_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COMPARISON_COLUMNS))
        self.horizontalHeader().setStretchLastSection(True)

    def show_comparison(self, problem, comparison) -> None:
        rows = comparison_rows(problem, comparison)
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                self.setItem(i, j, QtWidgets.QTableWidgetItem(text))
