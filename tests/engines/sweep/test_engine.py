"""The sweep engine (what the Sweeps panel drives), without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from engines.base import drive_job
from engines.serialize import load_state, save_state
from engines.sweep.engine import SweepEngine, SweepParams
from engines.sweep.model import SweepError

TEXT = """
[sweep]
name = "eng"
kind = "demo"
seeds = [0, 1]
[grid]
x = [0.0, 1.0, 2.0, 3.0]
y = [0.0, 0.5]
[fixed]
fail_above = 2.5
"""


def make(tmp_path, **kw):
    e = SweepEngine(SweepParams(workers=0, **kw))
    e.set_text(TEXT, out=tmp_path / "eng.parquet")
    return e


def test_job_streams_rows_into_snapshots(tmp_path):
    e = make(tmp_path)
    s0 = e.snapshot()
    assert (s0.total, s0.finished, s0.state) == (16, 0, "idle")
    assert s0.swept == ("x", "y") and s0.metrics == ("f", "r", "draw")
    seen = []
    summary, completed = drive_job(e.sweep_job(), lambda p: seen.append(e.snapshot().finished))
    assert completed and summary.computed == 16 and summary.failed == 4
    assert seen == sorted(seen) and seen[-1] == 16  # rows arrive as points finish
    s = e.snapshot()
    assert (s.finished, s.ok, s.failed_total, s.state) == (16, 12, 4, "done")
    c = s.columns
    assert len(c["x"]) == 16 and not c["x"].flags.writeable
    ok = c["status"] == "ok"
    assert np.allclose(c["r"][ok], np.hypot(c["x"][ok], c["y"][ok]))
    assert np.all(np.isnan(c["f"][~ok])) and np.all(c["x"][~ok] == 3.0)
    assert len(s.errors) == 4 and "fail_above" in s.errors[0][1]
    assert [h.state for h in s.history] == ["done"]
    # snapshots are immutable records: a later run does not change this one
    assert s.columns is e.snapshot().columns  # unchanged rows: the same arrays, not rebuilt


def test_stop_keeps_rows_and_a_rerun_finishes(tmp_path):
    e = make(tmp_path)
    n = {"k": 0}

    def stop():
        n["k"] += 1
        return n["k"] > 5

    _, completed = drive_job(e.sweep_job(), should_stop=stop)
    assert not completed
    s = e.snapshot()
    assert s.state == "stopped" and 0 < s.finished < 16 and s.history[-1].state == "stopped"
    e2 = make(tmp_path)  # a new engine reads what was written
    assert e2.snapshot().finished == s.finished
    summary, _ = drive_job(e2.sweep_job())
    assert summary.skipped == s.finished - s.failed_total and e2.snapshot().finished == 16


def test_state_round_trip(tmp_path):
    e = make(tmp_path)
    drive_job(e.sweep_job())
    path = tmp_path / "state.zip"
    save_state(path, e.state_dict(), "sweeps")
    e2 = SweepEngine()
    e2.load_state_dict(load_state(path, "sweeps"))
    s = e2.snapshot()
    assert (s.name, s.total, s.finished, s.out) == ("eng", 16, 16, str(tmp_path / "eng.parquet"))
    assert e2.params.workers == 0


def test_errors_name_the_source_and_field(tmp_path):
    e = SweepEngine()
    with pytest.raises(SweepError, match=r"<editor>: \[grid\] zz"):
        e.set_text("[sweep]\nkind = 'demo'\n[grid]\nzz = [1]\n")
    with pytest.raises(SweepError, match="<editor>: invalid TOML"):
        e.set_text("[sweep\n")
    with pytest.raises(SweepError, match="no sweep defined"):
        next(e.sweep_job())
    with pytest.raises(ValueError, match="SweepParams.scheduler"):
        SweepParams(scheduler="localhost")
    with pytest.raises(ValueError, match="SweepParams.workers"):
        SweepParams(workers=-1)
