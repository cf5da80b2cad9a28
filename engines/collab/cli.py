"""Multi-user painting sessions: a Yjs room server (sync, awareness, SQLite store) and store tools.

Subcommands::

    python -m engines collab serve [--host 127.0.0.1] [--port 8765] [--store sessions.db] [--token T]
    python -m engines collab export STORE ROOM --out painting.json
    python -m engines collab import PAINTING.json --store STORE --room ROOM
    python -m engines collab rooms STORE [--long]
    python -m engines collab damaged STORE [ROOM]

A store is opened for writing only by ``serve`` and ``import`` (which make a new one
where the path does not exist or is an empty file); the other commands only read and
refuse a missing store. Every refusal is one line naming the file, with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path


def _serve(args) -> int:
    from engines.collab import web
    from engines.collab.server import CollabServer, ServerLimits
    from engines.collab.store import StoreError

    if not args.token and args.token is not None:
        print("collab serve: --token must not be empty", file=sys.stderr)
        return 2
    try:
        limits = ServerLimits(max_message_bytes=args.max_message_mb * 1024 * 1024)
    except ValueError as e:
        print(f"collab serve: {e}", file=sys.stderr)
        return 2

    async def run() -> int:
        try:
            server = CollabServer(args.store, host=args.host, port=args.port, token=args.token, limits=limits)
        except ValueError as e:
            print(f"collab serve: {e}", file=sys.stderr)
            return 2
        try:
            await server.start()
        except StoreError as e:
            print(f"collab serve: {e}", file=sys.stderr)
            return 2
        except OSError as e:
            print(
                f"collab serve: cannot listen on {args.host}:{args.port}: {e.strerror or e}"
                " (choose another --host or --port; --port 0 picks a free one)",
                file=sys.stderr,
            )
            return 2
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # not on Windows event loops (NotImplementedError) nor off the main thread (RuntimeError):
            # Ctrl+C then ends the server through KeyboardInterrupt instead
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        print(f"serving ws://{server.host}:{server.port}/ROOM?token=TOKEN  (store: {args.store})", flush=True)
        page = {"current": "", "stale": " (built from older sources: rerun the set-up)"}.get(
            web.bundle_state(), " (not built: install node and npm, rerun the set-up)"
        )
        print(f"in a browser: http://{server.host}:{server.port}/ROOM?token=TOKEN{page}", flush=True)
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


_SHOW_SKIPPED = 5  # damaged rows named one by one by export; the rest are counted


def _shown(text: str) -> str:
    """A name or reason from the store as one printable token (a hostile store may hold control characters)."""
    return text if text.isprintable() else repr(text)


def _open_read_only(cmd: str, path: str):
    """The store for a tool that only reads (never creates one); None after printing why it cannot be."""
    from engines.collab.store import StoreError, UpdateStore

    try:
        return UpdateStore(path, create=False)
    except StoreError as e:
        print(f"collab {cmd}: {e}", file=sys.stderr)
        return None


def _write_atomically(path: Path, text: str) -> None:
    """Write a text file through a temporary file beside it: the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _export(args) -> int:

    from engines.collab.schema import StrokeDoc
    from engines.collab.store import StoreError

    out = Path(args.out)
    if out.is_dir():
        print(
            f"collab export: --out {out}: is a folder; give a file name, e.g. {out / args.room}.json",
            file=sys.stderr,
        )
        return 2
    store = _open_read_only("export", args.store)
    if store is None:
        return 2
    try:
        rows = store.load_rows_sync(args.room)
        damaged = store.damaged_sync(args.room) if not rows else []
        rooms = store.rooms_sync() if not rows else []
    except StoreError as e:
        print(f"collab export: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if not rows:
        if damaged:
            hint = f" (only {len(damaged)} damaged rows kept aside: collab damaged)"
        else:
            shown = ", ".join(rooms[:10]) + (", ..." if len(rooms) > 10 else "")
            hint = f"; its rooms: {shown}" if rooms else "; it holds no room"
        print(f"collab export: {args.store}: no room named {args.room!r}{hint}", file=sys.stderr)
        return 2
    from engines.collab.validate import Budget
    from engines.collab.validate_v2 import load_room

    # (rows are the server's own: a snapshot may be larger than a message)
    doc, _, skipped, migrated = load_room(rows, Budget(max_bytes=512 * 1024 * 1024))
    if migrated is not None:
        print(
            f"collab export: room {args.room!r} is of painting schema version 1 (read as such)",
            file=sys.stderr,
        )
    if len(skipped) == len(rows):
        print(
            f"collab export: {args.store}: room {args.room!r} has no usable row ({len(rows)} damaged,"
            f" the first: {skipped[0][1]})",
            file=sys.stderr,
        )
        return 2
    for row_id, why in skipped[:_SHOW_SKIPPED]:
        print(f"collab export: skipped damaged row {row_id} of room {args.room!r}: {why}", file=sys.stderr)
    if len(skipped) > _SHOW_SKIPPED:
        print(f"collab export: skipped {len(skipped) - _SHOW_SKIPPED} more damaged rows", file=sys.stderr)
    sdoc = StrokeDoc(doc, author="export")
    for inv in sdoc.invalid:
        print(f"collab export: skipped {inv.reason}", file=sys.stderr)
    try:
        _write_atomically(out, json.dumps(sdoc.to_painting().to_dict(), indent=1))
    except OSError as e:
        print(f"collab export: --out {out}: cannot write it ({e.strerror or e})", file=sys.stderr)
        return 2
    print(f"{len(sdoc)} strokes -> {args.out}")
    return 0


def _import(args) -> int:
    """Seed a new room of a store with a painting file (the inverse of export)."""
    from engines.collab.schema import painting_update
    from engines.collab.server import ROOM_RE
    from engines.collab.store import StoreError, UpdateStore
    from engines.collab.validate import Budget, UpdateRejected
    from engines.collab.validate_v2 import UpdateValidatorV2
    from engines.painting.strokes import PaintingFormatError, load_painting

    if not ROOM_RE.fullmatch(args.room):
        print(
            f"collab import: --room {_shown(args.room)}: 1 to 100 characters of A-Z a-z 0-9 . _ ~ -,"
            " starting with a letter or digit",
            file=sys.stderr,
        )
        return 2
    try:
        painting = load_painting(args.painting)
    except (PaintingFormatError, OSError) as e:
        print(f"collab import: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    data = painting_update(painting)
    try:  # the server will load it through these checks: make sure it does
        v = UpdateValidatorV2(Budget(max_bytes=512 * 1024 * 1024))
        v.check(data, trusted=True)
    except UpdateRejected as e:  # pragma: no cover - painting_update writes the schema
        print(f"collab import: the room would not load: {e}", file=sys.stderr)
        return 2
    try:
        store = UpdateStore(args.store)
    except StoreError as e:
        print(f"collab import: {e}", file=sys.stderr)
        return 2
    try:
        have = store.load_rows_sync(args.room)
        if have:
            print(
                f"collab import: {args.store}: room {_shown(args.room)} exists ({len(have)} rows);"
                " import seeds a new room: choose another --room",
                file=sys.stderr,
            )
            return 2
        asyncio.run(store.append(args.room, data))
    except StoreError as e:
        print(f"collab import: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"{len(painting.strokes)} strokes -> room {args.room} of {args.store}")
    return 0


def _rooms(args) -> int:
    from engines.collab.store import StoreError

    store = _open_read_only("rooms", args.store)
    if store is None:
        return 2
    try:
        stats = store.room_stats_sync()
    except StoreError as e:
        print(f"collab rooms: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    width = max((len(_shown(s.room)) for s in stats), default=0)
    for s in stats:
        if args.long:
            print(f"{_shown(s.room):<{width}}  {s.rows:>7} rows  {s.bytes:>12} bytes  {s.damaged:>5} damaged")
        else:
            print(_shown(s.room))
    n_damaged = sum(s.damaged for s in stats)
    if n_damaged:
        rooms = sum(1 for s in stats if s.damaged)
        print(
            f"collab rooms: {args.store}: {n_damaged} damaged rows kept aside in {rooms} rooms"
            f" (list them: collab damaged {args.store})",
            file=sys.stderr,
        )
    if not stats:
        print(f"collab rooms: {args.store}: no rooms yet", file=sys.stderr)
    return 0


def _damaged(args) -> int:
    from engines.collab.store import StoreError

    store = _open_read_only("damaged", args.store)
    if store is None:
        return 2
    try:
        rows = store.damaged_sync(args.room)
    except StoreError as e:
        print(f"collab damaged: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for r in rows:
        print(f"{_shown(r.room)}  row {r.id}  {r.bytes} bytes  {_shown(r.at)}  {_shown(r.reason)}")
    if not rows:
        where = f" in room {_shown(args.room)}" if args.room is not None else ""
        print(f"collab damaged: {args.store}: no damaged rows{where}", file=sys.stderr)
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
    i = sub.add_parser(
        "import",
        help="seed a new room of a store with a painting JSON file (the inverse of export; "
        "while no server holds that room)",
    )
    i.add_argument(
        "painting", help="painting JSON file (File > Save of the painting panel, or collab export)"
    )
    i.add_argument("--store", required=True, help="SQLite store (made where no file is)")
    i.add_argument("--room", required=True, help="name of the new room")
    i.set_defaults(func=_import)
    r = sub.add_parser("rooms", help="list the rooms of a store")
    r.add_argument("store")
    r.add_argument("-l", "--long", action="store_true", help="with each room's rows, bytes and damaged rows")
    r.set_defaults(func=_rooms)
    d = sub.add_parser("damaged", help="list the rows of a store kept aside as damaged (never deleted)")
    d.add_argument("store")
    d.add_argument("room", nargs="?", default=None, help="only this room")
    d.set_defaults(func=_damaged)
