"""The Imported tab: one row per analysed activation file, and a 3-D PCA view of the selected one."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engines.geometry.analysis import Embedding
from engines.geometry.curves import unit_scaled
from studio.panels.geometry.views3d import MAX_POINTS
from studio.panels.geometry.vispy_setup import hide_markers, palette, use_pyside6_for_vispy

IMPORT_COLUMNS = ("model", "capacity", "radius", "dimension", "center_correlation", "K", "PR", "EVD90")
IMPORT_COLUMNS += ("P", "M", "N", "kappa", "simcap")


def header(column: str) -> str:
    return "file" if column == "model" else column.replace("center_correlation", "center corr.")


class ImportedTab(QtWidgets.QSplitter):
    """The table of imported results above a vispy view of the selected file's manifolds."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(QtCore.Qt.Orientation.Vertical, parent)
        use_pyside6_for_vispy()
        from vispy import scene

        self.table = QtWidgets.QTableWidget(0, len(IMPORT_COLUMNS))
        self.table.setHorizontalHeaderLabels([header(c) for c in IMPORT_COLUMNS])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._draw_selected)
        self.addWidget(self.table)
        self.canvas = scene.SceneCanvas(keys=None, show=False, bgcolor="white", size=(400, 300))
        self.view = self.canvas.central_widget.add_view(border_color=(0.8, 0.8, 0.8, 1))
        self.view.camera = "turntable"
        self.markers = scene.visuals.Markers(parent=self.view.scene)
        scene.visuals.XYZAxis(parent=self.view.scene)
        self.canvas.native.setMinimumSize(200, 200)
        self.addWidget(self.canvas.native)
        self._rows: tuple[dict, ...] = ()
        self._embeddings: dict[str, Embedding] = {}
        self._drawn: tuple = ()
        self.points_drawn = 0

    def draw(self, rows: tuple[dict, ...], embeddings: dict[str, Embedding]) -> None:
        """The imported result ``rows`` (and their embeddings, by row ``model``); the newest selected."""
        self._rows, self._embeddings = rows, embeddings
        key = tuple((r["model"], r["capacity"]) for r in rows)
        if key == self._drawn:
            return
        self._drawn = key
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, c in enumerate(IMPORT_COLUMNS):
                v = r.get(c, "")
                self.table.setItem(
                    i, j, QtWidgets.QTableWidgetItem(f"{v:.4g}" if isinstance(v, float) else str(v))
                )
        self.table.resizeColumnsToContents()
        if rows:
            self.table.selectRow(len(rows) - 1)  # the newest
        self._draw_selected()

    def _draw_selected(self) -> None:
        model = self.table.selectionModel()
        sel = model.selectedRows() if model else []
        if not sel or sel[0].row() >= len(self._rows):
            return
        emb = self._embeddings.get(self._rows[sel[0].row()]["model"])
        if emb is None:  # restored from a workspace: the table only
            hide_markers(self.markers)
            self.points_drawn = 0
        else:
            n = min(len(emb.points), MAX_POINTS)
            col = palette(int(emb.manifold.max()) + 1 if n else 1)[emb.manifold[:n]]
            self.markers.set_data(
                unit_scaled(emb.points[:n]), face_color=col, edge_color=col, size=7, symbol="disc"
            )
            self.view.camera.set_range(x=(-1, 1), y=(-1, 1), z=(-1, 1))
            self.points_drawn = n
        self.canvas.update()
