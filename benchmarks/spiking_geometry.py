"""The population geometry of the spiking digit classifiers: capacity vs training, noise, datapath.

    python benchmarks/spiking_geometry.py              # TESS (128, 64) for 3 epochs, 10 digits x 20 images
    python benchmarks/spiking_geometry.py --quick      # TESS (32,), 2 epochs of 400 images, 5 digits x 10
    python benchmarks/spiking_geometry.py --json out.json

Printed (MFTMA of :mod:`engines.geometry.mftma` through :mod:`engines.spiking.geometry`, kappa 0):

1. capacity, radius, dimension and center correlation of the TESS readout (the output layer's
   membrane integrated over the presentation) on fixed test images against the training step,
   beside the accuracy on those images (``tess.train_job(..., geometry=GeometryProbe(...))``);
2. the shipped TESS network's last hidden layer and readout against input noise (std of Gaussian
   pixel noise, full scale 1), mean over rate-code seeds;
3. the shipped NeuroCoreX network (on-chip STDP weights) on its integer datapath and on its float
   twin (the same update in float64, no 18-bit wrap-around), per noise level, mean over seeds.

Figures from one run on this machine; nothing is asserted (the seeded checks are in
tests/engines/spiking/test_geometry.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.base import drive_job  # noqa: E402
from engines.spiking import geometry as sg  # noqa: E402
from engines.spiking import tess  # noqa: E402
from engines.spiking.ncx_digits import load_split  # noqa: E402


def capacity_vs_training(quick: bool, seed: int) -> list[dict]:
    if quick:
        p = tess.TessParams(hidden=(32,), epochs=2, n_train=400, batch=10, steps=16)
        probe = sg.GeometryProbe(every=10, classes=5, per_class=10, n_t=80)
    else:
        p = tess.TessParams(epochs=3)
        probe = sg.GeometryProbe(every=20, classes=10, per_class=20, n_t=100)
    result, _ = drive_job(tess.train_job(p, seed=seed, geometry=probe))
    print(
        f"\n1. TESS {p.hidden} readout during training (seed {seed}, {probe.classes} digits x "
        f"{probe.per_class} test images; test accuracy after training {result['test_accuracy']:.3f})"
    )
    print(
        f"{'step':>6s} {'capacity':>9s} {'radius':>8s} {'dimension':>9s} {'center corr':>11s} {'accuracy':>9s}"
    )
    for g in result["geometry_curve"]:
        print(
            f"{g['step']:6d} {g['capacity']:9.4f} {g['radius']:8.3f} {g['dimension']:9.2f} "
            f"{g['center_correlation']:11.3f} {g['probe_accuracy']:9.3f}"
        )
    return result["geometry_curve"]


def capacity_vs_noise(quick: bool, seeds) -> list[dict]:
    classes, per_class = (5, 10) if quick else (10, 20)
    _, x_te, _, y_te = load_split()
    x, y = sg.probe_set(x_te, y_te, classes, per_class, 0)
    net = tess.load_asset()
    rows = []
    for noise in (0.0, 0.1, 0.25, 0.5, 0.75):
        for seed in seeds:
            resp = sg.tess_responses(net, x, y, None, seed=seed, noise=noise)
            for r in sg.geometry_rows(resp, ["hidden1", "output"], n_t=100, seed=0):
                rows.append({**r, "seed": seed, "accuracy": resp.accuracy})
    print(
        f"\n2. shipped TESS network against input noise ({classes} digits x {per_class} images, "
        f"mean of rate-code seeds {list(seeds)})"
    )
    print(
        f"{'noise':>6s} {'population':>10s} {'capacity':>9s} {'radius':>8s} {'dimension':>9s} "
        f"{'center corr':>11s} {'accuracy':>9s}"
    )
    for noise in sorted({r["noise"] for r in rows}):
        for pop in ("hidden1", "output"):
            sel = [r for r in rows if r["noise"] == noise and r["population"] == pop]
            m = {k: float(np.mean([r[k] for r in sel])) for k in (*sg.MEASURES, "accuracy")}
            print(
                f"{noise:6.2f} {pop:>10s} {m['capacity']:9.4f} {m['radius']:8.3f} {m['dimension']:9.2f} "
                f"{m['center_correlation']:11.3f} {m['accuracy']:9.3f}"
            )
    return rows


def fixed_vs_float(quick: bool, seeds) -> list[dict]:
    classes, per_class = (10, 10) if quick else (10, 20)
    rows = sg.ncx_comparison(
        noises=(0.0, 0.25, 0.5), seeds=seeds, classes=classes, per_class=per_class, n_t=100
    )
    print(
        f"\n3. NeuroCoreX digits network (10 neurons), integer datapath vs float twin ({classes} digits x "
        f"{per_class} images, mean of seeds {list(seeds)})"
    )
    print(
        f"{'noise':>6s} {'datapath':>8s} {'capacity':>9s} {'radius':>8s} {'dimension':>9s} "
        f"{'center corr':>11s} {'accuracy':>9s} {'spikes':>7s}"
    )
    for noise in (0.0, 0.25, 0.5):
        for dp in ("fixed", "float"):
            sel = [r for r in rows if r["noise"] == noise and r["datapath"] == dp]
            m = {k: float(np.mean([r[k] for r in sel])) for k in (*sg.MEASURES, "accuracy", "spikes")}
            print(
                f"{noise:6.2f} {dp:>8s} {m['capacity']:9.4f} {m['radius']:8.3f} {m['dimension']:9.2f} "
                f"{m['center_correlation']:11.3f} {m['accuracy']:9.3f} {m['spikes']:7.0f}"
            )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small network and probe (about half a minute)")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--json", metavar="FILE", help="also write every row as JSON")
    args = ap.parse_args(argv)
    seeds = (1, 2) if args.quick else (1, 2, 3)
    t0 = time.perf_counter()
    out = {"training": capacity_vs_training(args.quick, args.seed)}
    t1 = time.perf_counter()
    out["noise"] = capacity_vs_noise(args.quick, seeds)
    t2 = time.perf_counter()
    out["neurocorex"] = fixed_vs_float(args.quick, seeds)
    t3 = time.perf_counter()
    print(f"\nwall: training {t1 - t0:.1f} s, noise {t2 - t1:.1f} s, NeuroCoreX {t3 - t2:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
