"""Multi-user painting benchmark: propagation latency, room memory, room load time.

    python benchmarks/collab.py                      # 300 strokes x 10 receivers, rooms of 10,000 and 100,000
    python benchmarks/collab.py --quick              # 100 strokes, a 10,000-stroke room
    python benchmarks/collab.py --sizes 10000,100000 --attacks no --json out.json

The server runs in its own process (``python -m studio.serve``, loopback, a
SQLite store in a temporary folder); the clients share this process's asyncio
loop. Printed:

* propagation latency of one stroke from one client to 10 others, p50 / p99
  over every (stroke, receiver) pair and over the last receiver of each stroke
  (strokes sent one at a time, the next once all have it);
* for each room size (``--sizes``): the server's resident memory before and
  after a room of N strokes is loaded (after a restart, so only the room counts,
  not the history of building it), per stroke;
* the time for a new client to load that room (connect -> synced, mirror built),
  when the server first reads it from the store and with the room already in the
  server's memory, and the client's own share (apply the update, build the
  stroke mirror);
* side by side, when node and the npm packages of the interop test are present
  (``COLLAB_NODE_MODULES``, see tests/engines/collab/test_js_client.py): the
  JavaScript y-websocket provider (yjs) joining the same room (room in memory):
  time to synced and the heap it holds the room in, per stroke;
* per attack of issue #13 (``--attacks only`` runs just these): the server's peak
  memory above its idle size (VmHWM - VmRSS, each attack against a fresh server
  holding a 40-stroke room) and the time from the attack's last byte to the
  close frame that drops the sender, with the close code; then whether a
  well-behaved client of the same room still has all its strokes.

Figures from one run on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.collab.client import CollabClient  # noqa: E402

TOKEN = "bench-token"


def start_server(store: Path, port: int = 0, quiet: bool = False):
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.serve", "--port", str(port), "--store", str(store), "--token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server did not start")
        if line.startswith("port: "):
            return proc, int(line.split()[1])


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settled_rss_mib(pid: int, quiet_s: float = 1.5, most_s: float = 30.0) -> float:
    """The resident memory of an idle server once it stops changing (it loads its compiled checks
    in the background after it starts; counting that as the room's would be wrong)."""
    t_end = time.monotonic() + most_s
    last, since = rss_mib(pid), time.monotonic()
    while time.monotonic() < t_end:
        time.sleep(0.25)
        now = rss_mib(pid)
        if abs(now - last) > 0.5:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def pct(a, q):
    return float(np.percentile(np.asarray(a), q)) if len(a) else float("nan")


async def latency(port: int, n_strokes: int, n_receivers: int) -> dict:
    base = f"ws://127.0.0.1:{port}"
    arrivals: dict[str, list[float]] = {}

    def watcher(ch):
        t = time.perf_counter()
        if not ch.local:
            for s in ch.added:
                arrivals.setdefault(s.id, []).append(t)

    sender = CollabClient(base, "latency", TOKEN, author="sender")
    receivers = [
        CollabClient(base, "latency", TOKEN, author=f"r{i}", on_change=watcher) for i in range(n_receivers)
    ]
    for c in [sender, *receivers]:
        await c.start()
    for c in [sender, *receivers]:
        await c.wait_online()
    rng = np.random.default_rng(0)
    all_ms, last_ms = [], []
    for _ in range(n_strokes):
        t0 = time.perf_counter()
        s = sender.add(rng.uniform(0.05, 0.95, 8))
        async with asyncio.timeout(30):
            while len(arrivals.get(s.id, ())) < n_receivers:
                await asyncio.sleep(0)
        ts = arrivals[s.id]
        all_ms += [(t - t0) * 1e3 for t in ts]
        last_ms.append((max(ts) - t0) * 1e3)
    for c in [sender, *receivers]:
        await c.close()
    return {
        "strokes": n_strokes,
        "receivers": n_receivers,
        "p50_ms": pct(all_ms, 50),
        "p99_ms": pct(all_ms, 99),
        "last_receiver_p50_ms": pct(last_ms, 50),
        "last_receiver_p99_ms": pct(last_ms, 99),
    }


async def build_room(port: int, n: int, batch: int = 1000) -> float:
    c = CollabClient(f"ws://127.0.0.1:{port}", "big", TOKEN, author="builder")
    await c.start()
    await c.wait_online()
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for k in range(0, n, batch):
        c.add_many(rng.uniform(0.05, 0.95, size=(min(batch, n - k), 8)))
        await c.flush(120)
    dt = time.perf_counter() - t0
    await c.close()
    return dt


async def load_room(port: int) -> tuple[float, int]:
    c = CollabClient(f"ws://127.0.0.1:{port}", "big", TOKEN, author="newcomer", reconnect=False)
    t0 = time.perf_counter()
    await c.start()
    await c.wait_online(900)
    dt = time.perf_counter() - t0
    got = len(c.sdoc)
    await c.close()
    return dt, got


def client_side_load(store: Path) -> dict:
    """The client's share of loading: applying the room's update and building the stroke mirror."""
    from pycrdt import Doc, merge_updates

    from engines.collab.schema import StrokeDoc
    from engines.collab.store import UpdateStore

    st = UpdateStore(store)
    try:
        rows = st.load_sync("big")
    finally:
        st.close()
    update = merge_updates(*rows)
    t0 = time.perf_counter()
    doc = Doc()
    doc.apply_update(update)
    t1 = time.perf_counter()
    sdoc = StrokeDoc(doc, author="probe")
    t2 = time.perf_counter()
    return {"update_mib": len(update) / 2**20, "apply_s": t1 - t0, "mirror_s": t2 - t1, "strokes": len(sdoc)}


def js_join(port: int) -> dict | None:
    """The JavaScript y-websocket provider joining room "big" (None without node or the npm packages)."""
    import shutil

    from tests.engines.collab.test_js_client import _node_modules

    modules, why = _node_modules()
    if modules is None:
        print(f"  (no JavaScript side: {why})", flush=True)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "join.mjs"
        shutil.copy(ROOT / "benchmarks" / "collab_join.mjs", script)
        (Path(tmp) / "node_modules").symlink_to(modules.resolve())
        r = subprocess.run(
            ["node", "--expose-gc", str(script), f"ws://127.0.0.1:{port}", "big", TOKEN],
            capture_output=True,
            text=True,
            timeout=300,
        )
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"  (JavaScript side failed: {r.stderr.strip()[-300:]})", flush=True)
        return None


def room_size(store: Path, n_big: int) -> dict:
    """Build (or reuse) a room of n_big strokes in ``store``; the server's memory and the join times."""
    proc, port = start_server(store)
    try:
        have = asyncio.run(load_room(port))[1]
        if have < n_big:
            dt = asyncio.run(build_room(port, n_big - have))
            print(
                f"built a room of {n_big} strokes in {dt:.1f} s (batches of 1000, each acknowledged)",
                flush=True,
            )
    finally:
        stop_server(proc)
    proc, port = start_server(store)
    try:
        before = settled_rss_mib(proc.pid)
        cold, got = asyncio.run(load_room(port))
        after = settled_rss_mib(proc.pid)  # (what it holds the room in, not the join's transients)
        warm, _ = asyncio.run(load_room(port))
        js = js_join(port)
    finally:
        stop_server(proc)
    r = {
        "strokes": got,
        "server_rss_before_mib": before,
        "server_rss_after_mib": after,
        "room_mib": after - before,
        "server_bytes_per_stroke": (after - before) * 2**20 / max(got, 1),
        "new_client_load_cold_s": cold,
        "new_client_load_warm_s": warm,
        "store_mib": store.stat().st_size / 2**20,
        "js": js,
    }
    print(
        f"room of {got} strokes: server RSS {before:.0f} -> {after:.0f} MiB "
        f"(+{r['room_mib']:.0f} MiB, {r['server_bytes_per_stroke']:.0f} B/stroke); store {r['store_mib']:.1f} MiB",
        flush=True,
    )
    print(
        f"new client loads the room (connect -> synced, {got} strokes): {warm:.2f} s with the room "
        f"in the server's memory, {cold:.2f} s when the server first reads it from the store",
        flush=True,
    )
    if js is not None:
        print(
            f"JavaScript y-websocket client joins the same room: {js['join_s']:.2f} s, holds "
            f"{js['strokes']} strokes in {js['heap_bytes'] / 2**20:.1f} MiB of heap "
            f"({js['heap_bytes'] / max(js['strokes'], 1):.0f} B/stroke)",
            flush=True,
        )
    cl = client_side_load(store)
    r["client_side"] = cl
    print(
        f"  of which on the client: apply the {cl['update_mib']:.1f} MiB update {cl['apply_s']:.2f} s, "
        f"build the stroke mirror {cl['mirror_s']:.2f} s",
        flush=True,
    )
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--strokes", type=int, default=None, help="strokes in the big room (one size)")
    ap.add_argument("--sizes", default=None, help="room sizes, comma-separated (default 10000,100000)")
    ap.add_argument("--latency-strokes", type=int, default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument(
        "--store", default=None, help="keep the stores in this folder (reused: rooms are built once)"
    )
    ap.add_argument(
        "--attacks", choices=("yes", "no", "only"), default="yes", help="the hostile-client section"
    )
    args = ap.parse_args(argv)
    if args.attacks == "only":
        out = {"attacks": attacks()}
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1))
        return 0
    if args.strokes:
        sizes = [args.strokes]
    elif args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    else:
        sizes = [10_000] if args.quick else [10_000, 100_000]
    n_lat = args.latency_strokes or (100 if args.quick else 300)
    out: dict = {"rooms": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.store) if args.store else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        proc, port = start_server(folder / "latency.db")
        try:
            out["latency"] = asyncio.run(latency(port, n_lat, 10))
        finally:
            stop_server(proc)
        lat = out["latency"]
        print(
            f"propagation 1 -> 10 clients, {n_lat} strokes: p50 {lat['p50_ms']:.2f} ms, "
            f"p99 {lat['p99_ms']:.2f} ms (last receiver: p50 {lat['last_receiver_p50_ms']:.2f} ms, "
            f"p99 {lat['last_receiver_p99_ms']:.2f} ms)",
            flush=True,
        )
        for n in sizes:
            out["rooms"].append(room_size(folder / f"bench-{n}.db", n))
    print("\nstrokes   server B/stroke   join (memory)   join (store)   JS join   JS heap B/stroke")
    for r in out["rooms"]:
        js = r["js"] or {}
        js_join_s = f"{js['join_s']:7.2f} s" if js else "      -  "
        js_b = f"{js['heap_bytes'] / max(js['strokes'], 1):10.0f}" if js else "         -"
        print(
            f"{r['strokes']:>7d}   {r['server_bytes_per_stroke']:15.0f}   {r['new_client_load_warm_s']:11.2f} s"
            f"   {r['new_client_load_cold_s']:10.2f} s   {js_join_s}   {js_b}"
        )
    if args.attacks == "yes":
        out["attacks"] = attacks()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


def peak_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB."""
    vals = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            vals[k] = int(v.split()[0]) / 1024
    return vals["VmRSS"], vals["VmHWM"]


def attacks() -> dict:
    """Each attack of tests/engines/collab/test_hostile_server.py against a fresh server."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.engines.collab.test_hostile_server import ATTACKS

    async def one(port: int, pid: int, payloads: list) -> dict:
        good = CollabClient(f"ws://127.0.0.1:{port}", "class", TOKEN, author="good", reconnect=False)
        await good.start()
        await good.wait_online()
        good.add_many(np.random.default_rng(0).uniform(0.05, 0.95, (40, 8)))
        await good.flush(30)
        await asyncio.sleep(0.3)
        idle, _ = peak_mib(pid)
        async with connect(
            f"ws://127.0.0.1:{port}/class?token={TOKEN}", max_size=None, compression=None
        ) as ws:
            for p in payloads:
                await ws.send(p)
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(30):
                    async for _ in ws:
                        pass
            except ConnectionClosed:
                pass
            dt = time.perf_counter() - t0
            code = ws.close_code
        _, peak = peak_mib(pid)
        intact = good.state == "online" and len(good.sdoc) == 40
        await good.close()
        return {"close_code": code, "detect_drop_ms": dt * 1e3, "peak_above_idle_mib": peak - idle,
                "idle_mib": idle, "good_client_intact": intact}  # fmt: skip

    res = {}
    print(
        "attacks (fresh server each; peak memory above idle, time from the last byte to the drop):",
        flush=True,
    )
    for name, (make, _) in ATTACKS.items():
        payloads = make()
        with tempfile.TemporaryDirectory() as tmp:
            proc, port = start_server(Path(tmp) / "a.db", quiet=True)
            try:
                r = asyncio.run(asyncio.wait_for(one(port, proc.pid, payloads), 120))
                r["alive"] = proc.poll() is None
            finally:
                stop_server(proc)
        r["bytes"] = sum(len(p) for p in payloads)
        res[name] = r
        print(
            f"  {name:34s} {r['bytes']:>8d} B  close {r['close_code']}  {r['detect_drop_ms']:7.1f} ms  "
            f"peak +{r['peak_above_idle_mib']:5.1f} MiB (idle {r['idle_mib']:.0f})  "
            f"server {'alive' if r['alive'] else 'DEAD'}, good client {'intact' if r['good_client_intact'] else 'HURT'}",
            flush=True,
        )
    return res


if __name__ == "__main__":
    raise SystemExit(main())
