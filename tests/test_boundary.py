"""engines/ must stay free of Qt, pyqtgraph, vispy and studio."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_every_engine_module_pulls_in_no_gui():
    code = textwrap.dedent(
        """
        import importlib, importlib.abc, pkgutil, sys

        BLOCKED = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "vispy", "studio")

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"engines imported GUI module {name}")
                return None

        sys.meta_path.insert(0, Block())
        import engines
        names = ["engines"]
        for m in pkgutil.walk_packages(engines.__path__, "engines."):
            if m.name.endswith("__main__"):
                continue
            importlib.import_module(m.name)
            names.append(m.name)
        bad = [m for m in sys.modules if m.split(".")[0] in BLOCKED]
        assert not bad, bad
        print(len(names), "modules imported")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "modules imported" in out.stdout


def test_no_gui_import_statements_in_engines():
    offenders = []
    for path in (ROOT / "engines").rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            s = line.strip()
            if s.startswith(("import ", "from ")):
                mod = s.split()[1].split(".")[0]
                if mod in ("PySide6", "pyqtgraph", "vispy", "studio", "PyQt5", "PyQt6"):
                    offenders.append(f"{path.relative_to(ROOT)}:{i}: {s}")
    assert not offenders, offenders


def test_import_contracts_hold():
    """The import-linter contracts of pyproject.toml: engines free of GUI code, the layers of studio/,
    workbench panels independent of each other."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout
