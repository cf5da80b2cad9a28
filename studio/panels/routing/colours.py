"""One colour per route, the same on the map, in the route table and in the Gantt chart.

Up to eight routes take the Okabe-Ito colours of :mod:`studio.theme` (they stay apart for the
common forms of colour blindness); more routes take evenly spaced colours of a perceptual map,
so that neighbouring route numbers never share a hue. No set of more than eight hues stays apart
for every form of colour blindness, so past eight routes the map also draws routes in four line
patterns in turn (:func:`route_line_style`): two routes next in number differ in hue and pattern.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui

from studio import theme


def route_colours(n: int) -> list[QtGui.QColor]:
    """The colours of routes ``0 .. n-1`` when the solution has ``n`` routes."""
    if n <= len(theme.OKABE_ITO):
        return [theme.category_colour(k) for k in range(n)]
    return [QtGui.QColor.fromRgbF(*map(float, c)) for c in theme.category_colours(n)]


def route_colour(k: int, n: int | None = None) -> QtGui.QColor:
    """The colour of route ``k`` (0-based) among ``n`` routes (``n`` unknown: as if at most eight)."""
    n = max(n or 0, k + 1)
    return route_colours(n)[k] if n > len(theme.OKABE_ITO) else theme.category_colour(k)


#: the map's line patterns past eight routes, in turn
LINE_STYLES = (
    QtCore.Qt.PenStyle.SolidLine,
    QtCore.Qt.PenStyle.DashLine,
    QtCore.Qt.PenStyle.DotLine,
    QtCore.Qt.PenStyle.DashDotLine,
)


def route_line_style(k: int, n: int) -> QtCore.Qt.PenStyle:
    """The map's line pattern of route ``k`` among ``n`` routes: solid up to eight routes."""
    return QtCore.Qt.PenStyle.SolidLine if n <= len(theme.OKABE_ITO) else LINE_STYLES[k % len(LINE_STYLES)]
