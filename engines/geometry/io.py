"""The files of the geometry workbench: user activations (.npz, .npy, .h5) read as a list of
manifolds, and the result rows written as CSV."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from engines.geometry.mftma import check_manifolds
from engines.serialize import (
    MAX_ARRAY_BYTES,
    FormatError,
    check_finite,
    describe,
    load_npy,
    load_npz,
    open_regular,
)

__all__ = [
    "CSV_COLUMNS",
    "EXTRA_COLUMNS",
    "load_activations",
    "rows_to_csv",
    "save_activations",
    "split_by_labels",
]

CSV_COLUMNS = (
    "model",
    "layer",
    "eps",
    "seed",
    "capacity",
    "radius",
    "dimension",
    "center_correlation",
    "K",
    "PR",
    "EVD90",
    "P",
    "M",
    "N",
    "kappa",
)
EXTRA_COLUMNS = ("manifold", "attack", "norm", "noise_scale", "accuracy", "overlap", "simcap")

FEATURE_KEYS = ("features", "activations", "X", "x", "data")
LABEL_KEYS = ("labels", "y", "Y", "targets")
#: dtype kinds accepted for features (bool, integers, floats) and for labels (also names)
FEATURE_KINDS = "biuf"
LABEL_KINDS = "biufSU"
#: most datasets listed in one .h5 file, and the most a compressed dataset may expand
H5_MAX_DATASETS = 10_000
H5_MAX_RATIO = 4096


def split_by_labels(features: np.ndarray, labels: np.ndarray, where: str = "") -> list[np.ndarray]:
    """Group the rows of (n, N) features by their labels (sorted label order)."""
    f = np.asarray(features)
    lab = np.asarray(labels)
    pre = f"{where}: " if where else ""
    if f.ndim != 2:
        raise ValueError(f"{pre}features must be a (samples, features) array, got shape {f.shape}")
    if lab.ndim != 1 or len(lab) != len(f):
        raise ValueError(
            f"{pre}labels do not match the features: {lab.shape} labels for {f.shape[0]} samples"
        )
    return [f[lab == c] for c in np.unique(lab)]


def _from_mapping(get, keys, where, features, labels):
    if features is None:
        features = next((k for k in FEATURE_KEYS if k in keys), None)
        if features is None and len(keys) == 1:
            features = keys[0]
    if features is None or features not in keys:
        raise FormatError(
            f"{where}: no features found (tried {', '.join(FEATURE_KEYS)}; "
            f"it holds {', '.join(keys[:20]) or 'no arrays'})"
        )
    f = _check_features(get(features), f"{where}: array {features!r}")
    if labels is None:
        labels = next((k for k in LABEL_KEYS if k in keys), None)
    if f.ndim == 3:
        return list(f)
    if labels is None or labels not in keys:
        raise FormatError(f"{where}: 2-D features {features!r} need labels (tried {', '.join(LABEL_KEYS)})")
    lab = np.asarray(get(labels))
    if lab.dtype.kind not in LABEL_KINDS:
        raise FormatError(
            f"{where}: array {labels!r}: labels of dtype {lab.dtype} (integers or names expected)"
        )
    if lab.dtype.kind == "f":
        check_finite(lab, f"{where}: array {labels!r}")
    return split_by_labels(f, lab, where)


def _check_features(a: np.ndarray, where: str) -> np.ndarray:
    """Features must be a non-empty 2-D or 3-D array of numbers (finiteness: ``check_manifolds``)."""
    a = np.asarray(a)
    if a.dtype.kind not in FEATURE_KINDS:
        raise FormatError(f"{where}: features of dtype {a.dtype} (numbers expected)")
    if a.ndim not in (2, 3):
        raise FormatError(f"{where}: features must be (samples, features) or P x M x N, got shape {a.shape}")
    if a.size == 0:
        raise FormatError(f"{where}: features are empty (shape {a.shape})")
    return a


def _h5_read(h5py, h, name: str, where: str, file_size: int) -> np.ndarray:
    """One dataset of an open HDF5 file, checked before it is read.

    External storage and virtual datasets are refused (they would read other
    files of this machine); the declared size is checked against the bytes the
    file holds (compressed data at most :data:`H5_MAX_RATIO` times its storage).
    """
    d = h[name]
    label = f"{where}: dataset {name!r}"
    if not isinstance(d, h5py.Dataset):
        raise FormatError(f"{label} is not a dataset")
    if d.is_virtual:
        raise FormatError(f"{label} is a virtual dataset (it reads other files); not accepted")
    if d.external:
        raise FormatError(f"{label} keeps its data in external files; not accepted")
    dt = d.dtype
    if dt.hasobject or dt.kind not in "biufS" or dt.fields is not None or dt.subdtype is not None:
        raise FormatError(f"{label}: data of type {dt} are not accepted (numbers or fixed-length names)")
    shape = tuple(int(n) for n in (d.shape or ()))
    nbytes = math.prod(shape) * dt.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise FormatError(f"{label}: {nbytes} bytes, more than the {MAX_ARRAY_BYTES} allowed")
    stored = int(d.id.get_storage_size())
    filtered = bool(d.compression) or bool(getattr(d, "_filters", None))
    limit = stored * (H5_MAX_RATIO if filtered else 1)
    if nbytes and (stored == 0 or nbytes > limit or (not filtered and nbytes > file_size)):
        raise FormatError(
            f"{label}: declares shape {shape} ({nbytes} bytes) but stores {stored} bytes (damaged or empty)"
        )
    out = np.empty(shape, dtype=dt)
    if nbytes:
        d.read_direct(out)
    return out


def _load_h5(path: Path, where: str, features, labels) -> list[np.ndarray]:
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise FormatError(f"{where}: reading .h5 needs h5py") from e
    fh, size = open_regular(path, where)
    fh.close()
    with h5py.File(path, "r") as h:
        keys: list[str] = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                keys.append(name)
            return None if len(keys) <= H5_MAX_DATASETS else True  # stop the walk

        h.visititems(visit)  # hard links only: soft and external links are not followed
        if len(keys) > H5_MAX_DATASETS:
            raise FormatError(f"{where}: more than {H5_MAX_DATASETS} datasets")
        return _from_mapping(lambda k: _h5_read(h5py, h, k, where, size), keys, where, features, labels)


def load_activations(path, features: str | None = None, labels: str | None = None) -> list[np.ndarray]:
    """Manifolds from a file: a P x M x N array, or (n, N) features with n labels.

    ``.npy``: a P x M x N array. ``.npz`` / ``.h5``: a 3-D array, or a 2-D
    features array with a 1-D labels array (keys guessed or given). Errors
    name the file and the problem. Arrays are read by the bounded readers of
    :mod:`engines.serialize` (sizes checked against the file before anything
    is allocated); features must be finite numbers.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    where = str(path)
    try:
        if suffix == ".npy":
            a = _check_features(load_npy(path, where), where)
            if a.ndim != 3:
                raise FormatError(f"{where}: a .npy file must hold a P x M x N array, got shape {a.shape}")
            mans = list(a)
        elif suffix == ".npz":
            z = load_npz(path, where)
            mans = _from_mapping(lambda k: z[k], list(z), where, features, labels)
        elif suffix in (".h5", ".hdf5"):
            mans = _load_h5(path, where, features, labels)
        else:
            raise FormatError(f"{where}: unknown extension {suffix!r} (use .npz, .npy or .h5)")
    except FormatError:
        raise
    except Exception as e:  # h5py / HDF5 raise OSError, RuntimeError, KeyError, TypeError...
        raise FormatError(f"{where}: cannot read ({describe(e)})") from None
    try:
        return check_manifolds(mans)
    except ValueError as e:
        raise FormatError(f"{where}: {e}") from None


def rows_to_csv(rows, path: str | Path | None = None) -> str:
    """CSV with the issue's columns first, then the extra ones."""
    cols = list(CSV_COLUMNS) + [c for c in EXTRA_COLUMNS if any(c in r for r in rows)]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    text = buf.getvalue()
    if path is not None:
        from engines.files import atomic_write_text

        atomic_write_text(path, text)
    return text


def save_activations(path, features: np.ndarray, labels: np.ndarray) -> Path:
    """Write ``features`` (n x N) and ``labels`` (n) as an ``.npz`` that :func:`load_activations` reads."""
    from engines.files import atomic_output

    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"{path}: activations are written as .npz")
    features, labels = np.asarray(features), np.asarray(labels)
    if features.ndim != 2 or labels.shape != (len(features),):
        raise ValueError(f"features {features.shape} and labels {labels.shape}: want (n, N) and (n,)")
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, features=features, labels=labels)
    return path
