"""The results table: a Parquet dataset folder that grows one part file per batch.

``results.parquet/`` holds ``part-*.parquet`` files. Each batch of finished
points is written to a hidden temporary file and renamed into place
(``os.replace`` is atomic), so a reader never sees half a file and an
interrupted run loses at most the batch it was writing; those points are
simply computed again by the next run. A point may appear in several parts
(a failed point that was retried, a compaction interrupted before it removed
the old parts): :func:`read_results` keeps one row per ``point_id``, the
successful one if any, else the newest.

The folder reads as one table with ``pyarrow.parquet.read_table(folder)``,
``pandas.read_parquet(folder)`` or DuckDB's ``'folder/*.parquet'``; files whose
name starts with ``_`` (``_sweep.toml``, the last sweep's definition) are
ignored by those readers.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engines.sweep.model import SweepError, SweepSpec

__all__ = ["ResultStore", "read_results", "results_schema", "export_results"]

_counter = itertools.count()
_counter_lock = threading.Lock()


def _arrow_type(values: Iterable[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.float64()
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def results_schema(spec: SweepSpec) -> pa.Schema:
    """The columns of a sweep's results: bookkeeping, parameters, metrics."""
    fields = [
        pa.field("point_id", pa.string()),
        pa.field("sweep", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("seed", pa.int64()),
    ]
    for name in spec.fixed:
        fields.append(pa.field(name, _arrow_type([spec.fixed[name]])))
    for name, values in spec.grid.items():
        fields.append(pa.field(name, _arrow_type(values)))
    for r in spec.sample_ranges:
        if r.choices is not None:
            t = _arrow_type(r.choices)
        else:
            t = pa.int64() if r.integer else pa.float64()
        fields.append(pa.field(r.name, t))
    for m in spec.metrics:
        fields.append(pa.field(m, pa.float64()))
    fields += [
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("elapsed_s", pa.float64()),
        pa.field("worker", pa.string()),
        # UTC; stored without a zone: a zoned array makes pyarrow load its time-zone database (~1 s)
        pa.field("finished_at", pa.timestamp("ms")),
    ]
    return pa.schema(fields)


def _cell(v: Any, t: pa.DataType) -> Any:
    if v is None:
        return None
    if pa.types.is_string(t) and not isinstance(v, str):
        return str(v)
    if pa.types.is_floating(t):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    return v


def _rows_to_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    cols = {}
    for f in schema:
        if f.name == "finished_at":
            cols[f.name] = pa.array(
                [int(r.get("finished_at", time.time()) * 1000) for r in rows], pa.int64()
            ).cast(f.type)
        else:
            cols[f.name] = pa.array([_cell(r.get(f.name), f.type) for r in rows], type=f.type)
    return pa.table(cols, schema=schema)


class ResultStore:
    """One results folder; ``append`` adds a part file atomically."""

    def __init__(self, path: str | os.PathLike, create: bool = True):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise SweepError(
                f"{self.path}: is a file; the results must be a folder (a Parquet dataset). "
                "Give a new name or export the file elsewhere."
            )
        if create:
            self.path.mkdir(parents=True, exist_ok=True)

    def parts(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.glob("part-*.parquet") if p.is_file())

    def append(self, rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> Path | None:
        """Write ``rows`` as a new part file (atomically); returns its path."""
        if not rows:
            return None
        table = _rows_to_table(rows, schema)
        return self._write(table)

    def _write(self, table: pa.Table) -> Path:
        with _counter_lock:
            n = next(_counter)
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{n:06d}.parquet"
        final = self.path / name
        tmp = self.path / f".{name}.tmp"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final

    def status(self) -> dict[str, str]:
        """{point_id: 'ok' | 'failed'} over every part (ok wins)."""
        out: dict[str, str] = {}
        for part in self.parts():
            try:
                t = pq.read_table(part, columns=["point_id", "status"])
            except FileNotFoundError:  # removed by a concurrent compaction
                continue
            except (pa.ArrowInvalid, OSError) as e:
                raise SweepError(f"{part}: unreadable part file ({e}); move it away and re-run") from None
            for pid, st in zip(t.column("point_id").to_pylist(), t.column("status").to_pylist()):
                if out.get(pid) != "ok":
                    out[pid] = st
        return out

    def read(self) -> pa.Table:
        return read_results(self.path)

    def compact(self) -> Path | None:
        """Merge every part into one (write the new one, then remove the old ones)."""
        parts = self.parts()
        if len(parts) <= 1:
            return parts[0] if parts else None
        table = read_results(self.path)
        new = self._write(table)
        for p in parts:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        return new

    def write_spec(self, spec: SweepSpec) -> None:
        tmp = self.path / "._sweep.toml.tmp"
        tmp.write_text(spec.to_toml())
        os.replace(tmp, self.path / "_sweep.toml")


def read_results(path: str | os.PathLike, *, keep_all: bool = False) -> pa.Table:
    """Read a results folder (or a single Parquet file) into one table.

    One row per point: the successful row when there is one, else the newest
    (``keep_all`` returns every stored row).
    """
    p = Path(path)
    if p.is_file():
        tables = [_read_part(p)]
    elif p.is_dir():
        tables = []
        for part in sorted(p.glob("part-*.parquet")):
            try:
                tables.append(_read_part(part))
            except FileNotFoundError:
                continue
    else:
        raise FileNotFoundError(f"{p}: no such results folder")
    if not tables:
        return pa.table({"point_id": pa.array([], pa.string()), "status": pa.array([], pa.string())})
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid) as e:
        raise SweepError(
            f"{p}: part files disagree on a column's type ({e}); use another results folder"
        ) from None
    missing = [c for c in ("point_id", "status") if c not in table.column_names]
    if missing:
        raise SweepError(f"{p}: not a results table (no column {missing[0]!r})")
    if keep_all or table.num_rows == 0:
        return table
    ids = np.asarray(table.column("point_id").to_pylist(), dtype=object)
    ok = np.asarray([s == "ok" for s in table.column("status").to_pylist()])
    if "finished_at" in table.column_names:
        t = table.column("finished_at").cast(pa.int64()).fill_null(0).to_numpy()
    else:
        t = np.arange(table.num_rows)
    order = np.lexsort((np.arange(table.num_rows), t, ok, ids))
    sorted_ids = ids[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_ids[1:] != sorted_ids[:-1]
    keep = np.sort(order[last])
    return table.take(pa.array(keep))


def _read_part(path: Path) -> pa.Table:
    """One Parquet file of results; a damaged or foreign one is a SweepError naming it."""
    from engines.serialize import open_regular

    open_regular(path, error=SweepError)[0].close()  # a FIFO or device is refused here
    try:
        t = pq.read_table(path)
        t.validate(full=True)  # e.g. text that is not UTF-8 (Parquet readers do not check it)
        for name in ("point_id", "status"):
            if name in t.column_names and t.column(name).null_count:
                raise ValueError(f"column {name!r} has empty values")
        i = t.schema.get_field_index("finished_at")
        if i >= 0 and not pa.types.is_timestamp(t.schema.field(i).type):
            raise ValueError("column 'finished_at' is not a time")
        return _naive_time(t)
    except FileNotFoundError:
        raise
    except Exception as e:  # pyarrow raises ArrowInvalid, OSError, ... on a damaged file
        raise SweepError(f"{path}: not a readable results file ({type(e).__name__}: {e})") from None


def _naive_time(t: pa.Table) -> pa.Table:
    """Parts written before finished_at lost its zone: same UTC instants, no zone."""
    i = t.schema.get_field_index("finished_at")
    if i >= 0 and pa.types.is_timestamp(t.schema.field(i).type) and t.schema.field(i).type.tz is not None:
        t = t.set_column(i, "finished_at", t.column(i).cast(pa.timestamp("ms")))
    return t


#: the kinds of file :func:`export_results` writes
EXPORT_SUFFIXES = (".parquet", ".csv", ".json", ".jsonl")


def export_results(src: str | os.PathLike, dest: str | os.PathLike) -> int:
    """Write the results as one ``.parquet``, ``.csv`` or ``.json`` (lines) file; returns the rows."""
    from engines.files import atomic_output

    d = Path(dest)
    suffix = d.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{d}: export to .parquet, .csv or .jsonl")
    table = read_results(src)
    with atomic_output(d) as tmp:  # removed again if writing fails
        if suffix == ".parquet":
            pq.write_table(table, tmp)
        elif suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        else:
            import json

            with open(tmp, "w") as fh:
                for row in table.to_pylist():
                    fh.write(json.dumps(row, default=str) + "\n")
    return table.num_rows
