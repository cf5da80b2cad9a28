"""Sweep definitions (TOML) and results (Parquet) that are hostile or careless are refused with SweepError."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from engines.paths import REPO_ROOT
from engines.sweep.engine import SweepEngine
from engines.sweep.model import SweepError, load_sweep
from engines.sweep.store import read_results
from tests.fuzz import FUZZ, check_loader, hostile_bytes

EXAMPLES = REPO_ROOT / "examples" / "sweeps"
DEMO = (EXAMPLES / "demo.toml").read_text()
LHS = (EXAMPLES / "demo_lhs.toml").read_text()


def refused(tmp_path, text: str, match: str) -> str:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(SweepError, match=match) as e:
        load_sweep(f)
    assert str(e.value).startswith(str(f))
    return str(e.value)


def test_toml_nested_100000_deep_is_refused_in_files_the_editor_and_workspaces(tmp_path):
    deep = DEMO + "\nz = " + "[" * 100_000
    refused(tmp_path, deep, r"bad.toml: nested 100000 levels deep")
    refused(tmp_path, DEMO + "\nz = " + "{a = " * 5000, r"bad.toml: nested 5000 levels deep")
    eng = SweepEngine()
    try:
        with pytest.raises(SweepError, match="<editor>: nested"):
            eng.set_text(deep)
    finally:
        eng.close()


@pytest.mark.parametrize(
    "old, new, match",
    [
        ("seeds = [0]", "seeds = 1000000000000000000", r"seeds = 1000000000000000000: a count must be in"),
        ("num = 5", "num = 1000000000000", r"\[grid\] x: num = 1000000000000 must be an integer in"),
        ("start = -2.0", "start = nan", r"\[grid\] x: start and stop must be finite"),
        ("stop = 2.0", "stop = inf", r"\[grid\] x: start and stop must be finite"),
        ("noise = 0.05", "noise = nan", r"\[fixed\] noise: nan is not a finite number"),
        ("y = [0.0, 0.5, 1.0, 1.5]", "y = [0.0, 1e400]", r"\[grid\] y: inf is not a finite number"),
    ],
)
def test_counts_and_ranges_are_bounded_before_anything_is_generated(tmp_path, old, new, match):
    assert old in DEMO
    refused(tmp_path, DEMO.replace(old, new), match)


def test_sample_counts_are_bounded(tmp_path):
    refused(tmp_path, LHS.replace("n = 8", "n = 1000000000000000"), r"\[sample\] n = 1000000000000000")


def test_binary_and_oversized_sweep_files_are_refused(tmp_path):
    f = tmp_path / "bin.toml"
    f.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(SweepError, match="bin.toml: not UTF-8"):
        load_sweep(f)
    f.write_text("# " + "x" * (2 << 20))
    with pytest.raises(SweepError, match="bin.toml: .* more than the 1048576"):
        load_sweep(f)


def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    t = pa.table(
        {
            "point_id": ["a", "b", "a"],
            "status": ["ok", "failed", "failed"],
            "f": [1.0, None, 2.0],
            "finished_at": pa.array([1, 2, 3], pa.int64()).cast(pa.timestamp("ms")),
        }
    )
    pq.write_table(t, buf)
    return buf.getvalue()


def test_damaged_or_foreign_result_files_are_refused_naming_them(tmp_path):
    folder = tmp_path / "r.parquet"
    folder.mkdir()
    (folder / "part-1.parquet").write_bytes(_parquet_bytes())
    assert read_results(folder).num_rows == 2
    (folder / "part-2.parquet").write_bytes(_parquet_bytes()[:-20])
    with pytest.raises(SweepError, match="part-2.parquet: not a readable results file"):
        read_results(folder)
    single = tmp_path / "x.parquet"
    pq.write_table(pa.table({"other": [1]}), single)
    with pytest.raises(SweepError, match="x.parquet: not a results table"):
        read_results(single)
    pq.write_table(pa.table({"point_id": ["a"], "status": ["ok"], "finished_at": ["yesterday"]}), single)
    with pytest.raises(SweepError, match="x.parquet: not a readable results file.*finished_at"):
        read_results(single)


@settings(FUZZ, max_examples=2000)
@given(data=hostile_bytes(DEMO.encode(), LHS.encode()))
def test_fuzzed_sweep_files_load_or_are_refused(tmp_path, data):
    check_loader(load_sweep, tmp_path / "fuzz.toml", data)


@settings(FUZZ, max_examples=800)
@given(data=hostile_bytes(_parquet_bytes()))
def test_fuzzed_result_files_load_or_are_refused(tmp_path, data):
    check_loader(read_results, tmp_path / "fuzz.parquet", data)
