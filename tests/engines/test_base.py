"""The engine contract: parameters, ring buffers, jobs, state files."""

from __future__ import annotations

import zipfile
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from engines import serialize
from engines.base import Progress, RingBuffer, StateError, drive_job, param_specs
from engines.serialize import FormatError
from tests.toy import ToyEngine, ToyParams


def test_params_are_frozen_and_validated():
    p = ToyParams()
    with pytest.raises(FrozenInstanceError):
        p.noise = 2.0  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"ToyParams.noise = -1.0: allowed range is \[0, 100\]"):
        ToyParams(noise=-1.0)
    with pytest.raises(ValueError, match=r"n_walkers.*must be an integer"):
        ToyParams(n_walkers=2.5)
    with pytest.raises(ValueError, match=r"mode = 'cauchy': allowed values are 'gauss', 'uniform'"):
        ToyParams(mode="cauchy")
    with pytest.raises(ValueError, match="finite"):
        ToyParams(drift=float("nan"))
    with pytest.raises(ValueError, match="ToyParams.noise: at most 10"):
        ToyParams(mode="uniform", noise=20.0)
    assert ToyParams(n_walkers=3.0).n_walkers == 3  # integral floats are accepted
    assert isinstance(ToyParams(noise=2).noise, float)


def test_params_replace_and_dicts():
    p = ToyParams().replace(noise=2.0)
    assert p.noise == 2.0 and ToyParams().noise == 1.0
    with pytest.raises(ValueError, match="no parameter 'nosie'"):
        p.replace(nosie=1.0)
    assert ToyParams.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError, match="unknown parameter"):
        ToyParams.from_dict({"bogus": 1})
    assert ToyParams.from_dict({"bogus": 1}, strict=False) == ToyParams()


def test_param_specs_describe_fields():
    specs = {s.name: s for s in param_specs(ToyParams)}
    assert specs["drift"].unit == "1/step"
    assert specs["drift"].label == "drift [1/step]"
    assert specs["sleep_ms"].label == "sleep [ms]"
    assert specs["n_walkers"].type is int and specs["n_walkers"].max == 10_000
    assert specs["mode"].choices == ("gauss", "uniform")
    assert "walkers" in specs["n_walkers"].doc


def test_ring_buffer_cursor_and_wrap():
    rb = RingBuffer(5, dtype=np.int64)
    rb.append([1, 2, 3])
    data, cur, dropped = rb.read_since(0)
    assert data.tolist() == [1, 2, 3] and cur == 3 and dropped == 0
    rb.append([4, 5, 6, 7])
    data, cur2, dropped = rb.read_since(cur)
    assert data.tolist() == [4, 5, 6, 7] and cur2 == 7 and dropped == 0
    data, _, dropped = rb.read_since(0)  # the oldest two were overwritten
    assert data.tolist() == [3, 4, 5, 6, 7] and dropped == 2
    rb.append(np.arange(100, 112))  # more than the capacity at once
    data, cur3, dropped = rb.read_since(cur2)
    assert data.tolist() == [107, 108, 109, 110, 111] and dropped == 7 and cur3 == 19
    assert rb.latest(2).tolist() == [110, 111]
    assert len(rb) == 5


def test_ring_buffer_records_and_state():
    rb = RingBuffer(4, dtype=np.float32, shape=(2,))
    rb.append([[1, 2], [3, 4]])
    rb.append([5, 6])
    other = RingBuffer(4, dtype=np.float32, shape=(2,))
    other.load_state_dict(rb.state_dict())
    assert other.read_since(0)[0].tolist() == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(ValueError):
        rb.append([1, 2, 3])
    with pytest.raises(StateError):
        RingBuffer(3, dtype=np.float32, shape=(2,)).load_state_dict(rb.state_dict())


def test_engine_same_seed_same_result():
    a, b = ToyEngine(seed=7), ToyEngine(seed=7)
    a.step(100)
    b.step(100)
    assert np.array_equal(a.x, b.x)
    c = ToyEngine(seed=8)
    c.step(100)
    assert not np.array_equal(a.x, c.x)


def test_snapshot_is_an_immutable_copy():
    e = ToyEngine()
    e.step(5)
    s = e.snapshot()
    x0 = s.x.copy()
    with pytest.raises(ValueError):
        s.x[0] = 1.0
    e.step(5)
    assert np.array_equal(s.x, x0) and s.step == 5


def test_state_dict_restores_bit_identical(tmp_path):
    a = ToyEngine(ToyParams(threshold=1.0), seed=3)
    a.step(50)
    path = tmp_path / "toy.state"
    serialize.save_state(path, a.state_dict(), kind="toy")
    a.step(50)
    b = ToyEngine(ToyParams(threshold=1.0), seed=99)
    b.load_state_dict(serialize.load_state(path, kind="toy"))
    b.step(50)
    assert np.array_equal(a.x, b.x)
    assert a.events.cursor == b.events.cursor
    assert np.array_equal(a.events.read_since(0)[0], b.events.read_since(0)[0])


def test_state_of_other_shape_is_refused():
    a = ToyEngine(ToyParams(n_walkers=4))
    b = ToyEngine(ToyParams(n_walkers=5))
    with pytest.raises(StateError, match="4 walkers, this engine has 5"):
        b.load_state_dict(a.state_dict())


def test_corrupt_state_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"this is not a zip")
    with pytest.raises(FormatError, match="bad.state"):
        serialize.load_state(bad, kind="toy")
    other = tmp_path / "other.state"
    serialize.save_state(other, {"a": 1}, kind="spiking")
    with pytest.raises(FormatError, match="holds 'spiking', expected 'toy'"):
        serialize.load_state(other, kind="toy")
    newer = tmp_path / "newer.state"
    serialize.save_state(newer, {"a": 1}, kind="toy", version=9)
    with pytest.raises(FormatError, match="newer version"):
        serialize.load_state(newer, kind="toy")
    broken = tmp_path / "broken.state"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("tree.json", '{"kind": "toy", "version": 1, "state": {"x": {"__ndarray__": "a0"}}}')
        zf.writestr("arrays/a0.npy", b"garbage")
    with pytest.raises(FormatError, match="broken.state.*a0.npy"):
        serialize.load_state(broken, kind="toy")


def test_pack_roundtrip_types():
    obj = {"a": np.arange(3), "b": (1, 2.5, "x"), "c": [None, True, {"d": np.float32(1.5)}]}
    tree, arrays = serialize.pack(obj)
    back = serialize.unpack(tree, arrays)
    assert back["b"] == (1, 2.5, "x") and back["c"][2]["d"] == 1.5
    assert np.array_equal(back["a"], np.arange(3))
    with pytest.raises(TypeError, match="/bad"):
        serialize.pack({"bad": object()})


def test_save_is_atomic_on_failure(tmp_path):
    path = tmp_path / "keep.state"
    serialize.save_state(path, {"v": 1}, kind="toy")
    good = path.read_bytes()
    with pytest.raises(TypeError):
        serialize.save_state(path, {"v": object()}, kind="toy")
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["keep.state"]


def test_jobs_progress_and_stop():
    e = ToyEngine()
    seen: list[Progress] = []
    result, done = drive_job(e.count_job(5), on_progress=seen.append)
    assert done and result == 5 and [p.done for p in seen] == [1, 2, 3, 4, 5]
    assert seen[-1].fraction == 1.0
    e2 = ToyEngine()
    e2.job_cleanup = False
    seen2: list[Progress] = []
    result, done = drive_job(e2.count_job(100), on_progress=seen2.append, should_stop=lambda: len(seen2) >= 3)
    assert not done and result == 3 and e2.t == 3 and e2.job_cleanup


def test_engine_messages_by_cursor():
    e = ToyEngine()
    msgs, cur = e.messages_since(0)
    assert msgs == [("info", "reset with seed 0")]
    e.log("hello", "warning")
    msgs, cur2 = e.messages_since(cur)
    assert msgs == [("warning", "hello")] and cur2 == cur + 1


def test_check_cancelled_raises_only_inside_a_scope_whose_event_is_set():
    import threading

    from engines.base import Cancelled, cancel_scope, check_cancelled

    check_cancelled()  # outside any scope: nothing
    ev = threading.Event()
    with cancel_scope(ev):
        check_cancelled()
        ev.set()
        with pytest.raises(Cancelled):
            check_cancelled()
    check_cancelled()  # the scope has ended
    assert not issubclass(Cancelled, Exception)  # `except Exception` in engine code lets it through


def test_a_cancel_scope_belongs_to_its_thread():
    import threading

    from engines.base import Cancelled, cancel_scope, check_cancelled

    stop = threading.Event()
    stop.set()
    inside, entered, done = [], threading.Event(), threading.Event()

    def worker():
        with cancel_scope(stop):
            entered.set()
            done.wait(5)
            try:
                check_cancelled()
            except Cancelled:
                inside.append("cancelled")

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    check_cancelled()  # the worker's scope does not reach this thread
    done.set()
    t.join(5)
    assert inside == ["cancelled"]
