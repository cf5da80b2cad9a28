"""Route maps benchmark: cost, gap to the best known and time, per instance and solver.

    python benchmarks/routing.py                 # the standard set (about 4 minutes)
    python benchmarks/routing.py --quick         # a smaller set (about 1 minute)
    python benchmarks/routing.py --json out.json

Prints, per instance: neural (greedy POMO), neural+ls (1 s), ls (1 s), pyvrp
(1 s), and the time PyVRP needs to reach 0.5 % over the best known, alone and
warm-started from neural+ls (ratio printed). ATSP: gap to the TSPLIB optimum.
Solomon: feasibility and gap. Figures from one run on this machine; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.paths import shared_data  # noqa: E402
from engines.routing.io import load_problem  # noqa: E402
from engines.routing.solvers import solve  # noqa: E402

DATA = shared_data("routing")


def time_to_target(p, solver, target, limit, seed=0):
    r = solve(p, solver, time_limit=limit, seed=seed)
    for t, c in r.curve:
        if c <= target + 1e-9:
            return t, r
    return None, r


def row(name, solver, r, p):
    gap = p.gap(r.cost) if r.feasible else None
    g = "   n/a" if gap is None else f"{gap:6.2f}"
    first = ""
    if r.curve:
        t1, c1 = r.curve[0]
        g1 = p.gap(c1)
        first = f"  first {t1:5.2f} s" + ("" if g1 is None else f" ({g1:+.1f} %)")
    print(
        f"{name:28s} {solver:13s} cost {p.round_cost(r.cost):>10g}  gap% {g}  time {r.elapsed:6.2f} s  "
        f"{'feasible' if r.feasible else 'INFEASIBLE'}{first}",
        flush=True,
    )
    return {
        "instance": name,
        "solver": solver,
        "cost": r.cost,
        "gap": gap,
        "time": r.elapsed,
        "feasible": r.feasible,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--ttt-limit", type=float, default=20.0, help="seconds for the time-to-target runs")
    a = ap.parse_args(argv)
    out = []
    # warm up: load the compiled kernels and the model once, outside the timings
    warm = load_problem(DATA / "tsplib_atsp" / "br17.atsp")
    for solver in ("ls", "neural+ls"):
        solve(warm, solver, time_limit=0.05)
    xs = ["X-n101-k25", "X-n110-k13", "X-n120-k6", "X-n157-k13", "X-n195-k51"]
    if a.quick:
        xs = xs[:2]
    print("== CVRPLIB X ==")
    for name in xs:
        p = load_problem(DATA / "cvrplib" / f"{name}.vrp")
        for solver, lim in (("neural", 1.0), ("neural+ls", 1.0), ("ls", 1.0), ("pyvrp", 1.0)):
            out.append(row(name, solver, solve(p, solver, time_limit=lim, seed=0), p))
    print("== time to 0.5 % over BKS (PyVRP alone vs warm-started from neural+ls) ==")
    for name in xs[:1] if a.quick else xs[:3]:
        p = load_problem(DATA / "cvrplib" / f"{name}.vrp")
        target = p.bks * 1.005
        t_alone, _ = time_to_target(p, "pyvrp", target, a.ttt_limit)
        t_warm, _ = time_to_target(p, "neural+pyvrp", target, a.ttt_limit)
        ratio = (t_alone / t_warm) if (t_alone and t_warm) else None
        fa = f"> {a.ttt_limit:g} s" if t_alone is None else f"{t_alone:.2f} s"
        fw = f"> {a.ttt_limit:g} s" if t_warm is None else f"{t_warm:.2f} s"
        if ratio is not None:
            rt = f"{ratio:.2f}"
        elif t_warm is not None:
            rt = f"> {a.ttt_limit / t_warm:.2f}"
        elif t_alone is not None:
            rt = f"< {t_alone / a.ttt_limit:.2f}"
        else:
            rt = "neither reached it"
        print(f"{name:28s} pyvrp {fa:10s} neural+pyvrp {fw:10s} time ratio alone/warm {rt}")
        out.append({"instance": name, "ttt_pyvrp": t_alone, "ttt_warm": t_warm, "ratio": ratio})
    print("== TSPLIB ATSP (gap to optimum) ==")
    atsp = ["br17", "ftv33", "ftv38", "ftv47", "ft53", "ftv55"]
    for name in atsp[:3] if a.quick else atsp:
        p = load_problem(DATA / "tsplib_atsp" / f"{name}.atsp")
        for solver in ("neural", "neural+ls", "ls", "pyvrp"):
            out.append(row(name, solver, solve(p, solver, time_limit=1.0, seed=0), p))
    print("== Solomon VRPTW ==")
    sol = ["C101", "C201", "R101", "R201", "RC101", "RC201"]
    for name in sol[:2] if a.quick else sol:
        p = load_problem(DATA / "solomon" / f"{name}.txt")
        for solver in ("neural+ls", "ls", "pyvrp"):
            out.append(row(name, solver, solve(p, solver, time_limit=1.0, seed=0), p))
    print("== Helsinki road network (ATSP, km; no known optimum: gap vs pyvrp 5 s) ==")
    p = load_problem(DATA / "osm" / "osm_helsinki_101_rrnco_format.npz")
    ref = solve(p, "pyvrp", time_limit=5.0, seed=0)
    p = p.with_changes(bks=ref.cost)
    for solver in ("neural", "neural+ls", "ls"):
        out.append(row(p.name, solver, solve(p, solver, time_limit=1.0, seed=0), p))
    summary = {}
    for solver in ("neural", "neural+ls", "ls", "pyvrp"):
        gaps = [
            r["gap"]
            for r in out
            if r.get("solver") == solver and r.get("gap") is not None and r["instance"].startswith("X-")
        ]
        times = [r["time"] for r in out if r.get("solver") == solver and r["instance"].startswith("X-")]
        if gaps:
            summary[solver] = {"mean_gap_X": sum(gaps) / len(gaps), "mean_time_X": sum(times) / len(times)}
            print(
                f"mean over X: {solver:10s} gap {summary[solver]['mean_gap_X']:.2f} %  time {summary[solver]['mean_time_X']:.2f} s"
            )
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": out, "summary": summary, "when": time.ctime()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
