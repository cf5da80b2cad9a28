"""The spiking panel's link to the geometry workbench: what the live probe measures, where responses go."""

from __future__ import annotations

import math
from typing import Any

from PySide6 import QtWidgets

from engines.spiking.geometry import GeometryProbe

#: the time windows "Analyse geometry" records (steps of a TESS presentation: first and second half)
GEOMETRY_WINDOWS = "0:16,16:32"
#: about this many geometry points along a TESS training
GEOMETRY_POINTS = 12


def geometry_probe(tess_params) -> GeometryProbe:
    """The live probe of a TESS training: 10 digits x 10 test images, about 12 points along it."""
    total = tess_params.epochs * math.ceil((tess_params.n_train or 1203) / tess_params.batch)
    return GeometryProbe(every=max(1, total // GEOMETRY_POINTS), classes=10, per_class=10, n_t=60)


def geometry_workbench(panel: QtWidgets.QWidget) -> Any | None:
    """The window's geometry panel, when it is open and accepts activations (panels never import
    each other: it is found by name)."""
    panels = getattr(panel.window(), "panels", None) or {}
    target = panels.get("geometry")
    return target if target is not None and hasattr(target, "analyse_activations") else None
