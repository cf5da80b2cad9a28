"""The 3-D views: the three models side by side (linked turntable cameras), one scatter each.

Each view shows the chosen layer's PCA to 3-D: one colour per manifold, clean
points as discs and perturbed points as crosses, freely rotatable. The views
are laid out in the shape that keeps them nearest to square (a row, a column
or two by two), with the colour legend beside them; "Reset camera" (key R)
brings back the default angles with the cloud fitted to the view.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from engines.geometry.analysis import Embedding
from engines.geometry.curves import embedding_for, unit_scaled
from engines.geometry.models import KINDS
from studio.panels.geometry.legend import ClassLegend
from studio.panels.geometry.scatter3d import Scatter3D
from studio.panels.geometry.vispy_setup import palette

MAX_POINTS = 8192
TOP = QtCore.Qt.AlignmentFlag.AlignTop
HINT = "The {kind} network's manifolds appear here in 3-D once its layer is measured (a few seconds)."

#: a model without a view of the chosen layer and eps: while an analysis runs, and after it
MEASURING = "Layer {layer} at ε {eps:g} of the {kind} network appears here as soon as it is measured."
MISSING = (
    "Layer {layer} at ε {eps:g} of the {kind} network was not measured: add them to the parameters "
    "(layers, eps, models) and press Analyze."
)


def manifold_names(n: int) -> list[str]:
    """The legend's names of ``n`` digit manifolds (class or exemplar manifolds of digits 0 .. n-1)."""
    return [f"digit {i}" for i in range(n)]


def union_box(boxes) -> tuple[np.ndarray, np.ndarray] | None:
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)


def grid_columns(width: int, height: int, n: int = 3) -> int:
    """The number of columns (1 .. n) that makes ``n`` views in a ``width`` x ``height`` area largest."""
    return max(range(1, n + 1), key=lambda c: min(width / c, height / math.ceil(n / c)))


class ViewGrid(QtWidgets.QWidget):
    """The scatters in a row, a column or two by two (whichever keeps them largest), and the legend: in the
    empty fourth cell of two by two, else in a row below."""

    def __init__(self, scatters: list[Scatter3D], legend: QtWidgets.QWidget, parent=None):
        super().__init__(parent)
        self.scatters, self.legend = scatters, legend
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.columns = 0
        self._arrange(grid_columns(600, 600, len(scatters)))

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for w in [*self.scatters, self.legend]:
            self.grid.removeWidget(w)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        rows = math.ceil(len(self.scatters) / columns)
        for i, s in enumerate(self.scatters):
            self.grid.addWidget(s, i // columns, i % columns)
        if rows * columns > len(self.scatters):  # a free cell: the legend there
            n = len(self.scatters)
            self.grid.addWidget(self.legend, n // columns, n % columns, TOP)
        else:
            self.grid.addWidget(self.legend, rows, 0, 1, columns, TOP)
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        for c in range(columns):
            self.grid.setColumnStretch(c, 1)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        size = event.size()
        self._arrange(grid_columns(size.width(), max(size.height() - 40, 1), len(self.scatters)))
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        return QtCore.QSize(260, 240)


class ModelViews(QtWidgets.QWidget):
    """A scatter per model (``scatters[kind]``), a caption, "Reset camera" and the colour legend.

    ``canvas`` is the first model's canvas; ``points_by_model`` counts the points drawn in each view.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.scatters = {k: Scatter3D(f"{k} network", HINT.format(kind=k)) for k in KINDS}
        self.caption = QtWidgets.QLabel("3-D PCA of each network's layer: drag to rotate, wheel to zoom")
        self.caption.setWordWrap(True)
        self.reset_button = QtWidgets.QPushButton("Reset camera")
        self.reset_button.setToolTip("default angles, the clouds fitted to the views (R)")
        self.reset_button.clicked.connect(self.reset_camera)
        self.legend = ClassLegend()
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.caption, 1)
        head.addWidget(self.reset_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(head)
        self.grid = ViewGrid(list(self.scatters.values()), self.legend)
        lay.addWidget(self.grid, 1)
        first = self.scatters[KINDS[0]].view.camera
        for kind in KINDS[1:]:
            self.scatters[kind].view.camera.link(first)
        shortcut = QtGui.QShortcut(QtGui.QKeySequence("R"), self)
        shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.reset_camera)
        self.canvas = self.scatters[KINDS[0]].canvas
        self.points_by_model: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._drawn_key: tuple | None = None
        self._legend_key: tuple | None = None

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        # the wrapped caption must not make the whole panel height-for-width: a scroll area around the
        # panel would then size it by its preferred height instead of its minimum, and scroll
        return False

    @property
    def widget(self) -> QtWidgets.QWidget:
        return self

    @property
    def points_drawn(self) -> int:
        return sum(self.points_by_model.values())

    def invalidate(self) -> None:
        """Draw again at the next :meth:`draw`, even if the layer, eps and noise are the same."""
        self._drawn_key = None

    def draw(
        self, embeddings: dict, layer: str, eps: float | None, level: float | None, measuring: bool = False
    ) -> None:
        """Show each model's embedding at ``layer``, ``eps`` (and noise ``level`` for the stochastic net);
        ``measuring``: an analysis is running (a missing view may still come)."""
        embs = {k: embedding_for(embeddings, k, layer, eps, level) for k in KINDS}
        key = (layer, eps, level, tuple(k for k in KINDS if embs[k] is not None), measuring)
        if key == self._drawn_key:
            return
        if not key[3]:  # nothing yet (or the layer not analysed): the hints stay, the last clouds too
            return
        for kind in KINDS:
            if embs[kind] is not None:
                self._draw_model(kind, embs[kind])
            else:
                text = MEASURING if measuring else MISSING
                self.scatters[kind].clear(text.format(kind=kind, layer=layer, eps=eps or 0))
                self.points_by_model[kind] = 0
        eps_text = f", perturbed at ε {eps:g}" if eps else ""
        self.caption.setText(f"3-D PCA of layer {layer}{eps_text}: drag to rotate, wheel to zoom, R to reset")
        last = self._drawn_key
        if (
            last is None
            or last[0] != layer
            or last[3] != key[3]
            or self.scatters[KINDS[0]].camera_untouched()
        ):
            self.fit()  # a new layer or model, or a camera the user has not moved: fit the new clouds
        self._drawn_key = key

    def _draw_model(self, kind: str, emb: Embedding) -> None:
        n = min(len(emb.points), MAX_POINTS)
        manifold = np.asarray(emb.manifold[:n])
        count = int(manifold.max()) + 1 if n else 1
        colours = palette(count)
        self.scatters[kind].set_points(
            unit_scaled(emb.points[:n]), colours[manifold], emb.perturbed[:n], emb.explained
        )
        self.points_by_model[kind] = n
        pert = bool(np.any(emb.perturbed[:n]))
        if (count, pert) != self._legend_key:
            self.legend.show_classes(manifold_names(count), colours, "perturbed" if pert else None)
            self._legend_key = (count, pert)

    def box(self):
        """The box around every model's drawn points (the linked cameras show them all)."""
        return union_box(s.box for s in self.scatters.values() if s.points_drawn)

    def points(self) -> np.ndarray:
        """Every model's drawn points (the linked cameras fit them all)."""
        return np.concatenate([s.positions for s in self.scatters.values()])

    def fit(self) -> None:
        self.scatters[KINDS[0]].fit(self.box(), self.points())

    def reset_camera(self) -> None:
        self.scatters[KINDS[0]].reset_camera(self.box(), self.points())

    def render(self) -> np.ndarray:
        """The three canvases side by side, as one RGBA image."""
        images = [s.render() for s in self.scatters.values()]
        h = max(i.shape[0] for i in images)
        padded = [np.pad(i, ((0, h - i.shape[0]), (0, 0), (0, 0)), constant_values=255) for i in images]
        return np.ascontiguousarray(np.concatenate(padded, axis=1))
