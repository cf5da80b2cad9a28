"""Routing instance and solution files that are hostile or careless are refused with FormatError naming them."""

import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

from engines.routing.io import MAX_NODES, FormatError, load_problem, read_solution, write_npz
from engines.routing.problem import Problem, RoadGeometry
from tests.engines.test_serialize_hostile import npy_bytes
from tests.fuzz import FUZZ, check_loader, hostile_bytes, hostile_zips, zip_bytes

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
   3         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1236          0
    1      45         68         10        912        967         90
    2      45         70         30        825        870         90
    3      42         66         10         65        146         90
"""

VRP_EUC = """NAME : tiny
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 1 1
DEMAND_SECTION
1 0
2 3
3 4
4 5
DEPOT_SECTION
1
-1
EOF
"""

VRP_EXPLICIT = """NAME : tinyx
TYPE : CVRP
DIMENSION : 3
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : FULL_MATRIX
CAPACITY : 10
EDGE_WEIGHT_SECTION
0 1 2
1 0 3
2 3 0
DEMAND_SECTION
1 0
2 1
3 1
DEPOT_SECTION
1
-1
EOF
"""

ATSP = """NAME: tiny
TYPE: ATSP
DIMENSION: 3
EDGE_WEIGHT_TYPE: EXPLICIT
EDGE_WEIGHT_FORMAT: FULL_MATRIX
EDGE_WEIGHT_SECTION
 9999 3 5
 4 9999
 7
 2 6 9999
EOF
"""

CSV = """# capacity: 20
# vehicles: 2
id,x,y,demand,ready,due,service
0,50,50,0,0,1000,0
1,12,80,10,0,400,10
2,30,20,5,100,600,10
"""

SOL = "Route #1: 1 2\nRoute #2: 3\nCost 27\n"


def _tiny_problem(roads: bool = True) -> Problem:
    """A 3-node ACVRP with latitude/longitude points and street geometry."""
    d = np.array([[0, 2.0, 3.0], [2.0, 0, 1.5], [3.0, 1.5, 0]])
    geometry = None
    if roads:
        geometry = RoadGeometry(
            np.array([[24.9, 60.1], [24.95, 60.12], [25.0, 60.15], [24.97, 60.13]]),
            np.array([[0, 1], [1, 2], [2, 3]]),
            np.array([0, 2, 3]),
            np.array([[-1, 0, 1, 2], [1, 2, -1, 2], [1, 2, 3, -1]]),
        )
    p = Problem(
        "tiny",
        d,
        duration=d * 2,
        coords=np.array([[60.1, 24.9], [60.15, 25.0], [60.13, 24.97]]),
        coord_kind="latlon",
        demand=np.array([0.0, 1.0, 2.0]),
        capacity=5.0,
        bks=4.0,
        roads=geometry,
    )
    return p


@pytest.fixture
def npz_file(tmp_path):
    f = tmp_path / "tiny.npz"
    write_npz(f, _tiny_problem())
    return f


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def refused(path, data, match: str) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with pytest.raises(FormatError, match=match) as e:
        load_problem(path)
    assert str(e.value).startswith(str(path)), str(e.value)
    return str(e.value)


# --------------------------------------------------------------------------
# the findings of the issue
# --------------------------------------------------------------------------


def test_npz_of_zip_magic_plus_zeros_is_refused_not_a_bad_zip_file(tmp_path):
    refused(tmp_path / "zeros.npz", b"PK\x03\x04" + bytes(400), "zeros.npz: not a routing .npz file")


def test_npz_with_a_two_value_bks_is_refused_not_a_type_error(tmp_path, npz_file):
    m = _members(npz_file)
    m["bks.npy"] = npy_bytes(np.array([1.0, 2.0]))
    refused(tmp_path / "bks.npz", zip_bytes(m), r"bks.npz: array 'bks' must hold one number")


def test_npz_with_truncated_array_data_names_the_file_and_the_member(tmp_path, npz_file):
    m = _members(npz_file)
    m["distance.npy"] = m["distance.npy"][:-8]
    msg = refused(tmp_path / "cut.npz", zip_bytes(m), "cut.npz: member distance.npy")
    assert "truncated" in msg


def test_solomon_customer_number_inf_is_refused_not_an_overflow_error(tmp_path):
    bad = SOLOMON.replace("    2      45", "    inf    45")
    refused(tmp_path / "inf.txt", bad, r"inf.txt:12: customer number = inf: must be an integer")


@pytest.mark.parametrize(
    "old, new, what",
    [
        (" 10        912", " nan        912", r":11: DEMAND = nan"),
        ("912        967", "nan        967", r":11: READY TIME = nan"),
        ("912        967", "912        nan", r":11: DUE DATE = nan"),
        (" 90\n    2", " -5\n    2", r":11: SERVICE TIME = -5"),
        ("912        967", "967        912", r":11: READY TIME 967 is after DUE DATE 912"),
        ("   3         50", "   3         inf", r":5: vehicle CAPACITY = inf"),
        ("   3         50", "   2.5       50", r":5: vehicle NUMBER = 2.5"),
        ("    1      45", "    1      1e999", r":11: XCOORD = 1e999"),
    ],
)
def test_solomon_nonfinite_negative_or_inconsistent_numbers_are_refused_with_their_line(
    tmp_path, old, new, what
):
    assert old in SOLOMON
    refused(tmp_path / "bad.txt", SOLOMON.replace(old, new, 1), "bad.txt" + what)


def test_distances_of_minus_1e308_are_refused_in_every_format(tmp_path, npz_file):
    refused(
        tmp_path / "neg.vrp", VRP_EXPLICIT.replace("1 0 3", "1 0 -1e308"), r"neg.vrp:9: EDGE_WEIGHT_SECTION"
    )
    refused(tmp_path / "neg.atsp", ATSP.replace(" 4 9999", " -1e308 9999"), r"neg.atsp:8: distance 2 -> 1")
    m = _members(npz_file)
    m["distance.npy"] = npy_bytes(np.full((3, 3), -1e308))
    refused(tmp_path / "neg.npz", zip_bytes(m), r"neg.npz: distance matrix at \[0, 1\] is out of range")
    m["distance.npy"] = npy_bytes(np.full((3, 3), np.nan))
    refused(tmp_path / "nan.npz", zip_bytes(m), r"nan.npz: distance matrix at \[0, 1\] is non-finite")


def test_nan_demands_and_time_windows_are_refused_in_npz_and_csv(tmp_path, npz_file):
    m = _members(npz_file)
    refused(
        tmp_path / "d.npz",
        zip_bytes({**m, "demand.npy": npy_bytes(np.array([0, np.nan, 1]))}),
        "demand of node 1",
    )
    tw = np.array([[0, 10], [np.nan, 5], [0, 1]])
    refused(tmp_path / "t.npz", zip_bytes({**m, "time_windows.npy": npy_bytes(tw)}), "time window of node 1")
    refused(tmp_path / "c.csv", CSV.replace("1,12,80,10", "1,12,80,nan"), r"c.csv:5: column 'demand' = nan")
    refused(tmp_path / "c.csv", CSV.replace("100,600", "100,inf"), r"c.csv:6: column 'due' = inf")
    refused(tmp_path / "c.csv", CSV.replace("100,600", "600,100"), r"c.csv:6: ready 600 is after due 100")


# --------------------------------------------------------------------------
# sizes and structure
# --------------------------------------------------------------------------


def test_instances_larger_than_max_nodes_are_refused_before_any_matrix_is_built(tmp_path):
    refused(
        tmp_path / "big.vrp",
        VRP_EUC.replace("DIMENSION : 4", "DIMENSION : 100000000"),
        r"big.vrp:3: DIMENSION",
    )
    rows = "".join(f"{i} {i} {i}\n" for i in range(1, 50))
    refused(
        tmp_path / "more.vrp",
        VRP_EUC.replace("1 0 0\n", "1 0 0\n" + rows),
        "more.vrp:.*more rows than DIMENSION",
    )
    refused(
        tmp_path / "big.atsp",
        ATSP.replace("DIMENSION: 3", f"DIMENSION: {MAX_NODES + 1}"),
        "big.atsp: DIMENSION",
    )
    refused(tmp_path / "neg.atsp", ATSP.replace("DIMENSION: 3", "DIMENSION: -3"), "neg.atsp: DIMENSION")
    many = "id,x,y\n" + "".join(f"{i},{i},{i}\n" for i in range(MAX_NODES + 1))
    refused(tmp_path / "many.csv", many, f"many.csv:{MAX_NODES + 2}: more than {MAX_NODES} nodes")


def test_npz_arrays_of_the_wrong_kind_or_shape_are_refused(tmp_path, npz_file):
    m = _members(npz_file)
    cases = {
        "name": npy_bytes(np.array([1, 2])),
        "points": npy_bytes(np.zeros((4, 2))),
        "duration": npy_bytes(np.zeros((2, 2))),
        "distance": npy_bytes(np.array(["a", "b"])),
        "num_vehicles": npy_bytes(np.array(2.5)),
        "road_pred": npy_bytes(np.full((3, 4), 99)),
        "road_edges": npy_bytes(np.array([[0, 7]])),
        "capacity": npy_bytes(np.array(np.inf)),
    }
    for key, data in cases.items():
        refused(tmp_path / f"{key}.npz", zip_bytes({**m, f"{key}.npy": data}), f"{key}.npz: ")


def test_csv_errors_of_the_csv_module_name_the_file_and_line(tmp_path):
    refused(tmp_path / "big.csv", 'id,x,y\n0,0,0\n1,"' + "1" * 200_000 + '",1\n', r"big.csv:3: not valid CSV")


def test_solution_files_with_nonfinite_costs_or_absurd_nodes_are_refused(tmp_path):
    f = tmp_path / "x.sol"
    for text, match in (
        ("Route #1: 1 2\nCost nan\n", "x.sol:2: cost = nan"),
        ("Route #1: 1 99999999999\n", "x.sol:1: route holds a node outside"),
        ("Route #1: 1 " + "9" * 5000 + "\n", "x.sol:1: route holds a non-integer"),
    ):
        f.write_text(text)
        with pytest.raises(FormatError, match=match):
            read_solution(f)


def test_a_bad_sibling_solution_does_not_spoil_its_instance(tmp_path):
    (tmp_path / "tiny.txt").write_text(SOLOMON)
    (tmp_path / "tiny.sol").write_text("Route #1: 1\nCost -5\n")
    assert load_problem(tmp_path / "tiny.txt").bks is None


def test_the_small_valid_files_load(tmp_path, npz_file):
    for name, text, n in (
        ("a.txt", SOLOMON, 4),
        ("a.vrp", VRP_EUC, 4),
        ("b.vrp", VRP_EXPLICIT, 3),
        ("a.atsp", ATSP, 3),
        ("a.csv", CSV, 3),
    ):
        (tmp_path / name).write_text(text)
        assert load_problem(tmp_path / name).n == n, name
    p = load_problem(npz_file)
    assert p.n == 3 and p.roads is not None and p.bks == 4.0


# --------------------------------------------------------------------------
# fuzzing
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix, seeds, examples",
    [
        (".txt", (SOLOMON,), 2000),
        (".vrp", (VRP_EUC, VRP_EXPLICIT), 2000),
        (".atsp", (ATSP,), 1500),
        (".csv", (CSV,), 1500),
    ],
)
def test_fuzzed_text_instances_load_or_are_refused(tmp_path, suffix, seeds, examples):
    @settings(FUZZ, max_examples=examples)
    @given(data=hostile_bytes(*(s.encode() for s in seeds)))
    def run(data):
        p = check_loader(load_problem, tmp_path / f"fuzz{suffix}", data)
        if p is not None:
            assert np.all(np.isfinite(p.distance)) and p.distance.min() >= 0 and p.n <= MAX_NODES

    run()


def test_fuzzed_npz_instances_load_or_are_refused(tmp_path, npz_file):
    @settings(FUZZ, max_examples=1500)
    @given(data=hostile_zips(_members(npz_file)))
    def run(data):
        p = check_loader(load_problem, tmp_path / "fuzz.npz", data)
        if p is not None and p.roads is not None:
            for j in range(1, p.n):  # the street geometry can be walked
                assert len(p.roads.leg(0, j)) >= 1

    run()


@settings(FUZZ, max_examples=2500)
@given(data=hostile_bytes(SOL.encode()))
def test_fuzzed_solution_files_load_or_are_refused(tmp_path, data):
    check_loader(read_solution, tmp_path / "fuzz.sol", data)
