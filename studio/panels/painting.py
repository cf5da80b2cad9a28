"""Collaborative painting: paint with strokes, let the model propose the rest, paint a reference.

A thin view over :class:`engines.painting.engine.PaintingEngine`. Mouse drags
on the canvas become strokes of the chosen brush size, colour and opacity
(the drag is previewed while the button is down, then sent to the engine).
The eraser removes the strokes under it. Ctrl+Z / Ctrl+Shift+Z undo and redo
*my* strokes only. "Complete" asks the trained model for several proposals,
shown side by side as thumbnails and over the canvas; accept or reject them.
Each proposal is one diffusion sample, or with "Best guess" the strokes fitted
to the mean render of 8 samples (closer on average, softer).
"Paint reference…" fits strokes to an image, appearing live. Files: open and
save JSON, export PNG and SVG. When zoomed in, the visible part of the canvas is
rendered again at the screen's resolution on the engine's worker (never an
upscaled blur, never on the GUI thread).

Multi-user sessions (Session menu in the toolbar, and the Session box): host a
room (a server inside the studio, bound to 127.0.0.1 unless chosen otherwise)
or join one; everyone's strokes appear live, the others' cursors are drawn with
their names and colours, the participant list and the connection state are
always visible, and undo only ever undoes my own edits. See
:mod:`studio.panels.painting_session`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from engines.painting.engine import COMPLETE_MODES, PaintingEngine, PaintingSnapshot
from studio.panels.base import Panel
from studio.panels.painting_session import SessionController
from studio.widgets.collab import (
    ConnectionIndicator,
    HostDialog,
    InviteDialog,
    JoinDialog,
    ParticipantList,
)

DEMO_STROKES = Path(__file__).resolve().parents[2] / "assets" / "painting" / "strokes.npz"
DEMO_SOURCE = "astronaut#1"
#: samples per proposal when "Best guess" is ticked (the decoder the benchmark scores)
BEST_GUESS_SAMPLES = 8


def demo_strokes() -> tuple[np.ndarray, str] | None:
    """A decomposed scikit-image sample (the astronaut) from the shipped training strokes."""
    from engines.serialize import load_npz

    try:
        d = load_npz(DEMO_STROKES, keys=lambda k: k in ("source", "params"))
        names = [str(n) for n in d["source"]]
        i = names.index(DEMO_SOURCE) if DEMO_SOURCE in names else 0
        return np.asarray(d["params"][i], np.float64), names[i]
    except (OSError, KeyError, IndexError, ValueError):
        return None


PALETTE = ("#1d1d1d", "#ffffff", "#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9", "#8e44ad", "#7f5539")


def _qimage(img: np.ndarray) -> QtGui.QImage:
    h, w = img.shape[:2]
    data = np.ascontiguousarray(img)
    q = QtGui.QImage(data.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    return q.copy()  # own the pixels


class Canvas(QtWidgets.QWidget):
    """Shows the painting and turns mouse drags into paths in canvas fractions."""

    dragged = QtCore.Signal(object)  # (P, 2) array of points in [0, 1]
    erased = QtCore.Signal(float, float)  # x, y in [0, 1]
    region_selected = QtCore.Signal(object)  # (x0, y0, x1, y1) in [0, 1]
    undo_requested = QtCore.Signal()
    redo_requested = QtCore.Signal()
    hovered = QtCore.Signal(object)  # (x, y) in [0, 1] under the mouse, or None off the canvas
    view_changed = QtCore.Signal()  # zoom, pan or size changed
    drag_progress = QtCore.Signal(object)  # the brush path so far (list of (x, y)), None when it ends

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(320, 320)
        self.setMouseTracking(True)  # the cursor is shown to the others in a session
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.image: QtGui.QImage | None = None
        self.tool = "brush"
        self.brush_size = 0.03
        self.color = QtGui.QColor("#c0392b")
        self.opacity = 1.0
        self._path: list[tuple[float, float]] = []
        self.region: tuple[float, float, float, float] | None = None
        self.zoom = 1.0
        self.center = (0.5, 0.5)
        self._pan_from: tuple[QtCore.QPointF, tuple[float, float]] | None = None
        #: the others' cursors in a session: (name, colour, x, y)
        self.cursors: list[tuple[str, str, float, float]] = []
        #: the others' brush drags in progress: (brush colour, size, points)
        self.remote_drags: list[tuple[str, float, list[tuple[float, float]]]] = []
        #: a sharp render of the zoomed view: the image and its square (x0, y0, side) in canvas fractions
        self.view_image: QtGui.QImage | None = None
        self.view_rect: tuple[float, float, float] | None = None
        self.view_draws = 0

    # -- geometry --------------------------------------------------------
    def square(self) -> QtCore.QRectF:
        """Where the whole canvas lies in widget pixels (after zoom and pan)."""
        s = (min(self.width(), self.height()) - 8) * self.zoom
        cx, cy = self.center
        return QtCore.QRectF(self.width() / 2 - cx * s, self.height() / 2 - cy * s, s, s)

    def set_view(self, zoom: float, center: tuple[float, float]) -> None:
        self.zoom = float(np.clip(zoom, 1.0, 16.0))
        half = 0.5 / self.zoom
        self.center = (float(np.clip(center[0], half, 1 - half)), float(np.clip(center[1], half, 1 - half)))
        self.update()
        self.view_changed.emit()

    def visible_view(self, base_px: int) -> tuple[tuple[float, float, float], int] | None:
        """The square of the canvas in view and the pixels it covers on screen, when the
        ``base_px`` canvas image would be drawn enlarged (zoomed in); else None."""
        r = self.square()
        s_px = r.width()
        if s_px <= 0 or self.zoom <= 1.001:
            return None
        side = float(min(1.0, max(self.width(), self.height()) / s_px))
        cx, cy = self.center
        x0 = float(np.clip(cx - side / 2, 0.0, 1.0 - side))
        y0 = float(np.clip(cy - side / 2, 0.0, 1.0 - side))
        px = int(np.ceil(side * s_px * self.devicePixelRatioF()))
        if px <= 1.05 * base_px * side:
            return None  # the canvas image is sharp enough here
        return (x0, y0, side), int(min(px, 2048))

    def set_view_image(self, img: np.ndarray | None, rect: tuple[float, float, float] | None = None) -> None:
        self.view_image = None if img is None else _qimage(img)
        self.view_rect = None if img is None else rect
        self.update()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(ev)
        self.view_changed.emit()

    def leaveEvent(self, ev) -> None:  # noqa: N802
        self.hovered.emit(None)
        super().leaveEvent(ev)

    def wheelEvent(self, ev: QtGui.QWheelEvent) -> None:  # noqa: N802
        # zoom about the cursor: the canvas point under it stays put
        x, y = self.to_canvas(ev.position(), clip=False)
        factor = 1.25 ** (ev.angleDelta().y() / 120.0)
        old = self.zoom
        new = float(np.clip(old * factor, 1.0, 16.0))
        cx, cy = self.center
        k = old / new
        self.set_view(new, (x - (x - cx) * k, y - (y - cy) * k))
        ev.accept()

    def to_canvas(self, pos: QtCore.QPointF, clip: bool = True) -> tuple[float, float]:
        r = self.square()
        x = (pos.x() - r.x()) / r.width()
        y = (pos.y() - r.y()) / r.height()
        if clip:
            x, y = float(np.clip(x, 0, 1)), float(np.clip(y, 0, 1))
        return float(x), float(y)

    def to_widget(self, x: float, y: float) -> QtCore.QPointF:
        r = self.square()
        return QtCore.QPointF(r.x() + x * r.width(), r.y() + y * r.height())

    # -- drawing ---------------------------------------------------------
    def set_image(self, img: np.ndarray) -> None:
        self.image = _qimage(img)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor("#3a3a3a"))
        r = self.square()
        if self.image is not None:
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(r, self.image)
        else:
            p.fillRect(r, QtGui.QColor("white"))
        if self.view_image is not None and self.view_rect is not None and self.zoom > 1.001:
            x0, y0, side = self.view_rect
            a = self.to_widget(x0, y0)
            b = self.to_widget(x0 + side, y0 + side)
            p.drawImage(QtCore.QRectF(a, b), self.view_image)  # one image pixel per screen pixel
            self.view_draws += 1
        rect = self._drag_rect() if (self.tool == "region" and len(self._path) > 1) else self.region
        if rect is not None:
            a = self.to_widget(rect[0], rect[1])
            b = self.to_widget(rect[2], rect[3])
            pen = QtGui.QPen(QtGui.QColor("#ff8800"), 2, QtCore.Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(QtCore.QRectF(a, b))
        if len(self._path) and self.tool == "brush":
            c = QtGui.QColor(self.color)
            c.setAlphaF(self.opacity)
            pen = QtGui.QPen(c, max(1.0, self.brush_size * r.width()))
            pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            pts = [self.to_widget(x, y) for x, y in self._path]
            if len(pts) == 1:
                p.drawPoint(pts[0])
            else:
                p.drawPolyline(QtGui.QPolygonF(pts))
        for colour, size, path in self.remote_drags:
            c = QtGui.QColor(colour)
            if not c.isValid():
                continue
            c.setAlphaF(0.75)
            pen = QtGui.QPen(c, max(1.0, size * r.width()))
            pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            pts = [self.to_widget(x, y) for x, y in path]
            if len(pts) == 1:
                p.drawPoint(pts[0])
            else:
                p.drawPolyline(QtGui.QPolygonF(pts))
        if self.cursors:
            self._draw_cursors(p)
        p.end()

    def _draw_cursors(self, p: QtGui.QPainter) -> None:
        """The others' cursors: an arrow in their colour and a label with their name."""
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        font = p.font()
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        font.setBold(True)
        p.setFont(font)
        fm = QtGui.QFontMetricsF(font)
        for name, colour, x, y in self.cursors:
            c = QtGui.QColor(colour)
            if not c.isValid():
                c = QtGui.QColor("#888888")
            tip = self.to_widget(x, y)
            arrow = QtGui.QPolygonF(
                [
                    tip,
                    tip + QtCore.QPointF(0, 17),
                    tip + QtCore.QPointF(4.5, 13),
                    tip + QtCore.QPointF(11, 12),
                ]
            )
            p.setPen(QtGui.QPen(QtGui.QColor("white"), 1.5))
            p.setBrush(c)
            p.drawPolygon(arrow)
            text_w = fm.horizontalAdvance(name) + 10
            box = QtCore.QRectF(tip.x() + 10, tip.y() + 15, text_w, fm.height() + 4)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.drawRoundedRect(box, 4, 4)
            p.setPen(QtGui.QColor("white" if c.lightness() < 150 else "black"))
            p.drawText(box, QtCore.Qt.AlignmentFlag.AlignCenter, name)

    # -- keys ------------------------------------------------------------
    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802
        # reached when the panel's shortcuts did not take the key (e.g. no active window)
        mods = ev.modifiers()
        ctrl = bool(mods & QtCore.Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if ctrl and ev.key() == QtCore.Qt.Key.Key_Z:
            (self.redo_requested if shift else self.undo_requested).emit()
            ev.accept()
            return
        super().keyPressEvent(ev)

    # -- mouse -----------------------------------------------------------
    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802
        if ev.button() in (QtCore.Qt.MouseButton.MiddleButton, QtCore.Qt.MouseButton.RightButton):
            self._pan_from = (ev.position(), self.center)  # pan with the middle or right button
            return
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        x, y = self.to_canvas(ev.position())
        if self.tool == "eraser":
            self.erased.emit(x, y)
            return
        self._path = [(x, y)]
        self.update()

    def mouseMoveEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802
        hx, hy = self.to_canvas(ev.position(), clip=False)
        self.hovered.emit((hx, hy) if 0.0 <= hx <= 1.0 and 0.0 <= hy <= 1.0 else None)
        if self._pan_from is not None:
            start, (cx, cy) = self._pan_from
            side = self.square().width()
            d = ev.position() - start
            self.set_view(self.zoom, (cx - d.x() / side, cy - d.y() / side))
            return
        if not ev.buttons() & QtCore.Qt.MouseButton.LeftButton:
            return
        x, y = self.to_canvas(ev.position())
        if self.tool == "eraser":
            self.erased.emit(x, y)
            return
        if self._path:
            self._path.append((x, y))
            if self.tool == "brush":
                self.drag_progress.emit(list(self._path))
            self.update()

    def _drag_rect(self) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self._path[0], self._path[-1]
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802
        if ev.button() in (QtCore.Qt.MouseButton.MiddleButton, QtCore.Qt.MouseButton.RightButton):
            self._pan_from = None
            return
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or self.tool == "eraser" or not self._path:
            return
        x, y = self.to_canvas(ev.position())
        if self.tool == "region":
            self._path.append((x, y))
            r = self._drag_rect()
            self._path = []
            self.region = r if (r[2] - r[0]) * (r[3] - r[1]) > 1e-4 else None
            self.region_selected.emit(self.region)
            self.update()
            return
        if self._path[-1] != (x, y):
            self._path.append((x, y))
        path = np.asarray(self._path, dtype=np.float64)
        self._path = []
        self.dragged.emit(path)  # (the strokes go to the room before the preview is withdrawn)
        self.drag_progress.emit(None)
        self.update()


class PaintingPanel(Panel):
    name = "painting"
    title = "Collaborative painting"
    engine_type = PaintingEngine
    COLUMNS = ("id", "author", "x", "y", "w", "h", "theta", "r", "g", "b", "opacity")
    TABLE_ROWS = 200
    TABLE_HZ = 5
    VIEW_MS = 40

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._snap: PaintingSnapshot | None = None
        self._version = -1
        self._has_model = False
        self._thumb_key: tuple = ()
        self.strokes_drawn = 0

        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        side = QtWidgets.QVBoxLayout()
        outer.addLayout(side)
        self.canvas = Canvas(self)
        outer.addWidget(self.canvas, 1)
        right = QtWidgets.QVBoxLayout()
        outer.addLayout(right)
        self._build_session_box(right)

        # -- brush -----------------------------------------------------------
        brush = QtWidgets.QGroupBox("Brush")
        form = QtWidgets.QFormLayout(brush)
        self.tool_box = QtWidgets.QComboBox()
        self.tool_box.addItems(["brush", "eraser", "region"])
        self.tool_box.setToolTip("region: drag a rectangle; Complete then proposes strokes only inside it")
        form.addRow("Tool", self.tool_box)
        self.size_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.size_slider.setRange(2, 200)  # thousandths of the canvas side
        self.size_slider.setValue(30)
        form.addRow("Size", self.size_slider)
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(5, 100)
        self.opacity_slider.setValue(100)
        form.addRow("Opacity", self.opacity_slider)
        self.color_button = QtWidgets.QPushButton("Colour…")
        form.addRow("Colour", self.color_button)
        swatches = QtWidgets.QHBoxLayout()
        for hexcol in PALETTE:
            b = QtWidgets.QToolButton()
            b.setFixedSize(18, 18)
            b.setStyleSheet(f"background: {hexcol}; border: 1px solid #888;")
            b.clicked.connect(lambda _c=False, h=hexcol: self.set_color(QtGui.QColor(h)))
            swatches.addWidget(b)
        form.addRow(swatches)
        side.addWidget(brush)

        # -- edit ------------------------------------------------------------
        edit = QtWidgets.QHBoxLayout()
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.redo_button = QtWidgets.QPushButton("Redo")
        self.clear_button = QtWidgets.QPushButton("Clear")
        for b in (self.undo_button, self.redo_button, self.clear_button):
            edit.addWidget(b)
        side.addLayout(edit)
        self.lock_box = QtWidgets.QCheckBox("Lock my strokes")
        self.lock_box.setToolTip(
            "the eraser, Clear and edits leave my strokes alone;\nin a session, everyone else's do too"
        )
        side.addWidget(self.lock_box)

        # -- model -----------------------------------------------------------
        comp = QtWidgets.QGroupBox("Complete with the model")
        cl = QtWidgets.QVBoxLayout(comp)
        row = QtWidgets.QHBoxLayout()
        self.proposals_box = QtWidgets.QSpinBox()
        self.proposals_box.setRange(1, 6)
        self.proposals_box.setValue(3)
        self.proposals_box.setPrefix("proposals: ")
        row.addWidget(self.proposals_box)
        self.complete_button = QtWidgets.QPushButton("Complete")
        row.addWidget(self.complete_button)
        cl.addLayout(row)
        self.best_guess_box = QtWidgets.QCheckBox("Best guess (fit to the mean of 8 samples)")
        self.best_guess_box.setObjectName("BestGuess")
        self.best_guess_box.setToolTip(
            "each proposal is fitted to the average render of 8 model samples:\n"
            "closer to the missing strokes on average, softer and less varied, slower"
        )
        cl.addWidget(self.best_guess_box)
        row = QtWidgets.QHBoxLayout()
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.setObjectName("CompleteMode")
        self.mode_box.addItems(list(COMPLETE_MODES))
        self.mode_box.setToolTip(
            "which of the painted strokes the model sees as context:\n"
            "all: every one; random: each with probability p; block: a run of 1 - p of the\n"
            "stroke order is hidden; level: only the coarse level (two levels when p >= 0.5);\n"
            "square: a square around a random stroke holding 1 - p of them is hidden;\n"
            "unconditional: none (a new painting). Every slot not in the context is proposed."
        )
        self.p_box = QtWidgets.QDoubleSpinBox()
        self.p_box.setObjectName("CompleteP")
        self.p_box.setRange(0.05, 0.95)
        self.p_box.setSingleStep(0.05)
        self.p_box.setDecimals(2)
        self.p_box.setValue(0.5)
        self.p_box.setPrefix("p = ")
        self.p_box.setToolTip("context ratio of the masking mode")
        row.addWidget(QtWidgets.QLabel("Mode"))
        row.addWidget(self.mode_box, 1)
        row.addWidget(self.p_box)
        cl.addLayout(row)
        self.mode_box.currentTextChanged.connect(self._sync_mode)
        self._sync_mode(self.mode_box.currentText())
        self.thumbs = QtWidgets.QHBoxLayout()
        cl.addLayout(self.thumbs)
        self._thumb_buttons: list[QtWidgets.QToolButton] = []
        row = QtWidgets.QHBoxLayout()
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.reject_button = QtWidgets.QPushButton("Reject")
        row.addWidget(self.accept_button)
        row.addWidget(self.reject_button)
        cl.addLayout(row)
        side.addWidget(comp)

        # -- reference & files ------------------------------------------------
        self.reference_button = QtWidgets.QPushButton("Paint reference…")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        side.addWidget(self.reference_button)
        side.addWidget(self.progress)
        side.addWidget(self.cancel_button)
        files = QtWidgets.QGridLayout()
        self.open_button = QtWidgets.QPushButton("Open JSON…")
        self.save_button = QtWidgets.QPushButton("Save JSON…")
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.svg_button = QtWidgets.QPushButton("Export SVG…")
        files.addWidget(self.open_button, 0, 0)
        files.addWidget(self.save_button, 0, 1)
        files.addWidget(self.png_button, 1, 0)
        files.addWidget(self.svg_button, 1, 1)
        side.addLayout(files)
        replay = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("Replay")
        self.play_button.setCheckable(True)
        self.timelapse_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.timelapse_slider.setRange(0, 0)
        self.timelapse_slider.setToolTip("time-lapse: strokes shown in paint order")
        replay.addWidget(self.play_button)
        replay.addWidget(self.timelapse_slider, 1)
        side.addLayout(replay)
        self._play_timer = QtCore.QTimer(self)
        self._play_timer.setInterval(40)
        self._play_timer.timeout.connect(self._play_tick)
        self.info = QtWidgets.QLabel("")
        self.info.setWordWrap(True)
        side.addWidget(self.info)
        # -- stroke list (the most recent strokes, editable) ---------------------
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        self.table.setToolTip(f"the last {self.TABLE_ROWS} strokes; edit a number to change the stroke")
        self.table.setMinimumWidth(260)
        side.addWidget(self.table, 1)
        self._table_version = -1
        self._filling = False
        self._table_filled_at = 0.0
        flag = QtCore.Qt.ItemFlag
        fixed = flag.ItemIsSelectable | flag.ItemIsEnabled
        self._table_flags = (fixed, fixed | flag.ItemIsEditable)
        self._table_timer = QtCore.QTimer(self)
        self._table_timer.setSingleShot(True)
        self._table_timer.timeout.connect(
            lambda: (
                self._snap is not None
                and self._table_version != self._snap.version
                and self.update_view(self._snap)
            )
        )

        # -- wiring ------------------------------------------------------------
        self.timelapse_slider.sliderMoved.connect(self.show_prefix)
        self.play_button.toggled.connect(self._toggle_play)
        self.table.itemChanged.connect(self._cell_edited)
        self.lock_box.toggled.connect(self._set_lock)
        self.canvas.dragged.connect(self.paint_path)
        self.canvas.erased.connect(self.erase)
        self.tool_box.currentTextChanged.connect(self._set_tool)
        self.size_slider.valueChanged.connect(self._sync_brush)
        self.opacity_slider.valueChanged.connect(self._sync_brush)
        self.color_button.clicked.connect(self._pick_color)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.clear_button.clicked.connect(lambda: self._edit(lambda e: e.clear()))
        self.complete_button.clicked.connect(self.complete)
        self.accept_button.clicked.connect(lambda: self._edit(lambda e: e.accept_proposal()))
        self.reject_button.clicked.connect(lambda: self._edit(lambda e: e.reject_proposals()))
        self.reference_button.clicked.connect(self._ask_reference)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self._ask_open)
        self.save_button.clicked.connect(self._ask_save)
        self.png_button.clicked.connect(self._ask_png)
        self.svg_button.clicked.connect(self._ask_svg)
        ctx = QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.undo_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Z"), self)
        self.redo_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Shift+Z"), self)
        for sc, slot in ((self.undo_shortcut, self.undo), (self.redo_shortcut, self.redo)):
            sc.setContext(ctx)
            sc.activated.connect(slot)
        self.canvas.undo_requested.connect(self.undo)
        self.canvas.redo_requested.connect(self.redo)
        self.canvas.hovered.connect(self.session.set_cursor)
        self.canvas.drag_progress.connect(
            lambda pts: self.session.set_drag(pts, self.canvas.color.name(), self.canvas.brush_size)
        )
        # sharp zoomed views: at most one render in flight, at most one request per VIEW_MS
        self._view_future = None
        self._view_again = False
        self.view_renders = 0
        self._view_timer = QtCore.QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(self.VIEW_MS)
        self._view_timer.timeout.connect(self._request_view)
        self._view_poll = QtCore.QTimer(self)
        self._view_poll.setInterval(10)
        self._view_poll.timeout.connect(self._check_view)
        self.canvas.view_changed.connect(self._view_soon)
        self._sync_brush()
        self.set_color(QtGui.QColor(PALETTE[2]))
        self._sync_buttons()

    # -- session ---------------------------------------------------------------
    def _build_session_box(self, column: QtWidgets.QVBoxLayout) -> None:
        self.session = SessionController(self)
        box = QtWidgets.QGroupBox("Session")
        box.setObjectName("SessionBox")
        box.setFixedWidth(250)
        lay = QtWidgets.QVBoxLayout(box)
        self.indicator = ConnectionIndicator()
        lay.addWidget(self.indicator)
        row = QtWidgets.QHBoxLayout()
        self.host_button = QtWidgets.QPushButton("Host…")
        self.join_button = QtWidgets.QPushButton("Join…")
        self.leave_button = QtWidgets.QPushButton("Leave")
        for b in (self.host_button, self.join_button, self.leave_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.address_edit = QtWidgets.QLineEdit()
        self.address_edit.setObjectName("SessionAddress")
        self.address_edit.setReadOnly(True)
        self.address_edit.setPlaceholderText("join address")
        self.token_edit = QtWidgets.QLineEdit()
        self.token_edit.setObjectName("SessionToken")
        self.token_edit.setReadOnly(True)
        self.token_edit.setPlaceholderText("room token")
        self.token_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        lay.addWidget(self.address_edit)
        trow = QtWidgets.QHBoxLayout()
        trow.addWidget(self.token_edit, 1)
        self.invite_button = QtWidgets.QPushButton("Invite…")
        self.invite_button.setToolTip("the join address and the token, to copy")
        trow.addWidget(self.invite_button)
        lay.addLayout(trow)
        lay.addWidget(QtWidgets.QLabel("People"))
        self.participants = ParticipantList()
        lay.addWidget(self.participants)
        column.addWidget(box)
        column.addStretch(1)
        # the Session menu (toolbar): File -> Host / Join / Leave of the issue
        self.act_host = QtGui.QAction("&Host session…", self)
        self.act_join = QtGui.QAction("&Join session…", self)
        self.act_invite = QtGui.QAction("&Invite (address and token)…", self)
        self.act_leave = QtGui.QAction("&Leave session", self)
        self.session_menu = QtWidgets.QMenu("Session", self)
        for a in (self.act_host, self.act_join, self.act_invite, self.act_leave):
            self.session_menu.addAction(a)
        self.session_action = QtGui.QAction("Session", self)
        self.session_action.setObjectName("act_session")
        self.session_action.setToolTip("host or join a multi-user painting session")
        self.session_action.setMenu(self.session_menu)
        self.session_action.triggered.connect(lambda: self.session_menu.popup(QtGui.QCursor.pos()))
        self.act_host.triggered.connect(self._ask_host)
        self.act_join.triggered.connect(self._ask_join)
        self.act_invite.triggered.connect(self.show_invite)
        self.act_leave.triggered.connect(self.leave_session)
        self.host_button.clicked.connect(self._ask_host)
        self.join_button.clicked.connect(self._ask_join)
        self.leave_button.clicked.connect(self.leave_session)
        self.invite_button.clicked.connect(self.show_invite)
        self.session.changed.connect(self._sync_session)
        self._invite_pending = False
        self._invite_dialog: InviteDialog | None = None
        self._sync_session()

    def extra_actions(self) -> list[QtGui.QAction]:
        return [self.session_action]

    def _settings(self) -> QtCore.QSettings:
        s = getattr(self.window(), "settings", None)
        if isinstance(s, QtCore.QSettings):
            return s
        from studio.config import settings_path

        return QtCore.QSettings(str(settings_path()), QtCore.QSettings.Format.IniFormat)

    def host_session(self, show_invite: bool = False, **kw: Any) -> bool:
        """Host a room (see :meth:`SessionController.host`); the painting goes into it."""
        ok = self.session.host(**kw)
        self._invite_pending = ok and show_invite
        return ok

    def join_session(self, **kw: Any) -> bool:
        """Join a room (see :meth:`SessionController.join`)."""
        return self.session.join(**kw)

    def leave_session(self) -> None:
        self.session.leave()

    def _ask_host(self) -> None:
        if self.session.active:
            self.show_error("Already in a session: leave it first.")
            return
        dlg = HostDialog(self, self._settings(), name=self._author_name())
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.host_session(show_invite=True, **dlg.values())

    def _ask_join(self) -> None:
        if self.session.active:
            self.show_error("Already in a session: leave it first.")
            return
        dlg = JoinDialog(self, self._settings(), strokes_open=self._snap.n_strokes if self._snap else 0)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.join_session(**dlg.values())

    def _author_name(self) -> str:
        try:
            return str(self.runner.call(lambda e: e.params.author)) if self.runner else ""
        except Exception:  # noqa: BLE001
            return ""

    def show_invite(self) -> InviteDialog | None:
        st = self.session.status
        if not self.session.active or st is None or not st.token:
            self.show_error("Not in a session: host or join one first.")
            return None
        dlg = InviteDialog(self.session.join_address(), st.token, self)
        dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        self._invite_dialog = dlg
        return dlg

    def _sync_session(self) -> None:
        sc = self.session
        kind, text, tip = sc.indicator()
        self.indicator.set_state(kind, text, tip)
        self.participants.set_people(sc.people())
        st = sc.status
        address = sc.join_address() if sc.active else ""
        if self.address_edit.text() != address:
            self.address_edit.setText(address)
        token = st.token if (sc.active and st is not None) else ""
        if self.token_edit.text() != token:
            self.token_edit.setText(token)
        active = sc.active
        self.host_button.setEnabled(not active)
        self.join_button.setEnabled(not active)
        self.act_host.setEnabled(not active)
        self.act_join.setEnabled(not active)
        self.leave_button.setEnabled(active and not sc.leaving)
        self.act_leave.setEnabled(active and not sc.leaving)
        self.invite_button.setEnabled(bool(token))
        self.act_invite.setEnabled(bool(token))
        cursors, drags = sc.cursors(), sc.drags()
        if cursors != self.canvas.cursors or drags != self.canvas.remote_drags:
            self.canvas.cursors = cursors
            self.canvas.remote_drags = drags
            self.canvas.update()
        if self._invite_pending and token and address:
            self._invite_pending = False
            self.show_invite()

    def shutdown(self) -> None:
        self.session.shutdown(timeout_s=1.0)  # the server (when hosting) stops with the window

    # -- engine ----------------------------------------------------------------
    def on_attached(self) -> None:
        self._has_model = bool(self.runner.call(lambda e: e.has_model()))
        self._sync_buttons()
        self.runner.refresh()

    def file_menu_entries(self) -> list:
        """File -> Painting session (Host / Join / Invite / Leave), above Quit."""
        self.session_menu.setTitle("Painting &session")
        return [self.session_menu]

    def start_demo(self) -> None:
        """The screenshot's painting: the astronaut of scikit-image as 180 decomposed strokes."""
        demo = demo_strokes()
        if demo is not None:
            params, _source = demo
            self.runner.call(lambda e: e.add_strokes(params, author="reference"))
            self.runner.refresh()
            return
        rng = np.random.default_rng(0)
        for i in range(12):
            t = np.linspace(0, 1, 20)
            y0 = 0.1 + 0.07 * i
            pts = np.column_stack([0.1 + 0.8 * t, y0 + 0.05 * np.sin(6 * t + i)])
            col = tuple(float(c) for c in rng.random(3))
            self.runner.call(lambda e, p=pts, c=col: e.add_drag(p, 0.04, c))
        self.runner.refresh()

    def _edit(self, fn) -> Any:
        try:
            out = self.runner.call(fn)
        except (ValueError, FileNotFoundError) as e:
            self.show_error(str(e))
            return None
        self.runner.refresh()
        return out

    # -- actions ---------------------------------------------------------------
    def set_color(self, color: QtGui.QColor) -> None:
        self.canvas.color = QtGui.QColor(color)
        self.color_button.setStyleSheet(
            f"background: {color.name()}; color: {'white' if color.lightness() < 128 else 'black'};"
        )
        self.color_button.setText(color.name())

    def _pick_color(self) -> None:
        c = QtWidgets.QColorDialog.getColor(self.canvas.color, self, "Brush colour")
        if c.isValid():
            self.set_color(c)

    def _set_tool(self, tool: str) -> None:
        self.canvas.tool = tool

    def _sync_brush(self) -> None:
        self.canvas.brush_size = self.size_slider.value() / 1000.0
        self.canvas.opacity = self.opacity_slider.value() / 100.0

    def paint_path(self, points: np.ndarray) -> None:
        """A finished drag: send it to the engine as strokes."""
        c = self.canvas.color
        color = (c.redF(), c.greenF(), c.blueF())
        size = self.canvas.brush_size
        opacity = self.canvas.opacity
        self._edit(lambda e: e.add_drag(points, size, color, opacity))

    def erase(self, x: float, y: float) -> None:
        r = max(self.canvas.brush_size, 0.01)
        self._edit(lambda e: e.erase_at(x, y, r))

    def undo(self) -> None:
        self._edit(lambda e: e.undo())

    def _set_lock(self, on: bool) -> None:
        self._edit(lambda e: e.set_lock(on))
        self.session.set_locked(on)

    def redo(self) -> None:
        self._edit(lambda e: e.redo())

    def complete(self) -> bool:
        if not self._has_model:
            self.show_error("No trained completion model: assets/painting/model.zip is missing.")
            return False
        n = self.proposals_box.value()
        k = BEST_GUESS_SAMPLES if self.best_guess_box.isChecked() else 1
        self.runner.call(lambda e: e.set_params(e.params.replace(proposals=n, samples=k)))
        region = self.canvas.region
        mode = self.mode_box.currentText()
        p = float(self.p_box.value())
        return self.runner.run_job(lambda e: e.complete_job(region, mode=mode, p=p))

    def _sync_mode(self, mode: str) -> None:
        self.p_box.setEnabled(mode in ("random", "block", "level", "square"))

    def paint_reference(self, path: str | Path) -> bool:
        from engines.painting.imageio import load_image

        try:
            img = load_image(path, size=256)
        except (ValueError, OSError) as e:
            self.show_error(str(e))
            return False
        return self.runner.run_job(lambda e: e.decompose_job(img))

    def cancel(self) -> None:
        if self.runner is not None and self.runner.state == "job":
            self.runner.cancel_job()

    def open_json(self, path: str | Path) -> bool:
        from engines.painting.strokes import load_painting

        try:
            doc = load_painting(path)
        except (ValueError, OSError) as e:
            self.show_error(str(e))  # the current painting is kept
            return False
        self._edit(lambda e: e.load_document(doc))
        return True

    def save_json(self, path: str | Path) -> None:
        from engines.painting.strokes import save_painting

        self._edit(lambda e: save_painting(e.doc, path))

    def export_png(self, path: str | Path, size: int = 1024) -> None:
        from engines.painting.imageio import save_png
        from engines.painting.render import render_fast

        self._edit(
            lambda e: save_png(render_fast(*e.doc.arrays(), size=size, background=e.doc.background), path)
        )

    def export_svg(self, path: str | Path, size: int = 1024) -> None:
        from engines.painting.imageio import strokes_svg

        self._edit(lambda e: Path(path).write_text(strokes_svg(*e.doc.arrays(), size, e.doc.background)))

    def _ask_reference(self) -> None:
        f, _ = QtWidgets.QFileDialog.getOpenFileName(
            self,
            "Reference image",
            "",
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)",
        )
        if f:
            self.paint_reference(f)

    def _ask_open(self) -> None:
        f, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open painting", "", "Painting JSON (*.json);;All files (*)"
        )
        if f:
            self.open_json(f)

    def _ask_save(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save painting", "painting.json", "Painting JSON (*.json)"
        )
        if f:
            self.save_json(f)

    def _ask_png(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export PNG", "painting.png", "PNG (*.png)")
        if f:
            self.export_png(f)

    def _ask_svg(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export SVG", "painting.svg", "SVG (*.svg)")
        if f:
            self.export_svg(f)

    # -- stroke list ---------------------------------------------------------------
    def _fill_table(self, snap: PaintingSnapshot) -> None:
        self._filling = True
        self._table_filled_at = time.monotonic()
        # (one pass, then one column fit: fitting the columns to their contents on every
        # cell change made a refill of 200 rows quadratic, seconds long)
        self.table.setUpdatesEnabled(False)
        self.table.blockSignals(True)
        try:
            n = snap.n_strokes
            first = max(0, n - self.TABLE_ROWS)
            rows = n - first
            grew = rows != self.table.rowCount()
            self.table.setRowCount(rows)
            newest = slice(n - 1, first - 1 if first > 0 else None, -1)
            numbers = np.char.mod("%.4f", np.asarray(snap.params[newest], np.float64))
            opacity = np.char.mod("%.3f", np.asarray(snap.opacity[newest], np.float64))
            fixed, editable = self._table_flags
            for row in range(rows):
                k = n - 1 - row  # newest first
                values = [snap.ids[k], snap.authors[k], *numbers[row].tolist(), str(opacity[row])]
                for col, text in enumerate(values):
                    item = self.table.item(row, col)
                    if item is None:
                        item = QtWidgets.QTableWidgetItem()
                        item.setFlags(fixed if col < 2 else editable)
                        self.table.setItem(row, col, item)
                    if item.text() != text:
                        item.setText(text)
        finally:
            self.table.blockSignals(False)
            if grew:
                self.table.resizeColumnsToContents()
            self.table.setUpdatesEnabled(True)
            self._filling = False

    def _cell_edited(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._filling or item.column() < 2:
            return
        sid = self.table.item(item.row(), 0).text()
        field = self.COLUMNS[item.column()]
        try:
            value = float(item.text())
        except ValueError:
            self.show_error(f"stroke {sid}: {field} = {item.text()!r} is not a number")
            self._table_version = -1
            self.runner.refresh()
            return
        if self._edit(lambda e: e.edit_stroke(sid, **{field: value})) is None:
            self._table_version = -1  # refused: show the stored value again
            self.runner.refresh()

    # -- time-lapse --------------------------------------------------------------
    def show_prefix(self, k: int | None) -> None:
        """Show only the first ``k`` strokes (None: the whole painting)."""
        n = self._snap.n_strokes if self._snap else 0
        self._edit(lambda e: e.set_timelapse(None if k is None or k >= n else int(k)))

    def _toggle_play(self, on: bool) -> None:
        if on:
            self._play_k = 0
            self._play_timer.start()
        else:
            self._play_timer.stop()
            self.show_prefix(None)

    def _play_tick(self) -> None:
        n = self._snap.n_strokes if self._snap else 0
        self._play_k = min(n, self._play_k + max(1, n // 100))
        self.timelapse_slider.setValue(self._play_k)
        self.show_prefix(self._play_k)
        if self._play_k >= n:
            self.play_button.setChecked(False)

    # -- jobs --------------------------------------------------------------------
    def on_job_progress(self, progress) -> None:
        frac = progress.fraction
        self.progress.show()
        self.progress.setValue(int(1000 * (frac or 0)))
        self.progress.setFormat(progress.message[:50])
        self._sync_buttons(job=True)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        self.progress.hide()
        self._sync_buttons(job=False)
        self.runner.refresh()

    # -- drawing -----------------------------------------------------------------
    def _sync_buttons(self, job: bool | None = None) -> None:
        busy = job if job is not None else bool(self.runner is not None and self.runner.state == "job")
        s = self._snap
        self.undo_button.setEnabled(bool(s and s.can_undo) and not busy)
        self.redo_button.setEnabled(bool(s and s.can_redo) and not busy)
        self.complete_button.setEnabled(self._has_model and not busy)
        self.complete_button.setToolTip("" if self._has_model else "no trained model in assets/painting/")
        has_props = bool(s and s.proposals)
        self.accept_button.setEnabled(has_props and not busy)
        self.reject_button.setEnabled(has_props and not busy)
        self.reference_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _set_thumbs(self, snap: PaintingSnapshot) -> None:
        for b in self._thumb_buttons:
            self.thumbs.removeWidget(b)
            b.deleteLater()
        self._thumb_buttons = []
        for i, img in enumerate(snap.proposal_images):
            b = QtWidgets.QToolButton()
            b.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(_qimage(img))))
            b.setIconSize(QtCore.QSize(72, 72))
            b.setCheckable(True)
            b.setChecked(i == snap.selected)
            b.setToolTip(f"proposal {i + 1}: {len(snap.proposals[i])} strokes")
            b.clicked.connect(lambda _c=False, k=i: self._edit(lambda e: e.select_proposal(k)))
            self.thumbs.addWidget(b)
            self._thumb_buttons.append(b)

    def update_view(self, snapshot: Any) -> None:
        if not isinstance(snapshot, PaintingSnapshot):
            return
        prev = self._snap
        self._snap = snapshot
        self.canvas.set_image(snapshot.image)
        if self.canvas.zoom > 1.001:
            self._view_soon()
        key = (
            snapshot.selected,
            tuple(len(p) for p in snapshot.proposals),
            tuple(round(float(p.sum()), 4) for p in snapshot.proposals),
        )
        if prev is None or key != self._thumb_key:
            self._thumb_key = key
            self._set_thumbs(snapshot)
        self.strokes_drawn = snapshot.n_strokes
        if snapshot.version != self._table_version:
            # at most TABLE_HZ refills a second while strokes stream in (live painting, a session)
            wait = self._table_filled_at + 1.0 / self.TABLE_HZ - time.monotonic()
            if wait <= 0:
                self._table_version = snapshot.version
                self._fill_table(snapshot)
            elif not self._table_timer.isActive():
                self._table_timer.start(int(wait * 1000) + 1)
        self.timelapse_slider.setMaximum(snapshot.n_strokes)
        if not self.timelapse_slider.isSliderDown() and not self.play_button.isChecked():
            self.timelapse_slider.setValue(snapshot.n_strokes)
        busy = {"complete": "  — proposing…", "decompose": "  — painting the reference…"}.get(
            snapshot.busy, ""
        )
        props = f", {len(snapshot.proposals)} proposals" if snapshot.proposals else ""
        if self.canvas.region is not None:
            props += ", completing inside the region"
        self.info.setText(f"{snapshot.n_strokes} strokes ({snapshot.n_mine} mine){props}{busy}")
        self._sync_buttons()

    # -- sharp zoomed view ------------------------------------------------------
    def _view_soon(self) -> None:
        if not self._view_timer.isActive():
            self._view_timer.start()

    def _request_view(self) -> None:
        if self.runner is None:
            return
        if self._view_future is not None:
            self._view_again = True  # one render at a time; ask again when it is back
            return
        base = self._snap.image.shape[0] if self._snap is not None else 512
        want = self.canvas.visible_view(base)
        if want is None:
            if self.canvas.view_image is not None:
                self.canvas.set_view_image(None)
            return
        rect, px = want
        self._view_future = (self.runner.call_async(lambda e: e.render_view(rect, px)), rect)
        self._view_poll.start()

    def _check_view(self) -> None:
        if self._view_future is None:
            self._view_poll.stop()
            return
        fut, rect = self._view_future
        if not fut.done():
            return
        self._view_future = None
        self._view_poll.stop()
        if fut.exception() is None:
            _key, img = fut.result()
            if self.canvas.zoom > 1.001:
                self.canvas.set_view_image(img, rect)
                self.view_renders += 1
        if self._view_again:
            self._view_again = False
            self._request_view()

    # -- workspace ---------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        c = self.canvas.color
        return {
            "size": self.size_slider.value(),
            "opacity": self.opacity_slider.value(),
            "color": c.name(),
            "complete_mode": self.mode_box.currentText(),
            "complete_p": float(self.p_box.value()),
        }

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        if "size" in state:
            self.size_slider.setValue(int(state["size"]))
        if "opacity" in state:
            self.opacity_slider.setValue(int(state["opacity"]))
        if "color" in state:
            self.set_color(QtGui.QColor(str(state["color"])))
        if state.get("complete_mode") in COMPLETE_MODES:
            self.mode_box.setCurrentText(str(state["complete_mode"]))
        if isinstance(state.get("complete_p"), (int, float)):
            self.p_box.setValue(float(state["complete_p"]))
