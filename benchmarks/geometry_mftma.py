"""Geometry workbench benchmark: MFTMA speed against the reference, and the science figures.

    python benchmarks/geometry_mftma.py            # speed + scaling + science
    python benchmarks/geometry_mftma.py --quick    # speed of the reference case only

The reference (schung039/neural_manifolds_replicaMFT, cvxopt + pymanopt) took
the seconds recorded in shared/data/geometry/golden.json on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.geometry import manifold_analysis  # noqa: E402
from engines.paths import shared_data  # noqa: E402

GOLDEN = shared_data("geometry", "golden.json")


def gauss(P, M, N, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((N, M)).T for _ in range(P)]


def timed(X, kappa=0.0, n_t=200, repeat=3):
    best = np.inf
    res = None
    for _ in range(repeat):
        t = time.perf_counter()
        res = manifold_analysis(X, kappa=kappa, n_t=n_t, seed=0)
        best = min(best, time.perf_counter() - t)
    return best, res


def speed():
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    cases = {
        "gauss_P20_M50_N2000_s0": (gauss(20, 50, 2000, 0), 0.0),
        "points_P20_M1_N500_s1": (gauss(20, 1, 500, 1), 0.0),
        "points_P20_M1_N500_s2_kappa0.5": (gauss(20, 1, 500, 2), 0.5),
    }
    print("case                               ours_s  ref_s  speedup  capacity(ours/ref)  radius  dimension")
    for name, (X, kappa) in cases.items():
        t, r = timed(X, kappa)
        ref = golden.get(name, {})
        ref_t = ref.get("reference_seconds_here", float("nan"))
        print(
            f"{name:34s} {t:6.3f} {ref_t:6.1f} {ref_t / t:7.1f}x  "
            f"{r.capacity_mean:.5f}/{ref.get('capacity', float('nan')):.5f}  "
            f"{r.radius_mean:.4f}/{ref.get('radius', float('nan')):.4f}  "
            f"{r.dimension_mean:.3f}/{ref.get('dimension', float('nan')):.3f}"
        )


def scaling():
    print("\nscaling (Gaussian manifolds, n_t = 200, best of 2):")
    base = dict(P=20, M=50, N=2000)
    for key, values in (("P", (10, 20, 40)), ("M", (25, 50, 100)), ("N", (500, 2000, 8000))):
        for v in values:
            cfg = {**base, key: v}
            t, _ = timed(gauss(cfg["P"], cfg["M"], cfg["N"], 1), repeat=2)
            print(f"  P={cfg['P']:3d} M={cfg['M']:3d} N={cfg['N']:5d}: {t:7.3f} s")


def science():
    import torch

    from engines.base import drive_job
    from engines.geometry.analysis import AnalysisParams, analysis_job, load_models

    torch.set_num_threads(1)
    nets = load_models(("standard", "adversarial", "stochastic"))
    print("\nclass manifolds, layer fc1, PGD L-inf (8 steps):")
    p = AnalysisParams(manifold="class", layers="fc1", eps="0,0.05,0.1", P=10, M=20, n_t=100)
    res, _ = drive_job(analysis_job(p, nets))
    for r in res.rows:
        print(
            f"  {r['model']:11s} eps={r['eps']:.2f} acc={r['accuracy']:.3f} capacity={r['capacity']:.4f} "
            f"radius={r['radius']:.3f} dimension={r['dimension']:.2f}"
        )
    print("\nexemplar manifolds (one image, 16 random-start one-step attacks), layer fc1:")
    p = AnalysisParams(manifold="exemplar", layers="fc1", eps="0,0.1,0.2", steps=1, P=10, M=16, n_t=100)
    res, _ = drive_job(analysis_job(p, nets))
    for r in res.rows:
        ov = r.get("overlap")
        print(
            f"  {r['model']:11s} eps={r['eps']:.2f} acc={r['accuracy']:.3f} capacity={r['capacity']:.4f} "
            f"radius={r['radius']:.3f} dimension={r['dimension']:.2f} overlap={'' if ov is None else f'{ov:.3f}'}"
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, cpus={os.cpu_count()}"
    )
    speed()
    if not args.quick:
        scaling()
        science()


if __name__ == "__main__":
    main()
