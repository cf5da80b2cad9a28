"""The painting engine behind the canvas: document, cached render, undo/redo, jobs.

Painting is event-driven: ``step`` does nothing. The panel calls the editing
methods through its runner (so they run on the worker thread), and starts the
two long jobs — :meth:`PaintingEngine.complete_job` (model proposals) and
:meth:`PaintingEngine.decompose_job` ("paint this reference", strokes
appearing live) — with ``runner.run_job``. Undo and redo only touch the
strokes of this engine's author, so they keep working when other authors add
strokes to the same document.

Shared sessions (multi-user painting, see :mod:`engines.collab`): with
:meth:`PaintingEngine.share` the engine reports every local edit (strokes
added, removed, changed; undo and redo included) to a callback, with stroke
ids made unique per replica, and :meth:`PaintingEngine.apply_remote` folds the
edits of the others in without touching the undo history.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, Job, Params, Progress, StateError, frozen_array
from engines.painting.params import COMPLETE_MODES, PaintingParams
from engines.painting.render import CanvasCache, composite_fast, render_fast, to_uint8
from engines.painting.strokes import PARAM_NAMES, Painting, Stroke, drag_to_strokes

#: a local edit reported to a sharing callback: ("add", [Stroke]), ("remove", [Stroke]),
#: ("update", [Stroke]) or ("background", (r, g, b))
LocalEdit = tuple[str, object]

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "assets" / "painting" / "model.zip"
#: the render network of Complete's expected fit (engines.painting.refiner)
DEFAULT_REFINER = DEFAULT_MODEL.with_name("refiner.zip")


@dataclass(frozen=True)
class PaintingSnapshot:
    version: int
    image: np.ndarray  # (S, S, 3) uint8: the canvas (with the live reference preview; proposals apart)
    n_strokes: int
    n_mine: int
    can_undo: bool
    can_redo: bool
    proposals: tuple[np.ndarray, ...]  # each (M, 8) float32
    proposal_images: tuple[np.ndarray, ...]  # thumbnails (T, T, 3) uint8
    selected: int
    busy: str  # "", "complete" or "decompose"
    params: np.ndarray  # (N, 8) strokes in paint order
    opacity: np.ndarray  # (N,)
    ids: tuple[str, ...]
    authors: tuple[str, ...]
    #: whether Complete can run (a model is loaded, or its file is there)
    has_model: bool = False
    #: whether the first of ``proposals`` is fitted to the render network's expected painting
    first_fitted: bool = False
    #: the name written on the strokes painted here (``params.author``)
    author: str = ""


class PaintingEngine(Engine[PaintingParams, PaintingSnapshot]):
    params_type = PaintingParams
    name = "painting"
    title = "Collaborative painting"
    step_unit = "events"

    def __init__(self, params: PaintingParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.model = None
        self.model_path: Path | None = DEFAULT_MODEL if DEFAULT_MODEL.exists() else None
        self.refiner = None
        self.refiner_path: Path | None = DEFAULT_REFINER if DEFAULT_REFINER.exists() else None
        self.reset(seed)

    # -- lifecycle ---------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        if getattr(self, "_share", None) is None:
            # (in a shared session the painting belongs to the room: Reset keeps it)
            before = self.doc.version if hasattr(self, "doc") else -1
            self.doc = Painting()
            self.doc.version = before + 1  # versions only grow: views that follow them refresh
            self.cache = CanvasCache(self.params.canvas_px, self.doc.background, footprint=True)
        self.undo_stack: list[tuple[str, list[Stroke]]] = []
        self.redo_stack: list[tuple[str, list[Stroke]]] = []
        self.proposals: list[np.ndarray] = []
        self.selected = 0
        self.preview: np.ndarray | None = None
        self.busy = ""
        self.timelapse: int | None = None  # show only the first k strokes (replay)
        self.lock_mine = False  # when True, erasing, clearing and editing skip my strokes
        #: others who locked their strokes (in a session): erasing, clearing and editing skip them here too
        self.locked_authors: frozenset[str] = frozenset()
        self._completions = 0
        self.last_completion: dict[str, Any] = {}
        self._view_cache: tuple[tuple, np.ndarray] | None = None
        self._view_canvas: tuple[tuple, CanvasCache] | None = None
        self._arrays_cache: tuple[list[Stroke], np.ndarray, np.ndarray] | None = None
        self._snapshot_cache: tuple[tuple, tuple, dict[str, Any]] | None = None
        self._proposals_cache: tuple[tuple, tuple, tuple] | None = None
        if not hasattr(self, "_share"):
            self._share: Callable[[str, object], None] | None = None
            self.id_tag = ""

    def step(self, n: int = 1) -> int:
        return 0

    def set_params(self, params: Params) -> None:
        old = self.params
        super().set_params(params)
        if params.canvas_px != old.canvas_px:
            self.cache = CanvasCache(params.canvas_px, self.doc.background, footprint=True)

    # -- editing -------------------------------------------------------------
    def _did(self, op: str, strokes: list[Stroke]) -> None:
        self.timelapse = None  # an edit ends a replay
        if strokes:
            self.undo_stack.append((op, strokes))
            self.redo_stack.clear()
            self._tell(op, strokes)

    # -- sharing -------------------------------------------------------------
    def share(self, callback: Callable[[str, object], None] | None, id_tag: str | None = None) -> None:
        """Report every local edit to ``callback(op, payload)`` (None: stop).

        ``op`` is "add", "remove" or "update" with a list of strokes (undo and
        redo report what they add back or take away). While sharing, new
        strokes get ids ``author@TAG:n`` with a tag unique to this replica
        (``id_tag``, random by default), so two people of the same name, or
        two accepted model proposals, never make the same id.
        """
        self._share = callback
        if callback is None:
            self.id_tag = ""
        else:
            self.id_tag = id_tag or secrets.token_hex(3)

    @property
    def sharing(self) -> bool:
        return self._share is not None

    def _tell(self, op: str, payload: object) -> None:
        if self._share is not None and payload:
            self._share(op, payload)

    def _new_strokes(self, params: np.ndarray, author: str, opacity: Any = 1.0) -> list[Stroke]:
        params = np.asarray(params, np.float64).reshape(-1, 8)
        if not self.id_tag:
            return self.doc.add_many(params, author=author, opacity=opacity) if len(params) else []
        op = np.broadcast_to(np.asarray(opacity, dtype=np.float64), (params.shape[0],))
        clock = self.doc.clock + 1
        prefix = f"{author}@{self.id_tag}"
        made = []
        for i in range(params.shape[0]):
            sid = self.doc.new_id(prefix)
            s = Stroke(sid, *params[i].tolist(), opacity=float(op[i]), author=author, clock=clock + i)
            self.doc.strokes[sid] = s
            made.append(s)
        if made:
            self.doc.version += 1
        return made

    def apply_remote(
        self,
        added: Iterable[Stroke] = (),
        removed: Iterable[str] = (),
        updated: Iterable[Stroke] = (),
        background: tuple[float, float, float] | None = None,
    ) -> int:
        """Fold in edits made by others (the shared document is the truth).

        Keeps ids and ordering keys; never touches the undo history, and never
        reports back to the sharing callback. Returns how many strokes changed.
        """
        n = 0
        doc = self.doc
        for s in added:
            if doc.strokes.get(s.id) != s:
                doc.removed.discard(s.id)
                doc.strokes[s.id] = s
                n += 1
        for s in updated:
            if doc.strokes.get(s.id) != s:
                doc.strokes[s.id] = s
                n += 1
        for sid in removed:
            if doc.strokes.pop(sid, None) is not None:
                doc.removed.add(sid)
                n += 1
        if background is not None and tuple(background) != tuple(doc.background):
            doc.background = tuple(float(c) for c in background)
            self.cache = CanvasCache(self.params.canvas_px, doc.background, footprint=True)
            n += 1
        if n:
            doc.version += 1  # (a replay running here goes on: only my own edits end it)
        return n

    def add_drag(self, points: Any, size: float, color: Any, opacity: float = 1.0) -> list[Stroke]:
        """A drag of the brush (canvas fractions) becomes strokes of this author."""
        if not 0.0 <= float(opacity) <= 1.0:
            raise ValueError(f"opacity = {opacity!r}: allowed range is [0, 1]")
        params = drag_to_strokes(points, size, color)
        made = self._new_strokes(params, self.params.author, opacity)
        self._did("add", made)
        return made

    def add_strokes(
        self, params: np.ndarray, author: str | None = None, opacity: float = 1.0
    ) -> list[Stroke]:
        made = self._new_strokes(params, author or self.params.author, opacity)
        self._did("add", made)
        return made

    def erase_at(self, x: float, y: float, radius: float) -> list[Stroke]:
        """Remove the strokes whose centre lies within ``radius`` of (x, y) (mine and others')."""
        gone = []
        for s in list(self.doc.ordered()):
            if self._locked(s):
                continue
            if (s.x - x) ** 2 + (s.y - y) ** 2 <= radius**2:
                self.doc.remove(s.id)
                gone.append(s)
        self._did("remove", gone)
        return gone

    def _locked(self, s: Stroke) -> bool:
        if s.author == self.params.author:
            return self.lock_mine
        return s.author in self.locked_authors

    def set_lock(self, on: bool) -> None:
        """Lock my strokes: the eraser, Clear and edits leave them alone."""
        self.lock_mine = bool(on)

    def set_locked_authors(self, authors) -> None:
        """The others who have locked their strokes (a session's presence says who)."""
        self.locked_authors = frozenset(str(a) for a in authors)

    def edit_stroke(self, sid: str, **changes: float) -> Stroke:
        """Change a stroke's parameters (validated: the painting is kept on error)."""
        s = self.doc.strokes.get(sid)
        if s is not None and self._locked(s):
            if s.author == self.params.author:
                raise ValueError(f"stroke {sid!r} is locked (unlock my strokes to edit it)")
            raise ValueError(f"stroke {sid!r} is locked by {s.author}")
        new = self.doc.update(sid, **changes)
        self._tell("update", [new])
        return new

    def undo(self) -> bool:
        """Undo my last operation (adding or erasing strokes)."""
        while self.undo_stack:
            op, strokes = self.undo_stack.pop()
            if op == "add":
                live = [s for s in strokes if s.id in self.doc.strokes]
                for s in live:
                    self.doc.remove(s.id)
                    self.doc.removed.discard(s.id)
                self._tell("remove", live)
            else:
                live = strokes
                for s in strokes:
                    self.doc.restore(s)
                self._tell("add", live)
            if live:
                self.redo_stack.append((op, live))
                self.timelapse = None
                return True
        return False

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        op, strokes = self.redo_stack.pop()
        if op == "add":
            for s in strokes:
                self.doc.restore(s)
            self._tell("add", strokes)
        else:
            gone = [s for s in strokes if s.id in self.doc.strokes]
            for s in gone:
                self.doc.remove(s.id)
            self._tell("remove", gone)
        self.undo_stack.append((op, strokes))
        self.timelapse = None
        return True

    def clear(self) -> None:
        gone = [s for s in self.doc.ordered() if not self._locked(s)]
        for s in gone:
            self.doc.remove(s.id)
        self._did("remove", gone)

    def load_document(self, doc: Painting) -> None:
        """Replace the document (after reading a file: errors happen before this).

        While sharing, the others see the old strokes go and the new ones come
        (with ids of this replica, so a file opened by two people does not clash). The new document's
        version follows the old one's, so that every view that follows versions shows it.
        """
        before = self.doc.version
        if self._share is not None:
            old = self.doc.ordered()
            fresh = Painting(background=doc.background)
            params, opacity = doc.arrays()
            self.doc = fresh
            made = self._new_strokes(params, self.params.author, opacity) if len(params) else []
            for s, src in zip(made, doc.ordered()):  # keep who painted what
                if src.author != s.author:
                    fresh.strokes[s.id] = replace(s, author=src.author)
            fresh.version += 1
            made = fresh.ordered()
            self._tell("remove", old)
            self._tell("add", made)
            doc = fresh
        doc.version = max(doc.version, before + 1)
        self.doc = doc
        self.cache = CanvasCache(self.params.canvas_px, doc.background, footprint=True)
        self.undo_stack.clear()
        self.redo_stack.clear()
        self.proposals = []

    def enter_room(
        self, share: Callable[[str, object], None], author: str, bring: bool = True
    ) -> Painting | None:
        """Become a replica of a shared room: paint as ``author`` and report every local edit to ``share``.

        With ``bring`` the painting goes into the room (returned, a copy; None when empty);
        without it the room's painting will replace it (the canvas starts empty).
        """
        self.share(None)
        if not bring:
            self.load_document(Painting())
        if self.params.author != author:
            self.set_params(self.params.replace(author=author))
        initial = self.doc.copy() if len(self.doc) else None
        self.share(share)
        return initial

    def follow_room(self, room: Painting) -> int:
        """Become the room's painting (a session that fell behind its change feed re-reads the room):
        its strokes and background in, the strokes it lacks out, the undo history kept."""
        removed = [sid for sid in self.doc.strokes if sid not in room.strokes]
        return self.apply_remote(added=room.ordered(), removed=removed, background=room.background)

    # -- exports (what the files need, read on the worker) ---------------------
    def document(self) -> Painting:
        """A copy of the painting, to save."""
        return self.doc.copy()

    def export_image(self, size: int) -> np.ndarray:
        """The painting rendered at ``size`` pixels, (size, size, 3) floats in [0, 1]."""
        return render_fast(*self.doc.arrays(), size=int(size), background=self.doc.background, footprint=True)

    def export_svg(self, size: int) -> str:
        """The painting as an SVG document of ``size`` pixels (one rect per stroke, over the background)."""
        from engines.painting.imageio import strokes_svg

        return strokes_svg(*self.doc.arrays(), int(size), self.doc.background)

    # -- completion ------------------------------------------------------------
    def has_model(self) -> bool:
        return self.model is not None or (self.model_path is not None and Path(self.model_path).exists())

    def _load_model(self):
        if self.model is None:
            if self.model_path is None or not Path(self.model_path).exists():
                raise FileNotFoundError("no trained completion model (assets/painting/model.zip is missing)")
            from engines.painting.model import load_model

            self.model = load_model(self.model_path)
        return self.model

    def _load_refiner(self):
        """The render network of the expected fit, or None (``params.expected_fit`` off, or no file)."""
        if not self.params.expected_fit:
            return None
        if self.refiner is None and self.refiner_path is not None and Path(self.refiner_path).exists():
            from engines.painting.refiner import load_refiner

            self.refiner = load_refiner(self.refiner_path)
        return self.refiner

    def complete_job(
        self,
        region: tuple[float, float, float, float] | None = None,
        mode: str = "all",
        p: float = 0.5,
    ) -> Job:
        """Propose strokes completing the painting.

        ``region`` (x0, y0, x1, y1) keeps proposals inside it. ``mode`` says
        which of the painted strokes the model sees as context: "all" (every
        one), or one of the model's masking schemes applied to them (see
        :func:`engines.painting.model.make_mask`): "random" (each with
        probability ``p``), "block" (a run of 1 - p of the slots is hidden),
        "level" (only the first level, or two when p >= 0.5), "square" (a
        square around a random stroke holding about 1 - p of them is hidden),
        "unconditional" (none). Every slot that is not context is proposed, in the
        colour of the context paint under it (``params.context_colour``). The first
        proposal (the one selected) is then fitted to the render that the render
        network expects of the finished painting (``params.expected_fit``,
        :mod:`engines.painting.refiner`): the best guess. The others stay the
        diffusion model's samples, choices that differ, less, in level and block
        modes, the strokes over varied context paint (``params.drop_spread``).
        """
        from engines.painting.decompose import level_sizes
        from engines.painting.model import (
            consensus_fit,
            discordant,
            make_mask,
            mbr_select,
            slots_for_context,
        )
        from engines.painting.params import DROP_MODES, FIT_UNGUIDED_MODES

        if mode not in COMPLETE_MODES:
            raise ValueError(f"complete mode = {mode!r}: allowed values are {', '.join(COMPLETE_MODES)}")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"complete p = {p!r}: allowed range is [0, 1]")
        self.busy = "complete"
        try:
            yield Progress(0, 1, "loading the model")
            model = self._load_model()
            params, opacity = self.doc.arrays()
            if len(params) > model.cfg.n_strokes or (len(params) == model.cfg.n_strokes and mode == "all"):
                # more strokes than the model's slots, or a full painting with none to hide: regional
                # windows (engines.painting.regions); as `painting complete` does
                return (yield from self._complete_regions(model, params, opacity, region, mode, p))
            sizes = level_sizes(model.cfg.n_strokes)
            context, mask, levels = slots_for_context(params, sizes)
            if mode != "all":
                rng = np.random.default_rng(self.seed + self._completions)
                filled = mask.copy()
                if filled.any():
                    # the scheme chooses among the painted strokes only (empty slots stay free)
                    k = int(filled.sum())
                    sub = make_mask(mode, context[:k], levels[:k], rng, float(p))
                    mask = np.zeros_like(filled)
                    mask[:k] = sub
                context = np.where(mask[:, None], context, 0).astype(np.float32)
            refiner = self._load_refiner()
            self.last_completion = {
                "mode": mode,
                "p": float(p),
                "context": int(mask.sum()),
                "painted": int(len(params)),
                "proposed_slots": int((~mask).sum()),
                "first_fitted": refiner is not None,
            }
            self.proposals = []  # (a new completion replaces the proposals on show)
            steps = self.params.complete_steps
            n_prop, k = self.params.proposals, self.params.samples
            expected = None
            if refiner is not None:
                from engines.painting.refiner import fit_expected, predict_render

                expected = predict_render(refiner, context, mask, levels)
            per = steps + (1 if k > 1 or expected is not None else 0) + 1  # DDIM steps, the fit, "ready"
            total = 1 + n_prop * per
            # each proposal joins them when it is ready: the first is seen while the others are computed
            self.selected = 0
            base = self.seed + self._completions
            for i in range(n_prop):  # stoppable between DDIM steps and between proposals
                done = 1 + i * per
                yield Progress(done, total, f"sampling proposal {i + 1}/{n_prop} ({mode})")
                fitted = expected is not None and i == 0  # (the others stay samples: choices that differ)
                # (the fitted one takes its colours from the expected painting: in FIT_UNGUIDED_MODES
                # it is sampled without the context colour guidance)
                recolour = 0.0 if fitted and mode in FIT_UNGUIDED_MODES else self.params.context_colour
                out = yield from self._sample_one(
                    model, context, mask, levels, base + 1_000_003 * i, k, done, total, recolour
                )
                if fitted:
                    yield Progress(
                        done + steps, total, f"fitting proposal {i + 1}/{n_prop} to the expected painting"
                    )
                    start = out[0] if k == 1 else out[mbr_select(out)]
                    full, keep = fit_expected(start, mask, expected)  # (fitted as drawn: over the painting)
                elif k > 1:
                    yield Progress(
                        done + steps, total, f"fitting proposal {i + 1}/{n_prop} to its {k} samples"
                    )
                    full = consensus_fit(out, mask)
                else:
                    full = out[0]
                new = full[~mask & keep] if fitted else full[~mask]
                if not fitted and mode in DROP_MODES and self.params.drop_spread > 0:
                    # strokes of one colour over varied paint blur its edges (issue 16)
                    new = new[~discordant(full, mask, self.params.drop_spread)[~mask]]
                if region is not None:
                    x0, y0, x1, y1 = region
                    inside = (new[:, 0] >= x0) & (new[:, 0] <= x1) & (new[:, 1] >= y0) & (new[:, 1] <= y1)
                    new = new[inside]
                self.proposals.append(new.astype(np.float32))
                yield Progress(done + per, total, f"proposal {i + 1}/{n_prop} ready")
            self._completions += 1
            yield Progress(total, total, f"{len(self.proposals)} proposals ready")
            return [p.copy() for p in self.proposals]
        finally:
            self.busy = ""

    def _complete_regions(self, model, params, opacity, region, mode: str, p: float):
        """Complete a canvas of any size over regional windows (a sub-job of :meth:`complete_job`).

        In "all" mode the proposals fill ``region``, else the empty canvas (else
        anywhere); in the masking modes the scheme hides some of the painted
        strokes (levels by size rank, the largest first) and the proposals fill
        the part of the canvas those hidden strokes painted.
        """
        from engines.painting.params import DROP_MODES
        from engines.painting.regions import complete_regions_job, masked_target

        rng = np.random.default_rng(self.seed + self._completions)
        keep, target = masked_target(params, opacity, mode, p, rng, region)
        context, ctx_opacity = params[keep], opacity[keep]
        self.last_completion = {
            "mode": mode,
            "p": float(p),
            "context": int(len(context)),
            "painted": int(len(params)),
            "windows": True,
            "first_fitted": self._load_refiner() is not None,
        }
        self.proposals = []
        self.selected = 0
        n_prop, steps = self.params.proposals, self.params.complete_steps
        total = 1 + n_prop * (steps + 1)
        base = self.seed + self._completions
        drop = self.params.drop_spread if mode in DROP_MODES else 0.0
        for i in range(n_prop):
            done = 1 + i * (steps + 1)
            job = complete_regions_job(
                model,
                context,
                ctx_opacity,
                target=target,
                steps=steps,
                guidance=self.params.guidance,
                seed=base + 1_000_003 * i,
                samples=self.params.samples,
                recolour_strength=self.params.context_colour,
                reach=self.params.context_reach,
                drop_spread=drop,
                # the first proposal is each window's best guess; the others stay samples
                refiner=self._load_refiner() if i == 0 else None,
            )
            try:
                while True:
                    pr = next(job)
                    yield Progress(done + pr.done, total, f"proposal {i + 1}/{n_prop}: {pr.message}")
            except StopIteration as stop:
                new = stop.value
            self.proposals.append(np.asarray(new, np.float32))
            yield Progress(done + steps + 1, total, f"proposal {i + 1}/{n_prop} ready")
        self._completions += 1
        yield Progress(total, total, f"{len(self.proposals)} proposals ready")
        return [q.copy() for q in self.proposals]

    def _sample_one(
        self, model, context, mask, levels, seed: int, k: int, done: int, total: int, recolour: float
    ):
        """One proposal's ``k`` diffusion samples as a sub-job (Progress after each DDIM step), with
        context colour guidance ``recolour``."""
        from engines.painting.model import sample_job

        job = sample_job(
            model,
            context,
            mask,
            levels,
            steps=self.params.complete_steps,
            guidance=self.params.guidance,
            seed=seed,
            proposals=k,
            recolour_strength=recolour,
            recolour_during=True,
            recolour_reach=self.params.context_reach,
        )
        try:
            while True:
                pr = next(job)
                yield Progress(done + pr.done, total, pr.message)
        except StopIteration as stop:
            return stop.value

    def select_proposal(self, i: int) -> None:
        if not 0 <= i < len(self.proposals):
            raise ValueError(f"proposal {i}: there are {len(self.proposals)}")
        self.selected = i

    def accept_proposal(self) -> list[Stroke]:
        if not self.proposals:
            return []
        made = self.add_strokes(self.proposals[self.selected], author="model")
        self.proposals = []
        return made

    def reject_proposals(self) -> None:
        self.proposals = []

    # -- paint a reference -------------------------------------------------------
    def decompose_job(self, image: np.ndarray) -> Job:
        """Fit strokes to a reference image; they appear live and are added at the end."""
        from engines.painting.decompose import DecomposeParams
        from engines.painting.decompose import decompose_job as fit

        p = DecomposeParams(
            strokes=self.params.decompose_strokes,
            size=self.params.decompose_px,
            iters=self.params.decompose_iters,
            report_every=5,
        )
        self.busy = "decompose"
        try:
            job = fit(np.asarray(image), p, seed=self.seed, background=self.doc.background)
            try:
                while True:
                    pr = next(job)
                    self.preview = pr.value
                    yield pr
            except StopIteration as stop:
                result = stop.value
            return self.add_strokes(result.params[0], author="reference")
        finally:
            self.preview = None
            self.busy = ""

    # -- views -------------------------------------------------------------------
    def set_timelapse(self, k: int | None) -> None:
        """Replay: show only the first ``k`` strokes in paint order (None: all)."""
        if k is not None and k < 0:
            raise ValueError(f"timelapse = {k}: must be >= 0")
        self.timelapse = None if k is None else int(k)

    def _arrays(self, strokes: list[Stroke]) -> tuple[np.ndarray, np.ndarray]:
        """``doc.arrays(strokes)`` for the painting in paint order, kept between calls.

        Building the arrays is a Python loop over every stroke; when the strokes
        of the last call are a prefix of these (strokes added on top, the usual
        case, and what others' strokes in a session mostly are) only the new
        ones are converted.
        """
        c = self._arrays_cache
        if c is not None:
            old, par, opa = c
            k = len(old)
            if k <= len(strokes) and strokes[:k] == old:  # identity first: cheap when unchanged
                if k < len(strokes):
                    p2, o2 = self.doc.arrays(strokes[k:])
                    par, opa = np.concatenate([par, p2]), np.concatenate([opa, o2])
                    self._arrays_cache = (list(strokes), par, opa)
                return par, opa
        par, opa = self.doc.arrays(strokes)
        self._arrays_cache = (list(strokes), par, opa)
        return par, opa

    def render_image(self) -> np.ndarray:
        strokes = self.doc.ordered()
        if self.timelapse is not None and self.timelapse < len(strokes):
            params, opacity = self._arrays(strokes)
            k = self.timelapse
            return render_fast(
                params[:k],
                opacity[:k],
                size=self.params.canvas_px,
                background=self.doc.background,
                footprint=True,
            )
        params, opacity = self._arrays(strokes)
        return self.cache.update([s.id for s in strokes], params, opacity)

    def _overlay(self) -> np.ndarray | None:
        """Strokes rendered over the painting: the live reference preview. (Proposals are not: the
        studio draws them over the canvas as ghost strokes from ``snapshot().proposals``.)"""
        if self.preview is not None and len(self.preview):
            return self.preview
        return None

    def render_view(self, rect: tuple[float, float, float], px: int) -> tuple[tuple, np.ndarray]:
        """The square ``rect`` = (x0, y0, side) of the canvas rendered at ``px`` pixels (zoomed-in views).

        Shows what :meth:`snapshot` shows (painting, time-lapse prefix, live reference
        preview), drawn from the strokes at that resolution rather than
        upscaled. Strokes wholly outside the view are skipped, and the view is
        cached incrementally like the canvas (strokes added on top cost only
        themselves). Returns (key, (px, px, 3) uint8).
        """
        x0, y0, side = (float(v) for v in rect)
        if not (np.isfinite([x0, y0, side]).all() and side > 0):
            raise ValueError(f"view rect = {rect!r}: needs a finite origin and a side > 0")
        px = int(px)
        if not 8 <= px <= 4096:
            raise ValueError(f"view px = {px}: allowed range is [8, 4096]")
        extra = self._overlay()
        key = (
            self.doc.version,
            self.timelapse,
            None if extra is None else (id(extra), len(extra), float(np.asarray(extra).sum())),
            round(x0, 6),
            round(y0, 6),
            round(side, 6),
            px,
        )
        if self._view_cache is not None and self._view_cache[0] == key:
            return self._view_cache
        frame = (round(x0, 6), round(y0, 6), round(side, 6), px, tuple(self.doc.background))
        if self._view_canvas is None or self._view_canvas[0] != frame:
            self._view_canvas = (frame, CanvasCache(px, self.doc.background, footprint=True))
        cache = self._view_canvas[1]

        def to_view(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # into the view's frame: positions and sizes scale by 1 / side; angles, colours stay
            q = np.array(params, np.float64, copy=True).reshape(-1, 8)
            q[:, 0] = (q[:, 0] - x0) / side
            q[:, 1] = (q[:, 1] - y0) / side
            q[:, 2:4] /= side
            reach = q[:, 2] + q[:, 3]  # more than the half-diagonal: cull what lies wholly outside
            keep = (
                (q[:, 0] + reach > 0) & (q[:, 0] - reach < 1) & (q[:, 1] + reach > 0) & (q[:, 1] - reach < 1)
            )
            return q, keep

        strokes = self.doc.ordered()
        params, opacity = self._arrays(strokes)
        if self.timelapse is not None and self.timelapse < len(strokes):
            k = self.timelapse
            strokes, params, opacity = strokes[:k], params[:k], opacity[:k]
        q, keep = to_view(params)
        idx = np.flatnonzero(keep)
        img = cache.update([strokes[i].id for i in idx], q[idx], np.asarray(opacity)[idx])
        if extra is not None and len(extra):
            e, k = to_view(np.asarray(extra, np.float32))
            img = composite_fast(img.copy(), e[k], footprint=True)
        out = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        out.setflags(write=False)
        self._view_cache = (key, out)
        return self._view_cache

    def _painting_view(self) -> dict[str, Any]:
        """The snapshot's canvas image and stroke lists, computed again only when what they show
        changed: while a job runs (Complete samples for seconds, publishing snapshots all along) the
        painting stays as it is, and the snapshots reuse these read-only arrays at no cost."""
        # (the objects themselves are kept in the key, so their ids cannot be reused meanwhile)
        objs = (self.doc, self.cache, self.preview)
        key = (*map(id, objs), self.doc.version, self.timelapse, self.params.author)
        c = self._snapshot_cache
        if c is not None and c[1] == key:
            return c[2]
        img = self.render_image()
        extra = self._overlay()
        if extra is not None and len(extra):
            img = composite_fast(img.copy(), extra, footprint=True)
        strokes = self.doc.ordered()
        params, opacity = self._arrays(strokes)
        view = {
            "version": self.doc.version,
            "image": frozen_array(to_uint8(img)),
            "n_strokes": len(strokes),
            "n_mine": sum(1 for s in strokes if s.author == self.params.author),
            "params": frozen_array(params),
            "opacity": frozen_array(opacity),
            "ids": tuple(s.id for s in strokes),
            "authors": tuple(s.author for s in strokes),
        }
        self._snapshot_cache = (objs, key, view)
        return view

    def _proposal_views(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """The proposals (read-only copies) and their thumbnails, made again only when they changed."""
        key = (id(self.doc), self.doc.version, tuple(map(id, self.proposals)))
        c = self._proposals_cache
        if c is not None and c[1] == key:
            return c[2]
        thumbs = []
        if self.proposals:
            base = render_fast(*self.doc.arrays(), size=96, background=self.doc.background, footprint=True)
            for p in self.proposals:
                thumbs.append(frozen_array(to_uint8(composite_fast(base.copy(), p, footprint=True))))
        out = (tuple(frozen_array(p) for p in self.proposals), tuple(thumbs))
        self._proposals_cache = ((self.doc, list(self.proposals)), key, out)
        return out

    def snapshot(self) -> PaintingSnapshot:
        proposals, thumbs = self._proposal_views()
        return PaintingSnapshot(
            **self._painting_view(),
            can_undo=bool(self.undo_stack),
            can_redo=bool(self.redo_stack),
            proposals=proposals,
            proposal_images=thumbs,
            selected=self.selected,
            busy=self.busy,
            has_model=self.has_model(),
            author=self.params.author,
            first_fitted=bool(self.proposals) and bool(self.last_completion.get("first_fitted")),
        )

    # -- state -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "seed": self.seed, "document": self.doc.to_dict()}

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        try:
            doc = Painting.from_dict(d["document"], where="painting state")
            params = PaintingParams.from_dict(d["params"])
            seed = int(d.get("seed", 0))
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise StateError(f"painting state: {e}") from e
        self.params = params
        self.seed = seed
        self.load_document(doc)


__all__ = ["COMPLETE_MODES", "PaintingEngine", "PaintingParams", "PaintingSnapshot", "PARAM_NAMES"]
