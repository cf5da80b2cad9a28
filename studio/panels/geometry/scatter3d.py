"""One 3-D scatter of manifolds: a vispy canvas with labelled PC axes, a camera that fits the data, and a hint
while there is nothing to show."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from studio import theme
from studio.panels.geometry.vispy_setup import hide_markers, use_pyside6_for_vispy

#: the turntable camera's angles after "Reset camera" (degrees) and its field of view
ELEVATION, AZIMUTH, FOV = 25.0, 35.0, 30.0
MARGIN = 0.02  # of the data's extent, around the fitted box
LABEL_OFFSET = 0.08  # of the box's largest side, beyond an axis line's end
FILL = 0.75  # how far from the view's centre to its nearest edge the fitted cloud reaches
AXIS_NAMES = ("PC1", "PC2", "PC3")


def data_box(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box (lo, hi) of ``points`` (n x 3); a flat side is widened so the box has volume."""
    lo, hi = points.min(axis=0).astype(float), points.max(axis=0).astype(float)
    pad = np.maximum((hi - lo).max() * 0.05, 1e-6) * ((hi - lo) < 1e-9)
    return lo - pad, hi + pad


def axis_ends(box: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The axis lines through the box's centre, each across the box: (start, end) of PC1, PC2, PC3 (6 x 3)."""
    lo, hi = (np.asarray(b, np.float32) for b in box)
    ends = np.repeat(((lo + hi) / 2)[None, :], 6, axis=0)
    for i in range(3):
        ends[2 * i, i], ends[2 * i + 1, i] = lo[i], hi[i]
    return ends


def label_points(box: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where the axis labels sit: a little beyond each axis line's end (3 x 3)."""
    lo, hi = (np.asarray(b, np.float32) for b in box)
    ends = axis_ends(box)[1::2].copy()
    ends[np.arange(3), np.arange(3)] += LABEL_OFFSET * (hi - lo).max()
    return ends


class Scatter3D(QtWidgets.QWidget):
    """A title above a vispy canvas (``canvas``, turntable camera ``view.camera``): clean points as discs,
    perturbed points as crosses, three labelled axis lines through the data's centre.

    :meth:`fit` points the camera at the data so that the cloud fills the view; :meth:`reset_camera`
    also restores the default angles. ``hint`` (an :class:`~studio.theme.EmptyHint`) covers the view
    until :meth:`set_points` gives it data.
    """

    def __init__(self, title: str, hint: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        use_pyside6_for_vispy()
        from vispy import scene

        self._colours = theme.vispy_colours()
        self.title = QtWidgets.QLabel(title)
        self.title.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.canvas = scene.SceneCanvas(
            keys=None, show=False, bgcolor=self._colours["background"], size=(300, 300)
        )
        self.view = self.canvas.central_widget.add_view(border_color=self._colours["grid"])
        self.view.camera = scene.TurntableCamera(fov=FOV, elevation=ELEVATION, azimuth=AZIMUTH)
        self.clean = scene.visuals.Markers(parent=self.view.scene)
        self.perturbed = scene.visuals.Markers(parent=self.view.scene)
        self._build_axes(scene)
        native = self.canvas.native
        native.setMinimumSize(120, 100)
        native.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(native, 1)
        self.hint = theme.EmptyHint(self, hint)
        self.positions = np.zeros((0, 3), np.float32)
        self.box: tuple[np.ndarray, np.ndarray] | None = None
        self._fitted_state: dict | None = None
        self._fit_box: tuple[np.ndarray, np.ndarray] | None = None
        self._fit_points: np.ndarray | None = None
        self.canvas.events.resize.connect(self._on_resize)
        hide_markers(self.clean)
        hide_markers(self.perturbed)

    def _build_axes(self, scene) -> None:
        self.axis_lines = scene.visuals.Line(
            pos=np.zeros((6, 3), np.float32), connect="segments", color=self._colours["axis"], width=1.5
        )
        self.axis_lines.parent = self.view.scene
        self.axis_labels = [
            scene.visuals.Text(
                name, color=self._colours["text"], font_size=9, anchor_x="center", parent=self.view.scene
            )
            for name in AXIS_NAMES
        ]
        self._show_axes(False)

    def _show_axes(self, visible: bool) -> None:
        self.axis_lines.visible = visible
        for label in self.axis_labels:
            label.visible = visible

    # -- data ----------------------------------------------------------------
    @property
    def points_drawn(self) -> int:
        return len(self.positions)

    def set_points(
        self,
        points: np.ndarray,
        colours: np.ndarray,
        perturbed: np.ndarray | None = None,
        explained: np.ndarray | None = None,
    ) -> None:
        """Draw ``points`` (n x 3) in ``colours`` (n x 4), crosses where ``perturbed``; label the axes with
        the ``explained`` variance ratios of the three PCs when given."""
        pos = np.ascontiguousarray(points, np.float32)
        pert = np.zeros(len(pos), bool) if perturbed is None else np.asarray(perturbed, bool)[: len(pos)]
        for markers, idx, symbol, size in (
            (self.clean, np.nonzero(~pert)[0], "disc", 8),
            (self.perturbed, np.nonzero(pert)[0], "x", 9),
        ):
            if idx.size:
                markers.set_data(
                    pos[idx], face_color=colours[idx], edge_color=colours[idx], size=size, symbol=symbol
                )
            else:
                hide_markers(markers)
        self.positions = pos
        if len(pos):
            self.box = data_box(pos)
            self._place_axes(explained)
        self.hint.set_empty(len(pos) == 0)
        self.canvas.update()

    def clear(self, hint: str | None = None) -> None:
        """Nothing to show: hide the points and axes, show the hint (with a new text if given)."""
        hide_markers(self.clean)
        hide_markers(self.perturbed)
        self.positions = np.zeros((0, 3), np.float32)
        self._show_axes(False)
        self.hint.set_empty(True, hint)
        self.canvas.update()

    def _place_axes(self, explained: np.ndarray | None) -> None:
        self.axis_lines.set_data(pos=axis_ends(self.box))
        for i, (label, at) in enumerate(zip(self.axis_labels, label_points(self.box))):
            label.pos = at[None, :]
            share = "" if explained is None or i >= len(explained) else f" {100 * float(explained[i]):.0f}%"
            label.text = AXIS_NAMES[i] + share
        self._show_axes(True)

    # -- camera --------------------------------------------------------------
    def fit(self, box: tuple[np.ndarray, np.ndarray] | None = None, points: np.ndarray | None = None) -> None:
        """Point the camera at the centre of ``box`` (default: the data's box) and zoom so that ``points``
        (default: the drawn ones) fill :data:`FILL` of the view; the angles stay."""
        box = box if box is not None else self.box
        if box is None:
            return
        points = self.positions if points is None else points
        self._fit_box, self._fit_points = box, points
        lo, hi = box
        cam = self.view.camera
        cam.set_range(x=(lo[0], hi[0]), y=(lo[1], hi[1]), z=(lo[2], hi[2]), margin=MARGIN)
        cam.center = tuple((lo + hi) / 2)  # set_range keeps an old centre after the first fit
        seen = np.concatenate([points, axis_ends(box), label_points(box)]) if len(points) else points
        for _ in range(3):  # vispy's fit leaves room for every corner of the box under any rotation
            fill = self._fill(seen)
            if not np.isfinite(fill) or fill <= 0:
                break
            cam.scale_factor *= fill / FILL
        self._fitted_state = cam.get_state()

    def _fill(self, points: np.ndarray) -> float:
        """How much of the view ``points`` reach, from its centre out (1: to the nearest edge)."""
        w, h = self.canvas.size
        if not len(points) or w <= 1 or h <= 1:
            return float("nan")
        p = self.clean.get_transform("visual", "canvas").map(points)
        xy = p[:, :2] / p[:, 3:4]
        return float(max(np.abs(xy[:, 0] - w / 2).max() / (w / 2), np.abs(xy[:, 1] - h / 2).max() / (h / 2)))

    def reset_camera(
        self, box: tuple[np.ndarray, np.ndarray] | None = None, points: np.ndarray | None = None
    ) -> None:
        """The default angles, then :meth:`fit`."""
        cam = self.view.camera
        cam.elevation, cam.azimuth, cam.roll, cam.fov = ELEVATION, AZIMUTH, 0.0, FOV
        self.fit(box, points)

    def camera_untouched(self) -> bool:
        """Whether the camera is as the last :meth:`fit` left it (the user has not moved it since)."""
        return self._fitted_state is not None and self.view.camera.get_state() == self._fitted_state

    def _on_resize(self, _event=None) -> None:
        # the fit depends on the view's shape: fit again, unless the user has moved the camera since
        if self.camera_untouched():
            QtCore.QTimer.singleShot(0, self, lambda: self.fit(self._fit_box, self._fit_points))

    def render(self) -> np.ndarray:
        """The canvas as an RGBA image."""
        return self.canvas.render()
