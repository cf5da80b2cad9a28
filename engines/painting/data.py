"""Training strokes from images that ship offline.

Sources: scikit-image's bundled sample images (colour and grey), its 200-face
LFW subset (``skimage.data.lfw_subset``), scikit-learn's two sample images and
matplotlib's four sample images (``mpl-data/sample_data``, shipped under
matplotlib's licence agreement: a photograph, two icons and a grey MRI slice),
and drawings on bare canvas generated from a seed (``draw:K``, engines.painting.drawings).
Each large image gives several random square crops (with flips); each face is
used whole. Every crop is decomposed into CNP's 9 + 45 + 126 coarse-to-fine
strokes. The split is by source: whole images and faces are held out for the
benchmark, never their crops.

More training paintings come cheaply from more crops per image (side 30-100 %
of the short side), several variants of each training face (random crop of
80-100 %, flip) and a colour jitter of the crops (per-channel gain and a
brightness/contrast change); the decomposition is batched (``batch`` images
optimised at once through the sparse differentiable renderer).
``val_images`` sources form a validation split (2) used for the validation
loss and decoder choices, never for training. ``held_out_from`` copies the
held-out paintings (split 1) of an earlier dataset verbatim, so that a larger
training set is measured on exactly the same benchmark paintings.

:func:`extend_dataset_job` adds the crops of new sources to an existing
dataset (to its training split, or to its validation split; the paintings it
has are kept as they are), so that new sources do not cost a rebuild of the
whole dataset.

The result is an ``.npz`` with ``params`` (M, N, 8) float32, ``levels`` (N,),
``split`` (M,) (0 train, 1 held out, 2 validation) and ``source`` (M,) names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from engines.base import Job, Progress
from engines.painting.decompose import DecomposeParams, decompose_job
from engines.painting.drawings import DRAWING_PREFIX, drawing, drawing_names
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
#: matplotlib's sample images (matplotlib/mpl-data/sample_data, under matplotlib's licence agreement);
#: s1045.ima.gz is a raw 256 x 256 16-bit MRI slice (used as a grey image)
MPL_IMAGES = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png", "s1045.ima.gz")
#: generated drawings on bare canvas (engines.painting.drawings) that ``--sources drawings`` adds
N_DRAWINGS = 300
#: generated drawings after those, for a validation split (``--val-sources drawings-val``)
N_VAL_DRAWINGS = 30
#: source groups that ``dataset --sources`` accepts besides single source names
SOURCE_GROUPS = {
    "matplotlib": tuple("mpl:" + n for n in MPL_IMAGES),
    "drawings": drawing_names(N_DRAWINGS),
    # drawings for a validation split: never among the training group's
    "drawings-val": drawing_names(N_VAL_DRAWINGS, start=N_DRAWINGS),
}
#: held out (benchmark): whole sources
HELD_OUT_IMAGES = ("coffee", "rocket", "sklearn:flower.jpg")


#: shipped scikit-image photographs that no painting of the dataset uses (training, validation or held
#: out): crops of them (name, crops) are the photographs on which Complete's choices are made apart from
#: the benchmark's held-out split (issue 16; ``benchmarks/painting.py --split photos``)
PHOTO_VALIDATION = (("motorcycle_left", 8), ("motorcycle_right", 4), ("clock", 4), ("cell", 4))


def photo_validation(size: int, strokes: int, iters: int = 60, seed: int = 43):
    """The photo validation paintings: (params (20, strokes, 8), levels, names), crops of
    :data:`PHOTO_VALIDATION` at ``size`` px decomposed as the dataset's paintings are (a sub-job)."""
    import skimage.data as skd

    left, right, _ = skd.stereo_motorcycle()
    images = {"motorcycle_left": left, "motorcycle_right": right, "clock": skd.clock(), "cell": skd.cell()}
    rng = np.random.default_rng(seed)
    items = []
    for name, k in PHOTO_VALIDATION:
        items += crops(name, as_rgb_float(images[name]), k, size, rng, 0.4, 0.15)
    p = DecomposeParams(strokes=strokes, size=size, iters=iters, report_every=iters)
    params, _, levels = yield from _decompose([im for _, im in items], p, 128, 1)
    return params, levels, [n for n, _ in items]


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
        pass
    yield from matplotlib_images()


def matplotlib_image(name: str) -> np.ndarray:
    """One of matplotlib's sample images (:data:`MPL_IMAGES`) as (H, W, 3) floats in [0, 1].

    RGBA images are composed over white; the raw MRI slice ``s1045.ima.gz``
    (256 x 256 big-endian uint16) is scaled by its maximum.
    """
    import matplotlib.cbook as cbook

    if name not in MPL_IMAGES:
        raise ValueError(f"matplotlib sample image {name!r}: known ones are {', '.join(MPL_IMAGES)}")
    if name == "s1045.ima.gz":
        with cbook.get_sample_data(name) as fh:  # (opened with gzip by matplotlib)
            raw = np.frombuffer(fh.read(), ">u2")
        if raw.size != 256 * 256:
            raise ValueError(f"{name}: {raw.size} values, expected 256 x 256")
        a = raw.reshape(256, 256).astype(np.float64)
        return as_rgb_float(a / max(float(a.max()), 1.0))
    import matplotlib.image as mpimg

    return as_rgb_float(mpimg.imread(cbook.get_sample_data(name, asfileobj=False)))


def matplotlib_images() -> Iterator[tuple[str, np.ndarray]]:
    """(``"mpl:" + name``, image) of each of matplotlib's sample images that loads."""
    for name in MPL_IMAGES:
        try:
            img = matplotlib_image(name)
        except Exception:  # noqa: BLE001 - matplotlib or its sample data missing
            continue
        yield "mpl:" + name, img


def faces() -> np.ndarray:
    """The 200 LFW faces shipped with scikit-image, (200, 25, 25) in [0, 1]."""
    import skimage.data as skd

    return np.asarray(skd.lfw_subset(), dtype=np.float64)


def jitter_colour(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Per-channel gain, brightness and contrast changes of up to ``amount`` (0: unchanged)."""
    if amount <= 0:
        return img
    gain = rng.uniform(1 - amount, 1 + amount, size=3)
    contrast = rng.uniform(1 - amount, 1 + amount)
    bright = rng.uniform(-amount, amount) * 0.5
    mean = img.mean()
    out = (img * gain - mean) * contrast + mean + bright
    return np.clip(out, 0, 1)


def crops(
    name: str,
    img: np.ndarray,
    n: int,
    size: int,
    rng: np.random.Generator,
    min_side: float = 0.4,
    jitter: float = 0.0,
    first: int = 0,
) -> list[tuple[str, np.ndarray]]:
    """``n`` random square crops (side ``min_side``-100 % of the short side), flipped at random,
    named ``name#first`` onwards.

    Crop 0 is the whole short side; the others get a colour jitter of ``jitter`` (see :func:`jitter_colour`).
    """
    h, w = img.shape[:2]
    short = min(h, w)
    out = []
    for i in range(first, first + n):
        side = int(short * (1.0 if i == 0 else rng.uniform(min_side, 1.0)))
        y0 = rng.integers(0, h - side + 1)
        x0 = rng.integers(0, w - side + 1)
        c = img[y0 : y0 + side, x0 : x0 + side]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        c = resize(np.ascontiguousarray(c), size)
        if i > 0 and jitter > 0:
            c = jitter_colour(c, rng, jitter)
        out.append((f"{name}#{i}", c))
    return out


def face_variants(i: int, face: np.ndarray, n: int, size: int, rng: np.random.Generator) -> list:
    """The face itself, then ``n - 1`` random crops (80-100 %) flipped at random, as RGB ``size`` px."""
    out = []
    s = face.shape[0]
    for v in range(n):
        f = face
        if v > 0:
            side = int(round(s * rng.uniform(0.8, 1.0)))
            y0 = int(rng.integers(0, s - side + 1))
            x0 = int(rng.integers(0, s - side + 1))
            f = face[y0 : y0 + side, x0 : x0 + side]
            if rng.random() < 0.5:
                f = f[:, ::-1]
        g = resize(np.repeat(np.ascontiguousarray(f)[..., None], 3, axis=2), size)
        out.append((f"lfw:{i}" + (f"~{v}" if v else ""), g))
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
    face_copies: int = 1,
    min_side: float = 0.4,
    jitter: float = 0.0,
    val_images: tuple[str, ...] = (),
    held_out_from: str | Path | None = None,
) -> Job:
    """Decompose the shipped images into stroke sequences (a job; returns a dict of arrays).

    With ``held_out_from`` (an earlier dataset), held-out sources are not
    decomposed again: that dataset's held-out paintings are copied instead.
    """
    rng = np.random.default_rng(seed)
    kept = None
    if held_out_from is not None:
        old = load_dataset(held_out_from)
        if "source" not in old:
            raise ValueError(
                f"{held_out_from}: field 'source' is missing (needed to copy the held-out split)"
            )
        sel = old["split"] == 1
        kept = {k: old[k][sel] for k in ("params", "source", "psnr") if k in old}
        if kept["params"].shape[1] != strokes:
            raise ValueError(
                f"{held_out_from}: held-out paintings have {kept['params'].shape[1]} strokes, not {strokes}"
            )
    items: list[tuple[str, np.ndarray, int]] = []
    for name, img in sample_images():
        held = 1 if name in HELD_OUT_IMAGES else (2 if name in val_images else 0)
        if held == 1 and kept is not None:
            continue
        n = crops_per_image if held == 0 else min(crops_per_image, 6)
        for cname, c in crops(name, img, n, size, rng, min_side, jitter if held == 0 else 0.0):
            items.append((cname, c, held))
    fc = faces()
    held_faces = set(range(len(fc) - max(1, len(fc) // 10), len(fc)))
    for i in range(min(n_faces, len(fc))):
        held = int(i in held_faces)
        if held and kept is not None:
            continue
        for name, g in face_variants(i, fc[i], 1 if held else face_copies, size, rng):
            items.append((name, g, held))
    if max_images is not None:
        # keep both splits represented in small builds
        tr = [it for it in items if it[2] == 0][: max(1, max_images - max_images // 4)]
        te = [it for it in items if it[2] == 1][: max(1, max_images // 4)]
        items = tr + te
    p = DecomposeParams(strokes=strokes, size=size, iters=iters, report_every=max(1, iters))
    params, psnr, levels = yield from _decompose([it[1] for it in items], p, batch, seed)
    out = {
        "params": params,
        "levels": levels,
        "split": np.array([it[2] for it in items], np.int64),
        "source": np.array([it[0] for it in items]),
        "psnr": psnr,
        "size": np.int64(size),
    }
    if kept is not None:
        m = len(kept["params"])
        out["params"] = np.concatenate([out["params"], kept["params"].astype(np.float32)])
        out["split"] = np.concatenate([out["split"], np.ones(m, np.int64)])
        out["source"] = np.concatenate([out["source"].astype(str), kept["source"].astype(str)])
        psnr = kept.get("psnr", np.full(m, np.nan, np.float32))
        out["psnr"] = np.concatenate([out["psnr"], psnr.astype(np.float32)])
    return out


def _decompose(images: list[np.ndarray], p: DecomposeParams, batch: int, seed: int):
    """Decompose images ``batch`` at a time (a sub-job): (params (M, N, 8) f32, final PSNR (M,) f32, levels)."""
    params, psnrs = [], []
    levels = None
    for b0 in range(0, len(images), batch):
        chunk = images[b0 : b0 + batch]
        job = decompose_job(np.stack(chunk), p, seed=seed + b0)
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
            len(images),
            f"decomposed {b0 + len(chunk)}/{len(images)} images, mean PSNR {np.mean(psnrs[-1]):.1f} dB",
        )
    return (
        np.concatenate(params).astype(np.float32),
        np.concatenate(psnrs).astype(np.float32),
        levels.astype(np.int64),
    )


def expand_sources(names: Sequence[str]) -> list[str]:
    """Source names with the :data:`SOURCE_GROUPS` among them replaced by their members (no repeats)."""
    wanted: list[str] = []
    for n in names:
        for m in SOURCE_GROUPS.get(n, (n,)):
            if m not in wanted:
                wanted.append(m)
    return wanted


def source_images(names: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, image) of the named sources (names as in a dataset's ``source`` field, or a
    :data:`SOURCE_GROUPS` key); an unknown name or one that does not load is an error naming it."""
    from engines.cliargs import suggest

    wanted = expand_sources(names)
    shipped = [n for n in wanted if not n.startswith(DRAWING_PREFIX)]
    if all(n.startswith("mpl:") and n[4:] in MPL_IMAGES for n in shipped):
        found = dict(matplotlib_images()) if shipped else {}  # (without loading every other image)
    else:
        found = dict(sample_images())
    for n in wanted:
        k = n[len(DRAWING_PREFIX) :]
        if n.startswith(DRAWING_PREFIX) and k.isdigit():
            found[n] = drawing(int(k))
    known = [*dict.fromkeys([*found, *SOURCE_GROUPS["matplotlib"]]), *SOURCE_GROUPS]
    out = []
    for n in wanted:
        if n not in found:
            raise ValueError(
                f"source {n!r}: not a shipped image that loads here (known: {', '.join(known)})"
                + suggest(n, known)
            )
        out.append((n, found[n]))
    return out


def extend_dataset_job(
    old: dict,
    sources: Sequence[str],
    crops_per_image: int = 200,
    iters: int = 60,
    batch: int = 16,
    seed: int = 0,
    min_side: float = 0.4,
    jitter: float = 0.0,
    split: int = 0,
) -> Job:
    """The dataset ``old`` (from :func:`load_dataset`) with crops of new ``sources`` appended.

    Each source (see :func:`source_images`) gives ``crops_per_image`` random
    square crops as :func:`build_dataset_job` makes them, decomposed into
    paintings of ``old``'s strokes and size; they join ``split`` (0 training,
    2 validation) after ``old``'s paintings, which stay as they are, in their
    order. A held-out source (:data:`HELD_OUT_IMAGES`) is refused, and so is a
    source ``old`` has already, except that a validation source may get more
    crops (named on from its last). Returns a dict of arrays.
    """
    if split not in (0, 2):
        raise ValueError(f"split = {split}: new paintings join the training (0) or validation (2) split")
    if "source" not in old:
        raise ValueError("the dataset to extend has no field 'source' (needed to keep sources apart)")
    bases = np.array([str(s).split("#")[0].split("~")[0] for s in old["source"]])
    old_split = np.asarray(old["split"])
    for name in expand_sources(sources):
        if name in HELD_OUT_IMAGES:
            raise ValueError(
                f"source {name!r} is held out for the benchmark: it is never trained or chosen on"
            )
        where = set(old_split[bases == name].tolist())
        if where and not (split == 2 and where == {2}):
            kind = "the validation split" if where == {2} else "the dataset"
            raise ValueError(f"source {name!r} is in {kind} already")
    images = source_images(sources)
    size = int(old["size"]) if "size" in old else 48
    n_strokes = int(old["params"].shape[1])
    rng = np.random.default_rng(seed)
    items: list[tuple[str, np.ndarray]] = []
    for name, img in images:
        first = int((bases == name).sum())
        items.extend(crops(name, img, crops_per_image, size, rng, min_side, jitter, first=first))
    p = DecomposeParams(strokes=n_strokes, size=size, iters=iters, report_every=max(1, iters))
    params, psnr, levels = yield from _decompose([it[1] for it in items], p, batch, seed)
    if not np.array_equal(levels, old["levels"]):
        raise ValueError(f"the new paintings' levels {levels.tolist()} differ from the dataset's")
    m = len(items)
    out = dict(old)
    out["params"] = np.concatenate([np.asarray(old["params"], np.float32), params])
    out["split"] = np.concatenate([np.asarray(old["split"], np.int64), np.full(m, split, np.int64)])
    out["source"] = np.concatenate([old["source"].astype(str), np.array([it[0] for it in items])])
    old_psnr = old.get("psnr", np.full(len(old["params"]), np.nan, np.float32))
    out["psnr"] = np.concatenate([np.asarray(old_psnr, np.float32), psnr])
    out["size"] = np.int64(size)
    return out


def save_dataset(d: dict, path: str | Path, half: bool = False) -> None:
    """Write a dataset; ``half`` stores the training paintings as float16 (half the size),
    while the held-out and validation paintings stay exact (float32)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if half:
        d = dict(d)
        exact = np.flatnonzero(np.asarray(d["split"]) != 0)
        d["exact_rows"] = exact.astype(np.int64)
        d["exact_params"] = np.asarray(d["params"], np.float32)[exact]
        d["params"] = np.asarray(d["params"]).astype(np.float16)
    from engines.files import atomic_output

    with atomic_output(path) as tmp, open(tmp, "wb") as fh:  # a file object: no ".npz" appended
        np.savez_compressed(fh, **d)


def load_dataset(path: str | Path) -> dict[str, np.ndarray]:
    """Read a dataset written by :func:`save_dataset`; errors name the file and the field.

    The arrays are read by :func:`engines.serialize.load_npz` (sizes checked
    before anything is allocated, no pickles); shapes, dtypes and values are
    checked here.
    """
    from engines.painting.strokes import PaintingFormatError
    from engines.serialize import check_finite, load_npz

    path = Path(path)
    d = load_npz(path, str(path), error=PaintingFormatError)

    def bad(msg: str) -> PaintingFormatError:
        return PaintingFormatError(f"{path}: {msg}")

    for key in ("params", "levels", "split"):
        if key not in d:
            raise bad(f"field {key!r} is missing")
    params = d["params"]
    if params.dtype.kind != "f" or params.ndim != 3 or params.shape[-1] != 8:
        raise bad(f"field 'params' has shape {params.shape} of {params.dtype}, expected (M, N, 8) floats")
    m, n = params.shape[:2]
    for key, shape in (("levels", (n,)), ("split", (m,))):
        if d[key].dtype.kind not in "iu" or d[key].shape != shape:
            raise bad(f"field {key!r} has shape {d[key].shape} of {d[key].dtype}, expected {shape} integers")
    if np.any((d["split"] < 0) | (d["split"] > 2)):
        raise bad("field 'split' holds values other than 0 (train), 1 (held out), 2 (validation)")
    if np.any(d["levels"] < 0):
        raise bad("field 'levels' holds negative levels")
    if "source" in d and (d["source"].dtype.kind not in "US" or d["source"].shape != (m,)):
        raise bad(f"field 'source' has shape {d['source'].shape} of {d['source'].dtype}, expected {m} names")
    d["params"] = params = params.astype(np.float32)
    if "exact_params" in d:
        rows = d.pop("exact_rows", None)
        exact = d.pop("exact_params")
        if (
            rows is None
            or rows.dtype.kind not in "iu"
            or rows.ndim != 1
            or exact.dtype.kind != "f"
            or exact.shape != (len(rows), n, 8)
            or (len(rows) and (rows.min() < 0 or rows.max() >= m))
        ):
            raise bad("fields 'exact_rows' and 'exact_params' do not fit 'params'")
        params[rows] = exact
    check_finite(params, f"{path}: field 'params'", error=PaintingFormatError)
    if params.size and (params.min() < 0.0 or params.max() > 1.0):
        raise bad("field 'params' holds values outside [0, 1]")
    return d
