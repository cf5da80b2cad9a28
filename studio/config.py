"""Names, the settings file and version facts of the studio (no Qt at import)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from engines import __version__

__all__ = ["APP_NAME", "ORG_NAME", "MAX_RECENT", "__version__", "settings_path", "versions"]

APP_NAME = "Neural Studio"
ORG_NAME = "NeuralStudio"
MAX_RECENT = 8


def settings_path() -> Path:
    """Where settings live: $NEURAL_STUDIO_CONFIG_DIR or the platform's config folder."""
    env = os.environ.get("NEURAL_STUDIO_CONFIG_DIR")
    if env:
        return Path(env) / "settings.ini"
    import platformdirs

    return Path(platformdirs.user_config_dir("neural-studio", ORG_NAME)) / "settings.ini"


def versions() -> dict[str, str]:
    out = {"Neural Studio": __version__, "Python": platform.python_version()}
    try:
        from PySide6 import QtCore

        out["Qt"] = QtCore.qVersion()
        import PySide6

        out["PySide6"] = PySide6.__version__
    except ImportError:
        pass
    for mod in ("numpy", "torch", "pyqtgraph", "vispy"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = "not installed"
    return out
