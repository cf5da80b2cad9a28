"""``studio --gallery DIR``: a screenshot of every panel and every sub-tab after its demo ran.

For each panel in turn the window shows it, starts its demo and lets it run for ``--after``
seconds; then, at each of :data:`SIZES`, it grabs the panel as it is and each page of every tab
widget inside it. Files are named ``PANEL[-TAB]-WxH.png`` (lower case, words joined by ``-``);
``DIR/index.md`` lists them. The pictures are what a user sees at a desktop and at a laptop size,
so a change to any panel can be looked at across the studio in one run.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtWidgets

#: the window sizes of every gallery: a desktop and a 1280x720 laptop
SIZES = ((1600, 1000), (1280, 720))


def slug(text: str) -> str:
    """``"Neuro&CoreX mode"`` -> ``"neurocorex-mode"``: a file-name part from a tab's text."""
    text = text.replace("&", "").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "tab"


def tab_pages(panel: QtWidgets.QWidget) -> list[tuple[QtWidgets.QTabWidget, int, str]]:
    """Every (tab widget, index, name) inside ``panel``, outer tab widgets first."""
    out = []
    for tw in panel.findChildren(QtWidgets.QTabWidget):
        for i in range(tw.count()):
            if tw.isTabVisible(i):
                out.append((tw, i, slug(tw.tabText(i))))
    return out


def _reveal(tw: QtWidgets.QTabWidget, index: int, stop: QtWidgets.QWidget) -> None:
    """Make page ``index`` of ``tw`` visible: select it, and every page of an outer tab widget
    (up to ``stop``) that holds ``tw``."""
    tw.setCurrentIndex(index)
    child: QtWidgets.QWidget = tw
    parent = tw.parentWidget()
    while parent is not None and child is not stop:
        if isinstance(parent, QtWidgets.QStackedWidget) and isinstance(
            parent.parentWidget(), QtWidgets.QTabWidget
        ):
            outer = parent.parentWidget()
            outer.setCurrentIndex(outer.indexOf(child))
        child, parent = parent, parent.parentWidget()


def _settle(app, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 30)


def _save(image, path: Path) -> None:
    from engines.files import atomic_output

    with atomic_output(path) as tmp:
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"{path}: could not be written")


def run_gallery(
    app, win, out_dir: Path, after_s: float, panels: list[str] | None = None, settle_s: float = 0.4
) -> list[Path]:
    """Write the gallery of ``win`` into ``out_dir``; return the files written in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in panels or list(win.panels):
        panel = win.panels[name]
        win.show_panel(name)
        win.resize(*SIZES[0])
        win.runner_for(name)
        panel.start_demo()
        deadline = time.monotonic() + after_s
        while time.monotonic() < deadline or panel.drawn_frames == 0:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if time.monotonic() > deadline + 60:
                print(f"gallery: {name} drew nothing within 60 s after --after", file=sys.stderr)
                break
        print(f"{name}: {panel.drawn_frames} frames drawn")
        pages = tab_pages(panel)
        first = [(tw, tw.currentIndex()) for tw, _i, _s in pages]
        for w, h in SIZES:
            win.resize(w, h)
            _settle(app, settle_s)
            shots = [(None, -1, "")] + pages
            for tw, i, label in shots:
                if tw is not None:
                    _reveal(tw, i, panel)
                    _settle(app, settle_s)
                stem = f"{name}-{label}" if label else name
                path = out_dir / f"{stem}-{w}x{h}.png"
                _save(win.grab(), path)
                written.append(path)
                print(f"saved {path}")
            for tw, i in first:  # back to what the panel showed, for the next size
                tw.setCurrentIndex(i)
    index = out_dir / "index.md"
    lines = ["# Neural Studio gallery", ""]
    lines += [f"![{p.stem}]({p.name})" for p in written]
    from engines.files import atomic_write_text

    atomic_write_text(index, "\n".join(lines) + "\n")
    return written
