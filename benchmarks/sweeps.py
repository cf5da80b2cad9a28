"""Sweeps benchmark: speed-up from 1 to 2 Dask workers, and the overhead per task.

    python benchmarks/sweeps.py                  # demo kind, CPU-bound points (about 2-3 minutes)
    python benchmarks/sweeps.py --kind spiking   # COBA points (4,000 neurons, 0.2 s each)
    python benchmarks/sweeps.py --json out.json

Measured on loopback LocalClusters (one thread per worker process; BLAS held to
one thread, as Dask's nanny does for its workers):

* cluster start-up time (1 and 2 workers);
* the same sweep of CPU-bound points in this process (no Dask), on 1 worker and
  on 2 workers: wall times, speed-up 1 -> 2 workers (ideal 2.0), and Dask's
  efficiency against the in-process run;
* overhead per task: a sweep of empty points (no work) on 2 workers, wall time
  per point, including writing the Parquet part files.

Each timed sweep runs ``--repeat`` times (default 3) and the best wall time is kept.

Figures from one run on this machine (2 cores, shared); nothing is asserted.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.sweep.execute import run_sweep  # noqa: E402
from engines.sweep.model import sweep_from_dict  # noqa: E402


def demo_spec(n: int, work: int, name: str):
    return sweep_from_dict(
        {
            "sweep": {"name": name, "kind": "demo", "seeds": list(range(n))},
            "fixed": {"work": work, "x": 0.5, "y": 0.5},
        },
        source=f"<{name}>",
    )


def spiking_spec(n: int, name: str):
    return sweep_from_dict(
        {
            "sweep": {"name": name, "kind": "spiking", "seeds": list(range(n))},
            "fixed": {"preset": "coba", "duration_s": 0.2, "warmup_s": 0.0},
        },
        source=f"<{name}>",
    )


def start(n_workers: int):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    return cluster, client, time.perf_counter() - t0


def warm(client, spec_fn, tmp: Path) -> None:
    """Import the kind on every worker (numba caches, numpy) before timing."""
    n = sum(client.nthreads().values())
    run_sweep(spec_fn(n, "warm"), tmp / f"warm-{n}-{time.time_ns()}", client=client)


BUSY: dict[str, float] = {}


REPEAT = 3


def timed(spec, out: Path, **kw) -> float:
    """Best wall time of REPEAT runs of a sweep (each into a fresh folder); keeps the sum of the
    points' own times of that run (BUSY[spec.name])."""
    from engines.sweep.store import read_results

    best = math.inf
    for k in range(REPEAT):
        folder = out.with_name(f"{out.name}-{k}")
        t0 = time.perf_counter()
        s = run_sweep(spec, folder, **kw)
        dt = time.perf_counter() - t0
        assert s.computed == spec.n_points() and s.failed == 0, s
        if dt < best:
            best = dt
            BUSY[spec.name] = float(sum(read_results(folder).column("elapsed_s").to_pylist()))
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=("demo", "spiking"), default="demo")
    ap.add_argument("--points", type=int, default=None, help="points of the timed sweeps")
    ap.add_argument("--work", type=int, default=700, help="demo: matrix size of each point's work")
    ap.add_argument("--empty", type=int, default=400, help="points of the overhead sweep")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timed sweep (the best is kept)")
    ap.add_argument("--json", help="write the figures as JSON")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    n = args.points or (24 if args.kind == "demo" else 16)

    def spec_fn(k, name):
        return demo_spec(k, args.work, name) if args.kind == "demo" else spiking_spec(k, name)

    fig: dict[str, float] = {"loadavg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        run_sweep(spec_fn(1, "warm-inline"), tmp / "warm-inline", n_workers=0)
        fig["inline_s"] = timed(spec_fn(n, "inline"), tmp / "inline", n_workers=0)

        for w in (1, 2):
            cluster, client, up = start(w)
            try:
                fig[f"startup_{w}w_s"] = up
                warm(client, spec_fn, tmp)
                fig[f"dask_{w}w_s"] = timed(spec_fn(n, f"w{w}"), tmp / f"w{w}", client=client)
                if w == 2:
                    empty = demo_spec(args.empty, 0, "empty")
                    fig["empty_2w_s"] = timed(empty, tmp / "empty", client=client)
                    empty = demo_spec(args.empty, 0, "empty-chunked")
                    fig["empty_2w_chunk10_s"] = timed(
                        empty, tmp / "empty-c", client=client, points_per_task=10
                    )
            finally:
                client.close()
                cluster.close()
        fig["empty_inline_s"] = timed(
            demo_spec(args.empty, 0, "empty-inline"), tmp / "empty-inline", n_workers=0
        )

    fig["loadavg_end"] = os.getloadavg()[0]
    par1, par2 = BUSY["w1"] / fig["dask_1w_s"], BUSY["w2"] / fig["dask_2w_s"]
    per_point = fig["inline_s"] / n
    print(
        f"machine: {os.cpu_count()} CPUs, load average {fig['loadavg_start']:.1f} at the start, "
        f"{fig['loadavg_end']:.1f} at the end"
    )
    speedup = fig["dask_1w_s"] / fig["dask_2w_s"]
    print(f"kind {args.kind}: {n} points, {per_point * 1e3:.1f} ms per point in this process")
    print(
        f"cluster start-up          1 worker {fig['startup_1w_s']:.2f} s, 2 workers {fig['startup_2w_s']:.2f} s"
    )
    print(f"in process (no Dask)      {fig['inline_s']:.2f} s")
    print(
        f"Dask, 1 worker            {fig['dask_1w_s']:.2f} s  (in-process / Dask = {fig['inline_s'] / fig['dask_1w_s']:.2f})"
    )
    print(f"Dask, 2 workers           {fig['dask_2w_s']:.2f} s")
    print(f"speed-up 1 -> 2 workers   {speedup:.2f}x  (ideal 2.00x)")
    print(
        f"busy workers (sum of point times / wall): 1 worker {par1:.2f} (ideal 1), 2 workers {par2:.2f} (ideal 2)"
    )
    print(f"speed-up vs in process    {fig['inline_s'] / fig['dask_2w_s']:.2f}x")
    ovh = fig["empty_2w_s"] / args.empty
    ovh_inline = fig["empty_inline_s"] / args.empty
    print(
        f"overhead per task         {ovh * 1e3:.2f} ms wall per empty point on 2 workers "
        f"({args.empty} points, {args.empty / fig['empty_2w_s']:.0f} points/s; in process "
        f"{ovh_inline * 1e3:.2f} ms)"
    )
    print(
        f"  with --chunk 10           {fig['empty_2w_chunk10_s'] / args.empty * 1e3:.2f} ms wall per empty point "
        f"({args.empty / fig['empty_2w_chunk10_s']:.0f} points/s)"
    )
    fig.update(
        busy_1w=par1,
        busy_2w=par2,
        speedup_1_to_2=speedup,
        overhead_per_task_ms=ovh * 1e3,
        points=n,
        per_point_ms=per_point * 1e3,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
