"""Parameter sweeps on Dask (grids, random / Latin hypercube samples, seeds) into Parquet tables.

Subcommands::

    python -m engines sweep run SWEEP.toml [--out results.parquet] [--scheduler tcp://HOST:8786]
                                           [--workers N] [--chunk K] [--keep-failed] [--no-progress] [--json]
    python -m engines sweep show SWEEP.toml [--out results.parquet] [--points]
    python -m engines sweep kinds [KIND]
    python -m engines sweep export results.parquet --to table.csv|table.parquet|table.jsonl

``--out`` is a folder (a Parquet dataset, one part file per batch of finished
points); running the same command again computes only the missing points
(and those that failed, unless ``--keep-failed``). ``--workers 0`` runs the
points in this process, one after the other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engines.cliargs import count, nonnegative_int, suggest
from engines.files import check_input, check_output, reading


def _load(path):
    from engines.sweep.io import load_sweep

    check_input(path, "sweep file")
    with reading(path, "sweep file"):
        return load_sweep(path)


def _default_out(toml: str) -> Path:
    p = Path(toml)
    return p.with_name(p.stem + ".parquet")


def cmd_run(args) -> int:
    from tqdm import tqdm

    from engines.base import drive_job
    from engines.sweep.execute import sweep_job

    spec = _load(args.file)
    out = Path(args.out) if args.out else _default_out(args.file)
    check_output(out, "--out", folder=True)
    job = sweep_job(
        spec,
        out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        retry_failed=not args.keep_failed,
        points_per_task=args.chunk,
    )
    bar = None
    shown = {"dash": False}

    def on(pr):
        nonlocal bar
        st = pr.value
        if bar is None:
            if st.skipped:
                print(f"{st.skipped} of {st.total} points already in {out}", file=sys.stderr)
            bar = tqdm(
                total=st.to_run,
                unit="pt",
                desc=spec.name,
                file=sys.stderr,
                disable=args.no_progress or st.to_run == 0,
                dynamic_ncols=True,
            )
        if st.dashboard and not shown["dash"] and not args.no_progress:
            bar.write(f"dashboard: {st.dashboard}", file=sys.stderr)
            shown["dash"] = True
        bar.n = st.done
        bar.set_postfix_str(f"failed {st.failed}, running {st.running}", refresh=False)
        bar.refresh()

    try:
        summary, _ = drive_job(job, on)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        d = dict(summary.__dict__)
        d["failed_ids"] = list(summary.failed_ids)
        print(json.dumps(d))
    else:
        print(
            f"{summary.name}: {summary.total} points, {summary.skipped} already done, "
            f"{summary.computed} computed ({summary.failed} failed) in {summary.elapsed_s:.1f} s -> {summary.out}"
        )
        if summary.resubmitted:
            print(f"{summary.resubmitted} task(s) resubmitted after a worker died")
        if summary.failed:
            print(f"failed points: see the 'error' column (ids {', '.join(summary.failed_ids[:5])}...)")
    return 1 if summary.failed else 0


def cmd_show(args) -> int:
    from engines.sweep.io import ResultStore

    spec = _load(args.file)
    print(f"sweep {spec.name!r}: kind {spec.kind}, {spec.n_points()} points, seeds {list(spec.seeds)}")
    if spec.description:
        print(spec.description)
    for k, v in spec.fixed.items():
        print(f"  fixed   {k} = {v!r}")
    for k, v in spec.grid.items():
        print(f"  grid    {k}: {len(v)} values {list(v)[:8]}{' ...' if len(v) > 8 else ''}")
    for r in spec.sample_ranges:
        rng = (
            f"choices {list(r.choices)}" if r.choices else f"[{r.low:g}, {r.high:g}]{' log' if r.log else ''}"
        )
        print(
            f"  sample  {r.name}: {rng}{' int' if r.integer else ''} ({spec.sample_method}, n = {spec.sample_n})"
        )
    print(f"  metrics {', '.join(spec.metrics)}")
    out = Path(args.out) if args.out else _default_out(args.file)
    if out.exists():
        st = ResultStore(out, create=False).status()
        ids = [p.id for p in spec.points()]
        ok = sum(st.get(i) == "ok" for i in ids)
        bad = sum(st.get(i) == "failed" for i in ids)
        print(f"  results {out}: {ok} ok, {bad} failed, {len(ids) - ok - bad} missing")
    if args.points:
        for p in spec.points():
            swept = {k: p.params[k] for k in spec.swept}
            print(f"{p.id} seed={p.seed} {json.dumps(swept)}")
    return 0


def cmd_kinds(args) -> int:
    from engines.sweep.kinds import get_kind, kind_names

    names = [args.kind] if args.kind else kind_names()
    if args.kind and args.kind not in kind_names():
        raise ValueError(
            f"sweep kinds: no kind named {args.kind!r} (known: {', '.join(kind_names())})"
            + suggest(args.kind, kind_names())
        )
    for name in names:
        try:
            k = get_kind(name)
        except ValueError as e:
            print(f"{name:10s} (unavailable: {e})")
            continue
        print(f"{name:10s} {k.title}")
        print(f"{'':10s} metrics: {', '.join(k.metrics)}")
        if args.kind:
            for p, d in k.defaults.items():
                doc = k.docs.get(p, "")
                print(f"{'':10s} {p} = {d!r}  {doc}")
    return 0


def cmd_export(args) -> int:
    from engines.sweep.io import EXPORT_SUFFIXES, export_results

    check_output(args.to, "--to")
    if Path(args.to).suffix.lower() not in EXPORT_SUFFIXES:
        raise ValueError(f"--to {args.to}: export to a {', '.join(EXPORT_SUFFIXES)} file")
    src = Path(args.results)
    if src.is_dir() and not any(src.glob("part-*.parquet")) and not (src / "_sweep.toml").exists():
        raise ValueError(
            f"{src}: not a results folder (no part-*.parquet files); give the --out of a sweep run"
        )
    with reading(src, "results folder or Parquet file"):
        n = export_results(src, args.to)
    print(f"{n} rows -> {args.to}")
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="parameter sweeps on Dask into Parquet tables")
    sub = p.add_subparsers(dest="sweep_cmd", metavar="COMMAND")

    r = sub.add_parser("run", help="run a sweep file (skips the points already in --out)")
    r.add_argument("file", help="sweep definition (.toml)")
    r.add_argument("--out", help="results folder (default: SWEEP.parquet next to the file)")
    r.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://HOST:8786")
    r.add_argument(
        "--workers",
        type=nonnegative_int,
        default=None,
        help="local worker processes (default: CPUs; 0: inline)",
    )
    r.add_argument("--chunk", type=count, default=1, help="points per Dask task (for points of a few ms)")
    r.add_argument("--keep-failed", action="store_true", help="do not run again the points that failed")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("show", help="validate a sweep file, list its points and how many are done")
    s.add_argument("file")
    s.add_argument("--out", help="results folder (default: SWEEP.parquet next to the file)")
    s.add_argument("--points", action="store_true", help="list every point with its id")
    s.set_defaults(func=cmd_show)

    k = sub.add_parser("kinds", help="list the kinds of sweep, or one kind's parameters")
    k.add_argument("kind", nargs="?")
    k.set_defaults(func=cmd_kinds)

    e = sub.add_parser("export", help="write a results folder as one .parquet, .csv or .jsonl file")
    e.add_argument("results")
    e.add_argument("--to", required=True)
    e.set_defaults(func=cmd_export)
