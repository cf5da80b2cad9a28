"""What the workbench must show on the shipped digit networks (Dapello, Feather et al. 2021)."""

from __future__ import annotations

import pytest

from engines.base import drive_job
from engines.geometry.analysis import analysis_job, load_models
from engines.geometry.params import AnalysisParams

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nets():
    return load_models(("standard", "adversarial", "stochastic"))


def test_attack_lowers_class_capacity_of_the_standard_net(nets):
    p = AnalysisParams(models="standard", manifold="class", layers="fc1", eps="0,0.1", P=10, M=15, n_t=100)
    res, _ = drive_job(analysis_job(p, nets))
    clean = res.select(eps=0.0)[0]
    attacked = res.select(eps=0.1)[0]
    assert attacked["accuracy"] < clean["accuracy"] - 0.2
    assert attacked["capacity"] < 0.85 * clean["capacity"]


def test_adversarial_training_keeps_exemplar_radius_smaller(nets):
    # exemplar manifolds as in the paper: random-start single-step attacks of one image
    p = AnalysisParams(
        models="standard,adversarial",
        manifold="exemplar",
        layers="fc1",
        eps="0.2",
        steps=1,
        P=10,
        M=12,
        n_t=100,
    )
    res, _ = drive_job(analysis_job(p, nets))
    std = res.select(model="standard")[0]
    adv = res.select(model="adversarial")[0]
    assert adv["radius"] < 0.85 * std["radius"]


def test_stochastic_clean_and_attacked_exemplars_overlap(nets):
    p = AnalysisParams(
        models="standard,stochastic",
        manifold="exemplar",
        layers="fc1",
        eps="0,0.1",
        steps=1,
        P=10,
        M=12,
        n_t=50,
    )
    res, _ = drive_job(analysis_job(p, nets))
    sto = res.select(model="stochastic", eps=0.1)[0]
    std = res.select(model="standard", eps=0.1)[0]
    assert sto["overlap"] < 1.0  # the clouds' RMS balls intersect
    assert std["overlap"] > 1.0  # a deterministic net's attacked points leave its clean point
