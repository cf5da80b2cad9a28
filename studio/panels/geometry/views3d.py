"""The 3-D view: the three models side by side (linked turntable cameras), one scatter each.

Each view shows the chosen layer's PCA to 3-D: one colour per manifold, clean
points as discs and perturbed points as crosses, freely rotatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from engines.geometry.analysis import Embedding
from engines.geometry.curves import embedding_for, unit_scaled
from engines.geometry.models import KINDS
from studio.panels.geometry.vispy_setup import hide_markers, palette, use_pyside6_for_vispy

MAX_POINTS = 8192
MODEL_PENS = {"standard": (31, 119, 180), "adversarial": (214, 39, 40), "stochastic": (44, 160, 44)}


class ModelViews(QtCore.QObject):
    """One vispy canvas (``canvas``, its Qt widget ``widget``) with a view per model.

    ``points_by_model`` counts the points drawn in each view.
    """

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        use_pyside6_for_vispy()
        from vispy import scene

        self.canvas = scene.SceneCanvas(keys=None, show=False, bgcolor="white", size=(500, 500))
        self.views: dict[str, Any] = {}
        self.clean_markers: dict[str, Any] = {}
        self.pert_markers: dict[str, Any] = {}
        self._build_views(scene)
        self.points_by_model: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._pos = {k: np.zeros((MAX_POINTS, 3), np.float32) for k in KINDS}
        self._col = {k: np.zeros((MAX_POINTS, 4), np.float32) for k in KINDS}
        self._drawn_key: tuple | None = None
        self.widget: QtWidgets.QWidget = self.canvas.native
        self.widget.setMinimumSize(300, 300)

    def _build_views(self, scene) -> None:
        grid = self.canvas.central_widget.add_grid()
        for i, kind in enumerate(KINDS):
            label = scene.Label(kind, color=tuple(c / 255 for c in MODEL_PENS[kind]), font_size=9)
            label.height_max = 24
            grid.add_widget(label, row=0, col=i)
            view = grid.add_view(row=1, col=i, border_color=(0.8, 0.8, 0.8, 1))
            view.camera = "turntable"
            self.clean_markers[kind] = scene.visuals.Markers(parent=view.scene)
            self.pert_markers[kind] = scene.visuals.Markers(parent=view.scene)
            scene.visuals.XYZAxis(parent=view.scene)
            self.views[kind] = view
        first = self.views[KINDS[0]].camera
        for kind in KINDS[1:]:
            self.views[kind].camera.link(first)

    @property
    def points_drawn(self) -> int:
        return sum(self.points_by_model.values())

    def invalidate(self) -> None:
        """Draw again at the next :meth:`draw`, even if the layer, eps and noise are the same."""
        self._drawn_key = None

    def draw(self, embeddings: dict, layer: str, eps: float | None, level: float | None) -> None:
        """Show each model's embedding at ``layer``, ``eps`` (and noise ``level`` for the stochastic net)."""
        key = (layer, eps, level)
        if key == self._drawn_key:
            return
        drew = False
        for kind in KINDS:
            emb = embedding_for(embeddings, kind, layer, eps, level)
            if emb is not None:
                self._draw_model(kind, emb)
                drew = True
        if not drew:
            return
        if self._drawn_key is None or self._drawn_key[0] != layer:
            self.views[KINDS[0]].camera.set_range(x=(-1, 1), y=(-1, 1), z=(-1, 1))
        self.canvas.update()
        self._drawn_key = key

    def _draw_model(self, kind: str, emb: Embedding) -> None:
        pos, col = self._pos[kind], self._col[kind]
        n = min(len(emb.points), MAX_POINTS)
        pos[:n] = unit_scaled(emb.points[:n])
        col[:n] = palette(int(emb.manifold.max()) + 1 if n else 1)[emb.manifold[:n]]
        pert = np.asarray(emb.perturbed[:n], bool)
        for markers, idx, symbol, size in (
            (self.clean_markers[kind], np.nonzero(~pert)[0], "disc", 8),
            (self.pert_markers[kind], np.nonzero(pert)[0], "x", 9),
        ):
            if idx.size:
                markers.set_data(pos[idx], face_color=col[idx], edge_color=col[idx], size=size, symbol=symbol)
            else:
                hide_markers(markers)
        self.points_by_model[kind] = n

    def render(self) -> np.ndarray:
        """The canvas as an RGBA image."""
        return self.canvas.render()
