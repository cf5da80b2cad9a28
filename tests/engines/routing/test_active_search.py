"""Active search: neural-alone decoding adapts the instance's embeddings, never the shared weights."""

import itertools

import pytest
import torch

from engines.routing.neural.infer import default_model
from engines.routing.neural.search import active_search_steps
from engines.routing.problem import evaluate


def _iterations(problem, model, k, **kw):
    """The routes of the first ``k`` iterations (the per-step ``None`` yields dropped)."""
    steps = active_search_steps(problem, model, **kw)
    try:
        return list(itertools.islice((r for r in steps if r is not None), k))
    finally:
        steps.close()


@pytest.fixture(scope="module")
def c202(data_dir):
    from engines.routing.io import load_problem

    return load_problem(data_dir / "solomon" / "C202.txt")


def test_active_search_leaves_the_weights_alone_and_is_reproducible(c202):
    model = default_model(c202)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grad_mode = torch.is_grad_enabled()
    a = _iterations(c202, model, 4, seed=0)
    b = _iterations(c202, model, 4, seed=0)
    c = _iterations(c202, model, 4, seed=1)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())  # the gradient went to the embeddings only
    assert torch.is_grad_enabled() == grad_mode and torch.get_num_threads() >= 1
    costs = [[evaluate(c202, r).cost for r in run] for run in (a, b, c)]
    assert all(r and evaluate(c202, r).feasible for r in a + c)  # each iteration offers a feasible tour
    assert costs[0] == costs[1] and costs[0] != costs[2]  # seeded: same seed, same search


def test_active_search_beats_as_many_samples_of_the_fixed_model(c202):
    """The same number of sampled rollouts, with and without the embedding updates (lr ~ 0)."""
    model = default_model(c202)
    k = 16
    learned = min(evaluate(c202, r).cost for r in _iterations(c202, model, k, seed=0))
    fixed = min(evaluate(c202, r).cost for r in _iterations(c202, model, k, seed=0, lr=1e-12))
    assert learned < 0.97 * fixed


def test_neural_alone_spends_its_time_left_on_active_search(c202, monkeypatch):
    from engines.base import drive_job
    from engines.routing import solvers
    from engines.routing.solvers import solve_job

    runs = {}
    for active in (True, False):
        monkeypatch.setattr(solvers, "NEURAL_ACTIVE_SEARCH", active)
        msgs = []
        r, _ = drive_job(solve_job(c202, "neural", 3.0), lambda pr, seen=msgs: seen.append(pr.message))
        runs[active] = (r, msgs)
    (on, on_msgs), (_, off_msgs) = runs[True], runs[False]
    assert any("active search (iteration 3), best" in m for m in on_msgs) and on.iterations >= 2
    assert not any("active search" in m for m in off_msgs)
    assert on.feasible and on.elapsed < 3.0 + 0.5  # it stops at the limit, mid-iteration if need be


def test_instances_too_large_for_its_memory_keep_to_sampled_passes(c202, monkeypatch):
    from engines.base import drive_job
    from engines.routing.neural import search
    from engines.routing.solvers import solve_job

    assert search.search_rollouts(101) == 100 and search.search_rollouts(5000) == 0
    assert 8 <= search.search_rollouts(600) < search.search_rollouts(300) < 128  # fewer as n grows
    monkeypatch.setattr(search, "MEMORY_BYTES", 1e6)  # as if C202 were far larger
    assert search.search_rollouts(c202.n) == 0
    with pytest.raises(ValueError, match="too many for active search"):
        next(search.active_search_steps(c202, default_model(c202)))
    msgs = []
    r, _ = drive_job(solve_job(c202, "neural", 1.5), lambda pr: msgs.append(pr.message))
    assert r.feasible and not any("active search" in m for m in msgs)
    assert sum("decoded" in m for m in msgs) >= 3  # the time went to decoding passes
