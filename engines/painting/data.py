"""Training strokes from images that ship offline.

Sources: scikit-image's bundled sample images (colour and grey), its 200-face
LFW subset (``skimage.data.lfw_subset``) and scikit-learn's two sample images.
Each large image gives several random square crops (with flips); each face is
used whole. Every crop is decomposed into CNP's 9 + 45 + 126 coarse-to-fine
strokes. The split is by source: whole images and faces are held out for the
benchmark, never their crops.

The result is an ``.npz`` with ``params`` (M, N, 8) float32, ``levels`` (N,),
``split`` (M,) (0 train, 1 held out) and ``source`` (M,) names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engines.base import Job, Progress
from engines.painting.decompose import DecomposeParams, decompose_job
from engines.painting.imageio import as_rgb_float, resize

#: scikit-image sample images used (bundled with the package, no download)
SKIMAGE_IMAGES = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
    "colorwheel",
)
#: held out (benchmark): whole sources
HELD_OUT_IMAGES = ("coffee", "rocket", "sklearn:flower.jpg")


def sample_images() -> Iterator[tuple[str, np.ndarray]]:
    """(name, (H, W, 3) float image) of every shipped sample image that loads."""
    import skimage.data as skd

    for name in SKIMAGE_IMAGES:
        fn = getattr(skd, name, None)
        if fn is None:
            continue
        try:
            img = fn()
        except Exception:  # noqa: BLE001 - a missing bundled file is skipped
            continue
        yield name, as_rgb_float(img)
    try:
        from sklearn.datasets import load_sample_images

        ds = load_sample_images()
        for fname, img in zip(ds.filenames, ds.images):
            yield "sklearn:" + Path(fname).name, as_rgb_float(img)
    except Exception:  # noqa: BLE001 - scikit-learn or its images missing
        return


def faces() -> np.ndarray:
    """The 200 LFW faces shipped with scikit-image, (200, 25, 25) in [0, 1]."""
    import skimage.data as skd

    return np.asarray(skd.lfw_subset(), dtype=np.float64)


def crops(
    name: str, img: np.ndarray, n: int, size: int, rng: np.random.Generator
) -> list[tuple[str, np.ndarray]]:
    """``n`` random square crops (side 40-100 % of the short side), flipped at random."""
    h, w = img.shape[:2]
    short = min(h, w)
    out = []
    for i in range(n):
        side = int(short * (1.0 if i == 0 else rng.uniform(0.4, 1.0)))
        y0 = rng.integers(0, h - side + 1)
        x0 = rng.integers(0, w - side + 1)
        c = img[y0 : y0 + side, x0 : x0 + side]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        out.append((f"{name}#{i}", resize(np.ascontiguousarray(c), size)))
    return out


def build_dataset_job(
    crops_per_image: int = 6,
    n_faces: int = 200,
    size: int = 48,
    iters: int = 60,
    strokes: int = 180,
    batch: int = 16,
    seed: int = 0,
    max_images: int | None = None,
) -> Job:
    """Decompose the shipped images into stroke sequences (a job; returns a dict of arrays)."""
    rng = np.random.default_rng(seed)
    items: list[tuple[str, np.ndarray, int]] = []
    for name, img in sample_images():
        held = int(name in HELD_OUT_IMAGES)
        for cname, c in crops(name, img, crops_per_image, size, rng):
            items.append((cname, c, held))
    fc = faces()
    held_faces = set(range(len(fc) - max(1, len(fc) // 10), len(fc)))
    for i in range(min(n_faces, len(fc))):
        g = resize(np.repeat(fc[i][..., None], 3, axis=2), size)
        items.append((f"lfw:{i}", g, int(i in held_faces)))
    if max_images is not None:
        # keep both splits represented in small builds
        tr = [it for it in items if it[2] == 0][: max(1, max_images - max_images // 4)]
        te = [it for it in items if it[2] == 1][: max(1, max_images // 4)]
        items = tr + te
    p = DecomposeParams(strokes=strokes, size=size, iters=iters, report_every=max(1, iters))
    params, psnrs = [], []
    levels = None
    for b0 in range(0, len(items), batch):
        chunk = items[b0 : b0 + batch]
        job = decompose_job(np.stack([c[1] for c in chunk]), p, seed=seed + b0)
        try:
            while True:
                next(job)
        except StopIteration as stop:
            d = stop.value
        params.append(d.params)
        psnrs.append(d.psnr[:, -1])
        levels = d.levels
        yield Progress(
            b0 + len(chunk),
            len(items),
            f"decomposed {b0 + len(chunk)}/{len(items)} images, mean PSNR {np.mean(psnrs[-1]):.1f} dB",
        )
    return {
        "params": np.concatenate(params).astype(np.float32),
        "levels": levels.astype(np.int64),
        "split": np.array([it[2] for it in items], np.int64),
        "source": np.array([it[0] for it in items]),
        "psnr": np.concatenate(psnrs).astype(np.float32),
        "size": np.int64(size),
    }


def save_dataset(d: dict, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **d)


def load_dataset(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a stroke dataset ({e})") from e
    for key in ("params", "levels", "split"):
        if key not in d:
            raise ValueError(f"{path}: field {key!r} is missing")
    if d["params"].ndim != 3 or d["params"].shape[-1] != 8:
        raise ValueError(f"{path}: field 'params' has shape {d['params'].shape}, expected (M, N, 8)")
    return d
