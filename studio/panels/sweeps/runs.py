"""The Runs tab: every run of this session with its own progress bar."""

from __future__ import annotations

from PySide6 import QtWidgets

from engines.sweep.engine import SweepSnapshot


class RunsTree(QtWidgets.QTreeWidget):
    """One row per run (the live one last), its progress as a bar."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SweepRuns")
        self.setHeaderLabels(["Sweep", "Progress", "Done", "Failed", "State", "Results"])
        self.setRootIsDecorated(False)
        self._bars: list[QtWidgets.QProgressBar] = []

    def _grow(self, rows: int) -> None:
        while self.topLevelItemCount() < rows:
            item = QtWidgets.QTreeWidgetItem(self)
            bar = QtWidgets.QProgressBar()
            bar.setMaximumHeight(16)
            self.setItemWidget(item, 1, bar)
            self._bars.append(bar)

    def draw(self, s: SweepSnapshot) -> None:
        entries = [(r.name, r.to_run, r.done, r.failed, r.state, r.out) for r in s.history]
        if s.state == "running" and s.status is not None:
            st = s.status
            entries.append((s.name, st.to_run, st.done, st.failed, f"running ({st.running})", s.out))
        self._grow(len(entries))
        for k, (name, to_run, done, failed, state, out) in enumerate(entries):
            item = self.topLevelItem(k)
            item.setText(0, name)
            item.setText(2, f"{done}/{to_run}")
            item.setText(3, str(failed))
            item.setText(4, state)
            item.setText(5, out)
            bar = self._bars[k]
            bar.setRange(0, max(1, to_run))
            bar.setValue(done)
            bar.setFormat(f"{done}/{to_run} ({failed} failed)")
