"""The README's command-line examples run as written, in order, from the repository root.

The block between ``<!-- examples:begin -->`` and ``<!-- examples:end -->`` is run by bash with
``set -e`` in a folder laid out like a fresh clone (the repository's ``examples/`` and the virtual
environment at ``.venv``), so a file an example names must ship or be made by a line above it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def example_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- examples:begin -->\s*```sh\n(.*?)```\s*<!-- examples:end -->", text, re.S)
    assert m, "README.md has no examples block"
    return [ln for ln in m.group(1).splitlines() if ln.strip()]


def test_the_examples_block_starts_in_the_environment_and_names_shipped_files():
    lines = example_lines()
    assert lines[0] == "source .venv/bin/activate"
    made: set[str] = set()
    for ln in lines[1:]:
        for word in ln.split():
            if "/" in word and not word.startswith(("-", "tcp:")):
                assert (ROOT / word).exists() or word in made, f"{word} in {ln!r}: not shipped"
        for out in re.findall(r"--out (\S+)", ln):
            made.add(out)


@pytest.mark.gui
@pytest.mark.gl
def test_every_readme_example_runs_as_written(tmp_path):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").exists():
        pytest.skip(f"{venv} is not a virtual environment: the README's first line needs one")
    work = tmp_path / "clone"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    (work / ".venv").symlink_to(venv)
    script = (
        "set -euo pipefail\n"
        + "\n".join(f'echo "+ {ln}"\nSECONDS=0\n{ln}\necho "= $SECONDS s"' for ln in example_lines())
        + "\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        ["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=900, env=env
    )
    ran = [ln[2:] for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    assert proc.returncode == 0, (
        f"failed at {ran[-1] if ran else '?'}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    print("\n".join(ln for ln in proc.stdout.splitlines() if ln.startswith(("+ ", "= "))))
    assert ran == example_lines()
    for made in (
        "city.npz",
        "strokes.json",
        "completed.json",
        "completed.png",
        "results.parquet",
        "routing.png",
    ):
        assert (work / made).stat().st_size > 0, made
    assert len(list((work / "gallery").glob("spiking-*.png"))) >= 4
