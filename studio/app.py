"""The ``studio`` command: parses the command line, then opens the main window
(:mod:`studio.window`), runs ``studio serve`` (:mod:`studio.serve`) or takes a
screenshot. Names and settings live in :mod:`studio.config`, the panel registry in
:mod:`studio.registry`; Qt is imported only once a window is needed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from engines import __version__
from studio.config import APP_NAME, ORG_NAME
from studio.registry import panel_entry_points


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
#: window sizes ``--size`` accepts (pixels)
MIN_SIZE = (320, 240)
MAX_SIZE = (8192, 8192)
#: what ``--screenshot`` can write, by suffix
SCREENSHOT_FORMATS = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".bmp": "BMP"}
#: the longest ``--after`` (seconds)
MAX_AFTER_S = 3600.0


def window_size(text: str) -> tuple[int, int]:
    """``--size WxH``: two integers within :data:`MIN_SIZE` and :data:`MAX_SIZE` (an argparse type)."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*", str(text))
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH (for example 1400x900)")
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(
            f"{w}x{h} is out of range: width {MIN_SIZE[0]} to {MAX_SIZE[0]}, height {MIN_SIZE[1]} to {MAX_SIZE[1]}"
        )
    return w, h


def build_parser() -> argparse.ArgumentParser:
    from engines.cliargs import Parser, float_range

    p = Parser(
        prog="studio",
        description=f"{APP_NAME}: the desktop studio.",
        epilog="studio serve --help: run a painting session server without a window. "
        "Exit status: 0 done, 1 an internal error, 2 a mistake in the command line or in a file it names.",
    )
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--list-panels", action="store_true", help="print the registered panels, one per line")
    p.add_argument("--panel", metavar="NAME", help="open with this panel in front")
    p.add_argument("--workspace", metavar="FILE", help="open this workspace file")
    p.add_argument("--screenshot", metavar="PNG", help="run the panel, save a PNG of the window, exit")
    p.add_argument(
        "--gallery",
        metavar="DIR",
        help="run every panel's demo (or only --panel's) and save a screenshot of each panel and sub-tab "
        "at 1600x1000 and 1280x720 into DIR, then exit",
    )
    p.add_argument(
        "--after",
        type=float_range(0.0, MAX_AFTER_S),
        default=None,
        metavar="SECONDS",
        help="seconds to run before the screenshot (default 3; 8 per panel for --gallery)",
    )
    p.add_argument(
        "--size", type=window_size, default=(1400, 900), metavar="WxH", help="window size for screenshots"
    )
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
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


def _error(text: str) -> int:
    print(f"error: {' '.join(str(text).split())}", file=sys.stderr)
    return 2


def _check_arguments(args) -> None:
    """Refuse, before any window or thread exists, the files the command line names but cannot use."""
    from engines.files import check_input, check_output

    if args.workspace:
        check_input(args.workspace, "workspace file")
    if args.gallery:
        if args.screenshot:
            raise ValueError("--gallery and --screenshot: give one of them")
        check_output(args.gallery, "--gallery", folder=True)
    if args.screenshot:
        out = check_output(args.screenshot, "--screenshot")
        if out.suffix.lower() not in SCREENSHOT_FORMATS:
            raise ValueError(f"--screenshot {out}: end the file name in {', '.join(SCREENSHOT_FORMATS)}")


def _exit_now_if_workers_are_stuck(rc: int) -> None:
    """The window is closed; a worker still inside a call that cannot stop must not hold the process.

    Such a worker (see :mod:`studio.runner`) would keep Python from exiting, or
    be destroyed while running at exit, which aborts the process. Everything
    the user cares about is saved by now: leave at once with ``rc``.
    """
    from studio.runner import live_threads

    stuck = live_threads()
    if stuck:
        names = ", ".join(t.objectName() for t in stuck)
        print(
            f"studio: exiting without waiting for {names} (busy in a call that cannot stop)", file=sys.stderr
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)


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
    try:
        _check_arguments(args)
    except (OSError, ValueError) as e:
        from engines.__main__ import one_line

        return _error(one_line(e))

    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    win = None
    try:
        win = MainWindow(restore_settings=args.screenshot is None and args.gallery is None)
        rc = _run(app, win, args)
    except BaseException as e:
        if win is not None:
            _close(app, win)
        if args.debug or isinstance(e, (SystemExit, KeyboardInterrupt)):
            from studio.runner import live_threads

            if live_threads():  # the traceback now: the process will not wait for them
                import traceback

                traceback.print_exc()
                _exit_now_if_workers_are_stuck(1)
            raise
        print(
            f"internal error: {type(e).__name__}: {' '.join(str(e).split())} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        rc = 1
    else:
        _close(app, win)
    _exit_now_if_workers_are_stuck(rc)
    return rc


def _close(app, win) -> None:
    """Close the window (settings saved when it was shown), stop every worker, destroy the widgets."""
    if win.isVisible():
        win.close()
    win.shutdown()
    _dispose(app, win)


def _run(app, win, args) -> int:
    """Show the window (or take the screenshot); return the exit status. The caller closes the window."""
    from PySide6 import QtCore

    if args.panel:
        if args.panel not in win.panels:
            from engines.cliargs import suggest

            known = ", ".join(win.panels) or "none"
            return _error(
                f"no panel named {args.panel!r}{suggest(args.panel, win.panels)} (registered: {known})"
            )
        win.show_panel(args.panel)
    if args.gallery:
        from studio.gallery import run_gallery

        win.show()
        after = 8.0 if args.after is None else args.after
        try:
            files = run_gallery(app, win, Path(args.gallery), after, [args.panel] if args.panel else None)
        except OSError as e:
            from engines.__main__ import one_line

            print(f"studio: {one_line(e)}", file=sys.stderr)
            return 1
        print(f"gallery: {len(files)} screenshots in {args.gallery} (index.md lists them)")
        return 0
    if args.workspace:
        ok = win.open_workspace(args.workspace)
        if not ok and args.screenshot:
            return _error("; ".join(win.workspace_problems) or f"{args.workspace}: could not be opened")
    if args.screenshot:
        win.resize(*args.size)
    win.show()
    if not args.screenshot:
        if not args.workspace:
            win.enable_demos()
        return app.exec()

    name = win.current_name()
    if name is None:
        return _error("no panel to screenshot")
    panel = win.panels[name]
    win.runner_for(name)
    panel.start_demo()
    deadline = time.monotonic() + (3.0 if args.after is None else args.after)
    while time.monotonic() < deadline or panel.drawn_frames == 0:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if time.monotonic() > deadline + 60:
            print("studio: the panel drew nothing within 60 s after --after", file=sys.stderr)
            break
    app.processEvents()
    out = Path(args.screenshot)
    image = win.grab()
    from engines.files import atomic_output

    try:
        with atomic_output(out) as tmp:
            if not image.save(str(tmp), SCREENSHOT_FORMATS[out.suffix.lower()]):
                raise OSError(f"{out}: could not be written")
    except OSError as e:
        from engines.__main__ import one_line

        print(f"studio: {one_line(e)}", file=sys.stderr)
        return 1
    print(f"saved {out} ({panel.drawn_frames} frames drawn by {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
