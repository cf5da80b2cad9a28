"""`studio --gallery DIR`: every registered panel and every sub-tab, after its demo ran, at a desktop
and a laptop size; each picture has the requested size and real content."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
from PySide6 import QtGui

from studio.gallery import SIZES, slug

pytestmark = [pytest.mark.gui, pytest.mark.gl]

PANELS = sorted(ep.name for ep in metadata.entry_points(group="studio.panels"))


def colours(img: QtGui.QImage) -> int:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height())
    return len(np.unique(arr))


def test_slug_makes_file_names_from_tab_texts():
    assert slug("Neuro&CoreX mode") == "neurocorex-mode"
    assert slug("  ") == "tab"


@pytest.mark.skipif(not PANELS, reason="no panel is registered")
def test_the_gallery_shows_every_panel_and_sub_tab_at_both_sizes(tmp_path):
    out = tmp_path / "gallery"
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--gallery", str(out), "--after", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in PANELS:
        m = re.search(rf"^{name}: (\d+) frames drawn$", proc.stdout, re.M)
        assert m and int(m.group(1)) > 0, f"{name} drew nothing:\n{proc.stdout}"
    files = sorted(out.glob("*.png"))
    index = (out / "index.md").read_text()
    for w, h in SIZES:
        for name in PANELS:
            assert (out / f"{name}-{w}x{h}.png").exists(), f"no {name} picture at {w}x{h}"
    assert len(files) > 2 * len(PANELS), "no sub-tab was photographed"
    for f in files:
        img = QtGui.QImage(str(f))
        w, h = map(int, f.stem.rsplit("-", 1)[1].split("x"))
        assert (img.width(), img.height()) == (w, h), f.name
        assert colours(img) > 50, f"{f.name} looks blank"
        assert f.name in index


def test_gallery_and_screenshot_together_are_refused(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--gallery", str(tmp_path), "--screenshot", str(tmp_path / "a.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--gallery and --screenshot" in proc.stderr
