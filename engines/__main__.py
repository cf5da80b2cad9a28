"""``python -m engines``: headless command lines of every engine.

Without arguments it lists the engines. Each engine package that has a
``cli`` module with ``add_parser(subparsers)`` adds its own subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engines import ENGINE_PACKAGES, __version__


def available_clis() -> dict[str, object]:
    """The engines that ship a command line: {name: cli module}."""
    found = {}
    for name in ENGINE_PACKAGES:
        try:
            mod = importlib.import_module(f"engines.{name}.cli")
        except ModuleNotFoundError as e:
            if e.name in (f"engines.{name}", f"engines.{name}.cli"):
                continue
            raise
        found[name] = mod
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engines",
        description="Headless runs of Neural Studio's engines.",
    )
    parser.add_argument("--version", action="version", version=f"neural-studio engines {__version__}")
    sub = parser.add_subparsers(dest="engine", metavar="ENGINE")
    sub.add_parser("list", help="list the engines and what they do")
    for mod in available_clis().values():
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.engine in (None, "list"):
        clis = available_clis()
        if not clis:
            print("no engine command lines are installed")
        for name, mod in clis.items():
            doc = (mod.__doc__ or "").strip().splitlines()
            print(f"{name:10s} {doc[0] if doc else ''}")
        return 0
    func = getattr(args, "func", None)
    if func is None:
        parser.parse_args([args.engine, "--help"])
        return 2
    try:
        return int(func(args) or 0)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
