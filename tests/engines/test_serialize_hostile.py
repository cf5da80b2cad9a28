"""The bounded readers of engines.serialize refuse hostile files with FormatError naming them."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

from engines import serialize
from engines.serialize import FormatError, load_npy, load_npz, load_state, read_npy, save_state
from tests.fuzz import FUZZ, check_loader, hostile_bytes, hostile_zips, zip_bytes


def npy_header(d: dict, version=(1, 0)) -> bytes:
    """A .npy preamble and header for the dict ``d`` (padded to 64 bytes as numpy writes it)."""
    h = repr(d).encode("latin1")
    pre = 10 if version == (1, 0) else 12
    h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    size = len(h).to_bytes(2 if version == (1, 0) else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + h


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def refused(fn, *args, match: str = "", **kw) -> str:
    with pytest.raises(FormatError) as e:
        fn(*args, **kw)
    assert match in str(e.value), str(e.value)
    return str(e.value)


# --------------------------------------------------------------------------
# .npy headers
# --------------------------------------------------------------------------


def test_npy_header_claiming_1e15_values_is_refused_before_allocating(tmp_path):
    f = tmp_path / "huge.npy"
    f.write_bytes(npy_header({"descr": "<f8", "fortran_order": False, "shape": (10**15,)}) + bytes(64))
    msg = refused(load_npy, f, match="claims shape (1000000000000000,)")
    assert msg.startswith(str(f)) and "64 bytes of data follow" in msg


def test_npy_header_missing_its_parenthesis_is_a_format_error_not_a_token_error(tmp_path):
    f = tmp_path / "cut.npy"
    f.write_bytes(
        npy_header({"descr": "<f8", "fortran_order": False, "shape": (2,)}).replace(b"(2,)", b"(2,")
        + bytes(16)
    )
    refused(load_npy, f, match="bad header")


@pytest.mark.parametrize(
    "descr", ["|O", [("a", "<f8")], [("a", "|O")], "<M8[s]", "|V16", ("<f8", (2,))], ids=str
)
def test_object_structured_and_other_dtypes_are_refused(tmp_path, descr):
    f = tmp_path / "odd.npy"
    f.write_bytes(npy_header({"descr": descr, "fortran_order": False, "shape": (1,)}) + bytes(16))
    refused(load_npy, f, match=str(f))


@pytest.mark.parametrize(
    "shape", [(0, 10**18), (0, 2**64), (10**10, 0, 10**10), (1,) * 40, (-1,), (2.5,), (True,)], ids=str
)
def test_shapes_numpy_cannot_make_are_refused_even_when_empty(tmp_path, shape):
    f = tmp_path / "shape.npy"
    f.write_bytes(npy_header({"descr": "<f8", "fortran_order": False, "shape": shape}))
    refused(load_npy, f, match=str(f))


def test_truncated_and_padded_array_data_are_refused(tmp_path):
    good = npy_bytes(np.arange(10.0))
    for name, data in (("short.npy", good[:-1]), ("long.npy", good + b"\0")):
        f = tmp_path / name
        f.write_bytes(data)
        refused(load_npy, f, match="truncated or damaged")


def test_valid_arrays_round_trip_through_the_safe_reader(tmp_path):
    arrays = [
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        np.array(["a", "bcd"]),
        np.array([b"x", b"yz"]),
        np.zeros((0, 5), np.float32),
        np.array([True, False]),
        np.arange(6, dtype=">i4"),
        np.array([1 + 2j]),
    ]
    for i, a in enumerate(arrays):
        data = npy_bytes(a)
        b = read_npy(io.BytesIO(data), len(data), "x")
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
        assert b.flags.writeable
        big = tmp_path / f"v2_{i}.npy"
        big.write_bytes(
            npy_header({"descr": a.dtype.descr[0][1], "fortran_order": False, "shape": a.shape}, (2, 0))
            + np.ascontiguousarray(a).tobytes()
        )
        assert np.array_equal(load_npy(big), a)


def test_an_array_beyond_the_budget_is_refused(tmp_path):
    data = npy_bytes(np.zeros(1000))
    with pytest.raises(FormatError, match="more than the 100 allowed"):
        read_npy(io.BytesIO(data), len(data), "x", max_bytes=100)


# --------------------------------------------------------------------------
# .npz archives
# --------------------------------------------------------------------------


def test_random_bytes_npz_is_refused_without_numpys_pickle_advice(tmp_path):
    f = tmp_path / "random.npz"
    f.write_bytes(os.urandom(3000))
    msg = refused(load_npz, f, match="not a .npz file")
    assert "pickle" not in msg


def test_zip_magic_plus_zeros_and_empty_npz_are_refused(tmp_path):
    for name, data in (("zeros.npz", b"PK\x03\x04" + bytes(200)), ("empty.npz", b"")):
        f = tmp_path / name
        f.write_bytes(data)
        refused(load_npz, f, match=str(f))


def test_npz_member_declaring_more_than_the_budget_is_refused(tmp_path):
    # a deflated member of 50 MB of zeros: its declared size is checked before it is read
    f = tmp_path / "bomb.npz"
    big = npy_header({"descr": "<f8", "fortran_order": False, "shape": (50 * 2**17,)}) + bytes(50 << 20)
    f.write_bytes(zip_bytes({"a.npy": big}))
    assert f.stat().st_size < 200_000
    refused(load_npz, f, max_bytes=1 << 20, match="member a.npy")
    refused(load_npz, f, max_total=1 << 20, match="more than the 1048576 bytes allowed")
    assert load_npz(f)["a"].shape == (50 * 2**17,)


def test_npz_member_whose_zip_entry_lies_about_its_size_is_refused_before_allocating(tmp_path):
    big = npy_header({"descr": "<f8", "fortran_order": False, "shape": (2**23,)}) + bytes(2**26)
    data = bytearray(zip_bytes({"a.npy": big}))
    central = data.index(b"PK\x01\x02")
    compressed = int.from_bytes(data[central + 20 : central + 24], "little")
    assert compressed < 2**17
    f = tmp_path / "lie.npz"
    f.write_bytes(data)
    assert load_npz(f)["a"].size == 2**23  # honest: 64 MiB from about 64 kB of deflate
    data[central + 20 : central + 24] = (compressed // 2).to_bytes(4, "little")  # claims a higher ratio
    f.write_bytes(data)
    refused(load_npz, f, match="member a.npy declares 67108992 bytes from")


def test_npz_member_header_lying_about_its_size_is_refused(tmp_path):
    f = tmp_path / "lie.npz"
    f.write_bytes(
        zip_bytes(
            {"a.npy": npy_header({"descr": "<f8", "fortran_order": False, "shape": (10**15,)}) + bytes(8)}
        )
    )
    refused(load_npz, f, match="member a.npy: the .npy header claims")


def test_folders_fifos_and_devices_are_refused(tmp_path):
    refused(load_npz, tmp_path, match="is a folder")
    fifo = tmp_path / "pipe.npy"
    os.mkfifo(fifo)
    refused(load_npy, fifo, match="not a regular file")
    refused(serialize.read_text_bounded, "/dev/zero", match="not a regular file")
    with pytest.raises(FileNotFoundError):
        load_npy(tmp_path / "missing.npy")


# --------------------------------------------------------------------------
# JSON and TOML nesting
# --------------------------------------------------------------------------


def test_json_nested_100000_deep_is_refused_without_recursion():
    refused(
        serialize.parse_json_bounded, b"[" * 100_000, "deep.json", match="deep.json: nested 100000 levels"
    )
    refused(serialize.parse_json_bounded, b'{"a":' * 5000, "deep.json", match="nested 5000 levels")
    # brackets inside strings do not count
    assert serialize.parse_json_bounded('{"a": "' + "[" * 5000 + '"}', "x") == {"a": "[" * 5000}


def test_json_nonfinite_numbers_can_be_refused():
    for text in ("[NaN]", "[Infinity]", "[-Infinity]", "[1e999]"):
        assert serialize.parse_json_bounded(text, "x") is not None
        refused(serialize.parse_json_bounded, text, "x.json", allow_nonfinite=False, match="x.json")
    refused(serialize.parse_json_bounded, "[" + "9" * 5000 + "]", "x.json", match="x.json: not valid JSON")


def test_toml_nested_deep_is_refused_and_strings_and_comments_do_not_count():
    refused(serialize.parse_toml_bounded, "a = " + "[" * 100_000, "deep.toml", match="deep.toml: nested")
    refused(serialize.parse_toml_bounded, "a = " + "{b = " * 3000, "deep.toml", match="nested 3000")
    text = "a = \"[[[[\" # [[[[[\nb = '{{{{'\nc = '''\n[[[[\n'''\n[t]\nd = [[1], [2]]\n"
    assert serialize.nesting_depth(text, toml=True) == 2
    assert serialize.parse_toml_bounded(text, "ok.toml", max_depth=2)["t"]["d"] == [[1], [2]]


# --------------------------------------------------------------------------
# state files
# --------------------------------------------------------------------------

STATE = {"a": np.arange(6.0).reshape(2, 3), "b": [1, (2, "x")], "c": {"d": np.array([1, 2], np.int8)}}


def test_state_file_with_hostile_members_is_refused(tmp_path):
    good = tmp_path / "good.state"
    save_state(good, STATE, "toy")
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    bad = tmp_path / "bad.state"
    for tree in (
        b"[" * 100_000,
        b'{"kind": "toy", "version": "x", "state": {}}',
        b'{"kind": "toy", "version": 1}',
    ):
        bad.write_bytes(zip_bytes({**members, "tree.json": tree}))
        refused(load_state, bad, "toy", match=f"{bad}: member tree.json")
    huge = npy_header({"descr": "<f8", "fortran_order": False, "shape": (10**15,)}) + bytes(8)
    bad.write_bytes(zip_bytes({**members, "arrays/a0.npy": huge}))
    refused(load_state, bad, "toy", match=f"{bad}: member arrays/a0.npy: the .npy header claims")
    tuple_tree = b'{"kind": "toy", "version": 1, "state": {"t": {"__tuple__": 5}}}'
    bad.write_bytes(zip_bytes({"tree.json": tuple_tree}))
    refused(load_state, bad, "toy", match="tuple at /t")
    out = load_state(good, "toy")
    assert out["b"] == [1, (2, "x")] and np.array_equal(out["c"]["d"], STATE["c"]["d"])


def _state_members() -> dict[str, bytes]:
    tree, arrays = serialize.pack(STATE)
    members = {"tree.json": json.dumps({"kind": "toy", "version": 1, "state": tree}).encode()}
    members.update({f"arrays/{k}.npy": serialize.array_bytes(a) for k, a in arrays.items()})
    return members


@settings(FUZZ, max_examples=1500)
@given(data=hostile_zips(_state_members()))
def test_fuzzed_state_files_load_or_are_refused_naming_the_file(tmp_path, data):
    check_loader(lambda p: load_state(p, "toy"), tmp_path / "fuzz.state", data)


@settings(FUZZ, max_examples=1500)
@given(
    data=hostile_bytes(
        npy_bytes(np.arange(12.0).reshape(3, 4)),
        npy_bytes(np.array(["ab", "c"])),
        npy_header({"descr": "<i4", "fortran_order": True, "shape": (2, 2)}, (2, 0)) + bytes(16),
    )
)
def test_fuzzed_npy_files_load_or_are_refused_naming_the_file(tmp_path, data):
    a = check_loader(load_npy, tmp_path / "fuzz.npy", data)
    if a is not None:
        assert isinstance(a, np.ndarray) and not a.dtype.hasobject
