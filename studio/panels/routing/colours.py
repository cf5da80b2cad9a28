"""One colour per route, the same on the map and in the route table."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui


def route_colour(k: int) -> QtGui.QColor:
    """The colour of route ``k`` (0-based): twelve hues in two brightnesses."""
    return pg.intColor(k, hues=12, values=2, minValue=170, maxValue=255, sat=220)
