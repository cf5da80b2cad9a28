"""Careless command lines: one line on stderr naming the thing and the fix, exit 2, no traceback, nothing left behind.

Every row of :data:`CARELESS` is a mistake a new user makes with ``python -m engines`` (missing or empty
files, folders for files, random bytes, negative numbers, typos in ``--set``, outputs that cannot be
written). They are run in process through :func:`engines.__main__.main` and all fail before any long
work starts.
"""

from __future__ import annotations

import json
import os
import stat
import sys

import numpy as np
import pytest

from engines.__main__ import main

#: (command line with {placeholders} for the files of the `careless` fixture, words the error must name)
CARELESS = [
    # spiking
    ("spiking run --duration -1", ["--duration", "> 0"]),
    ("spiking run --duration abc", ["--duration", "not a number"]),
    ("spiking run --duration nan", ["--duration", "finite"]),
    ("spiking run --seed -3", ["--seed", ">= 0"]),
    ("spiking run --duration 0.01 --set tau_m=3", ["tau_m", "did you mean 'tau_m_ms'"]),
    ("spiking run --duration 0.01 --set tau_m_ms=abc", ["tau_m_ms", "must be a number"]),
    ("spiking run --duration 0.01 --set n_neurons=1.5", ["n_neurons", "integer"]),
    ("spiking run --duration 0.01 --set novalue", ["novalue", "NAME=VALUE"]),
    ("spiking run --duration 0.01 --preset cobba", ["cobba", "coba"]),
    ("spiking run --duration 0.01 --save {adir}", ["{adir}", "is a folder"]),
    ("spiking run --duration 0.01 --save {nodir}/state.zip", ["{nodir}", "does not exist"]),
    ("spiking run --duration 0.01 --nwb {adir}/", ["{adir}", "folder"]),
    ("spiking run --duration 0.01 --load {empty_npz}", ["{empty_npz}"]),
    ("spiking run --duration 0.01 --load {rand_npz}", ["{rand_npz}"]),
    ("spiking run --duration 0.01 --load {adir}", ["{adir}", "is a folder"]),
    ("spiking run --duration 0.01 --load {missing}", ["{missing}", "no such"]),
    ("spiking train --set hiden=3", ["hiden", "did you mean 'hidden'"]),
    ("spiking train --preset neurocorex-digits --set treshold=3", ["treshold", "did you mean 'threshold'"]),
    ("spiking train --epochs 0", ["--epochs", ">= 1"]),
    # geometry
    ("geometry analyze {empty_npz}", ["{empty_npz}"]),
    ("geometry analyze {rand_npz}", ["{rand_npz}"]),
    ("geometry analyze {empty_npy}", ["{empty_npy}"]),
    ("geometry analyze {rand_h5}", ["{rand_h5}"]),
    ("geometry analyze {adir}", ["{adir}", "is a folder"]),
    ("geometry analyze {missing}", ["{missing}", "no such"]),
    ("geometry analyze {rand_npz} --kappa -1", ["--kappa", ">= 0"]),
    ("geometry analyze {rand_npz} --n-t 0", ["--n-t", ">= 1"]),
    ("geometry sweep --out {adir}", ["{adir}", "is a folder"]),
    ("geometry sweep --P 1", ["--P", ">= 2"]),
    ("geometry sweep --eps abc", ["eps", "numbers"]),
    ("geometry sweep --models standrd", ["standrd"]),
    ("geometry train --kind standrd", ["standrd", "did you mean 'standard'"]),
    ("geometry train --out {empty_npz}", ["{empty_npz}", "not a folder"]),
    # routing
    ("routing info {empty_npz}", ["{empty_npz}"]),
    ("routing info {rand_npz}", ["{rand_npz}"]),
    ("routing info {bad_json}", ["{bad_json}"]),
    ("routing info {adir}", ["{adir}", "is a folder"]),
    ("routing info {missing}", ["{missing}", "no such"]),
    ("routing solve {rand_npz} --time-limit 0", ["--time-limit", "> 0"]),
    ("routing solve {rand_npz} --max-iterations -5", ["--max-iterations", ">= 1"]),
    ("routing solve {rand_npz} --out {adir}", ["{adir}", "is a folder"]),
    ("routing solve {rand_npz} --out {tmp}/sol.txt", ["sol.txt", ".sol"]),
    ("routing solve {rand_npz} --solver fastest", ["--solver", "fastest"]),
    ("routing osm {rand_npz} --points 1 --out {tmp}/o.npz", ["--points", ">= 2"]),
    ("routing osm {missing} --out {tmp}/o.npz", ["{missing}", "no such"]),
    ("routing train --config tinny --out {tmp}/net", ["tinny", "did you mean 'tiny'"]),
    ("routing train --out {empty_npz}", ["{empty_npz}", "not a folder"]),
    ("routing train --init {rand_npz} --out {tmp}/net", ["{rand_npz}"]),
    # painting
    ("painting decompose {empty_png} --out {tmp}/s.json", ["{empty_png}"]),
    ("painting decompose {rand_npz} --out {tmp}/s.json", ["{rand_npz}"]),
    ("painting decompose {adir} --out {tmp}/s.json", ["{adir}", "is a folder"]),
    ("painting decompose {missing} --out {tmp}/s.json", ["{missing}", "no such"]),
    ("painting decompose {image} --out {adir}", ["{adir}", "is a folder"]),
    ("painting decompose {image} --out {tmp}/s.json --png {nodir}/r.png", ["{nodir}", "does not exist"]),
    ("painting decompose {image} --out {tmp}/s.json --strokes 0", ["--strokes", ">= 1"]),
    ("painting decompose {image} --out {tmp}/s.json --size 100000", ["--size", "<= 512"]),
    ("painting decompose {image} --out {tmp}/s.json --lr -1", ["--lr"]),
    ("painting render {bad_json} --out {tmp}/r.png", ["{bad_json}", "JSON"]),
    ("painting render {empty_npz} --out {tmp}/r.png", ["{empty_npz}"]),
    ("painting render {rand_npz} --out {tmp}/r.png", ["{rand_npz}"]),
    ("painting render {painting} --out {tmp}/r.png --size 100000", ["--size", "<= 8192"]),
    ("painting render {painting} --out {tmp}/r.png --svg {adir}", ["{adir}", "is a folder"]),
    ("painting complete {painting} --out {tmp}/c.json --mode rnadom", ["rnadom", "did you mean 'random'"]),
    ("painting complete {painting} --out {tmp}/c.json --p 2", ["--p", "<= 1"]),
    ("painting complete {painting} --out {tmp}/c.json --model {rand_npz}", ["{rand_npz}"]),
    ("painting complete {painting} --out {tmp}/c.json --model {missing}", ["{missing}"]),
    ("painting complete {bad_json} --out {tmp}/c.json", ["{bad_json}"]),
    ("painting train --data {empty_npz} --out {tmp}/m.zip", ["{empty_npz}"]),
    (
        "painting train --data {rand_npz} --out {tmp}/m.zip",
        ["{rand_npz}", "not a .npz file"],
    ),
    ("painting train --data {missing} --out {tmp}/m.zip", ["{missing}", "no such"]),
    ("painting train --steps 0", ["--steps", ">= 1"]),
    ("painting eval --data {rand_npz}", ["{rand_npz}"]),
    ("painting eval --modes rnd", ["rnd", "did you mean 'random'"]),
    ("painting dataset --out {adir}", ["{adir}", "is a folder"]),
    ("painting dataset --out {tmp}/d.npz --held-out-from {rand_npz}", ["{rand_npz}", "not a .npz file"]),
    # sweeps
    ("sweep run {empty_toml} --workers 0", ["{empty_toml}"]),
    ("sweep run {rand_npz} --workers 0", ["{rand_npz}"]),
    ("sweep run {adir} --workers 0", ["{adir}", "is a folder"]),
    ("sweep run {missing} --workers 0", ["{missing}", "no such"]),
    ("sweep run {empty_toml} --workers -1", ["--workers", ">= 0"]),
    ("sweep run {empty_toml} --chunk 0", ["--chunk", ">= 1"]),
    ("sweep show {rand_npz}", ["{rand_npz}"]),
    ("sweep kinds dem", ["dem", "did you mean 'demo'"]),
    ("sweep export {adir} --to {tmp}/t.csv", ["{adir}", "not a results folder"]),
    ("sweep export {missing} --to {tmp}/t.csv", ["{missing}"]),
    ("sweep export {adir} --to {tmp}/t.txt", ["t.txt", ".csv"]),
    ("sweep export {adir} --to {adir}", ["{adir}", "is a folder"]),
    # the command line itself
    ("spiking jump", ["jump"]),
    ("routing solve", ["file", "required"]),
]


@pytest.fixture
def careless(tmp_path):
    """Files a careless user passes: empty, random bytes, folders, a missing one; plus valid small inputs."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    d = tmp_path / "in"
    d.mkdir()
    files = {"tmp": tmp_path / "out", "adir": d / "a folder", "missing": d / "missing.npz", "nodir": d / "no"}
    files["tmp"].mkdir()
    files["adir"].mkdir()
    for name, data in {
        "empty_npz": b"",
        "empty_npy": b"",
        "empty_png": b"",
        "empty_toml": b"",
        "rand_npz": noise,
        "rand_h5": noise,
        "bad_json": b'{"strokes": [1, 2',
    }.items():
        stem, ext = name.rsplit("_", 1)
        files[name] = d / f"{stem}.{ext}"
        files[name].write_bytes(data)
    from PIL import Image

    files["image"] = d / "image.png"
    Image.fromarray((rng.random((24, 24, 3)) * 255).astype(np.uint8)).save(files["image"])
    from engines.painting.strokes import params_to_strokes, save_painting

    files["painting"] = d / "painting.json"
    save_painting(params_to_strokes(rng.random((9, 8)).astype(np.float32)), files["painting"])
    return files


def listing(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse
        return int(e.code or 0)


@pytest.mark.parametrize("line, words", CARELESS, ids=[c[0] for c in CARELESS])
def test_a_careless_command_gets_one_line_and_exit_2(line, words, careless, tmp_path, capsys):
    argv = [a.format(**careless) for a in line.split()]  # split first: paths may hold spaces
    before = listing(tmp_path)
    rc = run(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err and "internal error" not in err
    for w in words:
        assert w.format(**careless) in lines[0], lines[0]
    assert listing(tmp_path) == before, "the command left something behind"


def test_paths_with_spaces_are_named_whole(careless, capsys):
    # the fixture's folder is "a folder": the message names it in full
    assert run(["geometry", "analyze", str(careless["adir"])]) == 2
    assert f"{careless['adir']}: is a folder" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_folder_that_cannot_be_written(careless, capsys):
    ro = careless["tmp"] / "read-only"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert run(["painting", "render", str(careless["painting"]), "--out", str(ro / "r.png")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(stat.S_IRWXU)


def test_debug_shows_the_traceback(careless):
    from engines.serialize import FormatError

    with pytest.raises(FormatError, match="not a state file"):
        main(["--debug", "spiking", "run", "--duration", "0.01", "--load", str(careless["rand_npz"])])
    with pytest.raises(FormatError):  # also at the end of the line
        main(["spiking", "run", "--duration", "0.01", "--load", str(careless["rand_npz"]), "--debug"])


def test_an_unexpected_error_is_one_line_that_points_to_debug(monkeypatch, capsys):
    from engines.sweep import cli

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "cmd_kinds", broken)
    assert run(["sweep", "kinds"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("internal error: KeyError") and "--debug" in err[0]
    with pytest.raises(KeyError):
        main(["--debug", "sweep", "kinds"])


def test_ctrl_c_is_130(capsys):
    import engines.__main__ as m

    assert m.report(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_a_failed_decomposition_leaves_no_file_behind(careless, tmp_path, monkeypatch, capsys):
    """The render fails after the strokes are ready: neither --out nor a temporary file remains."""
    import engines.painting.imageio as imageio

    def failing_save_png(img, path):
        with open(path, "wb") as fh:
            fh.write(b"half a PNG")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(imageio, "save_png", failing_save_png)
    out, png = careless["tmp"] / "s.json", careless["tmp"] / "s.png"
    argv = ["painting", "decompose", str(careless["image"]), "--out", str(out), "--png", str(png)]
    before = listing(tmp_path)
    rc = run([*argv, "--strokes", "9", "--size", "16", "--iters", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "No space left" in err[0]
    assert listing(tmp_path) == before


def test_successful_runs_leave_only_their_outputs(careless, capsys):
    out = careless["tmp"]
    assert run(["painting", "render", str(careless["painting"]), "--out", str(out / "r.png"), "--svg",
                str(out / "r.svg"), "--size", "32"]) == 0  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["r.png", "r.svg"]
    assert (out / "r.png").stat().st_mode & 0o044 == 0o044 & ~_umask()  # usual permissions, not 0600


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_spiking_run_writes_state_and_nwb_or_neither(careless, capsys, tmp_path):
    out = careless["tmp"]
    rc = run(["spiking", "run", "--duration", "0.01", "--json", "--no-progress", "--save", str(out / "s.zip"),
              "--nwb", str(out / "x.nwb")])  # fmt: skip
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["saved"] == str(out / "s.zip")
    assert sorted(p.name for p in out.iterdir()) == ["s.zip", "x.nwb"]
