"""Checked outputs, atomic writes, errors that name their file, and --set parsing (engines.files, engines.cliargs)."""

from __future__ import annotations

import argparse
import errno
import zipfile

import numpy as np
import pytest

from engines.cliargs import count, float_range, parse_set, probability, seed
from engines.files import (
    OutputPathError,
    atomic_output,
    atomic_write_text,
    check_input,
    check_output,
    describe_os_error,
    reading,
)
from engines.serialize import FormatError


def test_atomic_output_replaces_the_target_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "out.npz"
    target.write_text("old")
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".npz" and tmp != target
        np.savez(tmp, a=np.arange(3))
        assert target.read_text() == "old"  # nothing visible before the end
    assert np.load(target)["a"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]


@pytest.mark.parametrize("error", [ValueError("bad"), KeyboardInterrupt()])
def test_atomic_output_removes_its_temporary_file_on_any_failure(tmp_path, error):
    target = tmp_path / "s.json"
    target.write_text("old")
    with pytest.raises(type(error)):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise error
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_atomic_write_text(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "hello")
    assert (tmp_path / "a.txt").read_text() == "hello"


def test_check_output_refuses_what_cannot_be_written(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    assert check_output(tmp_path / "new.json") == tmp_path / "new.json"
    assert check_output(tmp_path / "new-folder", folder=True) == tmp_path / "new-folder"
    for path, kw, words in [
        (tmp_path / "d", {}, "is a folder"),
        (tmp_path / "missing" / "x.json", {}, "does not exist"),
        (tmp_path / "f" / "x.json", {}, "not a folder"),
        (tmp_path / "f", {"folder": True}, "not a folder"),
        ("", {}, "empty"),
    ]:
        with pytest.raises(OutputPathError, match=words):
            check_output(path, **kw)


def test_check_input(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        check_input(tmp_path / "nope.npz", "activation file")
    assert describe_os_error(e.value) == f"{tmp_path / 'nope.npz'}: no such activation file"
    with pytest.raises(IsADirectoryError) as e:
        check_input(tmp_path, "image")
    assert describe_os_error(e.value) == f"{tmp_path}: is a folder, expected an image"


def test_describe_os_error_names_the_path_and_says_what_to_do():
    e = PermissionError(errno.EACCES, "Permission denied", "/root/x")
    assert describe_os_error(e) == "/root/x: permission denied (choose a path you may use)"
    assert describe_os_error(FileNotFoundError("/x: no trained model")) == "/x: no trained model"
    assert "No space left" in describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/tmp/x"))


def test_reading_turns_a_loaders_failure_into_an_error_naming_the_file(tmp_path):
    path = tmp_path / "a.npz"
    for raised in [
        EOFError("No data left in file"),
        zipfile.BadZipFile("bad"),
        MemoryError(),
        TypeError("x"),
    ]:
        with pytest.raises(FormatError, match=f"^{path}: not a valid activation file"):
            with reading(path, "activation file"):
                raise raised
    with pytest.raises(FormatError) as e:  # numpy's advice to unpickle is never passed on
        with reading(path):
            raise ValueError("Cannot load file containing pickled data when allow_pickle=False")
    assert "allow_pickle" not in str(e.value) and "refused" in str(e.value)
    own = FormatError(f"{path}: member 'x' is broken")
    with pytest.raises(FormatError) as e:  # the project's errors naming the file pass unchanged
        with reading(path):
            raise own
    assert e.value is own
    with pytest.raises(FileNotFoundError):
        with reading(path):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))


def test_reading_prefixes_plain_value_errors_with_the_path(tmp_path):
    with pytest.raises(FormatError, match=f"^{tmp_path / 'b.csv'}: not a valid file \\(cannot reshape\\)"):
        with reading(tmp_path / "b.csv"):
            raise ValueError("cannot reshape")


def test_number_types_say_what_is_wrong():
    assert count("3") == 3 and probability("0.5") == 0.5 and seed("0") == 0
    for parse, text, words in [
        (count, "0", ">= 1"),
        (count, "1.5", "not an integer"),
        (probability, "1.5", "<= 1"),
        (probability, "nan", "finite"),
        (seed, "-1", ">= 0"),
        (float_range(0.0, lo_open=True), "0", "> 0"),
        (float_range(0.0, 1.0, hi_open=True), "1", "< 1"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=words):
            parse(text)


def test_parse_set_checks_names_and_types():
    from engines.spiking.tess import TessParams

    assert parse_set(["lr=1", "hidden=[8, 4]", "epochs=2.0"], TessParams) == {
        "lr": 1.0,
        "hidden": [8, 4],
        "epochs": 2,
    }
    with pytest.raises(ValueError, match="did you mean 'hidden'.*allowed: batch, beta"):
        parse_set(["hiden=3"], TessParams)
    with pytest.raises(ValueError, match="lr must be a number, got 'fast'"):
        parse_set(["lr=fast"], TessParams)
    with pytest.raises(ValueError, match="epochs must be an integer"):
        parse_set(["epochs=2.5"], TessParams)
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_set(["epochs"], TessParams)
    assert parse_set(["threshold=3"], {"threshold": 16.0}) == {"threshold": 3.0}
    assert parse_set(["name=3"], {"name": "x"}) == {"name": "3"}  # text that looks like a number


def test_atomic_output_writes_into_devices_and_through_links(tmp_path):
    import os

    with atomic_output(os.devnull) as tmp:  # never replaced by a regular file
        assert str(tmp) == os.devnull
        tmp.write_text("discarded")
    assert not os.path.isfile(os.devnull)
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_numpys_advice_to_unpickle_is_never_repeated():
    from engines.files import safe_message

    advice = (
        "x.npz: not a stroke dataset (This file contains pickled (object) data. If you trust the file you "
        "can load it unsafely using the `allow_pickle=` keyword argument or `pickle.load()`.)"
    )
    once = safe_message(advice)
    assert once == "x.npz: not a stroke dataset (it holds pickled objects, which are refused)"
    assert safe_message(once) == once
    assert "allow_pickle" not in safe_message("Object arrays cannot be loaded when allow_pickle=False")
