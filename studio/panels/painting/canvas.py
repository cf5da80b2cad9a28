"""The painting canvas: shows the painting, turns mouse drags into paths, zooms and pans.

The canvas knows nothing of the engine: a finished brush drag is emitted as
``dragged`` (points in canvas fractions), an eraser press or move as
``erased``; the panel sends them to the engine. While zoomed in, a sharp render
of the visible square (``set_view_image``) is drawn over the enlarged canvas image.
The proposal on show is drawn over the painting as ghost strokes (``set_ghosts``);
with the canvas focused, Enter or A accepts it, Esc or X rejects the proposals, and
Tab / Shift+Tab or the arrow keys go through them (``accept_requested``,
``reject_requested``, ``cycle_requested(step)``).
"""

from __future__ import annotations

import enum

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from studio import theme
from studio.panels.painting.ghosts import GhostStrokes


class Tool(enum.StrEnum):
    """What a left-button drag on the canvas does."""

    BRUSH = "brush"  #: paints strokes along the drag
    ERASER = "eraser"  #: removes the strokes under the pointer
    REGION = "region"  #: selects the rectangle Complete proposes strokes in


def qimage(img: np.ndarray) -> QtGui.QImage:
    """A (H, W, 3) uint8 image as a QImage that owns its pixels."""
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
    accept_requested = QtCore.Signal()  # Enter or A while ghost strokes are on show
    reject_requested = QtCore.Signal()  # Esc or X while ghost strokes are on show
    cycle_requested = QtCore.Signal(int)  # +1 / -1: the next or previous proposal (Tab, arrows)

    #: keys that act on the proposals on show
    ACCEPT_KEYS = (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_A)
    REJECT_KEYS = (QtCore.Qt.Key.Key_Escape, QtCore.Qt.Key.Key_X)
    NEXT_KEYS = (QtCore.Qt.Key.Key_Right, QtCore.Qt.Key.Key_Down)
    PREV_KEYS = (QtCore.Qt.Key.Key_Left, QtCore.Qt.Key.Key_Up)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.setMouseTracking(True)  # the cursor is shown to the others in a session
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.image: QtGui.QImage | None = None
        self._scaled: QtGui.QPixmap | None = None  # the image at the size of the paper (see _scaled_image)
        self._scaled_key: tuple = ()
        self._source: np.ndarray | None = None
        self.tool = Tool.BRUSH
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
        self.ghosts = GhostStrokes(self)

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
        self.view_image = None if img is None else qimage(img)
        self.view_rect = None if img is None else rect
        self.update()

    def show_others(
        self, cursors: list[tuple[str, str, float, float]], drags: list[tuple[str, float, list]]
    ) -> None:
        """The others' cursors (name, colour, x, y) and brush drags in progress (colour, size, points)."""
        if cursors != self.cursors or drags != self.remote_drags:
            self.cursors = cursors
            self.remote_drags = drags
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
        if img is self._source:  # (snapshots of an unchanged painting share its image)
            return
        self._source = img
        self.image = qimage(img)
        self.update()

    def set_ghosts(self, params: np.ndarray | None) -> None:
        """Draw the strokes ``params`` (M, 8) over the painting as ghosts (None: none)."""
        self.ghosts.set_strokes(params)

    def _scaled_image(self, r: QtCore.QRectF) -> QtGui.QPixmap:
        """The painting scaled smoothly to ``r``: made again only when the image or the size
        changes (scaling the image in every paint cost 10-20 ms of the GUI thread, taken from the
        worker's sampling while ghosts pulse and progress is drawn)."""
        key = (id(self.image), round(r.width()), round(r.height()))
        if self._scaled is None or self._scaled_key != key:
            img = self.image.scaled(
                max(1, key[1]),
                max(1, key[2]),
                QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                QtCore.Qt.TransformationMode.SmoothTransformation,
            )
            self._scaled = QtGui.QPixmap.fromImage(img)
            self._scaled_key = key
        return self._scaled

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QtGui.QPainter(self)
        t = theme.current()
        p.fillRect(self.rect(), t.qcolor("hint_background"))
        r = self.square()
        p.setPen(QtGui.QPen(t.qcolor("grid"), 1))
        p.drawRect(r.adjusted(-1, -1, 0, 0))  # the edge of the paper
        if self.image is not None:
            p.drawPixmap(r.topLeft(), self._scaled_image(r))
        else:
            p.fillRect(r, QtGui.QColor("white"))  # the paper (the painting's background)
        if self.view_image is not None and self.view_rect is not None and self.zoom > 1.001:
            x0, y0, side = self.view_rect
            a = self.to_widget(x0, y0)
            b = self.to_widget(x0 + side, y0 + side)
            p.drawImage(QtCore.QRectF(a, b), self.view_image)  # one image pixel per screen pixel
            self.view_draws += 1
        rect = self._drag_rect() if (self.tool == Tool.REGION and len(self._path) > 1) else self.region
        if rect is not None:
            a = self.to_widget(rect[0], rect[1])
            b = self.to_widget(rect[2], rect[3])
            pen = QtGui.QPen(theme.category_colour(1), 2, QtCore.Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRect(QtCore.QRectF(a, b))
        if len(self._path) and self.tool == Tool.BRUSH:
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
        self.ghosts.paint(p, r)
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
                c = theme.current().qcolor("muted")
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
    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 - Qt API
        if self.ghosts.count:  # Tab / Shift+Tab go through the proposals while they are on show
            self.cycle_requested.emit(1 if next else -1)
            return True
        return super().focusNextPrevChild(next)

    def event(self, ev: QtCore.QEvent) -> bool:
        # while proposals are on show their keys come here before the window's shortcuts (Esc there
        # stops a job: here it rejects the proposals, and stops a Complete still running too)
        if (
            ev.type() == QtCore.QEvent.Type.ShortcutOverride
            and self.ghosts.count
            and not ev.modifiers() & ~QtCore.Qt.KeyboardModifier.KeypadModifier
            and ev.key() in (*self.ACCEPT_KEYS, *self.REJECT_KEYS, *self.NEXT_KEYS, *self.PREV_KEYS)
        ):
            ev.accept()
            return True
        return super().event(ev)

    def _proposal_key(self, key: int) -> bool:
        """Act on a key meant for the proposals on show; False when it is not one."""
        if not self.ghosts.count:
            return False
        if key in self.ACCEPT_KEYS:
            self.accept_requested.emit()
        elif key in self.REJECT_KEYS:
            self.reject_requested.emit()
        elif key in self.NEXT_KEYS or key in self.PREV_KEYS:
            self.cycle_requested.emit(1 if key in self.NEXT_KEYS else -1)
        else:
            return False
        return True

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802
        # reached when the panel's shortcuts did not take the key (e.g. no active window)
        mods = ev.modifiers()
        plain = not mods & ~QtCore.Qt.KeyboardModifier.KeypadModifier
        if plain and self._proposal_key(ev.key()):
            ev.accept()
            return
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
        if self.tool == Tool.ERASER:
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
        if self.tool == Tool.ERASER:
            self.erased.emit(x, y)
            return
        if self._path:
            self._path.append((x, y))
            if self.tool == Tool.BRUSH:
                self.drag_progress.emit(list(self._path))
            self.update()

    def _drag_rect(self) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = self._path[0], self._path[-1]
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802
        if ev.button() in (QtCore.Qt.MouseButton.MiddleButton, QtCore.Qt.MouseButton.RightButton):
            self._pan_from = None
            return
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or self.tool == Tool.ERASER or not self._path:
            return
        x, y = self.to_canvas(ev.position())
        if self.tool == Tool.REGION:
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


__all__ = ["Canvas", "Tool", "qimage"]
