"""Multi-user painting sessions: a Yjs room server (sync, awareness, SQLite store) and store tools.

Subcommands::

    python -m engines collab serve [--host 127.0.0.1] [--port 8765] [--store sessions.db] [--token T]
    python -m engines collab export STORE ROOM --out painting.json
    python -m engines collab rooms STORE
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys


def _serve(args) -> int:
    from engines.collab.server import CollabServer, ServerLimits

    if not args.token and args.token is not None:
        print("collab serve: --token must not be empty", file=sys.stderr)
        return 2
    try:
        limits = ServerLimits(max_message_bytes=args.max_message_mb * 1024 * 1024)
    except ValueError as e:
        print(f"collab serve: {e}", file=sys.stderr)
        return 2

    async def run() -> int:
        server = CollabServer(args.store, host=args.host, port=args.port, token=args.token, limits=limits)
        try:
            await server.start()
        except OSError as e:
            print(f"collab serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
            return 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # not on Windows event loops (NotImplementedError) nor off the main thread (RuntimeError):
            # Ctrl+C then ends the server through KeyboardInterrupt instead
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        print(f"serving ws://{server.host}:{server.port}/ROOM?token=TOKEN  (store: {args.store})", flush=True)
        print(f"token: {server.token}", flush=True)
        print(f"port: {server.port}", flush=True)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: listening beyond loopback ({args.host})", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return 0


def _export(args) -> int:
    from pycrdt import Doc

    from engines.collab.schema import StrokeDoc
    from engines.collab.store import UpdateStore
    from engines.painting.strokes import save_painting

    store = UpdateStore(args.store)
    try:
        rows = store.load_sync(args.room)
    finally:
        store.close()
    if not rows:
        print(f"collab export: {args.store}: no room named {args.room!r}", file=sys.stderr)
        return 1
    doc = Doc()
    for u in rows:
        doc.apply_update(u)
    sdoc = StrokeDoc(doc, author="export")
    for inv in sdoc.invalid:
        print(f"collab export: skipped {inv.reason}", file=sys.stderr)
    save_painting(sdoc.to_painting(), args.out)
    print(f"{len(sdoc)} strokes -> {args.out}")
    return 0


def _rooms(args) -> int:
    from engines.collab.store import UpdateStore

    store = UpdateStore(args.store)
    try:
        for r in asyncio.run(store.rooms()):
            print(r)
    finally:
        store.close()
    return 0


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port, printed)")
    p.add_argument("--store", default="sessions.db", help="SQLite file keeping every room")
    p.add_argument("--token", default=None, help="room token (default: a random one, printed)")
    p.add_argument("--max-message-mb", type=int, default=8, help="largest message accepted (MiB)")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("collab", help=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", metavar="CMD", required=True)
    s = sub.add_parser("serve", help="run the room server until Ctrl-C / SIGTERM")
    add_serve_arguments(s)
    s.set_defaults(func=_serve)
    e = sub.add_parser("export", help="write a room of a store as painting JSON")
    e.add_argument("store")
    e.add_argument("room")
    e.add_argument("--out", required=True)
    e.set_defaults(func=_export)
    r = sub.add_parser("rooms", help="list the rooms of a store")
    r.add_argument("store")
    r.set_defaults(func=_rooms)
