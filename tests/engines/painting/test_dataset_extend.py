"""Extending a stroke dataset with the crops of new sources (issue 16: matplotlib's sample images)."""

import numpy as np
import pytest

from engines.painting.data import MPL_IMAGES, load_dataset, matplotlib_image, save_dataset
from engines.painting.decompose import level_sizes


def test_matplotlib_sample_images_load_as_rgb():
    pytest.importorskip("matplotlib")
    for name in MPL_IMAGES:
        img = matplotlib_image(name)
        assert img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 100, name
        assert img.min() >= 0 and img.max() <= 1 and img.std() > 0.05, name
    mri = matplotlib_image("s1045.ima.gz")
    assert mri.shape == (256, 256, 3) and mri.max() == 1.0
    assert np.abs(np.diff(mri[..., 0], axis=1)).mean() < 0.5 * mri.std()  # an image, not byte noise
    with pytest.raises(ValueError, match="known ones"):
        matplotlib_image("nope.png")


def _old_dataset(path, split, source, seed=0, half=True, **more):
    """A small stroke dataset of 20-stroke paintings with these splits and sources, saved at ``path``."""
    rng = np.random.default_rng(seed)
    old = {
        "params": rng.random((len(split), 20, 8)).astype(np.float32),
        "levels": np.repeat(np.arange(3), level_sizes(20)),
        "split": np.array(split),
        "source": np.array(source),
        "size": np.int64(16),
        **more,
    }
    save_dataset(old, path, half=half)
    return old


def test_extend_appends_training_crops_and_keeps_the_rest_byte_identical(tmp_path, capsys):
    from engines.__main__ import main

    pytest.importorskip("matplotlib")
    source = ["astronaut#0", "coffee#0", "cat#0", "lfw:3~1"]
    old = _old_dataset(tmp_path / "old.npz", [0, 1, 2, 0], source, psnr=np.ones(4, np.float32))
    levels = old["levels"]
    before = load_dataset(tmp_path / "old.npz")
    out = tmp_path / "new.npz"
    args = ["painting", "dataset", "--extend", str(tmp_path / "old.npz"), "--out", str(out), "--half"]
    extra = ["--crops", "2", "--iters", "2", "--batch", "3", "--jitter", "0.15", "--threads", "1"]
    sources = "mpl:Minduka_Present_Blue_Pack.png,mpl:s1045.ima.gz"
    assert main([*args, "--sources", sources, *extra]) == 0
    assert "8 paintings (4 of" in capsys.readouterr().out
    d = load_dataset(out)
    assert d["params"].shape == (8, 20, 8) and d["params"].dtype == np.float32
    np.testing.assert_array_equal(d["levels"], levels)
    assert int(d["size"]) == 16
    # the old paintings first, as they were: held out and validation byte for byte
    assert d["params"][:4].tobytes() == before["params"].tobytes()
    kept = before["split"] != 0
    assert d["params"][:4][kept].tobytes() == old["params"][kept].tobytes()
    assert list(d["split"]) == [0, 1, 2, 0, 0, 0, 0, 0]
    assert list(d["source"][:4]) == list(old["source"])
    assert list(d["source"][4:]) == [
        "mpl:Minduka_Present_Blue_Pack.png#0",
        "mpl:Minduka_Present_Blue_Pack.png#1",
        "mpl:s1045.ima.gz#0",
        "mpl:s1045.ima.gz#1",
    ]
    assert np.isfinite(d["psnr"][4:]).all() and d["psnr"][4:].min() > 5
    new = d["params"][4:]
    assert new.min() >= 0 and new.max() <= 1 and new.std() > 0.05
    # refused: a source the dataset has, a held-out one, an unknown one, --sources alone
    assert main([*args[:-1], "--sources", "mpl:s1045.ima.gz", "--extend", str(out), *extra]) == 2
    assert "mpl:s1045.ima.gz' is in the dataset already" in capsys.readouterr().err
    assert main([*args, "--sources", "coffee", *extra]) == 2
    assert "held out" in capsys.readouterr().err
    assert main([*args, "--sources", "mpl:grace_hoper.jpg", *extra]) == 2
    assert "did you mean 'mpl:grace_hopper.jpg'" in capsys.readouterr().err
    assert main(["painting", "dataset", "--out", str(tmp_path / "x.npz"), "--sources", "matplotlib"]) == 2
    assert "--extend and --sources (or --val-sources) go together" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_generated_drawings_are_seeded_pictures_on_bare_canvas():
    from engines.painting.data import SOURCE_GROUPS, source_images
    from engines.painting.drawings import drawing

    a, b = drawing(7, 64), drawing(7, 64)
    np.testing.assert_array_equal(a, b)  # the same index, the same picture
    assert a.shape == (64, 64, 3) and a.min() >= 0 and a.max() <= 1
    assert not np.array_equal(a, drawing(8, 64))
    many = np.stack([drawing(k, 48) for k in range(30)])
    # drawings, not noise: most of each is paper, and they are not all alike
    paper = (many > 0.9).all(-1).mean(axis=(1, 2))
    assert np.median(paper) > 0.4 and many.std(axis=0).mean() > 0.1
    assert np.abs(np.diff(many, axis=2)).mean() < 0.1
    with pytest.raises(ValueError, match="index"):
        drawing(-1)
    assert len(SOURCE_GROUPS["drawings"]) == 300 and SOURCE_GROUPS["drawings"][0] == "draw:0"
    (name, img), *_ = source_images(["draw:7"])
    assert name == "draw:7" and img.shape == (192, 192, 3)
    with pytest.raises(ValueError, match="draw:x"):
        source_images(["draw:x"])


def test_extend_adds_generated_drawings_and_names_many_sources_briefly(tmp_path, capsys):
    from engines.__main__ import main

    _old_dataset(tmp_path / "old.npz", [0, 1], ["astronaut#0", "coffee#0"], half=False)
    out = tmp_path / "new.npz"
    sources = ",".join(f"draw:{k}" for k in range(8))
    args = [
        "painting",
        "dataset",
        "--extend",
        str(tmp_path / "old.npz"),
        "--out",
        str(out),
        "--sources",
        sources,
    ]
    assert main([*args, "--crops", "1", "--iters", "2", "--batch", "8", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "10 paintings (2 of" in printed and "8 sources: draw:0, draw:1, draw:2, ..." in printed
    d = load_dataset(out)
    assert list(d["source"][2:]) == [f"draw:{k}#0" for k in range(8)] and list(d["split"][2:]) == [0] * 8


def test_extend_grows_the_validation_split_without_touching_training(tmp_path, capsys):
    from engines.__main__ import main
    from engines.painting.data import SOURCE_GROUPS

    _old_dataset(tmp_path / "old.npz", [0, 2, 1], ["draw:3#0", "draw:301#0", "coffee#0"], seed=1)
    out = tmp_path / "new.npz"
    args = ["painting", "dataset", "--extend", str(tmp_path / "old.npz"), "--out", str(out), "--half"]
    extra = ["--iters", "2", "--batch", "4", "--threads", "1"]
    # a validation source gets more crops, numbered on; a new one starts at #0
    assert main([*args, "--val-sources", "draw:301,draw:305", "--crops", "2", *extra]) == 0
    assert "4 new validation paintings of draw:301, draw:305" in capsys.readouterr().out
    d = load_dataset(out)
    assert list(d["split"]) == [0, 2, 1, 2, 2, 2, 2]
    assert list(d["source"][3:]) == ["draw:301#1", "draw:301#2", "draw:305#0", "draw:305#1"]
    assert d["params"][:3].tobytes() == load_dataset(tmp_path / "old.npz")["params"].tobytes()
    # validation paintings are stored exactly, not as float16
    with np.load(out) as raw:
        assert raw["exact_rows"].tolist() == [1, 2, 3, 4, 5, 6]
    # refused: a training source, a held-out one, a validation source as training, both flags at once
    assert main([*args, "--val-sources", "draw:3", *extra]) == 2
    assert "'draw:3' is in the dataset already" in capsys.readouterr().err
    assert main([*args, "--val-sources", "coffee", *extra]) == 2
    assert "held out" in capsys.readouterr().err
    assert main([*args, "--sources", "draw:301", *extra]) == 2
    assert "'draw:301' is in the validation split already" in capsys.readouterr().err
    assert main([*args, "--sources", "draw:9", "--val-sources", "draw:10", *extra]) == 2
    assert "one split per extension" in capsys.readouterr().err
    # the validation drawings are none of the training group's
    assert not set(SOURCE_GROUPS["drawings-val"]) & set(SOURCE_GROUPS["drawings"])
    assert SOURCE_GROUPS["drawings-val"][0] == "draw:300" and len(SOURCE_GROUPS["drawings-val"]) == 30


def test_photo_validation_crops_photographs_that_no_painting_of_the_dataset_uses():
    from pathlib import Path

    from engines.base import drive_job
    from engines.painting.data import HELD_OUT_IMAGES, PHOTO_VALIDATION, SKIMAGE_IMAGES, photo_validation

    names = {n for n, _ in PHOTO_VALIDATION}
    assert not names & {*SKIMAGE_IMAGES, *HELD_OUT_IMAGES}
    shipped = load_dataset(Path(__file__).resolve().parents[3] / "assets" / "painting" / "strokes.npz")
    used = {str(s).split("#")[0] for s in shipped["source"]}
    assert not {n.split("_")[0] for n in names} & {u.split("_")[0] for u in used}
    (params, levels, got), done = drive_job(photo_validation(24, 20, iters=3))
    assert done and params.shape == (20, 20, 8) and len(got) == 20
    assert got[0] == "motorcycle_left#0" and got[-1] == "cell#3"
    np.testing.assert_array_equal(
        levels, np.concatenate([np.full(k, i) for i, k in enumerate(level_sizes(20))])
    )
    np.testing.assert_array_equal(params, drive_job(photo_validation(24, 20, iters=3))[0][0])  # the same set
