"""``studio serve``: the multi-user painting server without a window.

``studio serve --host 127.0.0.1 --port 8765 --store sessions.db [--token T]`` runs
the same room server as File -> Host session (see :mod:`engines.collab.server`)
and prints the token it uses (a random one unless ``--token`` is given). Stops on
Ctrl-C or SIGTERM after writing everything pending to the store. No Qt.
"""

from __future__ import annotations

import argparse

from engines.collab.cli import _serve, add_serve_arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="studio serve", description="Run the multi-user painting server (no window)."
    )
    add_serve_arguments(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``main(sys.argv[2:])`` for ``studio serve ...``; returns the exit code."""
    return _serve(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
