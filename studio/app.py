"""The Neural Studio main window and the ``studio`` command.

One tab per registered workbench panel (entry-point group ``studio.panels``), a
toolbar bound to the current panel's engine, a status bar, a log dock, File /
View / Help menus, workspaces, and settings that persist between launches.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from engines import __version__

APP_NAME = "Neural Studio"
ORG_NAME = "NeuralStudio"
MAX_RECENT = 8


# ----------------------------------------------------------------------
# panel registry (no Qt needed to list names)
# ----------------------------------------------------------------------
def panel_entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group="studio.panels")
    return sorted(eps, key=lambda ep: ep.name)


def discover_panels() -> tuple[dict[str, type], list[str]]:
    """Load every registered panel class: ({name: class}, [problems])."""
    found: dict[str, type] = {}
    problems: list[str] = []
    for ep in panel_entry_points():
        try:
            cls = ep.load()
        except Exception as e:  # a broken plug-in must not stop the studio
            problems.append(f"panel {ep.name!r} ({ep.value}) could not be loaded: {type(e).__name__}: {e}")
            continue
        found[ep.name] = cls
    return found, problems


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


# ----------------------------------------------------------------------
# the window
# ----------------------------------------------------------------------
def MainWindow(*args, **kwargs):  # noqa: N802 - reads as the class
    """Build the main window (imports Qt only when called)."""
    from studio.window import MainWindow as _MainWindow

    return _MainWindow(*args, **kwargs)


# ----------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="studio",
        description=f"{APP_NAME}: the desktop studio.",
        epilog="studio serve --help: run a painting session server without a window.",
    )
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--list-panels", action="store_true", help="print the registered panels, one per line")
    p.add_argument("--panel", metavar="NAME", help="open with this panel in front")
    p.add_argument("--workspace", metavar="FILE", help="open this workspace file")
    p.add_argument("--screenshot", metavar="PNG", help="run the panel, save a PNG of the window, exit")
    p.add_argument(
        "--after", type=float, default=3.0, metavar="SECONDS", help="seconds to run before the screenshot"
    )
    p.add_argument("--size", default="1400x900", metavar="WxH", help="window size for screenshots")
    return p


def _dispose(app, win) -> None:
    """Destroy the window, and its OpenGL canvases, while the QApplication still exists.

    Left to interpreter exit, the order in which Python drops the application
    and the window is not fixed; a GL widget destroyed after the application
    can crash the process after its work is done.
    """
    from PySide6 import QtCore

    win.deleteLater()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    app.processEvents()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:  # the painting session server, without a window
        from studio.serve import main as serve_main

        return serve_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.list_panels:
        for ep in panel_entry_points():
            print(ep.name)
        return 0

    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    win = MainWindow(restore_settings=args.screenshot is None)
    if args.panel:
        if args.panel not in win.panels:
            known = ", ".join(win.panels) or "none"
            print(f"studio: no panel named {args.panel!r} (registered: {known})", file=sys.stderr)
            win.shutdown()
            return 2
        win.show_panel(args.panel)
    if args.workspace:
        win.open_workspace(args.workspace)
    if args.screenshot:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"studio: --size {args.size!r} is not WxH", file=sys.stderr)
            return 2
        win.resize(w, h)
    win.show()
    if not args.screenshot:
        rc = app.exec()
        win.shutdown()
        _dispose(app, win)
        return rc

    name = win.current_name()
    if name is None:
        print("studio: no panel to screenshot", file=sys.stderr)
        win.shutdown()
        return 2
    panel = win.panels[name]
    win.runner_for(name)
    panel.start_demo()
    deadline = time.monotonic() + max(0.0, args.after)
    while time.monotonic() < deadline or panel.drawn_frames == 0:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if time.monotonic() > deadline + 60:
            print("studio: the panel drew nothing within 60 s after --after", file=sys.stderr)
            break
    app.processEvents()
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    win.close()
    win.shutdown()
    _dispose(app, win)
    if not ok:
        print(f"studio: could not write {out}", file=sys.stderr)
        return 1
    print(f"saved {out} ({panel.drawn_frames} frames drawn by {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
