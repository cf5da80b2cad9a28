"""The update check of painting schema version 1 (old rooms, migrated): compiled path vs Python reference.

    python benchmarks/collab_validate.py              # a 10,000-stroke room
    python benchmarks/collab_validate.py --strokes 100000

Printed (medians of 5, both paths in the same run):

* check + commit of a room's whole state (one update, as a room loads from a
  compacted store);
* check of one new stroke against that room (what every live stroke costs);
* the room's tables in bytes per stroke, for the whole state and for a room
  built by 20 clients from small updates (adds, changes, removals, undo);
* the time to load the compiled check (from numba's cache).

Figures from one run on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.collab.schema_v1 import StrokeDoc  # noqa: E402  (version 1: this benchmarks its checks)
from engines.collab.validate import UpdateValidator, warm_up  # noqa: E402


def median_s(fn, k: int = 5) -> float:
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[k // 2]


def busy_room(n: int, clients: int = 20) -> list[bytes]:
    """The updates of ``clients`` people drawing ``n`` strokes in small batches, changing, removing, undoing."""
    rng = np.random.default_rng(2)
    docs = [StrokeDoc(author=f"c{i}", undo=True) for i in range(clients)]
    ups: list[bytes] = []
    for d in docs:
        d.doc.observe(lambda e: ups.append(e.update))
    made = 0
    while made < n:
        d = docs[int(rng.integers(clients))]
        k = int(rng.integers(1, 6))
        d.add_many(rng.uniform(0.05, 0.95, (k, 8)))
        made += k
        ids = list(d._by_id)
        r = rng.random()
        if r < 0.3:
            d.update(ids[int(rng.integers(len(ids)))], x=float(rng.random()))
        elif r < 0.4:
            d.remove(ids[int(rng.integers(len(ids)))])
        elif r < 0.45:
            d.undo()
    return ups


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=10_000)
    args = ap.parse_args(argv)
    n = args.strokes
    t0 = time.perf_counter()
    warm_up()
    print(f"load the compiled check: {time.perf_counter() - t0:.2f} s")
    d = StrokeDoc(author="b")
    d.add_many(np.random.default_rng(0).random((n, 8)) * 0.5 + 0.01)
    state = d.doc.get_update()
    one: list[bytes] = []
    d.doc.observe(lambda e: one.append(e.update))
    d.add([0.3] * 8)
    res = {}
    for name, fast in (("compiled", True), ("python", False)):

        def load(fast=fast):
            v = UpdateValidator(fast=fast)
            v.commit(v.check(state))
            return v

        room = load()
        res[name] = (median_s(load), median_s(lambda room=room: room.check(one[0]), 21), room.nbytes())
    (fl, fo, nb), (pl, po, _) = res["compiled"], res["python"]
    print(
        f"whole state of {n} strokes ({len(state) / 2**20:.1f} MiB), check + commit: compiled {fl * 1e3:.1f} ms, "
        f"Python {pl * 1e3:.0f} ms ({pl / fl:.0f}x)"
    )
    print(
        f"one new stroke ({len(one[0])} B) against that room: compiled {fo * 1e6:.1f} us, "
        f"Python {po * 1e6:.1f} us ({po / fo:.1f}x)"
    )
    print(f"tables: {nb} B in all, {nb / n:.2f} B/stroke (whole state)")
    ups = busy_room(min(n, 5000))
    v = UpdateValidator()
    t0 = time.perf_counter()
    for u in ups:
        v.commit(v.check(u))
    dt = time.perf_counter() - t0
    print(
        f"busy room: {len(ups)} small updates of 20 clients, {min(n, 5000)} strokes: "
        f"{dt / len(ups) * 1e6:.1f} us per update, tables {v.nbytes() / min(n, 5000):.0f} B/stroke"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
