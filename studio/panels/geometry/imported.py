"""The Imported tab: one row per analysed activation file, and a 3-D PCA view of the selected one."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from engines.geometry.analysis import Embedding
from engines.geometry.curves import unit_scaled
from studio import theme
from studio.panels.geometry.legend import ClassLegend
from studio.panels.geometry.scatter3d import Scatter3D
from studio.panels.geometry.views3d import MAX_POINTS
from studio.panels.geometry.vispy_setup import palette

IMPORT_COLUMNS = ("model", "capacity", "radius", "dimension", "center_correlation", "K", "PR", "EVD90")
IMPORT_COLUMNS += ("P", "M", "N", "kappa", "simcap")
HEADERS = {
    "model": "file",
    "capacity": "capacity α_M",
    "radius": "radius R_M",
    "dimension": "dimension D_M",
    "center_correlation": "center corr. ρ_c",
    "PR": "part. ratio PR",
    "EVD90": "EVD90 (dims)",
    "kappa": "margin κ",
    "simcap": "sim. capacity",
}
TOOLTIPS = {
    "capacity": "manifold capacity α_M: manifolds per feature that a linear readout can still separate",
    "radius": "manifold radius R_M, relative to the norm of the manifold centres",
    "dimension": "manifold dimension D_M: the number of directions the manifolds spread in",
    "center_correlation": "ρ_c: mean absolute correlation between the manifold centres",
    "K": "number of dimensions removed with the centres' shared subspace",
    "PR": "participation ratio of all points: the effective number of dimensions",
    "EVD90": "number of principal components that explain 90 % of the variance",
    "P": "manifolds (classes)",
    "M": "points per manifold (the smallest)",
    "N": "features (neurons)",
}
#: significant digits shown in the table (the full value is in each cell's tooltip)
DIGITS = 4
IMPORT_HINT = (
    "Your own activations appear here. Press “Import activations…” and pick a .npz with a features array "
    "(n x N) and a labels array (n), or a P x M x N array in .npz, .npy or .h5. To make one from a shipped "
    "network: python -m engines geometry activations --layer fc1 --out acts.npz"
)
VIEW_HINT = "The selected file's manifolds appear here in 3-D (a PCA of its activations) once it is analysed."


def header(column: str) -> str:
    return HEADERS.get(column, column)


def cell_text(value) -> str:
    """A table cell: floats to :data:`DIGITS` significant digits, the rest as written."""
    if isinstance(value, float | np.floating):
        return theme.round_sig(float(value), DIGITS).replace(",", "")
    return str(value)


class ImportedTab(QtWidgets.QWidget):
    """The table of imported results above a vispy view of the selected file's manifolds and their legend
    (in a splitter), and a hint over both while nothing is imported."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)
        self.table = self._build_table()
        self.import_button = QtWidgets.QPushButton("Import activations…")
        top = QtWidgets.QWidget()
        top_lay = QtWidgets.QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(self.table, 1)
        top_lay.addWidget(self.import_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        self.splitter.addWidget(top)
        self.scatter = Scatter3D("", VIEW_HINT)
        self.legend = ClassLegend()
        view = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(view)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.scatter, 1)
        foot = QtWidgets.QHBoxLayout()
        foot.addWidget(self.legend, 1)
        self.reset_button = QtWidgets.QPushButton("Reset camera")
        self.reset_button.setToolTip("default angles, the cloud fitted to the view (R)")
        self.reset_button.clicked.connect(self.scatter.reset_camera)
        foot.addWidget(self.reset_button, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        lay.addLayout(foot)
        shortcut = QtGui.QShortcut(QtGui.QKeySequence("R"), view)
        shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.scatter.reset_camera)
        self.splitter.addWidget(view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.canvas = self.scatter.canvas
        self.view = self.scatter.view
        self.hint = theme.EmptyHint(
            self, IMPORT_HINT
        )  # over the whole tab while nothing is imported (not a splitter's child: that would be a pane)
        self.scatter.hint.set_empty(False)
        self._rows: tuple[dict, ...] = ()
        self._embeddings: dict[str, Embedding] = {}
        self._drawn: tuple = ()

    def _build_table(self) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(0, len(IMPORT_COLUMNS))
        table.setHorizontalHeaderLabels([header(c) for c in IMPORT_COLUMNS])
        for j, c in enumerate(IMPORT_COLUMNS):
            if c in TOOLTIPS:
                table.horizontalHeaderItem(j).setToolTip(TOOLTIPS[c])
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.itemSelectionChanged.connect(self._draw_selected)
        table.setMinimumHeight(90)
        return table

    @property
    def points_drawn(self) -> int:
        return self.scatter.points_drawn

    def draw(self, rows: tuple[dict, ...], embeddings: dict[str, Embedding]) -> None:
        """The imported result ``rows`` (and their embeddings, by row ``model``); the newest selected."""
        self._rows, self._embeddings = rows, embeddings
        key = tuple((r["model"], r["capacity"]) for r in rows)
        if key == self._drawn:
            return
        self._drawn = key
        self.hint.set_empty(not rows)
        if rows and not self.scatter.points_drawn:
            self.scatter.hint.set_empty(True)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, c in enumerate(IMPORT_COLUMNS):
                v = r.get(c, "")
                item = QtWidgets.QTableWidgetItem(cell_text(v))
                if isinstance(v, float | np.floating):
                    item.setToolTip(repr(float(v)))
                    item.setTextAlignment(
                        QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        if rows:
            self.table.selectRow(len(rows) - 1)  # the newest
        self._draw_selected()

    def _draw_selected(self) -> None:
        model = self.table.selectionModel()
        sel = model.selectedRows() if model else []
        if not sel or sel[0].row() >= len(self._rows):
            return
        name = self._rows[sel[0].row()]["model"]
        emb = self._embeddings.get(name)
        if emb is None:  # restored from a workspace: the table only
            self.scatter.clear(
                f"{name}: the 3-D view is not kept in a workspace; import the file again to see it."
            )
            self.legend.clear()
            return
        n = min(len(emb.points), MAX_POINTS)
        manifold = np.asarray(emb.manifold[:n])
        count = int(manifold.max()) + 1 if n else 1
        colours = palette(count)
        self.scatter.title.setText(f"{name}: 3-D PCA of the activations (drag to rotate, R to reset)")
        self.scatter.set_points(
            unit_scaled(emb.points[:n]), colours[manifold], emb.perturbed[:n], emb.explained
        )
        self.scatter.reset_camera()
        self.legend.show_classes([f"manifold {i}" for i in range(count)], colours)
