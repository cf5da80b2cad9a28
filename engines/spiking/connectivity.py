"""Synaptic connectivity: compressed sparse rows by presynaptic source.

A :class:`Connectivity` holds every synapse of a network in CSR form, rows
indexed by *source* (the ``n_neurons`` LIF neurons first, then the
``n_inputs`` input units), columns by *target* LIF neuron. Weights are signed:
a synapse with ``w >= 0`` acts on the excitatory channel (conductance ``ge``
or current ``Ie``), one with ``w < 0`` on the inhibitory channel with
magnitude ``-w``. Delays are integer time steps (0 = the next update, as in
Brian2 without delays).

Builders: fixed probability (Bernoulli per pair, as Brian2's
``connect(p=...)``), dense all-to-all, any networkx graph, edges read from a
text file by :func:`engines.spiking.io.load_edge_list`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Connectivity",
    "fixed_probability",
    "dense",
    "from_edges",
    "from_networkx",
]


@dataclass
class Connectivity:
    """CSR synapses by source: ``indptr`` (n_sources+1), ``indices`` (targets)."""

    n_sources: int
    n_targets: int
    indptr: np.ndarray  # int64, n_sources + 1
    indices: np.ndarray  # int32, n_syn
    weights: np.ndarray  # float64, n_syn (signed)
    delays: np.ndarray  # int16, n_syn (time steps)

    @property
    def n_synapses(self) -> int:
        return int(self.indices.shape[0])

    @property
    def max_delay(self) -> int:
        return int(self.delays.max()) if self.delays.size else 0

    def sources(self) -> np.ndarray:
        """Presynaptic source of every synapse (int32)."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.n_sources, dtype=np.int32), counts)

    def row_kinds(self) -> np.ndarray:
        """Per source: 0 mixed signs, 1 all >= 0, 2 all < 0, 3/4 the same and all equal."""
        n = self.n_sources
        kinds = np.zeros(n, np.int8)
        counts = np.diff(self.indptr)
        if self.weights.size == 0:
            kinds[:] = 3
            return kinds
        nz = counts > 0  # reduceat over the non-empty rows only (their starts increase strictly)
        starts = self.indptr[:-1][nz]
        neg = np.zeros(n, np.int64)
        wmin = np.zeros(n)
        wmax = np.zeros(n)
        neg[nz] = np.add.reduceat((self.weights < 0).astype(np.int64), starts)
        wmin[nz] = np.minimum.reduceat(self.weights, starts)
        wmax[nz] = np.maximum.reduceat(self.weights, starts)
        uniform = (wmin == wmax) | (counts == 0)
        kinds[neg == 0] = 1
        kinds[(neg == counts) & (counts > 0)] = 2
        kinds[(kinds == 1) & uniform] = 3
        kinds[(kinds == 2) & uniform] = 4
        return kinds

    def out_degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def by_target(self) -> tuple[np.ndarray, np.ndarray]:
        """CSC view: (target indptr, synapse ids sorted by target)."""
        order = np.argsort(self.indices, kind="stable").astype(np.int64)
        counts = np.bincount(self.indices, minlength=self.n_targets)
        ptr = np.zeros(self.n_targets + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        return ptr, order

    def dense_weights(self) -> np.ndarray:
        """A (n_sources, n_targets) matrix of summed weights (small networks)."""
        m = np.zeros((self.n_sources, self.n_targets))
        np.add.at(m, (self.sources(), self.indices), self.weights)
        return m

    def copy(self) -> Connectivity:
        return Connectivity(
            self.n_sources,
            self.n_targets,
            self.indptr.copy(),
            self.indices.copy(),
            self.weights.copy(),
            self.delays.copy(),
        )

    def state_dict(self) -> dict:
        return {
            "n_sources": self.n_sources,
            "n_targets": self.n_targets,
            "indptr": self.indptr.copy(),
            "indices": self.indices.copy(),
            "weights": self.weights.copy(),
            "delays": self.delays.copy(),
        }

    @classmethod
    def from_state(cls, d) -> Connectivity:
        """Rebuild from :meth:`state_dict` output, checked (the kernels index with these arrays).

        Raises ``ValueError`` when the arrays are not a valid CSR structure: wrong
        shapes, targets out of range, non-finite weights, delays outside 0..32767.
        """
        n_src, n_tgt = d["n_sources"], d["n_targets"]
        for name, v in (("n_sources", n_src), ("n_targets", n_tgt)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < 2**31:
                raise ValueError(f"connectivity: {name} = {v!r} is not a count")
        n_src, n_tgt = int(n_src), int(n_tgt)
        arrays = {k: np.asarray(d[k]) for k in ("indptr", "indices", "weights", "delays")}
        for k, a in arrays.items():
            kinds = "f" if k == "weights" else "iu"
            if a.ndim != 1 or a.dtype.kind not in kinds and not (k == "weights" and a.dtype.kind in "iu"):
                raise ValueError(f"connectivity: {k} must be a 1-D numeric array, got {a.shape} {a.dtype}")
        indptr, indices, weights, delays = arrays.values()
        n_syn = indices.shape[0]
        if indptr.shape != (n_src + 1,) or weights.shape != (n_syn,) or delays.shape != (n_syn,):
            raise ValueError("connectivity: indptr, indices, weights and delays do not fit together")
        if indptr[0] != 0 or indptr[-1] != n_syn or np.any(np.diff(indptr) < 0):
            raise ValueError("connectivity: indptr is not a non-decreasing 0..n_synapses sequence")
        if n_syn and (indices.min() < 0 or indices.max() >= n_tgt):
            raise ValueError(f"connectivity: a synapse target is outside [0, {n_tgt})")
        if n_syn and (delays.min() < 0 or delays.max() > np.iinfo(np.int16).max):
            raise ValueError("connectivity: synaptic delays must be between 0 and 32767 time steps")
        if not np.all(np.isfinite(weights)):
            raise ValueError("connectivity: synaptic weights must be finite numbers")
        return cls(
            n_src,
            n_tgt,
            indptr.astype(np.int64),
            indices.astype(np.int32),
            weights.astype(np.float64),
            delays.astype(np.int16),
        )


def from_edges(
    n_sources: int,
    n_targets: int,
    pre: np.ndarray,
    post: np.ndarray,
    weights: np.ndarray,
    delays: np.ndarray | None = None,
) -> Connectivity:
    """Build CSR from edge arrays (sorted by source, then target)."""
    pre = np.asarray(pre, np.int64)
    post = np.asarray(post, np.int64)
    weights = np.broadcast_to(np.asarray(weights, np.float64), pre.shape)
    if delays is None:
        delays = np.zeros(pre.shape, np.int64)
    delays = np.broadcast_to(np.asarray(delays, np.int64), pre.shape)
    if pre.size:
        if pre.min() < 0 or pre.max() >= n_sources:
            raise ValueError(f"synapse source index out of range [0, {n_sources})")
        if post.min() < 0 or post.max() >= n_targets:
            raise ValueError(f"synapse target index out of range [0, {n_targets})")
        if delays.min() < 0 or delays.max() > np.iinfo(np.int16).max:
            raise ValueError("synaptic delays must be between 0 and 32767 time steps")
        if not np.all(np.isfinite(weights)):
            raise ValueError("synaptic weights must be finite numbers")
    order = np.lexsort((post, pre))
    counts = np.bincount(pre, minlength=n_sources)
    indptr = np.zeros(n_sources + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Connectivity(
        int(n_sources),
        int(n_targets),
        indptr,
        post[order].astype(np.int32),
        np.ascontiguousarray(weights[order], dtype=np.float64),
        delays[order].astype(np.int16),
    )


def _sample_rows(rng: np.random.Generator, counts: np.ndarray, n_targets: int, exclude: np.ndarray | None):
    """For each row r draw ``counts[r]`` distinct targets in [0, n_targets).

    Targets are drawn with replacement, then duplicates (and excluded
    self-connections) are redrawn until every row holds distinct values: by
    symmetry this gives a uniform random subset per row.
    """
    rows = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    cols = rng.integers(0, n_targets, size=rows.size, dtype=np.int64)
    for _ in range(1000):
        order = np.lexsort((cols, rows))
        r, c = rows[order], cols[order]
        bad = np.zeros(r.size, bool)
        if r.size > 1:
            bad[1:] = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
        if exclude is not None:
            bad |= c == exclude[r]
        nbad = int(bad.sum())
        if nbad == 0:
            return r, c
        c[bad] = rng.integers(0, n_targets, size=nbad, dtype=np.int64)
        rows, cols = r, c
    raise ValueError("could not draw distinct targets: connection probability too close to 1")


def fixed_probability(
    rng: np.random.Generator,
    n_sources: int,
    n_targets: int,
    p: float,
    weight_of_source: np.ndarray,
    autapses: bool = True,
    self_offset: int = 0,
    delays: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each (source, target) pair connected with probability ``p``.

    Returns edge arrays (pre, post, weights, delays). ``self_offset`` maps a
    source row to its own neuron index (for excluding autapses).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"connection probability {p} is outside [0, 1]")
    if p >= 0.5:  # dense enough: a Bernoulli matrix is cheaper and exact
        mask = rng.random((n_sources, n_targets)) < p
        if not autapses:
            src = np.arange(n_sources) + self_offset
            ok = src < n_targets
            mask[np.arange(n_sources)[ok], src[ok]] = False
        pre, post = np.nonzero(mask)
    else:
        n_avail = n_targets
        exclude = None
        if not autapses:
            exclude = np.arange(n_sources, dtype=np.int64) + self_offset
            exclude = np.where(exclude < n_targets, exclude, -1)
        counts = rng.binomial(n_avail - (0 if autapses else 1), p, size=n_sources)
        pre, post = _sample_rows(rng, counts, n_targets, exclude)
    d = _draw_delays(rng, pre.size, delays)
    return pre, post, np.asarray(weight_of_source)[pre], d


def dense(
    n_sources: int,
    n_targets: int,
    weight_of_source: np.ndarray,
    autapses: bool = True,
    self_offset: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pre, post = np.meshgrid(np.arange(n_sources), np.arange(n_targets), indexing="ij")
    pre, post = pre.ravel(), post.ravel()
    if not autapses:
        keep = pre + self_offset != post
        pre, post = pre[keep], post[keep]
    return pre, post, np.asarray(weight_of_source)[pre], np.zeros(pre.size, np.int64)


def _draw_delays(rng: np.random.Generator, n: int, delays: tuple[int, int]) -> np.ndarray:
    lo, hi = int(delays[0]), int(delays[1])
    if hi <= lo:
        return np.full(n, lo, np.int64)
    return rng.integers(lo, hi + 1, size=n, dtype=np.int64)


def from_networkx(
    graph,
    n_neurons: int,
    weight_of_source: np.ndarray,
    dt_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges of a networkx graph (undirected edges both ways).

    Nodes are mapped to neurons in sorted order (or their integer labels when
    they are exactly 0..n-1). Edge attributes ``weight`` (magnitude; the sign
    comes from the presynaptic population) and ``delay`` (ms) are used when
    present.
    """
    nodes = list(graph.nodes())
    if len(nodes) != n_neurons:
        raise ValueError(f"the graph has {len(nodes)} nodes but the network has {n_neurons} neurons")
    try:
        ordered = sorted(nodes)
    except TypeError:
        ordered = nodes
    index = {node: i for i, node in enumerate(ordered)}
    pre, post, w, d = [], [], [], []
    sign = np.where(np.asarray(weight_of_source) < 0, -1.0, 1.0)
    directed = graph.is_directed()
    for a, b, attrs in graph.edges(data=True):
        pairs = [(index[a], index[b])] if directed else [(index[a], index[b]), (index[b], index[a])]
        for i, j in pairs:
            pre.append(i)
            post.append(j)
            if "weight" in attrs:
                w.append(abs(float(attrs["weight"])) * sign[i])
            else:
                w.append(float(weight_of_source[i]))
            d.append(int(round(float(attrs.get("delay", 0.0)) / dt_ms)))
    return (
        np.asarray(pre, np.int64),
        np.asarray(post, np.int64),
        np.asarray(w, np.float64),
        np.asarray(d, np.int64),
    )
