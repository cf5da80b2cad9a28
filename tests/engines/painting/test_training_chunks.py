"""Training that grows across sessions: checkpoints of the whole training state, resumed runs, chunk records."""

import json

import numpy as np
import torch

from engines.base import drive_job
from engines.painting.model import (
    VAL_MODES,
    ModelConfig,
    TrainParams,
    load_checkpoint,
    save_checkpoint,
    train_job,
    val_loss_by_mode,
)

from .test_model import LEVELS, _paintings

CFG = ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50, prediction="x0")


def _run(tp, resume=None, init=None):
    states = []
    (model, hist), _ = drive_job(
        train_job(_paintings(16), LEVELS, CFG, tp, seed=3, resume=resume, init=init, checkpoint=states.append)
    )
    return model, hist, states


def test_a_checkpoint_resumes_the_run_where_it_stopped(tmp_path):
    torch.set_num_threads(1)
    tp = TrainParams(steps=6, batch=4, warmup=1, report_every=3, ema=0.9)
    # a chunk stopped by its time budget after its first report
    model, hist, states = _run(tp.replace(max_seconds=1e-6))
    assert hist["step"] == [1] and states[-1]["step"] == 1
    path = tmp_path / "state.zip"
    save_checkpoint(path, states[-1])
    state = load_checkpoint(path)
    assert state["step"] == 1 and state["optimizer"]["state"]  # Adam's moments travel with the weights
    # the next chunk continues from step 2 to the end of the schedule, with the history so far
    resumed, hist2, states2 = _run(tp, resume=state)
    assert hist2["step"] == [1, 3, 6] and states2[-1]["step"] == 6
    # resuming is deterministic: the same checkpoint gives the same weights
    again, _, _ = _run(tp, resume=load_checkpoint(path))
    for a, b in zip(resumed.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    # and it did train on: the weights moved from the checkpoint's
    w0 = torch.from_numpy(np.array(state["ema"]["out.weight"]))
    assert not torch.allclose(resumed.state_dict()["out.weight"], w0)


def test_init_starts_from_a_trained_model_and_validation_is_per_mode():
    torch.set_num_threads(1)
    tp = TrainParams(steps=2, batch=4, warmup=1, report_every=2)
    first, _, _ = _run(tp)
    second, _, _ = _run(tp.replace(lr=1e-6), init=first)
    diff = (second.state_dict()["out.weight"] - first.state_dict()["out.weight"]).abs().max()
    assert float(diff) < 1e-4  # (a tiny learning rate: the weights stay near the ones it started from)
    losses = val_loss_by_mode(second, _paintings(4, seed=9), LEVELS)
    assert set(losses) == set(VAL_MODES) and all(np.isfinite(v) and v > 0 for v in losses.values())


def test_cli_chunks_append_to_the_manifest_and_resume(tmp_path, capsys):
    from engines.__main__ import main
    from engines.painting.data import save_dataset

    data = tmp_path / "d.npz"
    p = _paintings(12)
    split = np.array([0] * 8 + [1] * 2 + [2] * 2)
    save_dataset({"params": p, "levels": LEVELS, "split": split, "psnr": np.zeros((12, 3))}, data)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"what": "kept as it is"}))
    state = tmp_path / "state.zip"
    common = ["painting", "train", "--data", str(data), "--batch", "2", "--report-every", "2"]
    small = ["--d-model", "16", "--layers", "1", "--heads", "2", "--prediction", "x0"]
    out = tmp_path / "m.zip"
    args = [
        *common,
        *small,
        "--out",
        str(out),
        "--steps",
        "6",
        "--state",
        str(state),
        "--manifest",
        str(manifest),
    ]
    assert main([*args, "--max-minutes", "0.00001"]) == 0  # the first chunk: one report
    assert (
        main(
            [
                *common,
                "--out",
                str(out),
                "--steps",
                "6",
                "--resume",
                str(state),
                "--state",
                str(state),
                "--manifest",
                str(manifest),
            ]
        )
        == 0
    )
    m = json.loads(manifest.read_text())
    assert m["what"] == "kept as it is"
    chunks = m["training"]["chunks"]
    first, second = (c["steps"] for c in chunks)
    assert first[0] == 0 and 0 < first[1] < 6 and second == [first[1], 6]  # (stopped by its time budget)
    assert chunks[1]["resumed_from"] == str(state)
    for c in chunks:
        assert set(c["val_loss_by_mode"]) == set(VAL_MODES) and c["wall_s"] >= 0 and "command" in c
    assert load_checkpoint(state)["step"] == 6
