"""Geometry workbench benchmark: MFTMA speed against the reference, and the science figures.

    python benchmarks/geometry_mftma.py            # speed + simulated capacity + scaling + science
    python benchmarks/geometry_mftma.py --quick    # speed of the three reference cases only
    python benchmarks/geometry_mftma.py --quick \
        --reference-python /tmp/mftma-env/bin/python --reference-repo /tmp/mftma-ref

With ``--reference-python PY --reference-repo DIR`` the reference implementation
(github schung039/neural_manifolds_replicaMFT at commit d56eda1, installed in its own
environment: numpy, scipy, cvxopt, autograd, pymanopt 0.2.5) runs side by side with ours
in this run, in a subprocess: a small driver written to a temporary folder imports
``mftma.manifold_analysis_correlation.manifold_analysis_corr`` from DIR and calls it
right after ``np.random.seed(0)`` on the same data (the recipe of
shared/data/geometry/README.md, saved once to an .npz both sides read). The driver
contains no reference code. Each repeat times ours then the reference on every case,
interleaved, so both see the same machine load; medians and ratios are printed with
the values of both and their relative differences.

Thread settings travel to the reference through the environment. On a shared, loaded
machine, multi-threaded BLAS and numba suffer from oversubscription far more than a
single thread does; compare both sides single-threaded there:

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/geometry_mftma.py ...

Without those options, or when the reference cannot be imported, the reference
seconds and values are the ones RECORDED in shared/data/geometry/golden.json (measured
earlier on this machine, not in this run), and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.geometry import manifold_analysis  # noqa: E402
from engines.geometry.mftma import auto_threads  # noqa: E402
from engines.paths import shared_data  # noqa: E402

GOLDEN = shared_data("geometry", "golden.json")
N_T = 200
FIELDS = ("capacity", "radius", "dimension", "center_correlation", "K")

# The driver run by --reference-python. It only imports and calls the reference's
# public function; stdout of the reference (and of its C solvers) goes to stderr so
# that the JSON lines on the original stdout stay clean.
REF_DRIVER = """\
import json, os, sys, time
proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
sys.path.insert(0, sys.argv[1])
import numpy as np
from mftma.manifold_analysis_correlation import manifold_analysis_corr
data = np.load(sys.argv[2])
proto.write(json.dumps({"ready": True, "numpy": np.__version__}) + "\\n")
proto.flush()
for line in sys.stdin:
    req = json.loads(line)
    stack = data[req["case"]]
    X = [np.array(stack[i]) for i in range(stack.shape[0])]
    np.random.seed(0)
    t0 = time.perf_counter()
    a, r, d, cc, K = manifold_analysis_corr(X, req["kappa"], req["n_t"])
    dt = time.perf_counter() - t0
    a, r, d = (np.asarray(v, dtype=float).ravel() for v in (a, r, d))
    out = {"seconds": dt, "capacity": float(1.0 / np.mean(1.0 / a)),
           "radius": float(np.mean(r)), "dimension": float(np.mean(d)),
           "center_correlation": float(cc), "K": int(K)}
    proto.write(json.dumps(out) + "\\n")
    proto.flush()
"""


def gauss(P, M, N, seed):
    """The README's recipe: a list of P arrays of shape N x M (features x samples)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((N, M)) for _ in range(P)]


def reference_cases():
    """name -> (list of N x M arrays, kappa), exactly as shared/data/geometry/README.md."""
    return {
        "gauss_P20_M50_N2000_s0": (gauss(20, 50, 2000, 0), 0.0),
        "points_P20_M1_N500_s1": (gauss(20, 1, 500, 1), 0.0),
        "points_P20_M1_N500_s2_kappa0.5": (gauss(20, 1, 500, 2), 0.5),
    }


#: ``--threads`` (None: the kernels pick the free cores at each call) and ``--device``
OURS = {"threads": None, "device": "auto"}
USED_THREADS: list[int] = []


def ours(X_nm, kappa, device=None):
    """Time one call of ours on N x M arrays (our API takes M x N)."""
    X = [a.T for a in X_nm]
    threads = OURS["threads"]
    USED_THREADS.append(auto_threads() if threads is None else threads)
    t = time.perf_counter()
    r = manifold_analysis(X, kappa=kappa, n_t=N_T, seed=0, threads=threads, device=device or OURS["device"])
    dt = time.perf_counter() - t
    vals = {
        "capacity": r.capacity_mean,
        "radius": r.radius_mean,
        "dimension": r.dimension_mean,
        "center_correlation": float(r.center_correlation),
        "K": int(r.K),
    }
    return dt, vals


class Reference:
    """The reference MFTMA in its own Python, driven over JSON lines."""

    def __init__(self, python: str, repo: str, cases: dict, workdir: Path):
        self.log = workdir / "reference_stderr.txt"
        driver = workdir / "mftma_driver.py"
        driver.write_text(REF_DRIVER)
        data = workdir / "cases.npz"
        np.savez(data, **{name: np.stack(X) for name, (X, _) in cases.items()})
        self._err = open(self.log, "w")
        self.proc = subprocess.Popen(
            [python, str(driver), str(Path(repo).resolve()), str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
        )
        hello = self._read()
        self.numpy = hello["numpy"]

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self._err.flush()
            tail = self.log.read_text().strip().splitlines()[-8:]
            raise RuntimeError(
                f"reference driver exited (code {self.proc.returncode}):\n    " + "\n    ".join(tail)
            )
        return json.loads(line)

    def run(self, case: str, kappa: float) -> dict:
        self.proc.stdin.write(json.dumps({"case": case, "kappa": kappa, "n_t": N_T}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._err.close()


def start_reference(args, cases, workdir):
    """(Reference or None, sentence saying where the reference figures come from)."""
    if not args.reference_python and not args.reference_repo:
        return None, "options --reference-python/--reference-repo not given"
    if not (args.reference_python and args.reference_repo):
        return None, "both --reference-python and --reference-repo are needed"
    repo = Path(args.reference_repo)
    if not (repo / "mftma" / "manifold_analysis_correlation.py").is_file():
        return None, f"{repo}: no mftma/manifold_analysis_correlation.py there"
    if not Path(args.reference_python).is_file():
        return None, f"{args.reference_python}: no such interpreter"
    try:
        return Reference(args.reference_python, str(repo), cases, workdir), ""
    except (RuntimeError, OSError, ValueError) as e:
        return None, f"the reference could not be started: {e}"


def rel_diff(ours_v, ref_v):
    if ref_v == 0:
        return "0" if ours_v == 0 else f"abs {abs(ours_v - ref_v):.1e}"
    return f"{100 * abs(ours_v - ref_v) / abs(ref_v):.3g} %"


def fmt_times(ts):
    return "[" + ", ".join(f"{t:.3f}" for t in ts) + "]"


def speed(args):
    cases = reference_cases()
    if args.cases:
        keep = [c.strip() for c in args.cases.split(",") if c.strip()]
        unknown = [c for c in keep if c not in cases]
        if unknown:
            raise SystemExit(f"--cases: unknown {unknown}; known: {list(cases)}")
        cases = {k: cases[k] for k in keep}
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="mftma_bench_") as tmp:
        ref, why = start_reference(args, cases, Path(tmp))
        if ref is not None:
            print(
                f"reference: MEASURED side by side in this run ({args.reference_python}, numpy {ref.numpy}; "
                f"ours numpy {np.__version__}); {args.repeats} repeats, interleaved"
            )
        else:
            print(
                f"reference: NOT run ({why}).\n"
                f"  Falling back to the reference seconds and values RECORDED in {GOLDEN}"
                " (measured earlier on this machine, not in this run)."
            )
        try:
            first = {}
            for name, (X, kappa) in cases.items():  # numba compilation, not timed
                first[name] = ours(X, kappa)[0]
            t_ours = {n: [] for n in cases}
            t_ref = {n: [] for n in cases}
            v_ours, v_ref = {}, {}
            for rep in range(args.repeats):
                for name, (X, kappa) in cases.items():
                    dt, v_ours[name] = ours(X, kappa)
                    t_ours[name].append(dt)
                    if ref is not None:
                        out = ref.run(name, kappa)
                        t_ref[name].append(out.pop("seconds"))
                        if name in v_ref and v_ref[name] != out:
                            print(f"  note: reference values of {name} changed between repeats")
                        v_ref[name] = out
                print(f"  repeat {rep + 1}/{args.repeats} done", file=sys.stderr, flush=True)
        finally:
            if ref is not None:
                ref.close()
    print(f"load average at end:   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    summary = []
    for name, (X, kappa) in cases.items():
        P, (N, M) = len(X), X[0].shape
        om = float(np.median(t_ours[name]))
        if ref is not None:
            rm = float(np.median(t_ref[name]))
            rvals, src = v_ref[name], "measured"
        else:
            g = golden.get(name, {})
            rm = float(g.get("reference_seconds_here", float("nan")))
            rvals = {f: g.get(f, float("nan")) for f in FIELDS}
            src = "RECORDED in golden.json"
        print(f"\n{name}  (P={P} M={M} N={N} kappa={kappa} n_t={N_T})")
        if ref is not None:
            print(f"  reference seconds: median {rm:.3f}  {fmt_times(t_ref[name])}")
        else:
            print(f"  reference seconds: {rm:.1f} (RECORDED, not measured in this run)")
        print(
            f"  ours seconds:      median {om:.3f}  {fmt_times(t_ours[name])}"
            f"  (first call, with compilation: {first[name]:.2f})"
        )
        print(f"  ratio reference/ours: {rm / om:.1f}x")
        print(f"  {'value':20s} {'reference (' + src + ')':>32s} {'ours':>12s}  rel. diff")
        for f in FIELDS:
            a, b = v_ours[name][f], rvals[f]
            if f == "K":
                print(f"  {f:20s} {b:>32d} {a:>12d}  {'same' if a == b else 'DIFFERENT'}")
            else:
                print(f"  {f:20s} {b:32.6g} {a:12.6g}  {rel_diff(a, b)}")
        summary.append((name, rm, om))
    print(f"\nsummary (medians of {args.repeats}; reference {'measured' if ref else 'RECORDED'}):")
    print(f"  {'case':34s} {'ref_s':>8s} {'ours_s':>8s} {'ratio':>8s}")
    for name, rm, om in summary:
        print(f"  {name:34s} {rm:8.3f} {om:8.3f} {rm / om:7.1f}x")


def scaling():
    import torch

    gpu = torch.cuda.is_available()
    print(
        "\nscaling (ours only; Gaussian manifolds, n_t = 200, median of 3"
        + ("; numpy path, then the GPU path for the steps that grow with N):" if gpu else "; no GPU here):")
    )
    base = dict(P=20, M=50, N=2000)
    for key, values in (("P", (10, 20, 40)), ("M", (25, 50, 100)), ("N", (500, 2000, 8000, 32000))):
        for v in values:
            cfg = {**base, key: v}
            X = gauss(cfg["P"], cfg["M"], cfg["N"], 1)
            t = float(np.median([ours(X, 0.0, device="numpy")[0] for _ in range(3)]))
            line = f"  P={cfg['P']:3d} M={cfg['M']:3d} N={cfg['N']:5d}: {t:7.3f} s"
            if gpu:
                ours(X, 0.0, device="cuda")  # warm-up (CUDA context, kernels)
                tg = float(np.median([ours(X, 0.0, device="cuda")[0] for _ in range(3)]))
                line += f"   GPU {tg:7.3f} s ({t / tg:4.1f}x)"
            print(line)


def simcap():
    """Simulated capacity (random dichotomies, bisection on the projected dimension) beside MFTMA."""
    from engines.geometry import simulated_capacity

    print("\nsimulated capacity against MFTMA (synthetic manifolds of the tests; 60 dichotomies, n_t = 500):")
    rng = np.random.default_rng(0)
    v = rng.standard_normal((120, 600))
    pts = list((v / np.linalg.norm(v, axis=1, keepdims=True))[:, None, :])
    for kappa, gardner in ((0.0, 2.0), (0.5, 0.961)):
        t = time.perf_counter()
        sim = simulated_capacity(pts, n_dichotomies=60, seed=0, kappa=kappa, preprocess=False)
        print(
            f"  120 isotropic unit points in N=600, kappa={kappa}: simulated {sim.capacity:.4f}, "
            f"Gardner {gardner} ({sim.capacity / gardner - 1:+.1%}), {time.perf_counter() - t:.1f} s"
        )
    for P, M, N, R, D in ((40, 5, 300, 0.5, 5), (40, 8, 300, 1.0, 3)):
        r = np.random.default_rng(1)
        X = []
        for _ in range(P):
            c = r.standard_normal(N) / np.sqrt(N)
            basis = np.linalg.qr(r.standard_normal((N, D)))[0]
            X.append(c + R * (r.standard_normal((M, D)) / np.sqrt(D)) @ basis.T)
        for kappa in (0.0, 0.5):
            mf = manifold_analysis(X, kappa=kappa, n_t=500, seed=0)
            t = time.perf_counter()
            sim = simulated_capacity(X, n_dichotomies=60, seed=0, kappa=kappa)
            print(
                f"  P={P} M={M} N={N} R={R} D={D} kappa={kappa}: MFTMA {mf.capacity_mean:.4f}, "
                f"simulated {sim.capacity:.4f} ({sim.capacity / mf.capacity_mean - 1:+.1%}), "
                f"{time.perf_counter() - t:.1f} s"
            )


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the speed comparison only")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each case, both sides (median)")
    ap.add_argument("--cases", default="", help="comma-separated subset of the reference cases")
    ap.add_argument("--reference-python", metavar="PATH", help="Python of the reference's environment")
    ap.add_argument(
        "--reference-repo", metavar="DIR", help="checkout of neural_manifolds_replicaMFT (d56eda1)"
    )
    ap.add_argument(
        "--threads", type=int, default=None, help="our kernel threads (default: the free cores at each call)"
    )
    ap.add_argument("--device", default="auto", help="our device: auto, numpy, cpu, cuda (default auto)")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    OURS.update(threads=args.threads, device=args.device)
    print(
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}, cpus={os.cpu_count()} "
        "(the reference subprocess inherits the same environment)"
    )
    speed(args)
    print(
        f"our kernel threads per call: {'auto' if args.threads is None else args.threads} -> "
        f"{', '.join(str(k) for k in USED_THREADS)} (load average now {os.getloadavg()[0]:.1f})"
    )
    if not args.quick:
        simcap()
        scaling()
        science()


if __name__ == "__main__":
    main()
