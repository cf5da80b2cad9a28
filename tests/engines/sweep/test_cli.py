"""``python -m engines sweep ...``: an embedded LocalCluster with 2 workers runs the 20-point demo sweep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engines.__main__ import main
from engines.sweep.store import read_results

DEMO = Path(__file__).resolve().parents[3] / "examples" / "sweeps" / "demo.toml"

pytest.importorskip("distributed")

# a hang (a lost task, a cluster that will not close) fails here instead of stalling the suite
pytestmark = pytest.mark.timeout(180)


def test_cli_run_skip_show_export(tmp_path, capsys):
    toml = tmp_path / "demo.toml"
    shutil.copy(DEMO, toml)
    assert main(["sweep", "show", str(toml)]) == 0
    out = capsys.readouterr().out
    assert "20 points" in out and "grid    x: 5 values" in out
    # default --out: demo.parquet next to the file; 2 local worker processes
    assert main(["sweep", "run", str(toml), "--workers", "2", "--no-progress", "--json"]) == 0
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (s["total"], s["computed"], s["failed"], s["completed"]) == (20, 20, 0, True)
    res = tmp_path / "demo.parquet"
    t = read_results(res)
    assert t.num_rows == 20 and set(t.column("status").to_pylist()) == {"ok"}
    assert len(set(t.column("worker").to_pylist())) == 2
    # the same command again computes nothing
    assert main(["sweep", "run", str(toml), "--workers", "2", "--no-progress", "--json"]) == 0
    s = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (s["skipped"], s["computed"]) == (20, 0)
    assert main(["sweep", "show", str(toml)]) == 0
    assert "20 ok, 0 failed, 0 missing" in capsys.readouterr().out
    assert main(["sweep", "export", str(res), "--to", str(tmp_path / "t.csv")]) == 0
    assert (tmp_path / "t.csv").read_text().count("\n") == 21


def test_cli_errors_and_kinds(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep]\nkind = 'demo'\n[grid]\nz = [1]\n")
    assert main(["sweep", "run", str(bad), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "[grid] z" in err
    assert main(["sweep", "kinds", "demo"]) == 0
    out = capsys.readouterr().out
    assert "metrics: f, r, draw" in out and "sleep_s = 0.0" in out
    # failing points: exit code 1, the table says why
    fail = tmp_path / "fail.toml"
    fail.write_text("[sweep]\nkind = 'demo'\n[fixed]\nfail_above = 0.5\n[grid]\nx = [0.0, 1.0]\n")
    assert main(["sweep", "run", str(fail), "--workers", "0", "--no-progress"]) == 1
    rows = read_results(tmp_path / "fail.parquet").to_pylist()
    assert sorted(r["status"] for r in rows) == ["failed", "ok"]
