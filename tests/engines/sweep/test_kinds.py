"""The built-in kinds call the engines' real APIs (run in this process: the runner is tested elsewhere)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from engines.sweep.execute import run_sweep
from engines.sweep.kinds import get_kind, resolve_data_path
from engines.sweep.model import SweepError, load_sweep, sweep_from_dict
from engines.sweep.store import read_results

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples" / "sweeps").glob("*.toml"))


def _has_routing_data() -> bool:
    try:
        resolve_data_path("cvrplib/X-n101-k25.vrp")
        return True
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(path):
    text = path.read_text()
    if 'kind = "routing"' in text and not _has_routing_data():
        pytest.skip("routing data not found")
    spec = load_sweep(path)
    assert spec.n_points() == len(list(spec.points())) > 0


def _rows(path):
    return {r["point_id"]: r for r in read_results(path).to_pylist()}


def test_spiking_kind_rates_fall_with_inhibition(tmp_path):
    data = {
        "sweep": {"name": "ei", "kind": "spiking", "seeds": [0]},
        "fixed": {"n_neurons": 800, "p_connect": 0.1, "duration_s": 0.2, "warmup_s": 0.05},
        "grid": {"w_inh": [2.0, 15.0]},
    }
    spec = sweep_from_dict(data, source="ei.toml")
    s = run_sweep(spec, tmp_path / "a.parquet", n_workers=0)
    assert (s.computed, s.failed) == (2, 0)
    rows = _rows(tmp_path / "a.parquet")
    by_wi = {r["w_inh"]: r for r in rows.values()}
    weak, strong = by_wi[2.0], by_wi[15.0]
    assert weak["rate_hz"] > 2.0 * strong["rate_hz"], (weak["rate_hz"], strong["rate_hz"])
    for r in rows.values():
        assert r["rate_hz"] == pytest.approx(r["spikes"] / 800 / 0.2)
        assert 0.0 <= r["active_fraction"] <= 1.0
        assert r["synapses"] > 0
    assert 0.0 < weak["isi_cv"] < 3.0 and 0.0 < weak["synchrony"] <= 1.0
    # same seed, same parameters: the same numbers
    run_sweep(spec, tmp_path / "b.parquet", n_workers=0)
    again = _rows(tmp_path / "b.parquet")
    for pid, r in rows.items():
        for m in ("rate_hz", "isi_cv", "synchrony", "spikes"):
            assert again[pid][m] == r[m] or (math.isnan(r[m]) and math.isnan(again[pid][m]))


def test_spiking_kind_rejects_bad_fields_before_running(tmp_path):
    bad = {"sweep": {"kind": "spiking"}, "fixed": {"duration_s": 0.0}}
    with pytest.raises(SweepError, match=r"bad.toml: point \(fixed parameters\): duration_s = 0.0"):
        sweep_from_dict(bad, source="bad.toml")
    bad = {"sweep": {"kind": "spiking"}, "fixed": {"preset": "nope"}}
    with pytest.raises(SweepError, match="unknown spiking preset 'nope'"):
        sweep_from_dict(bad, source="bad.toml")


@pytest.mark.skipif(not _has_routing_data(), reason="routing data not found")
def test_routing_kind_cost_gap_and_time(tmp_path):
    data = {
        "sweep": {"name": "r", "kind": "routing", "seeds": [0, 1]},
        "fixed": {"instance": "cvrplib/X-n101-k25.vrp", "max_iterations": 20},
        "grid": {"solver": ["ls"], "time_limit_s": [0.3]},
    }
    spec = sweep_from_dict(data, source="r.toml")
    s = run_sweep(spec, tmp_path / "r.parquet", n_workers=0)
    assert (s.computed, s.failed) == (2, 0)
    for r in _rows(tmp_path / "r.parquet").values():
        assert r["feasible"] == 1.0 and r["bks"] == 27591.0 and r["customers"] == 100
        assert r["cost"] >= r["bks"]
        assert r["gap_percent"] == pytest.approx(100.0 * (r["cost"] - r["bks"]) / r["bks"], abs=1e-3)
        assert r["gap_percent"] < 15.0  # savings + local search on X-n101 is within a few percent
        assert r["time_s"] > 0
    # a capped number of iterations makes a point reproducible
    run_sweep(spec, tmp_path / "s.parquet", n_workers=0)
    a, b = _rows(tmp_path / "r.parquet"), _rows(tmp_path / "s.parquet")
    assert {k: v["cost"] for k, v in a.items()} == {k: v["cost"] for k, v in b.items()}


def test_routing_kind_names_a_missing_instance():
    bad = {"sweep": {"kind": "routing"}, "grid": {"instance": ["no/such.vrp"]}}
    with pytest.raises(
        SweepError, match=r"bad.toml: point \(instance = 'no/such.vrp'\): instance: no/such.vrp"
    ):
        sweep_from_dict(bad, source="bad.toml")


def _has_geometry_models() -> bool:
    try:
        from engines.geometry.train import asset_path
    except ImportError:
        return False
    return all(asset_path(k).exists() for k in ("standard", "adversarial"))


@pytest.mark.skipif(not _has_geometry_models(), reason="trained geometry networks not found")
def test_geometry_kind_capacity_and_accuracy_against_eps(tmp_path):
    data = {
        "sweep": {"name": "g", "kind": "geometry", "seeds": [0]},
        "fixed": {"layer": "fc1", "P": 5, "M": 4, "n_t": 30, "steps": 3},
        "grid": {"model": ["standard", "adversarial"], "eps": [0.0, 0.2]},
    }
    spec = sweep_from_dict(data, source="g.toml")
    s = run_sweep(spec, tmp_path / "g.parquet", n_workers=0)
    assert (s.computed, s.failed) == (4, 0)
    got = {(r["model"], r["eps"]): r for r in _rows(tmp_path / "g.parquet").values()}
    for r in got.values():
        assert r["capacity"] > 0 and r["radius"] >= 0 and r["dimension"] >= 0 and 0 <= r["accuracy"] <= 1
    # exemplar manifolds of a deterministic net are single points when clean, and spread under attack
    assert got[("standard", 0.0)]["radius"] == pytest.approx(0.0, abs=1e-9)
    assert got[("standard", 0.2)]["radius"] > 0.05
    # PGD at eps 0.2 hurts the standard net more than the adversarially trained one
    assert got[("standard", 0.2)]["accuracy"] < got[("standard", 0.0)]["accuracy"]
    assert got[("standard", 0.2)]["accuracy"] < got[("adversarial", 0.2)]["accuracy"]


def test_geometry_kind_names_bad_fields():
    bad = {"sweep": {"kind": "geometry"}, "grid": {"layer": ["fc1", "fc9"]}}
    with pytest.raises(SweepError, match=r"b.toml: point \(layer = 'fc9'\): .*layers"):
        sweep_from_dict(bad, source="b.toml")
    bad = {"sweep": {"kind": "geometry"}, "fixed": {"model": "huge"}}
    with pytest.raises(SweepError, match="model = 'huge'"):
        sweep_from_dict(bad, source="b.toml")


def test_kind_listing():
    demo = get_kind("demo")
    assert demo.metrics == ("f", "r", "draw")
    with pytest.raises(ValueError, match="unknown kind 'zzz'"):
        get_kind("zzz")
