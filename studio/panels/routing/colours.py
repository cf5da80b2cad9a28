"""One colour per route, the same on the map, in the route table and in the Gantt chart.

Up to eight routes take the Okabe-Ito colours of :mod:`studio.theme` (they stay apart for the
common forms of colour blindness); more routes take evenly spaced colours of a perceptual map,
so that neighbouring route numbers never share a hue.
"""

from __future__ import annotations

from PySide6 import QtGui

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
