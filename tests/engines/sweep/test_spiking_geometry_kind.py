"""The spiking-geometry sweep kind: a spiking classifier trained per point, its readout's geometry."""

from __future__ import annotations

import pytest

from engines.sweep.execute import run_sweep
from engines.sweep.kinds import get_kind
from engines.sweep.model import SweepError, sweep_from_dict
from engines.sweep.store import read_results


def test_learning_raises_the_readout_capacity_over_a_sweep(tmp_path):
    """lr 0 (the untrained network) against lr 0.3; 5 digits x 8 images, two epochs of 400 images.
    Seen (seeds 0, 1, 2): capacity 0.39-0.41 at lr 0, 0.43-0.55 at lr 0.3, rises 0.04, 0.14, 0.11
    (accuracy 0-0.1 -> 0.68-0.83). Asserted for seeds 0 and 1: a rise each, 0.05 on average."""
    data = {
        "sweep": {"name": "lr", "kind": "spiking-geometry", "seeds": [0, 1]},
        "fixed": {"classes": 5, "per_class": 8, "n_train": 400, "epochs": 2, "n_t": 60},
        "grid": {"lr": [0.0, 0.3]},
    }
    spec = sweep_from_dict(data, source="lr.toml")
    s = run_sweep(spec, tmp_path / "a.parquet", n_workers=0)
    assert (s.computed, s.failed) == (4, 0)
    rows = read_results(tmp_path / "a.parquet").to_pylist()
    by = {(r["lr"], r["seed"]): r for r in rows}
    rises = [by[0.3, seed]["capacity"] - by[0.0, seed]["capacity"] for seed in (0, 1)]
    assert min(rises) > 0.0 and sum(rises) / 2 > 0.05, rows
    for seed in (0, 1):
        assert by[0.3, seed]["accuracy"] > by[0.0, seed]["accuracy"] + 0.4
        assert by[0.3, seed]["N"] == 10.0


def test_neurocorex_points_run_on_both_datapaths():
    kind = get_kind("spiking-geometry")
    base = {"network": "neurocorex", "classes": 3, "per_class": 4, "n_train": 60, "n_t": 30}
    out = {dp: kind.run({**base, "datapath": dp}, seed=0) for dp in ("fixed", "float")}
    for m in out.values():
        assert m["N"] == 10.0 and 0.0 <= m["capacity"] < 5.0 and 0.0 <= m["accuracy"] <= 1.0


@pytest.mark.parametrize(
    "fixed, match",
    [
        ({"network": "lif"}, "network = 'lif'"),
        ({"datapath": "half"}, "datapath = 'half'"),
        ({"classes": 12}, r"classes = 12: allowed range is \[2, 10\]"),
        ({"threshold": 40.0}, "threshold = 40.0"),
        ({"beta": 2.0}, "beta"),
        ({"hidden": 0.5}, "hidden = 0.5: expected int"),
    ],
)
def test_bad_points_are_refused_by_name_before_running(fixed, match):
    data = {"sweep": {"kind": "spiking-geometry"}, "fixed": fixed, "grid": {"lr": [0.1]}}
    with pytest.raises((SweepError, ValueError), match=match):
        sweep_from_dict(data, source="bad.toml")
