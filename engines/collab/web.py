"""The browser page of a painting room, served by the room server itself (no Qt).

``http://HOST:PORT/ROOM?token=T`` answers a plain HTTP GET (one without ``Upgrade: websocket``)
on the same port as the WebSocket, through the ``websockets`` library's ``process_request``
hook: the same room-name and token rule as a WebSocket client (404 for a name that is not a
room's, 401 for a wrong or missing token), then a small HTML page whose script joins the room
over the ordinary WebSocket protocol, so every limit and check of the server applies to it
unchanged. The page's JavaScript (``web/src``: yjs, y-websocket, the stroke renderer ported
from :mod:`engines.painting.render`) is bundled by esbuild into ``web/dist`` (git-ignored) by
the set-up script where node and npm are present (:func:`build`); where the bundle is absent
the page says how to get it, and everything else works as before.

``python -m engines.collab.web build --node-modules DIR`` builds the bundle (what
``scripts/setup.sh`` runs); ``... status`` says whether it is there and current.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

__all__ = ["WEB_DIR", "dist_dir", "source_hash", "bundle_state", "build", "is_page_request", "page_response"]

#: the folder of the page's sources (package.json, package-lock.json, src/)
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
#: where static files are served from (a path no room name can take: a room never holds "/")
STATIC_PREFIX = "/_page/"
#: the files of the bundle and their content types
STATIC_FILES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
STAMP = ".source-hash"
_HOST_RE = re.compile(r"[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def dist_dir() -> Path:
    """Where the built bundle lives: ``$NEURAL_STUDIO_WEB_DIST`` or ``web/dist`` of this checkout."""
    given = os.environ.get("NEURAL_STUDIO_WEB_DIST")
    return Path(given) if given else WEB_DIR / "dist"


def _sources(web: Path) -> list[Path]:
    src = sorted(p for p in (web / "src").rglob("*") if p.is_file())
    return [web / "package-lock.json", *src]


def source_hash(web: Path | None = None) -> str:
    """A hash of what the bundle is built from: the lock file and every file under ``src/``."""
    web = web or WEB_DIR
    h = hashlib.sha256()
    for p in _sources(web):
        h.update(p.relative_to(web).as_posix().encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def bundle_state(dist: Path | None = None) -> str:
    """``"current"``, ``"stale"`` (built from other sources) or ``"missing"``."""
    dist = dist or dist_dir()
    if not all((dist / name).is_file() for name in STATIC_FILES):
        return "missing"
    stamp = dist / STAMP
    try:
        current = WEB_DIR.is_dir() and stamp.read_text().strip() == source_hash()
    except OSError:
        current = False
    return "current" if current or not WEB_DIR.is_dir() else "stale"


def build(node_modules: Path, dist: Path | None = None, *, force: bool = False) -> Path:
    """Bundle ``web/src`` with the esbuild of ``node_modules`` into ``dist`` (atomically); returns it.

    Nothing is done when the bundle there is current (unless ``force``). Raises ``RuntimeError``
    with esbuild's message when the build fails."""
    dist = dist or dist_dir()
    if not force and bundle_state(dist) == "current":
        return dist
    esbuild = Path(node_modules) / ".bin" / "esbuild"
    if not esbuild.exists():
        raise RuntimeError(f"{esbuild}: not found (npm ci in {WEB_DIR} into {node_modules} first)")
    tmp = dist.with_name(dist.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    want = source_hash()
    cmd = [
        str(esbuild),
        str(WEB_DIR / "src" / "app.js"),
        str(WEB_DIR / "src" / "app.css"),
        "--bundle",
        "--format=esm",
        "--target=es2020",
        "--minify",
        "--legal-comments=eof",
        f"--outdir={tmp}",
        "--log-level=warning",
    ]
    env = dict(os.environ, NODE_PATH=str(node_modules))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"esbuild failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    (tmp / STAMP).write_text(want + "\n")
    old = dist.with_name(dist.name + f".old{os.getpid()}")
    if dist.exists():
        dist.rename(old)
    tmp.rename(dist)
    shutil.rmtree(old, ignore_errors=True)
    return dist


# --------------------------------------------------------------------------- HTTP


def is_page_request(request: Request) -> bool:
    """True for a plain HTTP GET (a browser opening the page), False for a WebSocket upgrade."""
    return "websocket" not in request.headers.get("Upgrade", "").lower()


def _response(status: HTTPStatus, body: bytes, content_type: str, extra: list[tuple[str, str]]) -> Response:
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", content_type),
            ("X-Content-Type-Options", "nosniff"),
            # the token is in the page's address: never send it on to another site
            ("Referrer-Policy", "no-referrer"),
            *extra,
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def _csp(request: Request) -> str:
    host = request.headers.get("Host", "")
    ws = f" ws://{host} wss://{host}" if _HOST_RE.fullmatch(host) else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Neural Studio: painting room</title>
<link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""

_APP_HEAD = (
    f'<link rel="stylesheet" href="{STATIC_PREFIX}app.css">\n'
    f'<script type="module" src="{STATIC_PREFIX}app.js"></script>'
)
_APP_BODY = '<main id="app"><p class="loading">Opening the painting room…</p></main>'

_STYLE = (
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em;"
    "color:#222;background:#f6f6f3}code{background:#e8e8e3;padding:0 .3em}</style>"
)

_NO_BUNDLE = """<h1>This painting room's web page is not built here</h1>
<p>The room is served, but the page's JavaScript (built from npm packages: yjs, y-websocket,
esbuild) is missing on the machine that runs the server{why}.</p>
<p>To enable it, install <strong>Node.js and npm</strong> on that machine (for example
<code>apt-get install nodejs npm</code>), then run the set-up again from the repository:
<code>./studio.sh</code> (or <code>./test.sh</code>). It builds the page into <code>web/dist</code>;
restart the server afterwards.</p>
<p>Meanwhile the desktop studio joins this room with Session → Join session…</p>"""


def _error_page(status: HTTPStatus, text: str) -> Response:
    body = _SHELL.format(head=_STYLE, body=f"<h1>{status.value} {status.phrase}</h1><p>{text}</p>")
    return _response(status, body.encode(), "text/html; charset=utf-8", [("Cache-Control", "no-store")])


@dataclass
class _Cached:
    mtime_ns: int
    body: bytes
    gzipped: bytes


_cache: dict[Path, _Cached] = {}


def _read_static(path: Path) -> _Cached | None:
    """The file's bytes (and gzipped), cached while its modification time holds; None when absent."""
    try:
        st = path.stat()
    except OSError:
        return None
    hit = _cache.get(path)
    if hit is not None and hit.mtime_ns == st.st_mtime_ns:
        return hit
    try:
        body = path.read_bytes()
    except OSError:
        return None
    _cache[path] = hit = _Cached(st.st_mtime_ns, body, gzip.compress(body, 9, mtime=0))
    return hit


def static_response(request: Request) -> Response:
    """A file of the bundle (``/_page/app.js``), gzipped where the browser takes it, or 404.

    (Smaller is also safer here: the ``websockets`` library gives a client that is sent a plain
    HTTP answer its close timeout, 2 s, to take the last part of it.)"""
    name = request.path[len(STATIC_PREFIX) :].partition("?")[0]
    kind = STATIC_FILES.get(name)
    hit = _read_static(dist_dir() / name) if kind else None
    if hit is None:
        return _error_page(HTTPStatus.NOT_FOUND, "no such file")
    extra = [("Cache-Control", "no-cache"), ("Vary", "Accept-Encoding")]
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        return _response(HTTPStatus.OK, hit.gzipped, kind, [*extra, ("Content-Encoding", "gzip")])
    return _response(HTTPStatus.OK, hit.body, kind, extra)


def page_response(request: Request, refusal: tuple[HTTPStatus, str] | None) -> Response:
    """The answer to a plain GET: a static file, the refusal the WebSocket would get, or the page."""
    if request.path.startswith(STATIC_PREFIX):
        return static_response(request)
    if refusal is not None:
        status, text = refusal
        if status == HTTPStatus.UNAUTHORIZED:
            text = "Wrong or missing token: ask the host for the whole link (it ends in ?token=…)."
        return _error_page(status, text)
    state = bundle_state()
    if state == "missing":
        why = " (no node or npm when the set-up ran?)" if shutil.which("node") is None else ""
        body = _SHELL.format(head=_STYLE, body=_NO_BUNDLE.format(why=why))
    else:
        body = _SHELL.format(head=_APP_HEAD, body=_APP_BODY)
    headers = [("Cache-Control", "no-store"), ("Content-Security-Policy", _csp(request))]
    return _response(HTTPStatus.OK, body.encode(), "text/html; charset=utf-8", headers)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engines.collab.web", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="bundle web/src into web/dist with esbuild (when not current)")
    b.add_argument(
        "--node-modules", required=True, type=Path, help="the node_modules of web/package-lock.json"
    )
    b.add_argument("--force", action="store_true")
    sub.add_parser("status", help="say whether the bundle is current, stale or missing")
    args = p.parse_args(argv)
    if args.cmd == "status":
        print(f"{bundle_state()} ({dist_dir()})")
        return 0
    try:
        out = build(args.node_modules, force=args.force)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print(f"web build: {e}", file=sys.stderr)
        return 1
    print(f"web page built: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
