"""The sweep engine behind the Sweeps panel: one sweep definition, its results, its runs.

The engine holds a validated :class:`~engines.sweep.model.SweepSpec`, the
results folder it writes to, and the rows read from it or streamed in by the
running job. :meth:`SweepEngine.sweep_job` is the one-shot job (a generator of
:class:`~engines.base.Progress`) that the studio's runner drives; stopping it
cancels the pending points and shuts down the cluster it started.
:meth:`SweepEngine.snapshot` returns immutable columns for plots and tables.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Cancelled, Engine, Progress, frozen_array
from engines.sweep.execute import SweepStatus, SweepSummary, sweep_job
from engines.sweep.io import sweeps_dir
from engines.sweep.model import SweepError, SweepSpec, load_sweep, sweep_from_text
from engines.sweep.params import SweepParams
from engines.sweep.store import read_results

__all__ = ["SweepEngine", "SweepParams", "SweepRecord", "SweepSnapshot"]

STATE_KIND = "neural-studio/sweep"


@dataclass(frozen=True)
class SweepRecord:
    """One run of a sweep in this session."""

    name: str
    out: str
    total: int
    skipped: int
    done: int
    failed: int
    to_run: int
    state: str  # running, done, stopped, error
    elapsed_s: float


@dataclass(frozen=True)
class SweepSnapshot:
    """An immutable view of the sweep and its results."""

    name: str
    kind: str
    out: str
    spec_toml: str
    swept: tuple[str, ...]
    metrics: tuple[str, ...]
    total: int  # points in the sweep
    finished: int  # rows held (ok + failed), this run and earlier ones
    ok: int
    failed_total: int
    running: int
    state: str  # idle, running, done, stopped, error
    status: SweepStatus | None  # of the current / last run
    dashboard: str | None
    columns: Mapping[str, np.ndarray]  # swept params, metrics, seed, status, point_id (read-only)
    errors: tuple[tuple[str, str], ...]  # (point id, traceback) of the last failed points
    history: tuple[SweepRecord, ...]
    version: int  # changes whenever rows change
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # every value of each grid parameter


class SweepEngine(Engine[SweepParams, SweepSnapshot]):
    params_type = SweepParams
    name = "sweeps"
    title = "Sweeps"
    step_unit = "points"
    default_chunk = 1

    def __init__(self, params: SweepParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.spec: SweepSpec | None = None
        self.out: Path | None = None
        self._rows: dict[str, dict] = {}
        self._status: SweepStatus | None = None
        self._state = "idle"
        self._history: list[SweepRecord] = []
        self._version = 0
        self._cols_cache: tuple[int, Mapping[str, np.ndarray]] | None = None

    # -- definition ----------------------------------------------------------
    def set_spec(self, spec: SweepSpec, out: str | os.PathLike | None = None) -> None:
        """Use ``spec``, writing to ``out`` (default: next to its file, or the sweeps folder)."""
        if self._state == "running":
            raise SweepError("a sweep is running; stop it before changing the definition")
        self.spec = spec
        self.out = Path(out) if out else default_out(spec)
        self._status = None
        self._state = "idle"
        self.reload()
        self.log(f"sweep {spec.name!r}: {spec.n_points()} points of kind {spec.kind}; results in {self.out}")

    def set_text(
        self, text: str, source: str = "<editor>", out: str | os.PathLike | None = None
    ) -> SweepSpec:
        """Parse and use a TOML definition (errors name ``source`` and the field)."""
        spec = sweep_from_text(text, source)
        self.set_spec(spec, out)
        return spec

    def load(self, path: str | os.PathLike, out: str | os.PathLike | None = None) -> SweepSpec:
        spec = load_sweep(path)
        self.set_spec(spec, out)
        return spec

    def reload(self) -> None:
        """Read the rows of this sweep's points already in the results folder."""
        self._rows = {}
        if self.spec is not None and self.out is not None and self.out.is_dir():
            ids = {p.id for p in self.spec.points()}
            for row in read_results(self.out).to_pylist():
                if row.get("point_id") in ids:
                    self._rows[row["point_id"]] = row
        self._version += 1

    # -- engine contract -----------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        if self._state != "running":
            self._state = "idle"
            self._status = None
        self.reload()

    def step(self, n: int = 1) -> int:
        """Nothing to step: a sweep runs as a job (:meth:`sweep_job`)."""
        return 0

    def sweep_job(self) -> Generator[Progress, None, SweepSummary | None]:
        """Run the missing points of the current sweep; rows arrive in the snapshots."""
        if self.spec is None or self.out is None:
            raise SweepError("no sweep defined: write or open a sweep first")
        p = self.params
        spec, out = self.spec, self.out
        inner = sweep_job(
            spec,
            out,
            scheduler=p.scheduler.strip() or None,
            n_workers=p.workers,
            retry_failed=p.retry_failed,
            points_per_task=p.points_per_task,
        )
        self._state = "running"
        self._status = None
        summary = None
        t0 = time.perf_counter()
        try:
            while True:
                try:
                    pr = next(inner)
                except StopIteration as stop:
                    summary = stop.value
                    break
                st = pr.value
                if st.new_rows:
                    for row in st.new_rows:
                        self._rows[row["point_id"]] = dict(row)
                    self._version += 1
                self._status = st
                yield pr
            self._state = "done"
            if summary is not None and summary.failed:
                self.log(f"sweep {spec.name!r}: {summary.failed} point(s) failed (see the table)", "warning")
            return summary
        except (GeneratorExit, Cancelled):  # stopped between yields, or inside a point (check_cancelled)
            self._state = "stopped"
            raise
        except Exception:
            self._state = "error"
            raise
        finally:
            inner.close()
            st = self._status
            self._history.append(
                SweepRecord(
                    name=spec.name,
                    out=str(out),
                    total=spec.n_points(),
                    skipped=st.skipped if st else 0,
                    done=st.done if st else 0,
                    failed=st.failed if st else 0,
                    to_run=st.to_run if st else 0,
                    state=self._state,
                    elapsed_s=time.perf_counter() - t0,
                )
            )

    # -- read-outs -----------------------------------------------------------
    def _columns(self) -> Mapping[str, np.ndarray]:
        if self._cols_cache is not None and self._cols_cache[0] == self._version:
            return self._cols_cache[1]
        rows = list(self._rows.values())
        names: list[str] = ["point_id", "seed", "status"]
        if self.spec is not None:
            names += list(self.spec.swept) + list(self.spec.metrics) + ["elapsed_s"]
        cols: dict[str, np.ndarray] = {}
        for name in names:
            vals = [r.get(name) for r in rows]
            if vals and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in vals
            ):
                arr = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
            elif not vals:
                arr = (
                    np.zeros(0, dtype=np.float64)
                    if name not in ("point_id", "status")
                    else np.zeros(0, object)
                )
            else:
                arr = np.array(["" if v is None else str(v) for v in vals], dtype=object)
            cols[name] = frozen_array(arr)
        self._cols_cache = (self._version, cols)
        return cols

    def snapshot(self) -> SweepSnapshot:
        spec = self.spec
        cols = self._columns()
        status = cols.get("status", np.zeros(0, object))
        ok = int(np.sum(status == "ok")) if status.size else 0
        failed_rows = [r for r in self._rows.values() if r.get("status") == "failed"]
        errs = tuple((r["point_id"], str(r.get("error") or "")) for r in failed_rows[-20:])
        st = self._status
        return SweepSnapshot(
            name=spec.name if spec else "",
            kind=spec.kind if spec else "",
            out=str(self.out) if self.out else "",
            spec_toml=spec.to_toml() if spec else "",
            swept=spec.swept if spec else (),
            metrics=spec.metrics if spec else (),
            total=spec.n_points() if spec else 0,
            finished=len(self._rows),
            ok=ok,
            failed_total=len(failed_rows),
            running=st.running if (st and self._state == "running") else 0,
            state=self._state,
            status=st,
            dashboard=st.dashboard if st else None,
            columns=cols,
            errors=errs,
            history=tuple(self._history),
            version=self._version,
            grid=dict(spec.grid) if spec else {},
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": STATE_KIND,
            "params": self.params.to_dict(),
            "spec_toml": self.spec.to_toml() if self.spec else "",
            "source": self.spec.source if self.spec else "",
            "out": str(self.out) if self.out else "",
        }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        from engines.base import StateError

        if d.get("kind") != STATE_KIND:
            raise StateError(f"not a sweep state (kind {d.get('kind')!r})")
        self.set_params(SweepParams.from_dict(d.get("params", {})))
        text = d.get("spec_toml") or ""
        if text:
            self.set_text(text, source=d.get("source") or "<workspace>", out=d.get("out") or None)
        else:
            self.spec, self.out, self._rows = None, None, {}
            self._version += 1


def default_out(spec: SweepSpec) -> Path:
    """``SWEEP.parquet`` next to the sweep file, else in the user's sweeps folder
    (:func:`engines.sweep.io.sweeps_dir`)."""
    src = Path(spec.source)
    if not spec.source.startswith("<") and src.parent.is_dir():
        return src.with_name(src.stem + ".parquet")
    return sweeps_dir() / f"{spec.name}.parquet"
