"""Where the points run, Run / Stop / Export, the progress bar, the status line and the Dask dashboard link."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engines.sweep.engine import SweepSnapshot
from engines.sweep.params import SweepParams
from studio.widgets.paramform import ParamForm


class LaunchBox(QtWidgets.QWidget):
    """The parameter form (workers, scheduler...), the buttons and what the running sweep reports."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.form = ParamForm(SweepParams())
        lay.addWidget(self.form)
        lay.addLayout(self._build_buttons())
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("SweepProgress")
        lay.addWidget(self.progress)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("SweepStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.dashboard = QtWidgets.QLabel("")
        self.dashboard.setObjectName("SweepDashboard")
        self.dashboard.setOpenExternalLinks(True)
        self.dashboard.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        lay.addWidget(self.dashboard)
        self._show_no_sweep()

    def _build_buttons(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setObjectName("SweepRun")
        self.run_button.setToolTip("Run the points not yet in the results folder")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.export_button = QtWidgets.QPushButton("Export…")
        for b in (self.run_button, self.stop_button, self.export_button):
            row.addWidget(b)
        return row

    def _show_no_sweep(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("no sweep")
        self.status.setText("")

    def draw(self, s: SweepSnapshot) -> None:
        """Progress, status line and dashboard link of snapshot ``s``."""
        if s.total == 0:
            self._show_no_sweep()
        else:
            self.progress.setRange(0, s.total)
            self.progress.setValue(s.finished)
            self.progress.setFormat(f"{s.finished}/{s.total} points  (%p%)")
            self.status.setText(self._status_text(s))
        self.dashboard.setText(self._dashboard_text(s))

    @staticmethod
    def _status_text(s: SweepSnapshot) -> str:
        st = s.status
        text = f"<b>{s.name}</b> ({s.kind}): {s.ok} ok, {s.failed_total} failed"
        if s.state == "running" and st is not None:
            text += f", {st.running} running, {st.pending - st.running} queued"
            if st.skipped:
                text += f"; {st.skipped} done before"
            text += f"; {st.elapsed_s:.1f} s"
        elif s.state != "idle":
            text += f" — {s.state}"
        return text + f"<br><small>{s.out}</small>"

    def _dashboard_text(self, s: SweepSnapshot) -> str:
        st = s.status
        if s.dashboard and s.state == "running":  # the cluster (and its dashboard) ends with the run
            return f'Dask dashboard: <a href="{s.dashboard}">{s.dashboard}</a>'
        if s.state == "running" and st is not None and st.workers:
            p = self.form.params()
            if p.workers == 0 and not p.scheduler.strip():
                return "points run in the studio's process, one after the other"
            return f"{st.workers} Dask worker thread(s); no dashboard (it needs the bokeh package)"
        return ""
