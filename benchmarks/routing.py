"""Route maps benchmark: each problem class side by side (ours, PyVRP, LKH where it applies).

    python benchmarks/routing.py                              # every section (about 25 minutes)
    python benchmarks/routing.py --sections cvrp              # CVRPLIB X at 1 s and 10 s
    python benchmarks/routing.py --sections vrptw,roads,ttt   # Solomon, Helsinki ACVRP(TW), time to target
    python benchmarks/routing.py --json out.json

Sections: ``cvrp`` (X instances: neural alone, neural+ls and PyVRP at 1 s and 10 s, run one after
the other per instance so both see the same load; neural alone always at 0.2 s), ``xheld`` (neural
alone on the other X instances), ``ttt`` (time to 0.5 % over the best known: PyVRP cold against
PyVRP warm-started from the neural solution, 10 seeds), ``atsp`` (TSPLIB, LKH-3 beside them),
``vrptw`` (Solomon at 10 s; neural alone at 0.2 s and, as ``neural@10``, at 10 s),
``roads`` (ACVRP and ACVRPTW of 100-200 stops built from the shipped Helsinki extract at 10 s; no
known optimum: each cost against the better of the two in that run; ``--road-seeds`` solver seeds,
3 by default, as one seed's ranking is mostly luck: PyVRP alone ranged 0-2 % over seeds on one
instance). Wall times include the neural decoding and all set-up after the one-off warm-up. Settings
of neural+ls (the hand-over to PyVRP, :data:`engines.routing.solvers.HANDOFF_SHARE`) were chosen on
the X instances of ``neural.train.HELD_OUT_X`` (the ``cvrp`` section reports the others) and on
Helsinki instances of seeds 11-16 of :func:`helsinki` and Solomon C103, C203, R103, R202, RC103,
RC202 (the ``roads`` and ``vrptw`` sections report seeds 1-3 and other Solomon instances); the
``tune`` section reruns that choice. Figures from one run on this machine, with its load printed;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.base import drive_job  # noqa: E402
from engines.paths import shared_data  # noqa: E402
from engines.routing import lkh  # noqa: E402
from engines.routing.io import load_problem  # noqa: E402
from engines.routing.solvers import solve, solve_job  # noqa: E402

DATA = shared_data("routing")
#: neural alone gets this time limit in every section (the issue's "at most 6 % in 0.2 s"): it decodes
#: pass after pass (other flips and first customers) while another pass fits; the VRPTW section also
#: gives it the whole 10 s ("neural@10"), where active search takes the time left after those passes
NEURAL_LIMIT = 0.2


def time_to_target(p, solver, target, limit, seed=0):
    """Seconds until the solver's best reaches ``target`` (None if not within ``limit``); stops there."""
    seen = []

    def reached():
        r = seen[-1].value if seen else None
        return r is not None and r.feasible and r.cost <= target + 1e-9

    r, _ = drive_job(solve_job(p, solver, time_limit=limit, seed=seed), seen.append, reached)
    for t, c in r.curve:
        if c <= target + 1e-9:
            return t, r
    return None, r


def _median(xs, limit):
    """Median with the runs that missed the target counted as 'more than the limit' (inf)."""
    v = sorted(math.inf if x is None else x for x in xs)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def _bench_x(r) -> bool:
    """A row of the five benchmark X instances (not a held-out one)."""
    return r["instance"].startswith("X-") and not r.get("held_out")


def timed_solve(p, solver, limit, seed=0):
    """solve() and the CPU seconds it used (wall time is r.elapsed; on a loaded machine they differ)."""
    c0 = time.process_time()
    r = solve(p, solver, time_limit=limit, seed=seed)
    return r, time.process_time() - c0


def row(name, solver, r, p, cpu=None):
    gap = p.gap(r.cost) if r.feasible else None
    g = "   n/a" if gap is None else f"{gap:6.2f}"
    first = ""
    if r.curve:
        t1, c1 = r.curve[0]
        g1 = p.gap(c1)
        first = f"  first {t1:5.2f} s" + ("" if g1 is None else f" ({g1:+.1f} %)")
    print(
        f"{name:28s} {solver:13s} cost {p.round_cost(r.cost):>10g}  gap% {g}  time {r.elapsed:6.2f} s  "
        f"{'feasible' if r.feasible else 'INFEASIBLE'}{first}"
        + ("" if cpu is None else f"  cpu {cpu:.2f} s"),
        flush=True,
    )
    return {
        "instance": name,
        "solver": solver,
        "cost": r.cost,
        "gap": gap,
        "time": r.elapsed,
        "cpu": cpu,
        "feasible": r.feasible,
    }


def side_by_side(label, problems, solvers, limit, out, ref_best=False, cpu_for=("neural",), seed=0):
    """Every solver on every problem, one instance at a time (interleaved); a row each, then means.

    ``ref_best``: no known optimum, so each gap is taken against the best cost any solver found here.
    """
    print(f"-- {label}: {', '.join(solvers)} at {limit:g} s --", flush=True)
    gaps: dict[str, list[float]] = {s: [] for s in solvers}
    for p in problems:
        res = {}
        for solver in solvers:
            name, _, own = solver.partition("@")  # "neural@10": neural alone with a 10 s limit of its own
            lim = float(own) if own else limit if solver != "neural" else NEURAL_LIMIT
            res[solver] = timed_solve(p, name, lim, seed)
        if ref_best:
            best = min(r.cost for r, _ in res.values() if r.feasible)
            p = p.with_changes(bks=best)
        cells = []
        for solver, (r, cpu) in res.items():
            g = p.gap(r.cost) if r.feasible else None
            gaps[solver].append(math.inf if g is None else g)
            cells.append(f"{solver} {'infeasible' if g is None else f'{g:5.2f} %'} ({r.elapsed:.2f} s)")
            out.append(
                {"section": label, "instance": p.name, "solver": solver, "limit": limit, "cost": r.cost,
                 "gap": g, "time": r.elapsed, "cpu": cpu if solver in cpu_for else None,
                 "feasible": r.feasible}
            )  # fmt: skip
        print(f"{p.name:26s} " + "  ".join(cells), flush=True)
    means = {s: sum(g) / len(g) for s, g in gaps.items() if g}
    print(f"{'mean':26s} " + "  ".join(f"{s} {m:5.2f} %" for s, m in means.items()), flush=True)
    return means


def helsinki(n_stops, seed, time_windows):
    """A seeded ACVRP (demand 1..9, about 8 routes) or ACVRPTW on the shipped Helsinki extract.

    Time windows (minutes): the depot open 0..480; each customer a 60-minute window starting at a
    seeded time at which it can be reached straight from the depot and left in time to return,
    5 minutes of service.
    """
    import numpy as np

    from engines.routing.osm import osm_problem

    cap = float(5 * (n_stops - 1) // 8)
    p = osm_problem(ROOT / "examples" / "data" / "helsinki-test.osm.pbf", n_points=n_stops, seed=seed,
                    capacity=cap)  # fmt: skip
    if not time_windows:
        return p
    rng = np.random.default_rng(1000 + seed)
    H, w, svc = 480.0, 60.0, 5.0
    T = p.duration
    tw = np.zeros((p.n, 2))
    tw[0] = [0.0, H]
    for i in range(1, p.n):
        lo, hi = T[0, i] - w, H - svc - T[i, 0] - w
        a = rng.uniform(max(lo, 0.0), max(hi, max(lo, 0.0)))
        tw[i] = [a, a + w]
    return p.with_changes(name=p.name + "-tw", time_windows=tw, service=np.r_[0.0, np.full(p.n - 1, svc)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer instances in each section")
    ap.add_argument("--json")
    ap.add_argument("--limits", default="1,10", help="time limits (s) of the cvrp section")
    ap.add_argument("--seed", type=int, default=0, help="seed of every solver run (not the ttt runs)")
    ap.add_argument(
        "--road-seeds",
        type=int,
        default=3,
        help="solver seeds of the roads section (from --seed; one run each)",
    )
    ap.add_argument("--tune-limit", type=float, default=10.0, help="time limit (s) of the tune section")
    ap.add_argument("--ttt-limit", type=float, default=20.0, help="seconds for the time-to-target runs")
    ap.add_argument("--seeds", type=int, default=10, help="seeds of the time-to-target runs (median)")
    ap.add_argument(
        "--sections",
        default="cvrp,xheld,ttt,atsp,vrptw,roads",
        help="comma-separated subset of cvrp, xheld, ttt, atsp, vrptw, roads, and, not by default, tune "
        "(the settings' choice on the instances kept apart) and solomon22 (neural alone on that choice set)",
    )
    a = ap.parse_args(argv)
    out = []
    print(f"uptime (load average 1, 5, 15 min) at the start: {os.getloadavg()}", flush=True)
    # warm up: load the compiled kernels, the model and PyVRP once, outside the timings
    warm = load_problem(DATA / "tsplib_atsp" / "br17.atsp")
    for solver in ("ls", "neural+ls", "pyvrp", *(("lkh",) if lkh.available() else ())):
        solve(warm, solver, time_limit=0.05)
    from engines.routing.neural.train import BENCH_X, HELD_OUT_X

    sec = set(a.sections.split(","))
    xs = list(BENCH_X[:2] if a.quick else BENCH_X)
    if "cvrp" in sec:
        print(f"== CVRPLIB X (settings chosen on {', '.join(HELD_OUT_X)}; reported on these) ==")
        probs = [load_problem(DATA / "cvrplib" / f"{n}.vrp") for n in xs]
        for lim in (float(x) for x in a.limits.split(",")):
            solvers = ("neural", "neural+ls", "pyvrp") if lim <= 1 else ("neural+ls", "pyvrp")
            side_by_side(f"CVRP X {lim:g} s", probs, solvers, lim, out, seed=a.seed)
    if "xheld" in sec:
        print("== CVRPLIB X held out when the neural checkpoint was chosen: neural alone ==")
        hg, ht = [], []
        for name in HELD_OUT_X:
            p = load_problem(DATA / "cvrplib" / f"{name}.vrp")
            r, cpu = timed_solve(p, "neural", NEURAL_LIMIT)
            out.append({**row(name, "neural", r, p, cpu), "held_out": True})
            hg.append(p.gap(r.cost) if r.feasible else math.inf)
            ht.append(r.elapsed)
        print(f"held-out X, neural: mean gap {sum(hg) / len(hg):.2f} %, wall mean {sum(ht) / len(ht):.3f} s "
              f"max {max(ht):.3f} s")  # fmt: skip
    if "solomon22" in sec:
        print("== the other 22 Solomon files (where the time-window weights and the active-search start "
              "were chosen): neural alone ==")  # fmt: skip
        bench = {"C101", "C201", "R101", "R201", "RC102", "RC201"}
        files = sorted(f for f in (DATA / "solomon").glob("*.txt") if f.stem not in bench)
        side_by_side("Solomon 22, neural alone", [load_problem(f) for f in files[: 3 if a.quick else None]],
                     ("neural", "neural@2", "neural@10"), 10.0, out, seed=a.seed)  # fmt: skip
    if "ttt" in sec:
        print(
            f"== time to 0.5 % over BKS: PyVRP cold vs warm-started from the neural solution "
            f"(neural+pyvrp), seeds 0..{a.seeds - 1}, limit {a.ttt_limit:g} s =="
        )
    for name in [] if "ttt" not in sec else xs[:1]:
        p = load_problem(DATA / "cvrplib" / f"{name}.vrp")
        target = p.bks * 1.005
        cold, warm = [], []
        for seed in range(a.seeds):  # interleaved, so both see the same machine load
            cold.append(time_to_target(p, "pyvrp", target, a.ttt_limit, seed)[0])
            warm.append(time_to_target(p, "neural+pyvrp", target, a.ttt_limit, seed)[0])
            fmt = lambda t: f"> {a.ttt_limit:g}" if t is None else f"{t:.2f}"  # noqa: E731
            print(
                f"{name:28s} seed {seed}  pyvrp {fmt(cold[-1]):>7s} s  neural+pyvrp {fmt(warm[-1]):>7s} s",
                flush=True,
            )
        mc, mw = _median(cold, a.ttt_limit), _median(warm, a.ttt_limit)
        if math.isfinite(mc) and math.isfinite(mw):
            rt = f"{mc / mw:.2f}"
        elif math.isfinite(mw):
            rt = f"> {a.ttt_limit / mw:.2f}"
        elif math.isfinite(mc):
            rt = f"< {mc / a.ttt_limit:.2f}"
        else:
            rt = "neither median reached it"
        fm = lambda t: f"> {a.ttt_limit:g} s" if not math.isfinite(t) else f"{t:.2f} s"  # noqa: E731
        hit_c = sum(t is not None for t in cold)
        hit_w = sum(t is not None for t in warm)
        print(
            f"{name:28s} median  pyvrp {fm(mc):>9s}  neural+pyvrp {fm(mw):>9s}  "
            f"ratio cold/warm {rt}  (> 1: the warm start is faster); reached: pyvrp {hit_c}/{a.seeds}, "
            f"neural+pyvrp {hit_w}/{a.seeds}",
            flush=True,
        )
        out.append(
            {
                "instance": name,
                "ttt_pyvrp": cold,
                "ttt_warm": warm,
                "median_pyvrp": None if not math.isfinite(mc) else mc,
                "median_warm": None if not math.isfinite(mw) else mw,
                "ratio": (mc / mw) if math.isfinite(mc) and math.isfinite(mw) else None,
            }
        )
    if "atsp" in sec:
        print("== TSPLIB ATSP (gap to optimum); neural+ls improves with LKH-3 when elkai is there ==")
        atsp = ["br17", "ftv33", "ftv38", "ftv47", "ft53", "ftv55"]
        probs = [load_problem(DATA / "tsplib_atsp" / f"{n}.atsp") for n in (atsp[:3] if a.quick else atsp)]
        single = ("neural", "neural+ls", "pyvrp", *(("lkh",) if lkh.available() else ()))
        side_by_side("ATSP 2 s", probs, single, 2.0, out, seed=a.seed)
    if "vrptw" in sec:
        print("== Solomon VRPTW (gap to the DIMACS best known distance) ==")
        sol = ["C101", "C201", "R101", "R201", "RC102", "RC201"]
        probs = [load_problem(DATA / "solomon" / f"{n}.txt") for n in (sol[:2] if a.quick else sol)]
        side_by_side(
            "VRPTW 10 s", probs, ("neural", "neural@10", "neural+ls", "pyvrp"), 10.0, out, seed=a.seed
        )
    if "roads" in sec:
        print("== Helsinki roads (examples/data/helsinki-test.osm.pbf; km, minutes; asymmetric) ==")
        specs = [(100, 1), (150, 2), (200, 3)][: 2 if a.quick else 3]
        for tw in (False, True):
            probs = [helsinki(n, seed, tw) for n, seed in specs]
            cls = "ACVRPTW" if tw else "ACVRP"
            runs: dict[str, list[float]] = {"neural+ls": [], "pyvrp": []}
            for s in range(a.seed, a.seed + max(1, a.road_seeds)):
                first = len(out)
                m = side_by_side(f"{cls} 10 s, solver seed {s}", probs, tuple(runs), 10.0, out,
                                 ref_best=True, seed=s)  # fmt: skip
                for r in out[first:]:
                    runs[r["solver"]].append(math.inf if r["gap"] is None else r["gap"])
                print(f"{cls} seed {s}: " + ", ".join(f"{k} {v:.2f} %" for k, v in m.items()), flush=True)
            ours, theirs = runs["neural+ls"], runs["pyvrp"]
            print(
                f"{cls} over {len(ours)} runs ({len(probs)} instances x {max(1, a.road_seeds)} solver seeds; "
                f"each gap to the better of the two in its run): neural+ls {sum(ours) / len(ours):.2f} %, "
                f"pyvrp {sum(theirs) / len(theirs):.2f} %; neural+ls at least as good in "
                f"{sum(o <= t + 1e-9 for o, t in zip(ours, theirs))} of {len(ours)} runs",
                flush=True,
            )
    if "tune" in sec:
        from engines.routing import solvers as sv

        print(
            f"== tuning instances (kept apart): where neural+ls's PyVRP stage starts and after what share "
            f"of the time, {a.tune_limit:g} s =="
        )
        specs = [(100, 11), (150, 12), (200, 13), (100, 14), (150, 15), (200, 16)][: 1 if a.quick else 6]
        tuning_solomon = ["C103", "C203", "R103", "R202", "RC103", "RC202"]
        groups = {
            "X": [load_problem(DATA / "cvrplib" / f"{n}.vrp") for n in HELD_OUT_X[: 2 if a.quick else 6]],
            "ACVRP": [helsinki(n, seed, False) for n, seed in specs],
            "ACVRPTW": [helsinki(n, seed, True) for n, seed in specs],
            "VRPTW": [
                load_problem(DATA / "solomon" / f"{n}.txt") for n in tuning_solomon[: 2 if a.quick else 6]
            ],
        }
        keep = sv.HANDOFF_START, sv.HANDOFF_SHARE, sv.HANDOFF_SHARE_TW
        try:
            for group, probs in groups.items():
                means = {}
                for start, share in (
                    ("neural", 0.3),
                    ("best", 0.3),
                    ("none", 0.3),
                    ("none", 0.1),
                    ("pyvrp-first", 0.1),
                ):
                    sv.HANDOFF_START, sv.HANDOFF_SHARE, sv.HANDOFF_SHARE_TW = start, share, share
                    m = side_by_side(f"{group}, start {start}, share {share}", probs, ("neural+ls", "pyvrp"),
                                     a.tune_limit, [], ref_best=group in ("ACVRP", "ACVRPTW"),
                                     seed=a.seed)  # fmt: skip
                    means[start, share] = m
                print(f"{group}: " + "  ".join(f"start {k[0]} share {k[1]}: neural+ls {v['neural+ls']:.2f} %, "
                                                f"pyvrp {v['pyvrp']:.2f} %" for k, v in means.items()))  # fmt: skip
        finally:
            sv.HANDOFF_START, sv.HANDOFF_SHARE, sv.HANDOFF_SHARE_TW = keep
    print(f"uptime (load average 1, 5, 15 min) at the end: {os.getloadavg()}")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": out, "when": time.ctime()}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
