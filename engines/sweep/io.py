"""The files of a sweep: its definition (TOML) and its results folder (Parquet parts).

The results folder itself lives in :mod:`engines.sweep.store` (atomic part files,
one row per point); this module gathers what reads or writes files, so the panel
and the command line use one place.
"""

from __future__ import annotations

import os
from pathlib import Path

from engines.sweep.model import MAX_SWEEP_BYTES, SweepError, load_sweep
from engines.sweep.store import EXPORT_SUFFIXES, ResultStore, export_results, read_results

__all__ = [
    "EXPORT_SUFFIXES",
    "ResultStore",
    "export_results",
    "load_sweep",
    "read_results",
    "read_sweep_text",
    "remove_results",
    "sweeps_dir",
    "write_sweep_text",
]

#: where sweeps write their results unless told otherwise (see :func:`sweeps_dir`)
SWEEPS_DIR_ENV = "NEURAL_STUDIO_SWEEPS_DIR"


def sweeps_dir() -> Path:
    """The per-user results folder of sweeps: ``$NEURAL_STUDIO_SWEEPS_DIR``, else ``sweeps`` in the
    studio's data folder (``platformdirs.user_data_dir("neural-studio")``: on Linux
    ``~/.local/share/neural-studio/sweeps``). A sweep ``NAME`` writes ``NAME.parquet`` there
    unless it was opened from a file (then next to the file) or given another folder."""
    base = os.environ.get(SWEEPS_DIR_ENV)
    if base:
        return Path(base)
    import platformdirs

    return Path(platformdirs.user_data_dir("neural-studio", "NeuralStudio")) / "sweeps"


def remove_results(out: str | os.PathLike) -> int:
    """Delete the results of a sweep in folder ``out`` (its ``part-*.parquet`` files, hidden
    temporary parts and ``_sweep.toml``; the folder too once empty), so the sweep runs afresh.
    Other files are left alone. Returns the number of files deleted (0 when ``out`` is absent)."""
    folder = Path(out)
    if not folder.is_dir():
        return 0
    n = 0
    for f in folder.iterdir():
        name = f.name
        ours = name == "_sweep.toml" or (name.endswith(".parquet") and name.lstrip(".").startswith("part-"))
        if ours and f.is_file():
            f.unlink()
            n += 1
    if not any(folder.iterdir()):
        folder.rmdir()
    return n


def read_sweep_text(path: str | os.PathLike) -> str:
    """The text of a sweep file, bounded in size; a file that cannot be read raises
    :class:`~engines.sweep.model.SweepError` whose message starts with its path."""
    from engines.serialize import read_text_bounded

    p = Path(path)
    try:
        return read_text_bounded(p, str(p), max_bytes=MAX_SWEEP_BYTES, error=SweepError)
    except OSError as e:
        raise SweepError(f"{p}: {e}") from None


def write_sweep_text(path: str | os.PathLike, text: str) -> None:
    """Write the text of a sweep definition to ``path``."""
    Path(path).write_text(text)
