"""Activation files (.npy, .npz, .h5) that are hostile or damaged are refused with FormatError naming them."""

import io
import zipfile

import h5py
import numpy as np
import pytest
from hypothesis import given, settings

from engines.geometry.io import load_activations
from engines.serialize import FormatError
from tests.engines.test_serialize_hostile import npy_bytes, npy_header
from tests.fuzz import FUZZ, check_loader, hostile_bytes, hostile_zips


def _manifolds() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(3, 6, 5))


def test_npy_header_claiming_1e15_values_is_refused_not_a_memory_error(tmp_path):
    f = tmp_path / "huge.npy"
    f.write_bytes(
        npy_header({"descr": "<f8", "fortran_order": False, "shape": (10**5, 10**5, 10**5)}) + bytes(64)
    )
    with pytest.raises(
        FormatError, match=r"huge.npy: the .npy header claims shape \(100000, 100000, 100000\)"
    ):
        load_activations(f)


def test_npy_header_missing_its_parenthesis_is_refused(tmp_path):
    f = tmp_path / "cut.npy"
    head = npy_header({"descr": "<f8", "fortran_order": False, "shape": (3, 6, 5)}).replace(
        b"(3, 6, 5)", b"(3, 6, 5"
    )
    f.write_bytes(head + _manifolds().tobytes())
    with pytest.raises(FormatError, match="cut.npy: not a valid .npy array"):
        load_activations(f)


def test_random_bytes_npz_is_refused_without_pickle_advice(tmp_path):
    f = tmp_path / "random.npz"
    f.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(FormatError, match="random.npz") as e:
        load_activations(f)
    assert "pickle" not in str(e.value)


@pytest.mark.parametrize(
    "features",
    [
        np.zeros((0, 4)),
        np.array(["a", "b"]),
        np.zeros((3, 4, 5, 6)),
        np.full((3, 2, 2), np.inf),
        np.array([1 + 1j] * 8).reshape(2, 2, 2),
    ],
    ids=["empty", "text", "4-D", "inf", "complex"],
)
def test_features_that_are_not_finite_numbers_of_two_or_three_dims_are_refused(tmp_path, features):
    f = tmp_path / "bad.npz"
    np.savez(f, features=features, labels=np.zeros(len(features)))
    with pytest.raises(FormatError, match="bad.npz"):
        load_activations(f)


def test_nan_labels_are_refused(tmp_path):
    f = tmp_path / "lab.npz"
    np.savez(f, features=np.ones((4, 3)), labels=np.array([0.0, 1.0, np.nan, 1.0]))
    with pytest.raises(FormatError, match="lab.npz: array 'labels'"):
        load_activations(f)


def test_damaged_h5_is_a_format_error_not_a_runtime_error(tmp_path):
    good = tmp_path / "good.h5"
    with h5py.File(good, "w") as h:
        h["features"] = _manifolds()
    data = good.read_bytes()
    assert len(load_activations(good)) == 3
    for i, damaged in enumerate(
        (data[: len(data) // 2], data[:600] + bytes(len(data) - 600), b"\x89HDF\r\n\x1a\n" + bytes(500))
    ):
        f = tmp_path / f"damaged{i}.h5"
        f.write_bytes(damaged)
        with pytest.raises(FormatError, match=f"damaged{i}.h5"):
            load_activations(f)


def test_h5_external_storage_is_refused_and_the_other_file_is_not_read(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(_manifolds().tobytes())
    f = tmp_path / "ext.h5"
    with h5py.File(f, "w") as h:
        h.create_dataset("features", shape=(3, 6, 5), dtype="<f8", external=[(str(secret), 0, 720)])
    with pytest.raises(FormatError, match="ext.h5: dataset 'features' keeps its data in external files"):
        load_activations(f)


def test_h5_virtual_datasets_and_links_to_other_files_are_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h:
        h["features"] = _manifolds()
    vds = tmp_path / "vds.h5"
    with h5py.File(vds, "w") as h:
        layout = h5py.VirtualLayout(shape=(3, 6, 5), dtype="f8")
        layout[:] = h5py.VirtualSource(str(other), "features", shape=(3, 6, 5))
        h.create_virtual_dataset("features", layout)
    with pytest.raises(FormatError, match="vds.h5: dataset 'features' is a virtual dataset"):
        load_activations(vds)
    link = tmp_path / "link.h5"
    with h5py.File(link, "w") as h:
        h["features"] = h5py.ExternalLink(str(other), "features")
    with pytest.raises(FormatError, match="link.h5: no features found"):
        load_activations(link)
    with pytest.raises(FormatError, match="link.h5: no features found"):
        load_activations(link, features="features")


def test_h5_dataset_declaring_more_than_it_stores_is_refused(tmp_path):
    f = tmp_path / "fill.h5"
    with h5py.File(f, "w") as h:
        h.create_dataset(
            "features", shape=(10**6, 10**6, 10), dtype="f8", chunks=(1, 1000, 10), compression="gzip"
        )
    with pytest.raises(FormatError, match="fill.h5: dataset 'features'"):
        load_activations(f)
    g = tmp_path / "empty.h5"
    with h5py.File(g, "w") as h:
        h.create_dataset("features", shape=(30, 20, 10), dtype="f8", chunks=(1, 20, 10))
    with pytest.raises(FormatError, match="empty.h5: dataset 'features': declares shape"):
        load_activations(g)


def test_h5_compressed_and_string_labelled_datasets_still_load(tmp_path):
    f = tmp_path / "ok.h5"
    x = np.random.default_rng(1).normal(size=(12, 4))
    with h5py.File(f, "w") as h:
        h.create_dataset("X", data=x, compression="gzip")
        h["y"] = np.array([b"a", b"b", b"c"] * 4)
    mans = load_activations(f)
    assert [m.shape for m in mans] == [(4, 4)] * 3


def _h5_bytes() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h:
        h["features"] = np.random.default_rng(2).normal(size=(8, 3))
        h["labels"] = np.repeat(np.arange(2), 4)
    return buf.getvalue()


def _npz_members() -> dict[str, bytes]:
    buf = io.BytesIO()
    np.savez(buf, features=np.random.default_rng(3).normal(size=(8, 3)), labels=np.repeat(np.arange(2), 4))
    with zipfile.ZipFile(buf) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@settings(FUZZ, max_examples=3000)
@given(data=hostile_bytes(npy_bytes(_manifolds()), npy_bytes(_manifolds().astype(np.float32))))
def test_fuzzed_npy_activations_load_or_are_refused(tmp_path, data):
    check_loader(load_activations, tmp_path / "fuzz.npy", data)


@settings(FUZZ, max_examples=2000)
@given(data=hostile_zips(_npz_members()))
def test_fuzzed_npz_activations_load_or_are_refused(tmp_path, data):
    check_loader(load_activations, tmp_path / "fuzz.npz", data)


@settings(FUZZ, max_examples=2000)
@given(data=hostile_bytes(_h5_bytes()))
def test_fuzzed_h5_activations_load_or_are_refused(tmp_path, data):
    mans = check_loader(load_activations, tmp_path / "fuzz.h5", data)
    if mans is not None:
        assert all(np.all(np.isfinite(m)) for m in mans)
