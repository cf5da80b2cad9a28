"""Problem model, loaders and the one evaluator."""

import json

import numpy as np
import pytest

from engines.routing.exact import held_karp
from engines.routing.io import (
    FormatError,
    geojson,
    load_problem,
    read_csv,
    read_npz,
    read_solution,
    write_npz,
    write_solution,
    write_solution_csv,
)
from engines.routing.problem import Problem, check_instance, evaluate

X = [
    "X-n101-k25", "X-n110-k13", "X-n120-k6", "X-n129-k18", "X-n139-k10", "X-n148-k46",
    "X-n157-k13", "X-n167-k10", "X-n176-k26", "X-n186-k15", "X-n195-k51",
]  # fmt: skip
README_BKS = {
    "X-n101-k25": 27591, "X-n110-k13": 14971, "X-n120-k6": 13332, "X-n129-k18": 28940,
    "X-n139-k10": 13590, "X-n148-k46": 43448, "X-n157-k13": 16876, "X-n167-k10": 20557,
    "X-n176-k26": 47812, "X-n186-k15": 24145, "X-n195-k51": 44225,
}  # fmt: skip


@pytest.mark.parametrize("name", X)
def test_cvrplib_bks_cost_reproduced_exactly(data_dir, name):
    p = load_problem(data_dir / "cvrplib" / f"{name}.vrp")
    routes, cost = read_solution(data_dir / "cvrplib" / f"{name}.sol")
    ev = evaluate(p, routes)
    assert ev.feasible, ev.violations
    assert ev.cost == cost == README_BKS[name]  # integer matrix: exact equality
    assert p.variant == "CVRP" and p.bks == cost


def test_solomon_bks_costs_reproduced_with_dimacs_rounding(data_dir):
    files = sorted((data_dir / "solomon").glob("*.txt"))
    assert len(files) == 28
    for f in files:
        p = load_problem(f)
        routes, cost = read_solution(f.with_suffix(".sol"))
        ev = evaluate(p, routes)
        assert ev.feasible, (f.name, ev.violations)
        assert p.round_cost(ev.cost) == cost, f.name
        assert abs(ev.cost - cost) < 1e-9, f.name
        assert p.variant == "VRPTW"
        assert len(routes) <= p.num_vehicles


def test_solomon_readme_examples(data_dir):
    want = {"C101": 827.3, "R101": 1637.7, "RC101": 1619.8, "C201": 589.1, "R201": 1143.2, "RC201": 1261.8}
    for name, cost in want.items():
        p = load_problem(data_dir / "solomon" / f"{name}.txt")
        assert p.bks == cost


def test_solomon_reader_agrees_with_vrplib(data_dir):
    import vrplib

    f = data_dir / "solomon" / "RC201.txt"
    p = load_problem(f)
    ref = vrplib.read_instance(str(f), instance_format="solomon")
    np.testing.assert_array_equal(p.coords, ref["node_coord"])
    np.testing.assert_array_equal(p.time_windows, ref["time_window"])
    np.testing.assert_array_equal(p.demand, ref["demand"])
    assert p.capacity == ref["capacity"] and p.num_vehicles == ref["vehicles"]


def test_atsp_wrapped_rows_and_sentinels(data_dir):
    sizes = {"br17": 17, "ftv33": 34, "ftv38": 39, "ftv47": 48, "ft53": 53, "ftv55": 56}
    for name, n in sizes.items():
        p = load_problem(data_dir / "tsplib_atsp" / f"{name}.atsp")
        assert p.n == n and p.variant == "ATSP" and p.num_vehicles == 1
        assert np.all(np.diag(p.distance) == 0)
        assert p.distance.max() < 9999  # sentinels removed
    p = load_problem(data_dir / "tsplib_atsp" / "br17.atsp")
    assert p.distance[0, 1] == 3 and p.distance[0, 16] == 5 and p.distance[1, 0] == 3


def test_atsp_br17_optimum_by_held_karp(data_dir):
    p = load_problem(data_dir / "tsplib_atsp" / "br17.atsp")
    cost, tour = held_karp(p)
    ev = evaluate(p, [tour])
    assert ev.feasible and ev.cost == cost == p.bks == 39


def test_rrnco_npz(data_dir, tmp_path):
    p = load_problem(data_dir / "osm" / "osm_helsinki_101_rrnco_format.npz")
    assert p.n == 101 and p.coord_kind == "latlon" and p.variant == "ATSP"
    assert (np.abs(p.distance - p.distance.T) > 1e-9).mean() > 0.9
    assert not np.allclose(p.distance, p.duration)
    q = p.with_changes(demand=np.r_[0, np.ones(100)], capacity=10, num_vehicles=None, source="")
    assert q.variant == "ACVRP"
    write_npz(tmp_path / "q.npz", q)
    r = read_npz(tmp_path / "q.npz")
    assert r.variant == "ACVRP" and r.capacity == 10
    np.testing.assert_array_equal(r.distance, q.distance)


def test_variants():
    D = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], float)
    A = D.copy()
    A[0, 1] = 5
    assert Problem("t", D, num_vehicles=1).variant == "TSP"
    assert Problem("t", A, num_vehicles=1).variant == "ATSP"
    assert Problem("t", D, demand=[0, 1, 1], capacity=2).variant == "CVRP"
    assert Problem("t", D, duration=A, demand=[0, 1, 1], capacity=2).variant == "ACVRP"
    tw = [[0, 10], [0, 10], [0, 10]]
    assert Problem("t", D, demand=[0, 1, 1], capacity=2, time_windows=tw).variant == "VRPTW"
    assert Problem("t", A, demand=[0, 1, 1], capacity=2, time_windows=tw).variant == "ACVRPTW"


def _small_tw():
    D = np.array([[0, 2, 3, 4], [2, 0, 1, 9], [3, 1, 0, 1], [4, 9, 1, 0]], float)
    T = D.T * 2  # asymmetric and different from distances
    tw = [[0, 100], [0, 5], [0, 30], [10, 12]]
    return Problem("s", D, duration=T, demand=[0, 3, 4, 5], capacity=8, num_vehicles=2, time_windows=tw)


def test_evaluator_times_and_loads():
    p = _small_tw()
    ev = evaluate(p, [[1, 2], [3]])
    assert ev.feasible, ev.violations
    r1, r2 = ev.routes
    assert r1.distance == 2 + 1 + 3 and r1.load == 7
    assert r1.arrival == (4.0, 6.0, 12.0)  # T[0,1]=4, T[1,2]=2, T[2,0]=6
    assert r2.arrival[0] == 8.0 and r2.start[0] == 10.0 and r2.wait == 2.0
    assert ev.cost == 6 + 8


def test_evaluator_reports_each_violation():
    p = _small_tw()
    ev = evaluate(p, [[3, 2, 1]])
    assert not ev.feasible
    text = " | ".join(ev.violations)
    assert "load 12 exceeds capacity 8" in text
    assert "customer 1 reached at" in text
    ev = evaluate(p, [[1], [1, 2]])
    assert any("more than once: 1" in v for v in ev.violations)
    assert any("not visited: 3" in v for v in ev.violations)
    ev = evaluate(p, [[1], [2], [3]])
    assert any("more than the 2 vehicles" in v for v in ev.violations)
    ev = evaluate(p, [[1, 7]])
    assert not ev.feasible and "node 7 does not exist" in ev.violations[0]


def test_check_instance_before_solving():
    p = _small_tw().with_changes(demand=[0, 3, 9, 5])
    reasons = check_instance(p)
    assert any("customer 2 demands 9" in r for r in reasons)
    p = _small_tw().with_changes(time_windows=[[0, 100], [0, 1], [0, 30], [10, 12]])
    assert any("customer 1: time window closes at 1" in r for r in check_instance(p))
    assert check_instance(_small_tw()) == []


def test_solution_writers_roundtrip(data_dir, tmp_path):
    p = load_problem(data_dir / "solomon" / "C101.txt")
    routes, cost = read_solution(data_dir / "solomon" / "C101.sol")
    write_solution(tmp_path / "c.sol", p, routes)
    r2, c2 = read_solution(tmp_path / "c.sol")
    assert r2 == routes and c2 == cost
    write_solution_csv(tmp_path / "c.csv", p, routes)
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert len(lines) == 1 + 100 and lines[0].startswith("route,seq,node,x,y")
    gj = geojson(p, routes)
    lines_ = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines_) == len(routes)
    assert lines_[0]["geometry"]["coordinates"][0] == [40.0, 50.0]
    json.dumps(gj)


def test_csv_instance(tmp_path):
    f = tmp_path / "i.csv"
    f.write_text("# capacity: 10\n# vehicles: 2\nid,x,y,demand\n0,0,0,0\n1,3,4,5\n2,6,8,5\n")
    p = read_csv(f)
    assert p.variant == "CVRP" and p.distance[0, 1] == 5 and p.capacity == 10
    assert evaluate(p, [[1, 2]]).cost == 5 + 5 + 10


@pytest.mark.parametrize(
    "text,where",
    [
        ("id,x,y,demand\n0,0,0,0\n1,3,oops,5\n", ":3: column 'y'"),
        ("id,x,y,demand\n0,0,0,0\n1,3,4\n", ":3: 3 fields"),
        ("id,x,z\n0,0,0\n", ":1: header needs"),
        ("# capacity: ten\nid,x,y,demand\n0,0,0,0\n1,3,4,5\n", "metadata 'capacity'"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path, text, where):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(FormatError, match="bad.csv") as e:
        read_csv(f)
    assert where in str(e.value)


def test_malformed_files_name_the_line(data_dir, tmp_path):
    lines = (data_dir / "solomon" / "C101.txt").read_text().splitlines()
    lines[15] = lines[15].replace("69", "6x", 1)
    f = tmp_path / "C101.txt"
    f.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"C101.txt:16: expected numbers"):
        load_problem(f)
    lines = (data_dir / "cvrplib" / "X-n101-k25.vrp").read_text().splitlines()
    lines[9] = "3\t792\tabc"
    f = tmp_path / "X.vrp"
    f.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"X.vrp:10: expected numbers.*'abc'"):
        load_problem(f)
    lines = (data_dir / "tsplib_atsp" / "ftv33.atsp").read_text().splitlines()
    lines[10] = lines[10] + " 7x"
    f = tmp_path / "ftv33.atsp"
    f.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"ftv33.atsp:11: not a number: '7x'"):
        load_problem(f)
    f = tmp_path / "short.atsp"
    f.write_text("NAME: s\nTYPE: ATSP\nDIMENSION: 3\nEDGE_WEIGHT_SECTION\n0 1 2\n1 0\nEOF\n")
    with pytest.raises(FormatError, match="has 5 numbers, expected 9"):
        load_problem(f)
    f = tmp_path / "r.sol"
    f.write_text("Route #1: 1 2 x\n")
    with pytest.raises(FormatError, match=r"r.sol:1: route holds a non-integer"):
        read_solution(f)
    f = tmp_path / "b.npz"
    np.savez(f, distance=np.zeros((3, 3)))
    with pytest.raises(FormatError, match="'points' is missing"):
        load_problem(f)
