"""Analysis job, engine, activation import and the command line."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from engines.__main__ import main as engines_main
from engines.base import drive_job
from engines.geometry.analysis import analysis_job
from engines.geometry.engine import GeometryEngine
from engines.geometry.io import CSV_COLUMNS, load_activations, rows_to_csv
from engines.geometry.models import DigitNet
from engines.geometry.params import AnalysisParams
from engines.serialize import FormatError, load_state, save_state


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {k: DigitNet(k) for k in ("standard", "adversarial", "stochastic")}


TINY = dict(P=3, M=4, n_t=30, layers="conv3,fc1", eps="0,0.1", steps=2, eot=2)


def test_analysis_rows_csv_and_embeddings(nets):
    p = AnalysisParams(**TINY)
    progress = []
    result, done = drive_job(analysis_job(p, nets), progress.append)
    assert done
    assert len(result.rows) == 3 * 2 * 2  # models x eps x layers
    assert progress[-1].done == progress[-1].total == 6
    r = result.select(model="standard", layer="fc1", eps=0.1)[0]
    assert r["P"] == 3 and r["M"] == 4 and r["N"] == 64 and r["kappa"] == 0.0
    assert np.isfinite(r["capacity"]) and 0 <= r["accuracy"] <= 1
    text = rows_to_csv(result.rows)
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header[: len(CSV_COLUMNS)]) == CSV_COLUMNS
    emb = result.embeddings[("stochastic", "fc1", 0.1)]
    assert emb.points.shape == (2 * 3 * 4, 3)
    assert emb.perturbed.sum() == 12 and set(emb.manifold) == {0, 1, 2}
    # deterministic deterministic nets at eps 0: exemplar points coincide (radius 0)
    z = result.select(model="standard", layer="fc1", eps=0.0)[0]
    assert z["radius"] == pytest.approx(0.0, abs=1e-9)
    # the stochastic net's clean exemplar manifold is its noise: radius > 0
    assert result.select(model="stochastic", layer="fc1", eps=0.0)[0]["radius"] > 0


def test_analysis_is_reproducible_and_stoppable(nets):
    p = AnalysisParams(**{**TINY, "models": "stochastic", "manifold": "class"})
    a, _ = drive_job(analysis_job(p, nets))
    b, _ = drive_job(analysis_job(p, nets))
    assert [r["capacity"] for r in a.rows] == [r["capacity"] for r in b.rows]
    stopped, completed = drive_job(analysis_job(p, nets), should_stop=iter([False, True, True]).__next__)
    assert not completed and len(stopped.rows) == 2  # one eps done (2 layers)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="models"):
        AnalysisParams(models="resnet")
    with pytest.raises(ValueError, match="layers"):
        AnalysisParams(layers="fc9")
    with pytest.raises(ValueError, match="eps"):
        AnalysisParams(eps="0,abc")
    with pytest.raises(ValueError, match="P"):
        AnalysisParams(P=1)


def test_engine_job_snapshot_and_state(nets, tmp_path):
    eng = GeometryEngine(AnalysisParams(**{**TINY, "models": "standard,stochastic"}), models=nets)
    assert eng.step(5) == 0
    result, done = drive_job(eng.analyze_job())
    assert done and len(result.rows) == 8
    snap = eng.snapshot()
    assert snap.progress == 1.0 and len(snap.rows) == 8 and snap.analyses_done == 1
    e = snap.embeddings[("standard", "fc1", 0.1)]
    assert not e.points.flags.writeable
    save_state(tmp_path / "g.zip", eng.state_dict(), "geometry")
    eng2 = GeometryEngine(models=nets)
    eng2.load_state_dict(load_state(tmp_path / "g.zip", "geometry"))
    assert eng2.snapshot().rows == snap.rows
    assert eng2.params == eng.params
    text = eng.to_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text() == text
    eng.reset()
    assert eng.snapshot().rows == ()


def test_engine_names_missing_weights(tmp_path):
    eng = GeometryEngine(AnalysisParams(models="standard"), asset_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="digits_standard.zip"):
        drive_job(eng.analyze_job())


def _manifolds(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 6, 20))


def test_import_npy_npz_h5(tmp_path):
    import h5py

    X = _manifolds()
    np.save(tmp_path / "a.npy", X)
    assert len(load_activations(tmp_path / "a.npy")) == 4
    feats = X.reshape(-1, 20)
    labels = np.repeat([3, 1, 2, 0], 6)
    np.savez(tmp_path / "b.npz", features=feats, labels=labels)
    mans = load_activations(tmp_path / "b.npz")
    np.testing.assert_array_equal(mans[0], X[3])  # sorted label order
    with h5py.File(tmp_path / "c.h5", "w") as h:
        h["grp/acts"] = feats
        h["grp/y"] = labels
    mans = load_activations(tmp_path / "c.h5", features="grp/acts", labels="grp/y")
    np.testing.assert_array_equal(mans[2], X[2])


def test_import_bad_files_are_named(tmp_path):
    np.save(tmp_path / "flat.npy", np.ones((5, 3)))
    with pytest.raises(FormatError, match=r"flat.npy: a .npy file must hold a P x M x N"):
        load_activations(tmp_path / "flat.npy")
    np.savez(tmp_path / "mis.npz", features=np.ones((5, 3)), labels=np.arange(4))
    with pytest.raises(ValueError, match="labels do not match"):
        load_activations(tmp_path / "mis.npz")
    bad = _manifolds()
    bad[1, 2, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(FormatError, match=r"nan.npy: manifold 1: 1 NaN"):
        load_activations(tmp_path / "nan.npy")
    np.save(tmp_path / "one.npy", bad[:1])
    with pytest.raises(FormatError, match="at least P = 2"):
        load_activations(tmp_path / "one.npy")
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(FormatError, match="unknown extension"):
        load_activations(tmp_path / "x.txt")


def test_cli_analyze_json(tmp_path):
    np.save(tmp_path / "a.npy", _manifolds(1))
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = engines_main(["geometry", "analyze", str(tmp_path / "a.npy"), "--n-t", "50", "--json"])
    assert rc == 0
    out = json.loads(buf.getvalue())
    assert out["P"] == 4 and out["M"] == 6 and out["N"] == 20
    assert out["capacity"] > 0 and out["K"] >= 0
    # a bad file: exit code 2 and a message naming it
    np.save(tmp_path / "flat.npy", np.ones((5, 3)))
    assert engines_main(["geometry", "analyze", str(tmp_path / "flat.npy")]) == 2


@pytest.mark.slow
def test_cli_sweep_writes_csv_with_the_shipped_networks(tmp_path):
    out = tmp_path / "results.csv"
    rc = engines_main(
        [
            "geometry",
            "sweep",
            "--models",
            "standard,stochastic",
            "--eps",
            "0,0.1",
            "--seeds",
            "2",
            "--layers",
            "fc1",
        ]
        + ["--P", "3", "--M", "3", "--n-t", "20", "--steps", "2", "--eot", "1", "--out", str(out)]
    )
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 * 2 * 2
    assert tuple(rows[0])[: len(CSV_COLUMNS)] == CSV_COLUMNS
    assert {r["seed"] for r in rows} == {"0", "1"}
    # several noise levels: the stochastic net once per level, the others once
    out2 = tmp_path / "noise.csv"
    rc = engines_main(
        ["geometry", "sweep", "--models", "standard,stochastic", "--eps", "0.1", "--layers", "fc1"]
        + ["--noise-scale", "0.5,2", "--P", "3", "--M", "3", "--n-t", "20", "--steps", "1", "--eot", "1"]
        + ["--out", str(out2)]
    )
    assert rc == 0
    rows = list(csv.DictReader(out2.open()))
    assert [(r["model"], float(r["noise_scale"])) for r in rows] == [
        ("standard", 0.0),
        ("stochastic", 0.5),
        ("stochastic", 2.0),
    ]


def test_simcap_column_when_asked(nets):
    p = AnalysisParams(**{**TINY, "models": "standard", "eps": "0", "layers": "fc1", "simcap": True})
    class_p = p.replace(manifold="class", P=6, M=3)
    res, _ = drive_job(analysis_job(class_p, nets))
    assert res.rows[0]["simcap"] > 0
    # exemplar manifolds of a deterministic net at eps 0 are points on top of each other: still measured
    ex, _ = drive_job(analysis_job(p, nets))
    assert "simcap" in ex.rows[0]


def test_wide_layers_are_randomly_projected(nets):
    p = AnalysisParams(
        **{**TINY, "models": "standard", "eps": "0", "layers": "front,fc1", "max_features": 50}
    )
    res, _ = drive_job(analysis_job(p, nets))
    front = res.select(layer="front")[0]
    fc1 = res.select(layer="fc1")[0]
    assert front["N"] == 50  # 16 x 8 x 8 = 1024 features projected to 50
    assert fc1["N"] == 50  # 64 features: projected as well
    q = p.replace(max_features=2000)
    res2, _ = drive_job(analysis_job(q, nets))
    assert res2.select(layer="front")[0]["N"] == 1024


def test_import_job_analyses_user_manifolds_and_keeps_them_in_state_and_csv():
    from engines.base import drive_job
    from engines.geometry import manifold_analysis
    from engines.geometry.engine import GeometryEngine
    from engines.serialize import load_state, save_state

    rng = np.random.default_rng(3)
    mans = [rng.standard_normal(30) * 2 + rng.standard_normal((8, 30)) for _ in range(4)]
    eng = GeometryEngine(AnalysisParams(n_t=50, kappa=0.2), seed=1, models={})
    row, _ = drive_job(eng.import_job("acts.npz", mans))
    want = manifold_analysis(mans, kappa=0.2, n_t=50, seed=1)
    assert row["capacity"] == pytest.approx(want.capacity_mean, rel=1e-12)
    assert (row["P"], row["M"], row["N"], row["layer"]) == (4, 8, 30, "imported")
    snap = eng.snapshot()
    assert [r["model"] for r in snap.imported] == ["acts.npz"]
    assert snap.imported_embeddings["acts.npz"].points.shape == (32, 3)
    assert eng.to_csv().splitlines()[-1].startswith("acts.npz,imported,0.0,1,")
    # re-importing the same name replaces it; the state keeps the rows
    drive_job(eng.import_job("acts.npz", mans))
    assert len(eng.snapshot().imported) == 1
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        save_state(Path(d) / "g.zip", eng.state_dict(), "geometry")
        other = GeometryEngine(models={})
        other.load_state_dict(load_state(Path(d) / "g.zip", "geometry"))
    assert other.snapshot().imported[0]["capacity"] == pytest.approx(row["capacity"])
    with pytest.raises(ValueError, match="manifold 1"):
        drive_job(eng.import_job("bad", [mans[0], np.full((3, 30), np.nan)]))
    eng.reset()
    assert eng.snapshot().imported == ()


def test_several_noise_levels_in_one_analysis(nets):
    p = AnalysisParams(
        **{
            **TINY,
            "models": "standard,stochastic",
            "layers": "fc1",
            "noise_scale": 2.0,
            "noise_levels": "0.5,2",
        }
    )
    res, done = drive_job(analysis_job(p, nets))
    assert done
    got = [(r["model"], r["noise_scale"], r["eps"]) for r in res.rows]
    assert got == [
        ("standard", 0.0, 0.0),
        ("standard", 0.0, 0.1),
        ("stochastic", 0.5, 0.0),
        ("stochastic", 0.5, 0.1),
        ("stochastic", 2.0, 0.0),
        ("stochastic", 2.0, 0.1),
    ]
    # clean exemplar manifolds are noise draws of one image: more noise, larger radius
    radius = {r["noise_scale"]: r["radius"] for r in res.rows if r["model"] == "stochastic" and r["eps"] == 0}
    assert radius[2.0] > 1.5 * radius[0.5] > 0
    acc = res.accuracy
    # the main level (the noise scale, 2) also under the plain keys; every level under its own
    assert acc[("stochastic", 0.0)] == acc[("stochastic", 0.0, 2.0)]
    assert ("stochastic", "fc1", 0.1, 0.5) in res.embeddings and ("stochastic", "fc1", 0.1) in res.embeddings
    assert ("standard", "fc1", 0.1) in res.embeddings
    with pytest.raises(ValueError, match="noise_levels"):
        AnalysisParams(noise_levels="1,x")
    with pytest.raises(ValueError, match="noise_levels"):
        AnalysisParams(noise_levels="9")
