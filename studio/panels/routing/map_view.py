"""The route map: the depot, the customers, routes coloured per vehicle with arrows, streets behind.

Road-network instances draw their routes along the streets over the road graph
(no online tiles); hovering a stop shows its arrival, wait, load and time window.
A legend above the map names the depot, the stops and the routes; lat/lon maps get a
scale bar and, when they draw OpenStreetMap data, its attribution.
The map also turns the mouse into edit requests (signals); the panel applies them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from engines.routing.layout import (
    arrow_segments,
    arrow_size,
    map_xy,
    pick,
    route_path,
    street_segments,
    to_problem_xy,
)
from engines.routing.report import stop_tips
from studio import theme

from .colours import route_colours, route_line_style
from .editing import MapEditBox
from .map_overlays import Attribution, MapScaleBar, fill_legend

HINT = "The instance's stops and the routes found appear here. Pick a sample or open an instance on the left."
LEGEND_COLUMNS = 6

B = QtCore.Qt.MouseButton
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier


class RouteMap(pg.PlotWidget):
    """The map of one instance and its solution; emits edit requests in the problem's coordinates.

    ``add_requested(xy)`` for a click on empty map, ``move_requested(index, xy)`` for a dropped
    stop, ``delete_requested(index)`` for a right-click, Ctrl+click or Delete on a stop (the
    depot, index 0, included: the panel says why it stays).
    """

    add_requested = QtCore.Signal(object)
    move_requested = QtCore.Signal(int, object)
    delete_requested = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        box = MapEditBox()
        super().__init__(parent, viewBox=box)
        self.box = box
        box.editor = self
        self.xy = np.zeros((0, 2))  # map position of every node, depot first
        self.kx = 1.0  # x scale (cos latitude) of lat/lon maps
        self.coord_kind: str | None = None  # of the drawn problem; None: nothing to edit
        self.selected: int | None = None
        self.route_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.setObjectName("RoutingMap")
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        theme.style_plot(self, grid=False)
        self.setAspectLocked(True)
        self.legend = theme.legend_above(self, columns=LEGEND_COLUMNS)
        self._legend_routes = -1  # routes named in the legend
        self._build_items()
        self.scale = MapScaleBar()
        self.scale.attach(box)
        self.scale.hide()
        self.attribution = Attribution()
        self.attribution.attach(box)
        self.attribution.hide()
        self.hint = theme.EmptyHint(self, HINT)

    def _build_items(self) -> None:
        th = theme.current()
        self.streets = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(th.grid, width=1))
        self.addItem(self.streets)
        # a thin dark casing under every route line, as on printed maps: pale colours (the
        # Okabe-Ito yellow) stay visible on a light background and over the streets
        casing = th.qcolor("foreground")
        casing.setAlpha(110)
        self.casing = pg.PlotDataItem(connect="finite", pen=pg.mkPen(casing, width=4.5))
        self.casing.setZValue(4)
        self.addItem(self.casing)
        self.customers = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(th.foreground), brush=pg.mkBrush(th.background), hoverable=True,
            hoverSize=11, tip=lambda x, y, data: data,
        )  # fmt: skip
        self.depot = pg.ScatterPlotItem(
            size=15, symbol="s", pen=pg.mkPen(th.background), brush=pg.mkBrush(th.foreground)
        )
        self.selection = pg.ScatterPlotItem(
            size=17, pen=pg.mkPen(theme.category_colour(5), width=2), brush=pg.mkBrush(None)
        )
        for item, z in ((self.customers, 10), (self.depot, 11), (self.selection, 12)):
            item.setZValue(z)
            self.addItem(item)
        self.customers.sigClicked.connect(lambda _item, pts, ev: self._point_clicked(pts, ev, offset=1))
        self.depot.sigClicked.connect(lambda _item, pts, ev: self._point_clicked(pts, ev, offset=0))

    # -- drawing -----------------------------------------------------------
    def show_problem(self, problem, evaluation, *, fit: bool) -> None:
        """Draw the streets and stops; ``fit``: a new instance (fit the view, drop the selection)."""
        p = problem
        self.xy, self.kx = map_xy(p)
        self.coord_kind = p.coord_kind
        seg = street_segments(p.roads, self.kx)
        self.streets.setData(seg[:, 0], seg[:, 1])
        self.depot.setData(self.xy[:1, 0], self.xy[:1, 1])
        self.customers.setData(self.xy[1:, 0], self.xy[1:, 1], data=stop_tips(p, evaluation))
        geo = p.coords is not None and p.coord_kind == "latlon"
        for ax in ("bottom", "left"):
            self.getPlotItem().showAxis(ax, not geo and p.coords is not None)
        self.scale.setVisible(geo)
        self.attribution.setVisible(geo and (p.roads is not None or "osm" in p.source.lower()))
        self.hint.set_empty(False)
        if fit:
            self.getPlotItem().vb.autoRange()
            self.select(None)
        else:
            self.select(self.selected)

    def show_routes(self, problem, routes) -> None:
        size = arrow_size(self.xy)
        colours = route_colours(len(routes))
        cased = []
        for k, route in enumerate(routes):
            line, arrows = self._route_item(k)
            pen = pg.mkPen(colours[k], width=2.5, style=route_line_style(k, len(routes)))
            path, at = route_path(problem, route, self.xy, self.kx)
            line.setData(path[:, 0], path[:, 1], pen=pen)
            cased += [path, np.full((1, 2), np.nan)]
            bar = arrow_segments(path, at, size)
            arrows.setData(bar[:, 0], bar[:, 1], pen=pg.mkPen(colours[k], width=2.5))
            line.show()
            arrows.show()
        for line, arrows in self.route_items[len(routes) :]:
            line.setData([], [])
            arrows.setData([], [])
            line.hide()
            arrows.hide()
        casing = np.concatenate(cased) if cased else np.zeros((0, 2))
        self.casing.setData(casing[:, 0], casing[:, 1])
        if len(routes) != self._legend_routes:  # the samples follow their lines' pens by themselves
            self._legend_routes = len(routes)
            lines = [li for li, _ in self.route_items[: len(routes)]]
            rows = fill_legend(self.legend, self.depot, self.customers, lines, LEGEND_COLUMNS)
            self.getPlotItem().layout.setRowFixedHeight(0, 22 * rows)
        self.legend.update()
        self.scale.update_bar()

    def _route_item(self, k: int) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        while len(self.route_items) <= k:
            line = pg.PlotDataItem()
            arrows = pg.PlotDataItem(connect="pairs")
            line.setZValue(5)
            arrows.setZValue(6)
            self.addItem(line)
            self.addItem(arrows)
            self.route_items.append((line, arrows))
        return self.route_items[k]

    def drawn_routes(self) -> int:
        """How many route lines hold data (used by tests)."""
        return sum(
            1
            for line, _ in self.route_items
            if line.isVisible() and line.xData is not None and len(line.xData)
        )

    def select(self, index: int | None) -> None:
        """Ring stop ``index`` (None: no selection)."""
        self.selected = index
        if index is None or index >= len(self.xy):
            self.selected = None
            self.selection.setData([], [])
        else:
            self.selection.setData([self.xy[index, 0]], [self.xy[index, 1]])

    # -- editing (MapEditBox asks these) -------------------------------------
    def _problem_xy(self, pos: QtCore.QPointF) -> tuple[float, float]:
        return to_problem_xy((pos.x(), pos.y()), self.kx, self.coord_kind or "xy")

    def pick(self, pos: QtCore.QPointF, radius_px: float = 9.0) -> int | None:
        """The stop (0 = depot) within ``radius_px`` screen pixels of a map point, else None."""
        if self.coord_kind is None:
            return None
        return pick(self.xy, (pos.x(), pos.y()), self.box.viewPixelSize(), radius_px)

    def map_clicked(self, button, modifiers, pos: QtCore.QPointF) -> bool:
        """A click that no stop took; True when it was an edit."""
        if self.coord_kind is None:
            return False
        self.setFocus()
        hit = self.pick(pos)
        if button == B.RightButton:
            if hit is None:
                return False  # the view's own menu
            self.delete_requested.emit(hit)
            return True
        if button != B.LeftButton:
            return False
        if hit is not None:
            if hit and modifiers & CTRL:
                self.delete_requested.emit(hit)
            else:
                self.select(hit)
            return True
        self.add_requested.emit(self._problem_xy(pos))
        return True

    def drag_preview(self, index: int, pos: QtCore.QPointF) -> None:
        """While a stop is dragged: the ring follows the mouse (the edit happens on release)."""
        self.selected = index
        self.selection.setData([pos.x()], [pos.y()])

    def drop(self, index: int, pos: QtCore.QPointF) -> None:
        if self.coord_kind is None:
            return
        self.move_requested.emit(index, self._problem_xy(pos))
        self.select(index)

    def _point_clicked(self, pts, ev, offset: int) -> None:
        """A left click on a drawn stop (the scatter items take those clicks): select it."""
        if not len(pts):
            return
        i = int(pts[0].index()) + offset
        self.setFocus()
        if offset and ev is not None and ev.modifiers() & CTRL:
            self.delete_requested.emit(i)
        else:
            self.select(i)

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        """Delete / Backspace: delete the selected stop."""
        if ev.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace):
            if self.selected is not None and self.coord_kind is not None:
                self.delete_requested.emit(self.selected)
            ev.accept()
            return
        super().keyPressEvent(ev)
