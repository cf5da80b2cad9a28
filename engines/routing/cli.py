"""Route maps: load, check and solve routing instances; build road-network instances from OSM.

Subcommands::

    python -m engines routing info FILE
    python -m engines routing solve FILE --solver ls|pyvrp|neural|neural+ls|neural+pyvrp \
        --time-limit S --seed 0 [--min-vehicles] [--json] [--out sol.sol|.csv|.geojson]
    python -m engines routing osm FILE.pbf --points 100 --seed 0 [--capacity 40] --out city.npz
    python -m engines routing train --config tiny|default --out assets/routing
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engines.cliargs import count, int_range, positive_float, seed
from engines.files import check_input, check_output, reading

#: what ``solve --out`` writes, by suffix
SOLUTION_SUFFIXES = (".sol", ".csv", ".geojson", ".json")


def _load(path):
    from engines.routing.io import load_problem

    check_input(path, "routing instance")
    with reading(path, "routing instance"):
        return load_problem(path)


def _info(args) -> int:
    from engines.routing.problem import check_instance

    p = _load(args.file)
    print(f"{p.name}: {p.variant}, {p.n - 1} customers, capacity {p.capacity}, vehicles {p.num_vehicles}")
    print(f"best known: {p.bks}")
    bad = check_instance(p)
    for r in bad:
        print(f"infeasible: {r}")
    return 1 if bad else 0


def _solve(args) -> int:
    from tqdm import tqdm

    from engines.base import drive_job
    from engines.routing.io import write_geojson, write_solution, write_solution_csv
    from engines.routing.solvers import solve_job

    if args.out:
        check_output(args.out)
        if Path(args.out).suffix.lower() not in SOLUTION_SUFFIXES:
            raise ValueError(
                f"--out {args.out}: unknown kind of solution file; end it in {', '.join(SOLUTION_SUFFIXES)}"
            )
    p = _load(args.file)
    job = solve_job(
        p,
        args.solver,
        args.time_limit,
        args.seed,
        max_iterations=args.max_iterations,
        min_vehicles=args.min_vehicles,
    )
    bar = tqdm(
        total=args.time_limit, unit="s", file=sys.stderr, disable=True if args.quiet else None, leave=False
    )

    def on(pr):
        bar.n = round(pr.done, 2)
        r = pr.value
        if r is not None and r.routes:
            bar.set_postfix_str(f"best {p.round_cost(r.cost):g}")
        bar.refresh()

    try:
        result, _ = drive_job(job, on)
    finally:
        bar.close()
    if args.out:
        out = str(args.out)
        if out.endswith(".geojson") or out.endswith(".json"):
            write_geojson(out, p, result.routes)
        elif out.endswith(".csv"):
            write_solution_csv(out, p, result.routes)
        else:
            write_solution(out, p, result.routes)
    d = result.to_json(p)
    if args.json:
        print(json.dumps(d))
    else:
        gap = "" if d["gap_percent"] is None else f", gap {d['gap_percent']:.2f} %"
        state = "feasible" if d["feasible"] else "INFEASIBLE: " + "; ".join(d["violations"])
        print(
            f"{p.name} [{p.variant}] {args.solver}: cost {d['cost']:g}{gap}, {d['num_routes']} routes, {state}"
        )
        print(f"time {d['time_s']:.3f} s")
        for k, r in enumerate(d["routes"], 1):
            print(f"Route #{k}: {' '.join(map(str, r))}")
    return 0 if d["feasible"] else 1


def _osm(args) -> int:
    from engines.routing.io import write_npz
    from engines.routing.osm import osm_problem

    check_output(args.out)
    check_input(args.file, "OSM extract")
    with reading(args.file, "OSM extract (.osm.pbf)"):
        p = osm_problem(args.file, n_points=args.points, seed=args.seed, capacity=args.capacity)
    write_npz(args.out, p)
    asym = (abs(p.distance - p.distance.T) > 1e-9).mean()
    print(
        f"{args.out}: {p.n} points, {len(p.roads.node_xy)} road vertices, {len(p.roads.edges)} road edges, "
        f"{100 * asym:.1f} % of pairs asymmetric"
    )
    return 0


def _train(args) -> int:
    from engines.routing.neural.train import main as train_main

    check_output(args.out, "--out", folder=True)
    if args.checkpoints:
        check_output(args.checkpoints, "--checkpoints", folder=True)
    if args.init:
        check_input(args.init, "weights file")
    return train_main(args)


#: the solver names (kept here so that listing the CLI does not import numba; a test checks them)
SOLVERS = ("ls", "pyvrp", "neural", "neural+ls", "neural+pyvrp", "lkh")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("routing", help="route maps: routing instances and solvers")
    sub = p.add_subparsers(dest="routing_cmd", metavar="COMMAND")
    s = sub.add_parser("info", help="describe an instance and check it is solvable")
    s.add_argument("file")
    s.set_defaults(func=_info)
    s = sub.add_parser("solve", help="solve an instance")
    s.add_argument("file")
    s.add_argument("--solver", choices=SOLVERS, default="ls")
    s.add_argument("--time-limit", type=positive_float, default=1.0, help="seconds (> 0)")
    s.add_argument("--seed", type=seed, default=0)
    s.add_argument(
        "--max-iterations",
        type=count,
        default=None,
        help="cap the local search (ls, neural+ls): the same result on any machine within the time limit",
    )
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument(
        "--min-vehicles", action="store_true", help="fewest routes first, then the distance (ls, pyvrp)"
    )
    s.add_argument("--out", help="write the solution (.sol, .csv or .geojson)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_solve)
    s = sub.add_parser("osm", help="an asymmetric road-network instance from an OSM .pbf extract")
    s.add_argument("file")
    s.add_argument("--points", type=int_range(2), default=100, help="number of points (depot included)")
    s.add_argument("--seed", type=seed, default=0)
    s.add_argument(
        "--capacity", type=positive_float, default=None, help="make an ACVRP: demands 1..9, this capacity"
    )
    s.add_argument("--out", required=True)
    s.set_defaults(func=_osm)
    s = sub.add_parser("train", help="train the neural constructive solver")
    s.add_argument(
        "--config",
        default="default",
        help="tiny | default | finetune | finetune_tw | finetune_cvrp | finetune_solomon (the finetune ones"
        " with --init)",
    )
    s.add_argument("--out", default="assets/routing")
    s.add_argument("--seed", type=seed, default=0)
    s.add_argument("--minutes", type=positive_float, default=None, help="override the wall-time budget")
    s.add_argument("--steps", type=count, default=None, help="override the number of training steps")
    s.add_argument("--lr", type=positive_float, default=None, help="override the learning rate")
    s.add_argument("--batch", type=count, default=None, help="override the instances per training step")
    s.add_argument("--checkpoints", default=None, help="also save the weights every 100 steps in this folder")
    s.add_argument(
        "--average-last",
        type=count,
        default=None,
        help="ship the mean of the weights at the last K 100-step marks instead of the last step's",
    )
    s.add_argument("--init", default=None, help="continue training these weights (a routenet.state)")
    for flag, what in (("--tw-head", "time-window"), ("--cap-head", "capacity")):
        s.add_argument(
            flag,
            type=int_range(0, 1024),
            default=None,
            help=f"a {what} step head of this many hidden units (1: linear, 0: none); with --init, added"
            " to those weights at zero",
        )
    s.add_argument(
        "--layers",
        type=int_range(1, 32),
        default=None,
        help="encoder layers; with --init, the weights' encoder grown to this many by layers that start as"
        " the identity",
    )
    s.set_defaults(func=_train)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
