"""Painting loaders (JSON documents, reference images, stroke datasets) refuse hostile files cleanly."""

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings

from engines.painting.data import load_dataset, save_dataset
from engines.painting.imageio import load_image, save_png
from engines.painting.strokes import PaintingFormatError, load_painting, params_to_strokes, save_painting
from tests.fuzz import FUZZ, check_loader, hostile_bytes, hostile_zips


def painting_json(tmp_path) -> bytes:
    p = params_to_strokes(np.random.default_rng(0).random((3, 8)))
    f = tmp_path / "seed.json"
    save_painting(p, f)
    return f.read_bytes()


def test_painting_json_nested_100000_deep_is_refused_naming_the_file(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text("[" * 100_000)
    with pytest.raises(PaintingFormatError, match=r"deep.json: nested 100000 levels deep"):
        load_painting(f)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_painting_json_with_nonfinite_numbers_is_refused(tmp_path, value):
    text = painting_json(tmp_path).decode()
    f = tmp_path / "nan.json"
    assert '"opacity": 1.0' in text
    f.write_text(text.replace('"opacity": 1.0', f'"opacity": {value}', 1))
    with pytest.raises(PaintingFormatError, match=r"nan.json"):
        load_painting(f)


def test_painting_clock_beyond_2_53_and_binary_files_are_refused(tmp_path):
    text = painting_json(tmp_path).decode()
    f = tmp_path / "clock.json"
    f.write_text(text.replace('"clock": 0', '"clock": ' + "9" * 400, 1))
    with pytest.raises(PaintingFormatError, match=r"clock.json: strokes\[0\]\.clock"):
        load_painting(f)
    f.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PaintingFormatError, match="clock.json: not UTF-8"):
        load_painting(f)
    with pytest.raises(PaintingFormatError, match="is a folder"):
        load_painting(tmp_path)


def test_save_painting_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    p = params_to_strokes(np.random.default_rng(0).random((2, 8)))
    target = tmp_path / "out.json"
    save_painting(p, target)
    good = target.read_bytes()

    def full_disk(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)  # the last step of the atomic write fails
    with pytest.raises(OSError):
        save_painting(p, target)
    assert target.read_bytes() == good
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out.json"]  # no temporary file left


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with one empty data chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 100_000])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, side):
    f = tmp_path / "bomb.png"
    f.write_bytes(_png_header(side, side))
    with pytest.raises(PaintingFormatError, match=r"bomb.png: "):
        load_image(f)


def test_images_in_formats_that_run_programs_or_random_bytes_are_refused(tmp_path):
    eps = tmp_path / "x.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(PaintingFormatError, match="x.eps: not a readable image"):
        load_image(eps)
    rnd = tmp_path / "x.png"
    rnd.write_bytes(np.random.default_rng(1).bytes(4000))
    with pytest.raises(PaintingFormatError, match="x.png: not a readable image"):
        load_image(rnd)


def _png_bytes(tmp_path) -> bytes:
    img = np.random.default_rng(2).random((12, 16, 3))
    f = tmp_path / "seed.png"
    save_png(img, f)
    return f.read_bytes()


def _dataset_members(tmp_path) -> dict[str, bytes]:
    import zipfile

    rng = np.random.default_rng(3)
    d = {
        "params": rng.random((4, 6, 8)).astype(np.float32),
        "levels": np.array([0, 0, 1, 1, 2, 2]),
        "split": np.array([0, 1, 2, 0]),
        "source": np.array(["a", "b", "c", "d"]),
    }
    f = tmp_path / "seed.npz"
    save_dataset(d, f, half=True)
    with zipfile.ZipFile(f) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_dataset_with_values_outside_the_unit_range_or_bad_splits_is_refused(tmp_path):
    base = {
        "params": np.full((2, 3, 8), 0.5, np.float32),
        "levels": np.zeros(3, int),
        "split": np.array([0, 1]),
    }
    for name, change in (
        ("nan.npz", {"params": np.full((2, 3, 8), np.nan, np.float32)}),
        ("big.npz", {"params": np.full((2, 3, 8), 7.0, np.float32)}),
        ("split.npz", {"split": np.array([0, 9])}),
        ("levels.npz", {"levels": np.zeros(4, int)}),
        ("obj.npz", {"source": np.array([1, 2])}),
    ):
        np.savez(tmp_path / name, **{**base, **change})
        with pytest.raises(PaintingFormatError, match=name):
            load_dataset(tmp_path / name)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("seeds")
    return {"json": painting_json(d), "png": _png_bytes(d), "npz": _dataset_members(d)}


def test_fuzzed_painting_documents_load_or_are_refused(tmp_path, seeds):
    @settings(FUZZ, max_examples=3000)
    @given(data=hostile_bytes(seeds["json"]))
    def run(data):
        check_loader(load_painting, tmp_path / "fuzz.json", data)

    run()


def test_fuzzed_images_load_or_are_refused(tmp_path, seeds):
    @settings(FUZZ, max_examples=2000)
    @given(data=hostile_bytes(seeds["png"]))
    def run(data):
        img = check_loader(load_image, tmp_path / "fuzz.png", data)
        if img is not None:
            assert img.ndim == 3 and img.shape[2] == 3 and np.all(np.isfinite(img))

    run()


def test_fuzzed_datasets_load_or_are_refused(tmp_path, seeds):
    @settings(FUZZ, max_examples=1500)
    @given(data=hostile_zips(seeds["npz"]))
    def run(data):
        d = check_loader(load_dataset, tmp_path / "fuzz.npz", data)
        if d is not None:
            assert d["params"].dtype == np.float32 and np.all(np.isfinite(d["params"]))

    run()


def test_decoded_image_memory_stays_bounded(tmp_path):
    # a 9000 x 9000 PNG decodes (81 Mpx > MAX_PIXELS): refused, not decoded
    from PIL import Image

    f = tmp_path / "wide.png"
    Image.new("L", (9000, 9000)).save(f, optimize=False)
    with pytest.raises(PaintingFormatError, match="wide.png: an image of 9000 x 9000 pixels"):
        load_image(f)
    buf = io.BytesIO()
    Image.new("RGB", (3000, 10)).save(buf, "PNG")
    (tmp_path / "ok.png").write_bytes(buf.getvalue())
    assert load_image(tmp_path / "ok.png").shape == (6, 6, 3)  # 3000 wide: downscaled to 2048 x 6
