"""Every registered panel: `studio --panel NAME --screenshot` draws real data."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
from PySide6 import QtGui

pytestmark = [pytest.mark.gui, pytest.mark.gl]

PANELS = sorted(ep.name for ep in metadata.entry_points(group="studio.panels"))


def colours(img: QtGui.QImage) -> int:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height())
    return len(np.unique(arr))


@pytest.mark.skipif(not PANELS, reason="no panel is registered")
@pytest.mark.parametrize("name", PANELS)
def test_screenshot_of_each_panel(name, tmp_path):
    out = tmp_path / f"{name}.png"
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--panel", name, "--screenshot", str(out), "--after", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "frames drawn" in proc.stdout
    img = QtGui.QImage(str(out))
    assert not img.isNull() and img.width() >= 800
    assert colours(img) > 50, "the window looks blank"
