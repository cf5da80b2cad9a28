"""``python -m engines``: headless command lines of every engine.

Without arguments it lists the engines. Each engine package that has a
``cli`` module with ``add_parser(subparsers)`` adds its own subcommands.

Exit status: 0 done; 1 the command ran but its result failed a check
(an infeasible route, failed sweep points) or an internal error (a bug:
one line, ``--debug`` shows the traceback); 2 a mistake in the command
line or in a file it was given (one line on stderr naming the thing and the
fix; nothing is left half-written); 130 interrupted (Ctrl-C).
``--debug``, anywhere on the line, shows the traceback of any error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from engines import ENGINE_PACKAGES, __version__
from engines.cliargs import Parser
from engines.files import describe_os_error, safe_message

#: exit statuses (see the module docstring)
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130


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
    parser = Parser(
        prog="python -m engines",
        description="Headless runs of Neural Studio's engines.",
        epilog="Exit status: 0 done, 1 a failed check or an internal error, 2 a mistake in the input, "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"neural-studio engines {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    sub = parser.add_subparsers(dest="engine", metavar="ENGINE")
    sub.add_parser("list", help="list the engines and what they do")
    for mod in available_clis().values():
        mod.add_parser(sub)
    return parser


def is_user_error(e: BaseException) -> bool:
    """A mistake in the input (refused with exit 2) rather than a bug (exit 1)."""
    if isinstance(e, (ValueError, OSError, EOFError)):
        return True
    # the project's own errors (EngineError, StoreError...) say what is wrong with the input
    return any(c.__module__.split(".")[0] == "engines" for c in type(e).__mro__ if c is not Exception)


def one_line(e: BaseException) -> str:
    """The message of ``e`` on one line (an OSError with its path)."""
    text = describe_os_error(e) if isinstance(e, OSError) else str(e)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return safe_message("; ".join(lines)) or type(e).__name__


def report(e: BaseException, debug: bool = False) -> int:
    """Print one line for an error and return the exit status (re-raise it with ``debug``)."""
    if isinstance(e, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if debug:
        raise e
    if is_user_error(e):
        print(f"error: {one_line(e)}", file=sys.stderr)
        return EXIT_USER_ERROR
    if isinstance(e, MemoryError):
        print("error: not enough memory for this run (MemoryError)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    print(
        f"internal error: {type(e).__name__}: {one_line(e)} (run with --debug for the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL_ERROR


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug anywhere before a "--" (users add it at the end of a failing line)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    if debug:
        argv = [a for a in argv[:end] if a != "--debug"] + argv[end:]
    try:
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
        return int(func(args) or 0)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - every error ends in one line (or a traceback with --debug)
        return report(e, debug)


if __name__ == "__main__":
    sys.exit(main())
