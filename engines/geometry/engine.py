"""The geometry workbench's engine: analyses of the digit networks as stoppable jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engines.base import Engine, Job, Progress, StateError, frozen_array
from engines.geometry.analysis import AnalysisResult, Embedding, _embed, analysis_job, load_models
from engines.geometry.io import rows_to_csv
from engines.geometry.measures import evd, participation_ratio
from engines.geometry.mftma import check_manifolds, manifold_analysis, simulated_capacity
from engines.geometry.models import DigitNet
from engines.geometry.params import AnalysisParams

__all__ = ["GeometryEngine", "GeometrySnapshot"]


@dataclass(frozen=True)
class GeometrySnapshot:
    """What the panel draws: result rows, 3-D embeddings, progress."""

    params: AnalysisParams
    rows: tuple[dict, ...]
    # (model, layer, eps) for the main noise level; also (model, layer, eps, noise) for the stochastic net
    embeddings: Mapping[tuple, Embedding] = field(default_factory=dict)
    accuracy: Mapping[tuple, float] = field(default_factory=dict)  # (model, eps) and (model, eps, noise)
    progress: float = 0.0
    message: str = ""
    analyses_done: int = 0
    imported: tuple[dict, ...] = ()  # one row per imported activation file
    imported_embeddings: Mapping[str, Embedding] = field(default_factory=dict)  # by row "model"


class GeometryEngine(Engine[AnalysisParams, GeometrySnapshot]):
    """Manifold capacity, radius and dimension of three digit networks.

    ``analyze_job()`` runs the analysis described by the parameters (a
    generator of :class:`Progress`; results appear in snapshots as they come).
    ``step`` does nothing: this engine has no clock.
    """

    params_type: ClassVar[type] = AnalysisParams
    name: ClassVar[str] = "geometry"
    title: ClassVar[str] = "Population geometry"
    step_unit: ClassVar[str] = "analyses"

    def __init__(
        self,
        params: AnalysisParams | None = None,
        seed: int = 0,
        *,
        models: Mapping[str, DigitNet] | None = None,
        asset_dir: str | Path | None = None,
    ):
        super().__init__(params, seed)
        self._models: dict[str, DigitNet] = dict(models or {})
        self._asset_dir = asset_dir
        self._result = AnalysisResult(())
        self._progress = 0.0
        self._message = ""
        self._done = 0
        self._imported: list[dict] = []
        self._imported_emb: dict[str, Embedding] = {}

    # -- models ----------------------------------------------------------
    def models(self) -> dict[str, DigitNet]:
        need = [k for k in self.params.model_list if k not in self._models]
        if need:
            self._models.update(load_models(need, self._asset_dir))
        return {k: self._models[k] for k in self.params.model_list}

    # -- contract --------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        self._result = AnalysisResult(())
        self._progress = 0.0
        self._message = ""
        self._imported = []
        self._imported_emb = {}

    def step(self, n: int = 1) -> int:
        return 0

    def analyze_job(self) -> Job:
        """Run the analysis for the current parameters (stoppable between units)."""
        p = self.params.replace(seed=self.seed) if self.params.seed != self.seed else self.params
        models = self.models()
        self._progress = 0.0
        self._message = "starting"
        job = analysis_job(p, models, per_layer=True)  # each layer shows as soon as it is measured
        try:
            while True:
                try:
                    prog = next(job)
                except StopIteration as stop:
                    self._result = stop.value
                    break
                self._progress = prog.fraction or 0.0
                self._message = prog.message
                if isinstance(prog.value, AnalysisResult):
                    self._result = prog.value
                yield Progress(prog.done, prog.total, prog.message)
        finally:
            job.close()
        self._progress = 1.0
        self._done += 1
        self.log(f"analysis done: {len(self._result.rows)} rows")
        return self._result

    def import_sets_job(self, sets: Mapping[str, Any]) -> Job:
        """:meth:`import_job` for each named set of manifolds in turn (``{name: manifolds}``,
        another workbench's responses); returns their rows."""
        rows = []
        for k, (name, manifolds) in enumerate(sets.items()):
            for prog in self.import_job(name, manifolds):
                yield Progress(k, len(sets), f"{k + 1}/{len(sets)} {prog.message}")
        for name in sets:
            rows.extend(r for r in self._imported if r["model"] == str(name))
        return rows

    def import_job(self, name: str, manifolds) -> Job:
        """MFTMA of user activations (a list of (M_i, N) arrays), with the current kappa, n_t, seed.

        ``name`` labels the result (the ``model`` column; layer "imported").
        Yields Progress and returns the result row, which also appears in
        snapshots (``imported``) and in the CSV export, with a 3-D PCA view.
        """
        p = self.params
        mans = check_manifolds(manifolds)
        steps = 3 if p.simcap else 2
        yield Progress(0, steps, f"{name}: manifold analysis")
        res = manifold_analysis(mans, kappa=p.kappa, n_t=p.n_t, seed=self.seed)
        allx = np.concatenate(mans)
        owner = np.concatenate([np.full(len(m), i) for i, m in enumerate(mans)])
        row = {
            "model": str(name),
            "layer": "imported",
            "eps": 0.0,
            "seed": self.seed,
            "capacity": res.capacity_mean,
            "radius": res.radius_mean,
            "dimension": res.dimension_mean,
            "center_correlation": res.center_correlation,
            "K": res.K,
            "PR": participation_ratio(allx),
            "EVD90": evd(allx, 0.9),
            "P": len(mans),
            "M": int(min(len(m) for m in mans)),
            "N": int(allx.shape[1]),
            "kappa": p.kappa,
        }
        yield Progress(1, steps, f"{name}: PCA view")
        emb = _embed(None, allx, owner)
        if p.simcap:
            yield Progress(2, steps, f"{name}: simulated capacity")
            try:
                row["simcap"] = simulated_capacity(
                    mans, n_dichotomies=40, seed=self.seed, kappa=p.kappa
                ).capacity
            except ValueError:  # not separable even in the full space
                row["simcap"] = float("nan")
        self._imported = [r for r in self._imported if r["model"] != row["model"]] + [row]
        self._imported_emb[row["model"]] = emb
        self.log(f"imported {name}: capacity {row['capacity']:.4g}, P={row['P']}, M={row['M']}, N={row['N']}")
        return row

    @property
    def imported(self) -> tuple[dict, ...]:
        return tuple(dict(r) for r in self._imported)

    @property
    def result(self) -> AnalysisResult:
        return self._result

    def snapshot(self) -> GeometrySnapshot:
        emb = {
            k: Embedding(
                frozen_array(e.points),
                frozen_array(e.manifold),
                frozen_array(e.perturbed),
                frozen_array(e.explained),
            )
            for k, e in self._result.embeddings.items()
        }
        rows = tuple(dict(r) for r in self._result.rows)
        imp_emb = {
            k: Embedding(
                frozen_array(e.points),
                frozen_array(e.manifold),
                frozen_array(e.perturbed),
                frozen_array(e.explained),
            )
            for k, e in self._imported_emb.items()
        }
        return GeometrySnapshot(
            self.params,
            rows,
            emb,
            dict(self._result.accuracy),
            self._progress,
            self._message,
            self._done,
            self.imported,
            imp_emb,
        )

    def to_csv(self, path: str | Path | None = None) -> str:
        return rows_to_csv(list(self._result.rows) + self._imported, path)

    def state_dict(self) -> dict[str, Any]:
        rows = [{k: _plain(v) for k, v in r.items()} for r in self._result.rows]
        imported = [{k: _plain(v) for k, v in r.items()} for r in self._imported]
        return {"params": self.params.to_dict(), "seed": self.seed, "rows": rows, "imported": imported}

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        try:
            params = AnalysisParams.from_dict(d["params"])
            rows = tuple(dict(r) for r in d["rows"])
            imported = [dict(r) for r in d.get("imported", ())]
            if any(not isinstance(r.get("model"), str) for r in imported):
                raise ValueError("an imported row has no model name")
            seed = int(d.get("seed", self.seed))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            raise StateError(f"geometry state: {e}") from e
        self.params = params
        self.seed = seed
        self._result = AnalysisResult(rows)
        self._imported = imported
        self._imported_emb = {}  # the 3-D views are not kept in the state; re-import to see them


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v
