"""Interoperability: the JavaScript y-websocket provider joins a room, reads and writes strokes.

Needs Node.js and the npm packages of ``tests/engines/collab/js/package-lock.json`` (yjs,
y-websocket, ws). ``./test.sh`` installs them with ``npm ci`` into a cache folder outside the
repo (``${XDG_CACHE_HOME:-~/.cache}/neural-studio/node-HASH``, HASH from the lock file) and sets
``COLLAB_NODE_MODULES``; run directly, the test finds that folder by itself. It is skipped, saying
why, only where node or the packages are missing.
"""

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engines.collab.client import CollabClient
from engines.collab.server import CollabServer

LOCK = Path(__file__).with_name("js") / "package-lock.json"


def _node_modules() -> tuple[Path | None, str]:
    """Where the npm packages are, or None and why not."""
    if shutil.which("node") is None:
        return None, "node is not installed (the JavaScript y-websocket interop test needs Node.js)"
    given = os.environ.get("COLLAB_NODE_MODULES")
    if given:
        where = Path(given)
    else:  # the folder scripts/setup.sh (./test.sh) installs into
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        where = (
            cache
            / "neural-studio"
            / f"node-{hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]}"
            / "node_modules"
        )
    missing = [m for m in ("yjs", "y-websocket", "ws") if not (where / m).is_dir()]
    if missing:
        return (
            None,
            f"{where} lacks {', '.join(missing)}: run ./test.sh (npm ci from {LOCK.parent}) or set COLLAB_NODE_MODULES",
        )
    return where, ""


MODULES, WHY = _node_modules()
pytestmark = pytest.mark.skipif(MODULES is None, reason=WHY)


def test_y_websocket_provider_interoperates(tmp_path):
    script = tmp_path / "client.mjs"
    shutil.copy(Path(__file__).with_name("yjs_client.mjs"), script)
    (tmp_path / "node_modules").symlink_to(MODULES.resolve())
    token = "a token/with+odd chars"

    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=token) as srv:
            c = CollabClient(f"ws://127.0.0.1:{srv.port}", "room", token, author="py")
            await c.start()
            await c.wait_online()
            made = c.add_many(np.full((3, 8), 0.5))
            await c.flush()
            p = await asyncio.create_subprocess_exec(
                "node", str(script), f"ws://127.0.0.1:{srv.port}", "room", token, stdout=subprocess.PIPE
            )
            seen_peer = False
            async with asyncio.timeout(20):
                while c.sdoc.get("js:1") is None or not seen_peer:
                    seen_peer |= any(s.get("name") == "js" for s in c.peers.values())
                    await asyncio.sleep(0.02)
            out, _ = await asyncio.wait_for(p.communicate(), 20)
            assert p.returncode == 0, out
            said = json.loads(out.decode().strip().splitlines()[-1])
            assert said["seen"] == 3 and sorted(said["ids"]) == sorted(s.id for s in made)
            s = c.sdoc.get("js:1")
            assert s.author == "js" and s.x == 0.25 and s.clock == 3 and c.sdoc.ordered()[-1] is s
            # the stroke JavaScript edited: one value, the new x, its id and author kept
            async with asyncio.timeout(10):
                while c.sdoc.get(said["edited"]).x != 0.75:
                    await asyncio.sleep(0.02)
            e = c.sdoc.get(said["edited"])
            assert e.author == "py" and len(c.sdoc) == 4 and len(c.sdoc.strokes_array) == 4
            assert c.sdoc.invalid == [] and srv.stats["dropped"] == 0
            await c.close()

    asyncio.run(main())
