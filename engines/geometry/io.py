"""Import of user activations (.npz, .npy, .h5) as a list of manifolds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from engines.geometry.mftma import check_manifolds
from engines.serialize import FormatError

__all__ = ["load_activations", "split_by_labels"]

FEATURE_KEYS = ("features", "activations", "X", "x", "data")
LABEL_KEYS = ("labels", "y", "Y", "targets")


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
            f"{where}: no features found (tried {', '.join(FEATURE_KEYS)}; it holds {', '.join(keys)})"
        )
    f = np.asarray(get(features))
    if labels is None:
        labels = next((k for k in LABEL_KEYS if k in keys), None)
    if f.ndim == 3:
        return list(f)
    if labels is None or labels not in keys:
        raise FormatError(f"{where}: 2-D features {features!r} need labels (tried {', '.join(LABEL_KEYS)})")
    return split_by_labels(f, np.asarray(get(labels)), where)


def load_activations(path, features: str | None = None, labels: str | None = None) -> list[np.ndarray]:
    """Manifolds from a file: a P x M x N array, or (n, N) features with n labels.

    ``.npy``: a P x M x N array. ``.npz`` / ``.h5``: a 3-D array, or a 2-D
    features array with a 1-D labels array (keys guessed or given). Errors
    name the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    where = str(path)
    try:
        if suffix == ".npy":
            a = np.load(path, allow_pickle=False)
            if a.ndim != 3:
                raise FormatError(f"{where}: a .npy file must hold a P x M x N array, got shape {a.shape}")
            mans = list(a)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                mans = _from_mapping(lambda k: z[k], list(z.keys()), where, features, labels)
        elif suffix in (".h5", ".hdf5"):
            try:
                import h5py
            except ImportError as e:  # pragma: no cover - h5py is a dependency
                raise FormatError(f"{where}: reading .h5 needs h5py") from e
            with h5py.File(path, "r") as h:
                keys = []
                h.visititems(lambda name, obj: keys.append(name) if isinstance(obj, h5py.Dataset) else None)
                mans = _from_mapping(lambda k: h[k][()], keys, where, features, labels)
        else:
            raise FormatError(f"{where}: unknown extension {suffix!r} (use .npz, .npy or .h5)")
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError(f"{where}: cannot read ({e})") from e
    try:
        return check_manifolds(mans)
    except ValueError as e:
        raise FormatError(f"{where}: {e}") from e
