"""Interoperability: the JavaScript y-websocket provider joins a room, reads and writes strokes.

Runs only where Node.js and the npm packages ``yjs y-websocket ws`` are installed:
``npm install --prefix DIR yjs y-websocket ws`` then ``COLLAB_NODE_MODULES=DIR/node_modules``.
"""

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engines.collab.client import CollabClient
from engines.collab.server import CollabServer

MODULES = os.environ.get("COLLAB_NODE_MODULES", "")
pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and MODULES and Path(MODULES, "y-websocket").is_dir()),
    reason="needs node and COLLAB_NODE_MODULES with yjs, y-websocket and ws",
)


def test_y_websocket_provider_interoperates(tmp_path):
    script = tmp_path / "client.mjs"
    shutil.copy(Path(__file__).with_name("yjs_client.mjs"), script)
    (tmp_path / "node_modules").symlink_to(Path(MODULES).resolve())
    token = "a token/with+odd chars"

    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=token) as srv:
            c = CollabClient(f"ws://127.0.0.1:{srv.port}", "room", token, author="py")
            await c.start()
            await c.wait_online()
            c.add_many(np.full((3, 8), 0.5))
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
            assert '"seen":3' in out.decode()
            s = c.sdoc.get("js:1")
            assert s.author == "js" and s.x == 0.25 and s.clock == 3 and c.sdoc.ordered()[-1] is s
            assert c.sdoc.invalid == [] and srv.stats["dropped"] == 0
            await c.close()

    asyncio.run(main())
