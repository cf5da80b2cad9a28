"""What the Sweeps panel shows besides the results: the whole grid of a heat map, units of the axes,
the per-user results folder, the demo's fresh start."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from engines.sweep.aggregate import codes_on
from engines.sweep.engine import SweepEngine, default_out
from engines.sweep.io import remove_results, sweeps_dir
from engines.sweep.kinds import unit_of
from engines.sweep.model import sweep_from_dict, sweep_from_text
from engines.sweep.params import SweepParams
from engines.sweep.store import read_results
from engines.sweep.templates import demo_text


def test_codes_on_spans_the_whole_grid_before_its_points_arrive():
    uniq, labels, idx = codes_on(np.array([0.5, 1.5, 0.5]), (0.0, 0.5, 1.0, 1.5))
    assert uniq.tolist() == [0.0, 0.5, 1.0, 1.5] and labels == ["0", "0.5", "1", "1.5"]
    assert idx.tolist() == [1, 3, 1]
    # text values, and no grid (sampled parameters): the values present
    uniq, _, idx = codes_on(np.array(["b"], dtype=object), ("a", "b", "c"))
    assert list(uniq) == ["a", "b", "c"] and idx.tolist() == [1]
    uniq, _, idx = codes_on(np.array([2.0, 1.0]))
    assert uniq.tolist() == [1.0, 2.0] and idx.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("kind", "name", "unit"),
    [
        ("spiking", "tau_m_ms", "ms"),  # from the parameter's doc "[ms]"
        ("spiking", "v_thresh_mV", "mV"),
        ("spiking", "duration_s", "s"),
        ("spiking", "rate_e_hz", "Hz"),  # a metric: from its name
        ("spiking", "w_exc", None),  # relative weight: no unit
        ("routing", "gap_percent", "%"),
        ("demo", "x", None),
        ("no-such-kind", "elapsed_s", "s"),
    ],
)
def test_unit_of_reads_docs_then_name_suffixes(kind, name, unit):
    assert unit_of(kind, name) == unit


def test_results_default_to_the_per_user_sweeps_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURAL_STUDIO_SWEEPS_DIR", str(tmp_path / "mine"))
    assert sweeps_dir() == tmp_path / "mine"
    spec = sweep_from_text(demo_text(), "<editor>")
    assert default_out(spec) == tmp_path / "mine" / "studio-demo.parquet"
    monkeypatch.delenv("NEURAL_STUDIO_SWEEPS_DIR")
    assert sweeps_dir().name == "sweeps" and "neural-studio" in str(sweeps_dir())


def test_the_studio_demo_is_a_long_grid_of_real_work():
    spec = sweep_from_dict(tomllib.loads(demo_text()), "<demo>")
    assert spec.kind == "demo" and spec.n_points() >= 150
    assert set(spec.grid) == {"x", "y"} and spec.fixed["work"] >= 300
    assert spec.fixed.get("sleep_s", 0.0) == 0.0  # the cost is computation, not sleep


def test_remove_results_deletes_only_the_sweeps_files(tmp_path):
    out = tmp_path / "r.parquet"
    text = "[sweep]\nname = 'r'\nkind = 'demo'\nseeds = [0]\n[grid]\nx = [0.0, 1.0]\n"
    e = SweepEngine(SweepParams(workers=0))
    e.set_text(text, out=out)
    list(e.sweep_job())
    assert read_results(out).num_rows == 2
    (out / "notes.txt").write_text("mine")
    assert remove_results(out) >= 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    (out / "notes.txt").unlink()
    e.set_text(text, out=out)
    assert e.snapshot().finished == 0  # a fresh start: nothing read back
    assert remove_results(tmp_path / "absent") == 0


def test_snapshot_carries_every_grid_value(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURAL_STUDIO_SWEEPS_DIR", str(tmp_path))
    e = SweepEngine(SweepParams(workers=0))
    e.set_text(
        "[sweep]\nname = 'g'\nkind = 'demo'\nseeds = [0]\n[grid]\nx = [0.0, 1.0]\ny = [2.0]\n", out=None
    )
    g = e.snapshot().grid
    assert tuple(g["x"]) == (0.0, 1.0) and tuple(g["y"]) == (2.0,)
