"""What the geometry panel's vispy canvases share: the Qt backend, once, and the manifold colours."""

from __future__ import annotations

import numpy as np

from studio import theme

_VISPY_READY = False


def use_pyside6_for_vispy() -> None:
    """Tell vispy to use PySide6 (once per process, before the first canvas)."""
    global _VISPY_READY
    if not _VISPY_READY:
        import vispy.app

        vispy.app.use_app("pyside6")
        _VISPY_READY = True


def palette(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours (float32), one per manifold: the theme's colour-blind-safe categories."""
    return theme.category_colours(max(n, 1))


def hide_markers(markers) -> None:
    """Show nothing in ``markers`` (vispy wants at least one point)."""
    markers.set_data(np.zeros((1, 3), np.float32), face_color=(0, 0, 0, 0), edge_color=(0, 0, 0, 0), size=1)
