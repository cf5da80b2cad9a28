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
    "write_sweep_text",
]


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
