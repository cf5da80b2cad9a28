"""The sweep file, point ids, samples, the results folder and the spike metrics (no Dask)."""

from __future__ import annotations

import math
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from engines.sweep.kinds import get_kind, spike_metrics
from engines.sweep.model import SweepError, load_sweep, point_id, sweep_from_dict
from engines.sweep.store import ResultStore, export_results, read_results, results_schema

DEMO = """
[sweep]
name = "t"
kind = "demo"
seeds = 2

[fixed]
noise = 0.1

[grid]
x = { start = 0.0, stop = 1.0, num = 3 }
y = [0.1, 0.2]
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_grid_points_and_stable_ids(tmp_path):
    spec = load_sweep(write(tmp_path, DEMO))
    pts = list(spec.points())
    assert spec.n_points() == len(pts) == 3 * 2 * 2
    assert spec.swept == ("x", "y")
    assert spec.metrics == get_kind("demo").metrics  # default: every metric
    ids = [p.id for p in pts]
    assert len(set(ids)) == len(ids)
    # same file, same ids; ids depend on kind, params and seed only
    assert ids == [p.id for p in load_sweep(write(tmp_path, DEMO, "t.toml")).points()]
    p0 = pts[0]
    assert p0.id == point_id("demo", dict(p0.params), p0.seed)
    assert point_id("demo", {"x": 0.1 + 0.2}, 0) == point_id("demo", {"x": 0.3}, 0)
    assert point_id("demo", {"x": 0.3}, 0) != point_id("demo", {"x": 0.3}, 1)
    assert point_id("demo", {"x": 0.3}, 0) != point_id("demo", {"x": 0.3, "y": 0.0}, 0)


def test_latin_hypercube_fills_every_stratum_once(tmp_path):
    text = """
[sweep]
kind = "demo"
[sample]
method = "lhs"
n = 10
seed = 3
[sample.ranges]
x = [-1.0, 1.0]
noise = { low = 0.01, high = 1.0, log = true }
work = { low = 1, high = 4, int = true }
"""
    spec = load_sweep(write(tmp_path, text))
    pts = list(spec.points())
    assert len(pts) == 10
    x = np.array([p.params["x"] for p in pts])
    strata = np.floor((x + 1.0) / 2.0 * 10).astype(int)
    assert sorted(strata) == list(range(10))
    noise = np.array([p.params["noise"] for p in pts])
    lstrata = np.floor(np.log(noise / 0.01) / np.log(100.0) * 10).astype(int)
    assert sorted(lstrata) == list(range(10))
    assert {type(p.params["work"]) for p in pts} == {int}
    assert {p.params["work"] for p in pts} <= {1, 2, 3, 4}
    # same sample seed, same points; another seed, other points
    assert [p.id for p in spec.points()] == [p.id for p in pts]
    other = load_sweep(write(tmp_path, text.replace("seed = 3", "seed = 4"), "o.toml"))
    assert {p.id for p in other.points()}.isdisjoint({p.id for p in pts})


@pytest.mark.parametrize("method", ["random", "sobol", "halton"])
def test_other_samplers_stay_in_range(tmp_path, method):
    text = f"""
[sweep]
kind = "demo"
[grid]
y = [0.0, 1.0]
[sample]
method = "{method}"
n = 8
[sample.ranges]
x = [2.0, 3.0]
"""
    pts = list(load_sweep(write(tmp_path, text)).points())
    assert len(pts) == 16
    x = np.array([p.params["x"] for p in pts])
    assert np.all((x >= 2.0) & (x <= 3.0)) and np.unique(x).size == 8


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[sweep]\nkind = 'nope'\n", "[sweep] kind: unknown kind 'nope'"),
        ("[sweep]\n", "[sweep] kind is required"),
        ("[sweep]\nkind = 'demo'\nmetrics = ['f', 'zzz']\n", "metrics: zzz"),
        ("[sweep]\nkind = 'demo'\nseeds = [1, 1]\n", "seeds repeat"),
        ("[sweep]\nkind = 'demo'\n[grid]\nbogus = [1.0]\n", "[grid] bogus: kind 'demo' has no parameter"),
        ("[sweep]\nkind = 'demo'\n[grid]\nx = { start = 0, stop = 1 }\n", "[grid] x: a range needs"),
        ("[sweep]\nkind = 'demo'\n[grid]\nx = []\n", "[grid] x: the list of values is empty"),
        ("[sweep]\nkind = 'demo'\n[fixed]\nx = 1.0\n[grid]\nx = [1.0]\n", "[grid] x: already set in [fixed]"),
        ("[sweep]\nkind = 'demo'\n[grid]\nsleep_s = [0.0, -1.0]\n", "point (sleep_s = -1.0): sleep_s = -1.0"),
        ("[sweep]\nkind = 'demo'\n[grid]\nx = ['a']\n", "x = 'a': expected float"),
        ("[sweep]\nkind = 'demo'\n[sample]\nn = 4\n", "[sample] needs a non-empty [sample.ranges]"),
        ("[sweep]\nkind = 'demo'\n[sample]\nn = 4\nmethod = 'grid'\n[sample.ranges]\nx = [0, 1]\n", "method"),
        ("[sweep]\nkind = 'demo'\n[sample]\nn = 4\n[sample.ranges]\nx = [1, 0]\n", "[sample.ranges] x: low"),
        ("[sweep]\nkind = 'demo'\n[extra]\n", "unknown key(s) extra"),
        ("[sweep\nkind = 'demo'\n", "invalid TOML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, needle):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(SweepError) as e:
        load_sweep(path)
    msg = str(e.value)
    assert str(path) in msg and needle in msg, msg


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no-such.toml"):
        load_sweep("no-such.toml")


def test_toml_round_trip(tmp_path):
    text = DEMO + '\n[sample]\nmethod = "lhs"\nn = 3\n[sample.ranges]\nsleep_s = { low = 0.0, high = 0.01 }\n'
    spec = load_sweep(write(tmp_path, text))
    again = load_sweep(write(tmp_path, spec.to_toml(), "t.toml"))
    assert [p.id for p in again.points()] == [p.id for p in spec.points()]


def _row(spec, p, status="ok", f=1.0, t=0.0):
    r = {"point_id": p.id, "sweep": spec.name, **p.params, "seed": p.seed, "kind": p.kind, "status": status}
    r.update(f=f, r=2.0, draw=0.5, finished_at=t, error=None if status == "ok" else "Traceback ...")
    return r


def test_store_appends_parts_and_keeps_the_best_row(tmp_path):
    spec = load_sweep(write(tmp_path, DEMO))
    pts = list(spec.points())
    schema = results_schema(spec)
    store = ResultStore(tmp_path / "res.parquet")
    store.append([_row(spec, pts[0], "failed", None, 1.0), _row(spec, pts[1], "ok", 5.0, 1.0)], schema)
    store.append([_row(spec, pts[0], "ok", 3.0, 2.0), _row(spec, pts[1], "failed", None, 3.0)], schema)
    assert len(store.parts()) == 2
    assert not [p for p in os.listdir(store.path) if p.endswith(".tmp")]
    assert store.status() == {pts[0].id: "ok", pts[1].id: "ok"}
    t = read_results(store.path)
    assert t.num_rows == 2
    got = {r["point_id"]: r for r in t.to_pylist()}
    assert got[pts[0].id]["f"] == 3.0 and got[pts[1].id]["f"] == 5.0  # ok beats a newer failure
    assert read_results(store.path, keep_all=True).num_rows == 4
    # the folder reads as one dataset with plain pyarrow too
    assert pq.read_table(store.path).num_rows == 4
    store.compact()
    assert len(store.parts()) == 1 and read_results(store.path).num_rows == 2
    n = export_results(store.path, tmp_path / "out.csv")
    assert n == 2 and (tmp_path / "out.csv").read_text().count("\n") == 3


def test_store_refuses_a_file(tmp_path):
    f = tmp_path / "x.parquet"
    f.write_bytes(b"PAR1")
    with pytest.raises(SweepError, match="x.parquet: is a file"):
        ResultStore(f)


def test_spike_metrics_on_known_trains():
    n, steps, dt = 50, 10_000, 0.1  # 1 s
    # regular: every neuron fires every 10 ms with its own phase -> CV 0, low synchrony
    rng = np.random.default_rng(0)
    phase = rng.integers(0, 100, n)
    s = np.concatenate([np.arange(ph, steps, 100) for ph in phase])
    u = np.concatenate([np.full(len(range(ph, steps, 100)), i) for i, ph in enumerate(phase)])
    m = spike_metrics(s, u, n, 40, steps, dt, 5.0)
    assert m["rate_hz"] == pytest.approx(100.0, rel=0.01)
    assert m["isi_cv"] == pytest.approx(0.0, abs=1e-9)
    assert m["active_fraction"] == 1.0
    # Poisson: CV close to 1; independent neurons -> synchrony about 1/sqrt(n)
    s, u = [], []
    for i in range(n):
        t = np.unique(rng.integers(0, steps, rng.poisson(200)))
        s.append(t)
        u.append(np.full(t.size, i))
    s, u = np.concatenate(s), np.concatenate(u)
    m = spike_metrics(s, u, n, 40, steps, dt, 5.0)
    assert m["isi_cv"] == pytest.approx(1.0, abs=0.1)
    assert m["synchrony"] < 3.0 / math.sqrt(n)
    # the same spike times in every neuron -> synchrony 1
    t = np.unique(rng.integers(0, steps, 100))
    m = spike_metrics(np.tile(t, n), np.repeat(np.arange(n), t.size), n, 40, steps, dt, 5.0)
    assert m["synchrony"] == pytest.approx(1.0, abs=1e-9)
    assert m["rate_e_hz"] == pytest.approx(m["rate_i_hz"])


def test_sweep_from_dict_checks_spiking_fields(tmp_path):
    data = {"sweep": {"kind": "spiking"}, "grid": {"w_exc": [0.3, -1.0]}}
    with pytest.raises(SweepError, match=r"w_exc = -1.0.*allowed range"):
        sweep_from_dict(data, source="mem.toml")


def test_store_reads_parts_with_a_zoned_time_and_names_type_clashes(tmp_path):
    import pyarrow as pa

    folder = tmp_path / "r.parquet"
    folder.mkdir()
    zoned = pa.array([1_700_000_000_000], pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    pq.write_table(
        pa.table({"point_id": ["a"], "status": ["ok"], "finished_at": zoned}), folder / "part-1.parquet"
    )
    naive = pa.array([1_700_000_001_000], pa.timestamp("ms"))
    pq.write_table(
        pa.table({"point_id": ["b"], "status": ["ok"], "finished_at": naive}), folder / "part-2.parquet"
    )
    t = read_results(folder)
    assert sorted(t.column("point_id").to_pylist()) == ["a", "b"]
    pq.write_table(pa.table({"point_id": ["c"], "status": [3]}), folder / "part-3.parquet")
    with pytest.raises(SweepError, match="r.parquet: part files disagree"):
        read_results(folder)
