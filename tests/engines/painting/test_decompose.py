"""Image -> strokes: the sparse differentiable renderer and the coarse-to-fine decomposition."""

import json

import numpy as np
import pytest
import torch

from engines.base import drive_job
from engines.painting.decompose import DecomposeParams, decompose, decompose_job, level_sizes
from engines.painting.imageio import load_image, psnr, save_png
from engines.painting.render import render, render_fast, render_sparse
from engines.painting.strokes import load_painting


def _target(size=32):
    # three colour blocks on white: easy to paint with a few strokes
    img = np.ones((size, size, 3))
    img[: size // 2, : size // 2] = (0.9, 0.1, 0.1)
    img[size // 2 :, size // 3 :] = (0.1, 0.2, 0.8)
    img[size // 4 : size // 2, size // 2 :] = (0.2, 0.7, 0.2)
    return img


def test_level_sizes_follow_cnp():
    assert level_sizes(180) == [9, 45, 126]
    assert sum(level_sizes(50)) == 50 and len(level_sizes(50)) == 3
    assert level_sizes(1) == [1]


def test_sparse_renderer_matches_dense_values_and_gradients():
    rng = np.random.default_rng(0)
    p = rng.random((2, 40, 8)).astype(np.float32)
    p[..., 2:4] = 0.02 + 0.2 * p[..., 2:4]
    x = torch.tensor(p, requires_grad=True)
    o = torch.tensor(rng.uniform(0.3, 1, (2, 40)).astype(np.float32), requires_grad=True)
    c = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(1), requires_grad=True)
    tgt = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(2))
    grads = []
    for fn in (lambda: render(x, o, size=40, canvas=c), lambda: render_sparse(x, o, 40, canvas=c)):
        out = fn()
        ((out - tgt) ** 2).sum().backward()
        grads.append((out.detach(), x.grad.clone(), o.grad.clone(), c.grad.clone()))
        x.grad = o.grad = c.grad = None
    for a, b in zip(*grads):
        scale = float(a.abs().max())
        torch.testing.assert_close(b, a, atol=1e-5 * max(1.0, scale), rtol=0)


def test_decomposition_is_coarse_to_fine_and_improves_psnr():
    img = _target()
    p = DecomposeParams(strokes=20, size=32, iters=40)
    d = decompose(img, p, seed=0)
    assert d.params.shape == (1, 20, 8)
    assert d.counts == tuple(np.cumsum(level_sizes(20)))
    assert list(np.bincount(d.levels)) == level_sizes(20)
    assert np.all(d.params >= 0) and np.all(d.params <= 1)
    # PSNR rises with every level, and the strokes beat a blank canvas by far
    assert np.all(np.diff(d.psnr[0]) > 0)
    blank = psnr(np.ones_like(img), img)
    final = psnr(render_fast(d.params[0], size=32), img)
    assert final > blank + 8, (final, blank)
    # coarse strokes are bigger than fine ones
    area = d.params[0, :, 2] * d.params[0, :, 3]
    assert area[d.levels == 0].mean() > area[d.levels == 2].mean()


def test_decomposition_deterministic_and_cancellable():
    img = _target()
    p = DecomposeParams(strokes=10, size=32, iters=10, report_every=5)
    a = decompose(img, p, seed=3)
    b = decompose(img, p, seed=3)
    np.testing.assert_array_equal(a.params, b.params)
    calls = []
    result, completed = drive_job(
        decompose_job(img, p, seed=3), calls.append, should_stop=lambda: len(calls) >= 2
    )
    assert not completed and len(calls) == 2
    assert result.shape[1] == 8 and len(result) > 0  # the strokes so far


def test_decompose_rejects_bad_images():
    with pytest.raises(ValueError, match="images must be"):
        drive_job(decompose_job(np.zeros((4, 5, 3)), DecomposeParams(size=16)))
    with pytest.raises(ValueError, match="strokes = 0"):
        DecomposeParams(strokes=0)


def test_cli_decompose_then_render(tmp_path, capsys):
    from engines.__main__ import main

    src = tmp_path / "in.png"
    save_png(_target(48), src)
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "painting",
                "decompose",
                str(src),
                "--strokes",
                "12",
                "--size",
                "32",
                "--iters",
                "15",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["strokes"] == 12 and len(report["levels"]) == 3 and report["psnr_db"] > 15
    painting = load_painting(out)
    assert len(painting) == 12
    png = tmp_path / "x.png"
    assert (
        main(
            [
                "painting",
                "render",
                str(out),
                "--size",
                "64",
                "--out",
                str(png),
                "--svg",
                str(tmp_path / "x.svg"),
            ]
        )
        == 0
    )
    img = load_image(png)
    assert img.shape == (64, 64, 3) and img.std() > 0.05
    assert (tmp_path / "x.svg").read_text().count("<rect") == 13
    # bad input: clear message, exit code 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["painting", "render", str(bad), "--out", str(png)]) == 2
    assert "bad.json: not valid JSON" in capsys.readouterr().err


def test_huge_images_are_downscaled(tmp_path):
    from PIL import Image

    f = tmp_path / "big.png"
    Image.new("RGB", (5000, 3000), (10, 200, 30)).save(f)
    img = load_image(f)
    assert img.shape == (1228, 1228, 3)  # longest side to 2048, then a centred square
    assert img[0, 0] == pytest.approx((10 / 255, 200 / 255, 30 / 255), abs=1e-6)
