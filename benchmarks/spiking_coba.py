#!/usr/bin/env python
"""COBA (Brette et al. 2007 benchmark 1) side by side: this engine vs Brian2.

Runs 1 s of the 4,000-neuron COBA network with ``engines.spiking`` (median of
``--repeats`` runs, network build and JIT excluded) and, when a Brian2
interpreter is given (``--brian2-python``, its own virtual environment: brian2
2.9 needs numpy < 2.4), the anchor program ``../shared/bench/coba_brian2.py``
with its numpy, cython and cpp_standalone targets (code generation and compile
excluded, as that program reports). Prints wall time per biological second,
rates, synaptic events/s and the ratios, then the scaling of this engine from
4k to 16k to 64k neurons at a fixed in-degree (80 synapses per neuron from each
population's 2 %).

    .venv/bin/python benchmarks/spiking_coba.py --brian2-python /tmp/brian2-env/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from engines.paths import shared_bench

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_ANCHOR = shared_bench("coba_brian2.py")
DEFAULT_BRIAN = Path("/tmp/brian2-env/bin/python")


def run_engine(
    n: int, seed: int, duration: float, in_degree: float | None = None, precision: str = "float64"
) -> dict:
    from engines.spiking import SpikingEngine, preset

    over = {"n_neurons": n, "precision": precision}
    if in_degree is not None:
        over["p_connect"] = in_degree / n
    t0 = time.perf_counter()
    eng = SpikingEngine(preset("coba", **over), seed=seed)
    build = time.perf_counter() - t0
    c0 = time.process_time()
    eng.run(duration)
    cpu = time.process_time() - c0
    s = eng.stats()
    s["build_s"] = build
    s["wall_per_bio_s"] = s["wall_s"] / duration
    s["cpu_per_bio_s"] = cpu / duration
    return s


def run_brian(python: str, anchor: Path, target: str, seed: int, duration: float) -> dict | None:
    cmd = [python, str(anchor), "--target", target, "--seed", str(seed), "--duration-ms", str(duration * 1e3)]
    if target != "cpp_standalone":
        cmd += ["--repeat", "2"]  # the second run is warm (no code generation / compile)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  brian2 {target}: could not run ({e})", file=sys.stderr)
        return None
    if out.returncode != 0:
        print(f"  brian2 {target}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if not rows:
        return None
    row = rows[-1]
    if target == "cpp_standalone":
        sim = row.get("standalone_sim_only_s")
    else:
        sim = row.get("wall_run_s")
    if sim is None:
        return None
    row["wall_per_bio_s"] = float(sim) / duration
    row["events_per_s"] = row["syn_events"] / float(sim)
    return row


def run_live(seconds: float, headless_bio_per_wall: float) -> dict:
    """Drive the real window with the spiking panel running COBA; fps and engine speed."""
    from PySide6 import QtCore, QtWidgets

    from studio.panels.spiking import SpikingPanel
    from studio.window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        win = MainWindow(panel_classes={"spiking": SpikingPanel}, settings_file=Path(tmp) / "s.ini")
        win.resize(1400, 900)
        win.show()
        panel = win.panels["spiking"]
        runner = win.runner_for("spiking")
        runner.start()
        t_warm = time.perf_counter() + 1.0  # skip the first second (first snapshot, layout)
        while time.perf_counter() < t_warm:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        f0, w0 = panel.drawn_frames, time.perf_counter()
        b0 = runner.call(lambda e: e.time)
        while time.perf_counter() < w0 + seconds:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        wall = time.perf_counter() - w0
        frames = panel.drawn_frames - f0
        bio = runner.call(lambda e: e.time) - b0
        runner.pause()
        win.close()
        win.shutdown()
    fps = frames / wall
    live = bio / wall
    return {
        "fps": fps,
        "bio_s_per_wall_s_live": live,
        "bio_s_per_wall_s_headless": headless_bio_per_wall,
        "fraction_of_headless": live / headless_bio_per_wall,
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brian2-python", default=str(DEFAULT_BRIAN) if DEFAULT_BRIAN.exists() else "")
    ap.add_argument("--anchor", default=str(DEFAULT_ANCHOR))
    ap.add_argument("--targets", default="numpy,cython,cpp_standalone")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
    ap.add_argument("--repeats", type=int, default=5, help="runs of this engine (median)")
    ap.add_argument("--scaling", default="4000,16000,64000", help="sizes at fixed in-degree ('' to skip)")
    ap.add_argument("--json-out", default="", help="also write every figure to this JSON file")
    ap.add_argument(
        "--live",
        type=float,
        default=0.0,
        help="also drive the real window for this many seconds (needs a display)",
    )
    args = ap.parse_args(argv)

    results: dict = {"engine": {}, "brian2": {}, "scaling": []}
    print(f"COBA, {args.duration:g} s biological time, seed {args.seed}, 4,000 neurons, dt 0.1 ms")
    runs = [run_engine(4000, args.seed, args.duration) for _ in range(max(1, args.repeats))]
    walls = [r["wall_per_bio_s"] for r in runs]
    cpus = [r["cpu_per_bio_s"] for r in runs]
    med, med_cpu = statistics.median(walls), statistics.median(cpus)
    ours = runs[0]
    ours_events = statistics.median([r["events_per_s"] for r in runs])
    events = ours["synaptic_events"]
    results["engine"] = {
        "wall_per_bio_s_median": med,
        "cpu_per_bio_s_median": med_cpu,
        "wall_per_bio_s_all": walls,
        "cpu_per_bio_s_all": cpus,
        "events_per_s_median": ours_events,
        "events_per_cpu_s_median": events / args.duration / med_cpu,
        "rate_hz": ours["rate_hz"],
        "rate_e_hz": ours.get("rate_e_hz"),
        "rate_i_hz": ours.get("rate_i_hz"),
        "synapses": ours["synapses"],
        "build_s": statistics.median([r["build_s"] for r in runs]),
    }
    print(
        f"{'simulator':30s} {'timer':5s} {'s / bio s':>10s} {'rate Hz':>8s} {'events/s':>11s} {'ratio':>7s}"
    )
    print(
        f"{'this engine (numba)':30s} {'wall':5s} {med:10.3f} {ours['rate_hz']:8.2f} {ours_events / 1e6:9.1f} M"
        f"   (median of {len(walls)}: {', '.join(f'{w:.3f}' for w in walls)})"
    )
    print(
        f"{'this engine (numba)':30s} {'CPU':5s} {med_cpu:10.3f} {ours['rate_hz']:8.2f} "
        f"{events / args.duration / med_cpu / 1e6:9.1f} M   (median of {len(cpus)}: {', '.join(f'{c:.3f}' for c in cpus)})"
    )
    runs32 = [
        run_engine(4000, args.seed, args.duration, precision="float32") for _ in range(max(1, args.repeats))
    ]
    w32 = statistics.median([r["wall_per_bio_s"] for r in runs32])
    c32 = statistics.median([r["cpu_per_bio_s"] for r in runs32])
    results["engine_float32"] = {
        "wall_per_bio_s_median": w32,
        "cpu_per_bio_s_median": c32,
        "rate_hz": runs32[0]["rate_hz"],
    }
    print(f"{'this engine, float32 state':30s} {'wall':5s} {w32:10.3f} {runs32[0]['rate_hz']:8.2f}")
    print(f"{'this engine, float32 state':30s} {'CPU':5s} {c32:10.3f} {runs32[0]['rate_hz']:8.2f}")
    anchor = Path(args.anchor)
    if not args.brian2_python or not Path(args.brian2_python).exists():
        print("brian2: skipped (no --brian2-python interpreter; install brian2 in its own venv)")
    elif not anchor.exists():
        print(f"brian2: skipped (anchor program {anchor} not found)")
    else:
        for target in [t for t in args.targets.split(",") if t]:
            row = run_brian(args.brian2_python, anchor, target, args.seed, args.duration)
            if row is None:
                print(f"{'brian2 ' + target:30s} (failed, see stderr)")
                continue
            # the machine may be shared: time this engine again right after the anchor ran
            adj = [run_engine(4000, args.seed, args.duration) for _ in range(3)]
            # Brian2's cpp_standalone times its loop with std::clock() (CPU time, no OpenMP);
            # the runtime targets with a wall clock: compare like with like
            cpu_timer = target == "cpp_standalone"
            key = "cpu_per_bio_s" if cpu_timer else "wall_per_bio_s"
            ours_adj = statistics.median([r[key] for r in adj])
            ours_med = med_cpu if cpu_timer else med
            row["timer"] = "cpu" if cpu_timer else "wall"
            row["ratio_vs_engine"] = row["wall_per_bio_s"] / ours_med
            row["engine_adjacent_per_bio_s"] = ours_adj
            row["ratio_vs_engine_adjacent"] = row["wall_per_bio_s"] / ours_adj
            results["brian2"][target] = row
            print(
                f"{'brian2 ' + row.get('brian2', '') + ' ' + target:30s} {row['timer'].upper() if cpu_timer else 'wall':5s} "
                f"{row['wall_per_bio_s']:10.3f} {row['mean_rate_Hz']:8.2f} {row['events_per_s'] / 1e6:9.1f} M "
                f"{row['ratio_vs_engine']:7.2f}   (this engine just after: {ours_adj:.3f} s, ratio "
                f"{row['ratio_vs_engine_adjacent']:.2f})"
            )
        print(
            "ratio: Brian2's time / this engine's with the same timer (> 1: this engine is faster); "
            "cpp_standalone's own timer is std::clock(), i.e. CPU time"
        )

    sizes = [int(s) for s in args.scaling.split(",") if s.strip()]
    if sizes:
        print("\nscaling at fixed in-degree (p = 80 / N), this engine:")
        print(
            f"{'N':>8s} {'synapses':>10s} {'rate Hz':>8s} {'wall s/bio s':>12s} {'CPU s/bio s':>12s} "
            f"{'CPU x 4k':>8s} {'events/CPU s':>13s}"
        )
        base = None
        for n in sizes:
            r = run_engine(n, args.seed, args.duration, in_degree=80.0)
            base = base or r["cpu_per_bio_s"]
            per_cpu = r["synaptic_events"] / args.duration / r["cpu_per_bio_s"]
            results["scaling"].append(
                {
                    "n": n,
                    "synapses": r["synapses"],
                    "rate_hz": r["rate_hz"],
                    "wall_per_bio_s": r["wall_per_bio_s"],
                    "cpu_per_bio_s": r["cpu_per_bio_s"],
                    "events_per_cpu_s": per_cpu,
                    "build_s": r["build_s"],
                }
            )
            print(
                f"{n:8d} {r['synapses']:10d} {r['rate_hz']:8.2f} {r['wall_per_bio_s']:12.3f} "
                f"{r['cpu_per_bio_s']:12.3f} {r['cpu_per_bio_s'] / base:8.2f} {per_cpu / 1e6:11.1f} M"
            )
    if args.live > 0:
        live = run_live(args.live, 1.0 / med)
        results["live"] = live
        print(
            f"\nlive in the window ({live['wall_s']:.0f} s): {live['fps']:.1f} frames/s, engine "
            f"{live['bio_s_per_wall_s_live']:.2f} bio s per wall s = {live['fraction_of_headless']:.0%} of headless "
            f"({live['bio_s_per_wall_s_headless']:.2f})"
        )
    print(f"\nmachine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} (other work shares them)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
