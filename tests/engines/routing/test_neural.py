"""The neural constructive solver: masks give feasible tours, training runs (tiny config)."""

import argparse
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from engines.routing.neural.env import batch_from_arrays, batch_from_problem, rollout, routes_from_actions
from engines.routing.neural.generate import KINDS, generate
from engines.routing.neural.infer import load_model, neural_solve
from engines.routing.neural.model import ModelConfig, RouteNet
from engines.routing.problem import Problem, evaluate

TINY = ModelConfig(dim=16, heads=2, layers=1, ff=32, bias_hidden=4)


def _vrptw(seed=0, n=12):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    D = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)) * rng.uniform(1, 1.3, (n, n))
    np.fill_diagonal(D, 0)
    r = rng.uniform(0, 40, n)
    tw = np.stack([r, r + 25], 1)
    tw[0] = [0, 200]
    return Problem("t", D, duration=D * 1.5, coords=xy, demand=np.r_[0, rng.integers(1, 5, n - 1)],
                   capacity=10, time_windows=tw, service=np.r_[0, np.ones(n - 1)])  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_rollouts_visit_every_customer_once(kind):
    torch.manual_seed(0)
    model = RouteNet(TINY)
    b = batch_from_arrays(**generate(kind, np.random.default_rng(0), 3, 9))
    cost, logp, actions = rollout(model, b)
    assert cost.shape == (3, 8) and torch.all(torch.isfinite(logp))
    for i in range(3):
        for p in range(8):
            routes = routes_from_actions(actions[i, p].numpy())
            flat = sorted(c for r in routes for c in r)
            assert flat == list(range(1, 9))
            assert routes[0][0] == p + 1  # POMO: rollout p starts at customer p + 1
            if b.single_route:
                assert len(routes) == 1


def test_masks_respect_capacity_and_time_windows():
    p = _vrptw()
    model = RouteNet(TINY)
    routes = neural_solve(p, model, augment=2, starts=None)
    ev = evaluate(p, routes)
    assert not [v for v in ev.violations if "capacity" in v or "window" in v or "depot" in v]
    # the cost the environment sums is the evaluator's cost
    b = batch_from_problem(p)
    cost, _, actions = rollout(model, b, greedy=True)
    r0 = routes_from_actions(actions[0, 0].numpy())
    assert float(cost[0, 0]) == pytest.approx(evaluate(p, r0).cost, rel=1e-5)


def test_gradient_flows():
    model = RouteNet(TINY)
    b = batch_from_arrays(**generate("city_tsp", np.random.default_rng(1), 2, 7))
    cost, logp, _ = rollout(model, b)
    ((cost - cost.mean(1, keepdim=True)).detach() * logp).mean().backward()
    g = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(g) > 5 and all(torch.all(torch.isfinite(x)) for x in g)
    assert model.layers[0].bias_head.weight.grad.abs().sum() > 0  # the matrix bias is trained


@pytest.mark.slow
def test_train_command_tiny_config(tmp_path, data_dir):
    from engines.routing.neural.train import main

    args = argparse.Namespace(config="tiny", out=str(tmp_path), seed=0, minutes=None)
    assert main(args) == 0
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["training_steps"] == 3 and "train --config tiny" in man["command"]
    model = load_model(tmp_path / "routenet.state")
    assert model.config == TINY
    p = _vrptw(1)
    assert sorted(c for r in neural_solve(p, model) for c in r) == list(range(1, p.n))


@pytest.mark.slow
def test_train_command_takes_the_learning_rate_and_batch(tmp_path, data_dir):
    from engines.__main__ import build_parser
    from engines.routing.neural.train import main

    argv = ["routing", "train", "--config", "tiny", "--out", str(tmp_path), "--lr", "0.002", "--batch", "3"]
    args = build_parser().parse_args(argv)
    assert main(args) == 0
    cfg = json.loads((tmp_path / "manifest.json").read_text())["config"]
    assert cfg["lr"] == 0.002 and cfg["batch"] == 3
    for bad in (["--lr", "0"], ["--batch", "0"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["routing", "train", "--config", "tiny", *bad])


def test_shipped_model_learned_something(data_dir):
    """The shipped weights beat an untrained model of the same shape, and decode X-n101 well."""
    from engines.routing.io import load_problem
    from engines.routing.neural.infer import DEFAULT_WEIGHTS

    trained = load_model(DEFAULT_WEIGHTS)
    torch.manual_seed(0)
    untrained = RouteNet(trained.config).eval()
    rng = np.random.default_rng(123)
    b = batch_from_arrays(**generate("uniform", rng, 8, 30))
    with torch.no_grad():
        c_t = rollout(trained, b, starts=8, greedy=True)[0].min(1).values.mean()
        c_u = rollout(untrained, b, starts=8, greedy=True)[0].min(1).values.mean()
    assert c_t < 0.95 * c_u  # measured: 8.1 vs 9.0 (the untrained one already acts near-greedily)
    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    ev = evaluate(p, neural_solve(p, trained))
    assert ev.feasible and p.gap(ev.cost) < 10.0  # manifest: 4.7 % (default decoding plan)


def test_neural_job_stops_during_decoding(data_dir):
    from engines.base import drive_job
    from engines.routing.io import load_problem
    from engines.routing.solvers import solve_job

    p = load_problem(data_dir / "cvrplib" / "X-n195-k51.vrp")
    seen = []
    result, done = drive_job(solve_job(p, "neural", 60.0), seen.append, lambda: len(seen) >= 3)
    assert not done and all("decoding" in pr.message for pr in seen[1:])
    assert result is None or not result.routes  # stopped before any solution existed


def test_decode_plan_scales_with_size_and_uses_flips_only_with_coordinates():
    from engines.routing.neural.infer import DECODE_BUDGET, decode_plan

    small, large = _vrptw(0, n=40), _vrptw(0, n=150)
    s1, a1 = decode_plan(small)
    s2, a2 = decode_plan(large)
    assert s1 * a1 > s2 * a2 >= 8  # fewer rollouts on larger instances
    assert s2 * a2 == pytest.approx(DECODE_BUDGET / 150**2, rel=0.15)
    assert 1 <= a1 <= 8 and s1 <= 39
    no_xy = Problem("m", small.distance, demand=small.demand, capacity=small.capacity)
    assert decode_plan(no_xy)[1] == 1  # no coordinates, no flips


def test_later_decoding_passes_try_other_flips_and_first_customers():
    from engines.routing.neural.env import start_nodes
    from engines.routing.neural.infer import decode_plan, distinct_passes, pass_layout

    p = _vrptw(0, n=150)
    starts, augment = decode_plan(p)
    k = distinct_passes(p, starts, augment)
    assert k > 1
    seen = set()
    for i in range(k):
        first, offset = pass_layout(p, starts, augment, i)
        flips = {(first + j) % 8 for j in range(augment)}
        custs = set(start_nodes(p.n, starts, offset).tolist())
        assert all(1 <= c < p.n for c in custs) and len(custs) == min(starts, p.n - 1)
        seen |= {(f, c) for f in flips for c in custs}
    assert pass_layout(p, starts, augment, 0) == (0, 0)  # the first pass is the default plan
    assert {f for f, _ in seen} == set(range(8))  # every flip is tried
    assert len(seen) > 0.8 * k * starts * augment  # passes rarely repeat a rollout


def test_neural_alone_decodes_until_its_time_limit_and_keeps_the_best(data_dir):
    from engines.base import drive_job
    from engines.routing.io import load_problem
    from engines.routing.solvers import solve_job

    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    runs = {}
    for limit, cap in ((0.01, None), (1.5, None), (1.5, 5)):
        msgs = []
        r, done = drive_job(
            solve_job(p, "neural", limit, max_iterations=cap), lambda pr, seen=msgs: seen.append(pr.message)
        )
        runs[limit, cap] = (r, {m for m in msgs if "decoded" in m})
    one, _ = runs[0.01, None]
    long, passes = runs[1.5, None]
    capped, capped_passes = runs[1.5, 5]
    assert len(passes) >= 3 and len(capped_passes) == 1  # capped runs stay one pass (reproducible)
    assert capped.cost == one.cost and long.feasible and long.cost <= one.cost


@pytest.mark.slow
def test_train_command_ships_the_mean_of_the_last_marks(tmp_path, data_dir):
    """--average-last K: the shipped weights are the mean of the weights at the last K 100-step marks."""
    from engines.routing.neural.train import main

    ck = tmp_path / "ck"
    args = argparse.Namespace(config="tiny", out=str(tmp_path), seed=0, minutes=None, steps=300,
                              checkpoints=str(ck), average_last=2)  # fmt: skip
    assert main(args) == 0
    assert "--average-last 2" in json.loads((tmp_path / "manifest.json").read_text())["command"]
    shipped = load_model(tmp_path / "routenet.state").state_dict()
    a, b = (load_model(ck / f"step{s:05d}.state").state_dict() for s in (200, 300))
    for k, v in shipped.items():
        assert torch.allclose(v, (a[k] + b[k]) / 2, atol=1e-6), k
    assert any(not torch.equal(a[k], b[k]) for k in a)  # the marks differ: the mean is not one of them


def test_each_problem_class_decodes_with_its_own_shipped_weights(data_dir, monkeypatch):
    """Problems with time windows get TW_WEIGHTS, the others DEFAULT_WEIGHTS; without the TW file
    every problem falls back to the default weights."""
    from engines.routing.io import load_problem
    from engines.routing.neural import infer

    assert infer.TW_WEIGHTS.exists() and infer.DEFAULT_WEIGHTS.exists()
    plain = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    tw = _vrptw(3)
    m_plain, m_tw = infer.default_model(plain), infer.default_model(tw)
    assert m_plain is infer.default_model() and m_tw is infer.default_model(time_windows=True)
    a, b = m_plain.state_dict(), m_tw.state_dict()
    # two different sets of weights (their shapes may differ too: the time-window encoder is deeper)
    assert a.keys() != b.keys() or any(
        a[k].shape != b[k].shape or (a[k] - b[k]).abs().max() > 1e-3 for k in a
    )
    # neural_solve without a model decodes each class with its own weights
    assert neural_solve(tw) == neural_solve(tw, m_tw)
    assert neural_solve(plain) == neural_solve(plain, m_plain)
    monkeypatch.setattr(infer, "TW_WEIGHTS", infer.TW_WEIGHTS.with_name("missing.state"))
    assert infer.default_model(tw) is m_plain


def test_weights_files_that_share_a_name_are_cached_apart(tmp_path, monkeypatch):
    """The cache of shipped weights is keyed by the whole path: time-window weights in a file named
    like the default ones (routenet.state, in another folder) are not taken for the default ones."""
    import shutil

    from engines.routing.neural import infer

    other = tmp_path / infer.DEFAULT_WEIGHTS.name
    shutil.copy(infer.TW_WEIGHTS, other)
    monkeypatch.setattr(infer, "_cache", {})
    m_plain = infer.default_model(time_windows=False)
    monkeypatch.setattr(infer, "TW_WEIGHTS", other)
    m_tw = infer.default_model(time_windows=True)
    assert m_tw is not m_plain
    a, b = m_tw.state_dict(), load_model(other).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_solomon_like_instances_are_feasible_one_customer_at_a_time_and_cover_each_family():
    """Every customer can be served alone within its window and back at the depot by the horizon;
    the draws cover service 10 and 90 and both short (capacity 200) and long (700-1000) routes."""
    from engines.routing.neural.generate import SOLOMON_FAMILIES

    d = generate("solomon", np.random.default_rng(3), 48, 101)
    tw, svc, D, dem = d["tw"], d["svc"], d["D"], d["demand"]
    horizon = tw[:, :1, 1]
    ready, due, d0 = tw[:, 1:, 0], tw[:, 1:, 1], D[:, 0, 1:]
    assert np.all(ready <= due) and np.all(due >= d0 - 1e-9)
    assert np.all(np.maximum(d0, ready) + svc[:, 1:] + D[:, 1:, 0] <= horizon + 1e-6)
    assert set(np.unique(svc[:, 1:])) == {f[2] for f in SOLOMON_FAMILIES}
    load = dem[:, 1:].sum(1)  # total demand over one vehicle's capacity: the fewest routes
    assert load.min() < 2.0 and load.max() > 8.0


def test_solomon_like_clustered_windows_sit_on_a_feasible_tour():
    """As in Solomon's C1/C2, clustered draws (service 90) centre the windows on a good tour's arrival
    times: the nearest-neighbour routes the generator built serve every customer within its window and
    within capacity, so each draw has a feasible solution that a decoder can learn to find."""
    from engines.routing.neural.generate import _greedy_routes

    d = generate("solomon", np.random.default_rng(5), 40, 81)
    clustered = np.flatnonzero(d["svc"][:, 1] == 90.0)
    assert len(clustered) >= 5
    for b in clustered:
        tw, D, dem, s = d["tw"][b], d["D"][b], d["demand"][b], d["svc"][b, 1]
        routes, _ = _greedy_routes(D, dem, s, tw[0, 1])
        assert sorted(c for r in routes for c in r) == list(range(1, 81))
        for r in routes:
            t, here = 0.0, 0
            assert dem[r].sum() <= 1.0 + 1e-9
            for c in r:
                t = max(t + D[here, c], tw[c, 0])
                assert t <= tw[c, 1] + 1e-6
                t, here = t + s, c
            assert t + D[here, 0] <= tw[0, 1] + 1e-6
        width = (tw[1:, 1] - tw[1:, 0]) / tw[0, 1]
        assert (
            np.quantile(width, 0.2) < 0.25
        )  # a quarter or more of the windows are tight (the rest may be open)


def test_solomon_like_draws_give_one_width_to_a_whole_instance_or_one_per_customer():
    """Most of Solomon's files give every windowed customer the same width (R101 all 10, RC102 all
    30); R201 and C101 vary it. The draws hold both: among the customers whose window is neither
    open nor cut by the depot's reach, some instances have one width and others many."""
    d = generate("solomon", np.random.default_rng(9), 60, 101)
    tw, D = d["tw"], d["D"]
    one, many = 0, 0
    for b in range(len(tw)):
        ready, due, horizon = tw[b, 1:, 0], tw[b, 1:, 1], tw[b, 0, 1]
        latest = horizon - D[b, 0, 1:] - d["svc"][b, 1:]
        inner = (ready > 0) & (due < latest - 1e-9) & (due > D[b, 0, 1:] + 1e-9)
        if inner.sum() < 5:
            continue
        widths = due[inner] - ready[inner]
        if np.ptp(widths) < 1e-6 * horizon:
            one += 1
        elif np.ptp(widths) > 0.05 * horizon:
            many += 1
    assert one >= 10 and many >= 10


@pytest.mark.parametrize("hidden", [1, 6])
def test_a_time_window_head_added_at_zero_decodes_as_before_then_changes_the_choices(hidden):
    from engines.routing.neural.train import with_heads

    torch.manual_seed(0)
    base = RouteNet(TINY).eval()
    p = _vrptw(3, n=14)
    headed = with_heads(base, tw_head=hidden).eval()
    assert headed.config.tw_head == hidden and base.config.tw_head == 0
    b = batch_from_problem(p)
    with torch.no_grad():
        c0, l0, a0 = rollout(base, b, greedy=True)
        c1, l1, a1 = rollout(headed, b, greedy=True)
    assert torch.equal(a0, a1) and torch.allclose(l0, l1)  # the new head starts at zero
    # a head that prefers the customer with the least slack left in its window (feature 1)
    with torch.no_grad():
        if hidden == 1:
            headed.tw_head.weight.zero_()[0, 1] = -3.0
        else:  # one hidden unit passes the slack through, the output reads it negatively
            headed.tw_head[0].weight.zero_()[0, 1] = 1.0
            headed.tw_head[0].bias.zero_()
            headed.tw_head[-1].weight.zero_()[0, 0] = -3.0
        _, _, a2 = rollout(headed, b, greedy=True)

    def least_slack_second_moves(actions):
        hits = 0
        for cur, nxt in actions[0, :, :2].tolist():
            # arrival at each node from the first customer, left after its service
            arr = max(p.time_windows[cur, 0], p.duration[0, cur]) + p.service[cur] + p.duration[cur]
            start = np.maximum(arr, p.time_windows[:, 0])
            ok = [j for j in range(1, p.n) if j != cur and arr[j] <= p.time_windows[j, 1] + 1e-6
                  and start[j] + p.service[j] + p.duration[j, 0] <= p.time_windows[0, 1] + 1e-6
                  and p.demand[cur] + p.demand[j] <= p.capacity]  # fmt: skip
            slack = {j: p.time_windows[j, 1] - start[j] for j in ok}
            hits += nxt in slack and slack[nxt] <= min(slack.values()) + 1e-3
        return hits

    # measured: 12 of the 13 rollouts with the head (either kind), none without it
    assert least_slack_second_moves(a2) >= 11 and least_slack_second_moves(a0) <= 3


def test_a_time_window_head_is_saved_loaded_and_bounded(tmp_path):
    from engines.routing.neural.infer import save_model
    from engines.routing.neural.train import with_heads
    from engines.serialize import FormatError, load_state, save_state

    m = with_heads(RouteNet(TINY), tw_head=4)
    save_model(tmp_path / "m.state", m)
    back = load_model(tmp_path / "m.state")
    assert back.config.tw_head == 4
    for k, v in m.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k
    d = load_state(tmp_path / "m.state", kind="routing-routenet")
    d["config"]["tw_head"] = 5000
    save_state(tmp_path / "big.state", d, kind="routing-routenet")
    with pytest.raises(FormatError, match="tw_head"):
        load_model(tmp_path / "big.state")
    # an older file without the field loads as a model without the head
    d["config"].pop("tw_head")
    d["weights"] = {k: v for k, v in d["weights"].items() if not k.startswith("tw_head.")}
    save_state(tmp_path / "old.state", d, kind="routing-routenet")
    assert load_model(tmp_path / "old.state").tw_head is None


def test_an_encoder_grown_by_identity_layers_decodes_as_before_and_its_new_layers_train():
    from engines.routing.neural.train import new_parameters, with_layers

    torch.manual_seed(0)
    base = RouteNet(replace(TINY, tw_head=3)).eval()
    with torch.no_grad():  # a trained-looking head, so that the test sees it carried over
        base.tw_head[-1].weight.normal_()
    grown = with_layers(base, 3).eval()
    assert grown.config.layers == 3 and len(grown.layers) == 3
    b = batch_from_problem(_vrptw(5, n=14))
    with torch.no_grad():
        c0, l0, a0 = rollout(base, b, greedy=True)
        c1, l1, a1 = rollout(grown, b, greedy=True)
    assert torch.equal(a0, a1) and torch.allclose(l0, l1, atol=1e-5)
    new = new_parameters(grown, 1)
    assert {n.split(".")[0] for n in new} == {"layers", "tw_head"}
    assert all(n.startswith(("layers.1.", "layers.2.", "tw_head.")) for n in new)
    # one gradient step moves the new layers off the identity, and the choices follow
    grown.train()
    cost, logp, _ = rollout(grown, b, greedy=False, generator=torch.Generator().manual_seed(0))
    ((cost - cost.mean()) * logp).mean().backward()
    assert (
        grown.layers[2].out.weight.grad.abs().sum() > 0 and grown.layers[2].ff[-1].weight.grad.abs().sum() > 0
    )
    with pytest.raises(ValueError, match="can only grow"):
        with_layers(grown, 2)


@pytest.mark.slow
def test_train_command_adds_step_heads_to_the_weights_it_continues(tmp_path, data_dir):
    from engines.routing.neural.infer import save_model
    from engines.routing.neural.train import main

    save_model(tmp_path / "init.state", RouteNet(TINY))
    args = argparse.Namespace(config="tiny", out=str(tmp_path / "out"), seed=0, minutes=None,
                              init=str(tmp_path / "init.state"), tw_head=3, cap_head=2)  # fmt: skip
    assert main(args) == 0
    command = json.loads((tmp_path / "out" / "manifest.json").read_text())["command"]
    assert "--tw-head 3 --cap-head 2" in command
    model = load_model(tmp_path / "out" / "routenet.state")
    assert model.config.tw_head == 3 and model.tw_head is not None
    assert model.config.cap_head == 2 and model.cap_head is not None
    # --layers grows the encoder of the weights it continues
    save_model(tmp_path / "init.state", model)
    args = argparse.Namespace(config="tiny", out=str(tmp_path / "deep"), seed=0, minutes=None,
                              init=str(tmp_path / "init.state"), layers=3)  # fmt: skip
    assert main(args) == 0
    deep = load_model(tmp_path / "deep" / "routenet.state")
    assert deep.config == replace(model.config, layers=3)
    assert "--layers 3" in json.loads((tmp_path / "deep" / "manifest.json").read_text())["command"]
    # without --init, a new model is built with the head
    args = argparse.Namespace(config="tiny", out=str(tmp_path / "new"), seed=0, minutes=None, tw_head=2)
    assert main(args) == 0
    assert load_model(tmp_path / "new" / "routenet.state").config == replace(TINY, tw_head=2)
    p = _vrptw(2)
    assert sorted(c for r in neural_solve(p, model) for c in r) == list(range(1, p.n))


@pytest.mark.parametrize("hidden", [1, 5])
def test_the_time_window_head_s_feature_first_product_is_its_layers_applied_per_candidate(hidden):
    from engines.routing.neural.model import TW_STEP_FEATURES, head_logits
    from engines.routing.neural.train import with_heads

    torch.manual_seed(1)
    m = with_heads(RouteNet(TINY), tw_head=hidden)
    for prm in m.tw_head.parameters():
        torch.nn.init.normal_(prm)
    x = torch.randn(TW_STEP_FEATURES, 2, 3, 7)
    want = m.tw_head(x.movedim(0, -1)).squeeze(-1)
    assert torch.allclose(head_logits(m.tw_head, x), want, atol=1e-5)
    head_logits(m.tw_head, x).sum().backward()
    assert all(prm.grad is not None and prm.grad.abs().sum() > 0 for prm in m.tw_head.parameters())


def test_a_capacity_head_added_at_zero_decodes_as_before_then_reads_the_load_left():
    from engines.routing.neural.train import with_heads

    torch.manual_seed(0)
    base = RouteNet(TINY).eval()
    b = batch_from_arrays(**generate("uniform", np.random.default_rng(4), 2, 16))
    headed = with_heads(base, cap_head=4).eval()
    with torch.no_grad():
        c0, l0, a0 = rollout(base, b, greedy=True)
        c1, l1, a1 = rollout(headed, b, greedy=True)
        assert torch.equal(a0, a1) and torch.allclose(l0, l1)  # the new head starts at zero
        # a head that reads only the load left after j (feature 1), negatively: the largest demand
        # that fits first (the depot, with no demand, last)
        headed.cap_head[0].weight.zero_()[0, 1] = 1.0
        headed.cap_head[0].bias.zero_()
        headed.cap_head[-1].weight.zero_()[0, 0] = -3.0
        _, _, a2 = rollout(headed, b, greedy=True)
    dem = b.dem

    def largest_demand_second_moves(actions):
        hits = 0
        for i in range(actions.shape[0]):
            for cur, nxt in actions[i, :, :2].tolist():
                fits = [float(dem[i, j]) for j in range(1, dem.shape[1]) if j != cur
                        and dem[i, j] <= 1 - dem[i, cur] + 1e-6]  # fmt: skip
                hits += nxt != 0 and float(dem[i, nxt]) >= max(fits) - 1e-6
        return hits

    # measured: 29 of the 30 rollouts with the head, 12 without it (demands are often tied)
    hits, before = largest_demand_second_moves(a2), largest_demand_second_moves(a0)
    assert hits >= 27 and hits - before >= 10


def test_with_heads_names_what_it_cannot_add():
    from engines.routing.neural.train import with_heads

    with pytest.raises(ValueError, match="unknown heads.*allowed: tw_head, cap_head"):
        with_heads(RouteNet(TINY), speed_head=2)
