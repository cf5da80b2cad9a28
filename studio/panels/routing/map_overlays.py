"""What the route map draws over its data: a scale bar, the map data's attribution, the legend."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from engines.routing.layout import scale_bar
from studio import theme

ATTRIBUTION = "© OpenStreetMap contributors"
#: route entries in the legend; more routes end it with "… N routes"
MAX_LEGEND_ROUTES = 10


class MapScaleBar(pg.GraphicsObject, pg.GraphicsWidgetAnchor):
    """A bar of a round length (100 m, 2 km, ...) in the bottom-left corner of a lat/lon map's view box.

    Its length follows the zoom: :func:`engines.routing.layout.scale_bar` picks a round distance
    about ``target_px`` long at the current scale."""

    def __init__(self, target_px: float = 110.0):
        pg.GraphicsObject.__init__(self)
        pg.GraphicsWidgetAnchor.__init__(self)
        self.setFlag(self.GraphicsItemFlag.ItemHasNoContents)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        th = theme.current()
        self.target_px = target_px
        self.label = ""
        self.bar = QtWidgets.QGraphicsRectItem(self)
        self.bar.setPen(pg.mkPen(th.background, width=1))
        self.bar.setBrush(pg.mkBrush(th.foreground))
        self.text = pg.TextItem("", color=th.foreground, anchor=(0.0, 1.0))
        self.text.setParentItem(self)

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF()

    def attach(self, view: pg.ViewBox) -> None:
        self.setParentItem(view)
        self.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(14, -14))
        view.sigRangeChanged.connect(self.update_bar)
        view.sigResized.connect(self.update_bar)

    def update_bar(self, *_args) -> None:
        view = self.parentItem()
        if view is None or not self.isVisible():
            return
        px = view.viewPixelSize()[0]
        if not px > 0:
            return
        length, self.label = scale_bar(px, self.target_px)
        w = length / px
        self.bar.setRect(QtCore.QRectF(0, -5, w, 5))
        self.text.setText(self.label)
        self.text.setPos(0, -6)


class Attribution(pg.LabelItem):
    """The map data's credit, small, in the bottom-right corner of the view box."""

    def __init__(self):
        super().__init__(ATTRIBUTION, size="8pt", color=theme.current().foreground)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)

    def attach(self, view: pg.ViewBox) -> None:
        self.setParentItem(view)
        self.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-4, -2))


def fill_legend(legend: pg.LegendItem, depot, customers, route_lines, columns: int = 6) -> int:
    """Put the depot, the stops and one entry per route (at most :data:`MAX_LEGEND_ROUTES`) in
    ``legend``; return its number of rows (the caller makes room for them above the map)."""
    legend.clear()
    legend.addItem(depot, "depot")
    legend.addItem(customers, "stop")
    shown = route_lines[:MAX_LEGEND_ROUTES]
    for k, line in enumerate(shown):
        legend.addItem(line, f"route {k + 1}")
    if len(route_lines) > len(shown):
        legend.addItem(route_lines[-1], f"… {len(route_lines)} routes")
    entries = 2 + len(shown) + (len(route_lines) > len(shown))
    return -(-entries // columns)
