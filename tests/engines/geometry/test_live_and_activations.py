"""The analysis shows each layer as it is measured, and a network's activations make a file to import."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.__main__ import main as engines_main
from engines.base import drive_job
from engines.geometry.analysis import analysis_job, layer_activations
from engines.geometry.io import load_activations, save_activations
from engines.geometry.models import DigitNet
from engines.geometry.params import AnalysisParams

TINY = dict(P=3, M=4, n_t=30, layers="conv3,fc1", eps="0,0.1", steps=2, eot=2, models="standard")


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {k: DigitNet(k) for k in ("standard", "stochastic")}


def test_per_layer_progress_carries_each_layer_as_it_is_measured(nets):
    p = AnalysisParams(**TINY)
    seen = []
    result, done = drive_job(analysis_job(p, nets, per_layer=True), seen.append)
    assert done
    # two units (eps 0, 0.1), each with a word after conv3 and after fc1
    assert [s.done for s in seen] == [0.5, 1, 1.5, 2] and seen[-1].total == 2
    assert [len(s.value.rows) for s in seen] == [1, 2, 3, 4]
    assert [r["layer"] for r in seen[0].value.rows] == ["conv3"]
    assert ("standard", "conv3", 0.0) in seen[0].value.embeddings
    # the same numbers as without the extra words
    plain, _ = drive_job(analysis_job(p, nets))
    assert [r["capacity"] for r in plain.rows] == [r["capacity"] for r in result.rows]


def test_layer_activations_round_trip_through_the_import_reader(nets, tmp_path):
    feats, labels = layer_activations(nets["standard"], "fc1", P=3, M=5, seed=1)
    assert feats.shape == (15, 64) and feats.dtype == np.float32
    assert np.array_equal(labels, np.repeat(np.arange(3), 5))
    again, _ = layer_activations(nets["stochastic"], "conv3", P=3, M=5, seed=1)
    same, _ = layer_activations(nets["stochastic"], "conv3", P=3, M=5, seed=1)
    assert np.array_equal(again, same)  # the noise is drawn from the seed
    path = save_activations(tmp_path / "acts.npz", feats, labels)
    mans = load_activations(path)
    assert len(mans) == 3 and all(m.shape == (5, 64) for m in mans)
    np.testing.assert_allclose(mans[1], feats[5:10])
    with pytest.raises(ValueError, match="layer"):
        layer_activations(nets["standard"], "fc9")
    with pytest.raises(ValueError, match=".npz"):
        save_activations(tmp_path / "acts.npy", feats, labels)


def test_cli_writes_activations_of_a_shipped_network(tmp_path):
    out = tmp_path / "acts.npz"
    rc = engines_main(
        ["geometry", "activations", "--layer", "conv3", "--P", "4", "--M", "6", "--out", str(out)]
    )
    assert rc == 0
    mans = load_activations(out)
    assert len(mans) == 4 and all(len(m) == 6 for m in mans)
    assert engines_main(["geometry", "activations", "--layer", "fc9", "--out", str(out)]) == 2
