"""NeuroCoreX mode, extended profile, bit for bit against an independent plain-Python integer model.

The chip profile has its own tests (``test_ncx_chip.py``: case by case from the VHDL, and against GHDL).
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.base import StateError
from engines.spiking.neurocorex import NeuroCoreXEngine, NeuroCoreXParams, to_q


def _twos(x: int, bits: int) -> str:
    """The two's complement bit string of ``x`` on ``bits`` bits."""
    return format(x & ((1 << bits) - 1), f"0{bits}b")


def _from_bits(b: str) -> int:
    v = int(b, 2)
    return v - (1 << len(b)) if b[0] == "1" else v


def wrap(x: int, bits: int) -> int:
    return _from_bits(_twos(x, bits))


def vhdl_resize(x: int, from_bits: int, to_bits: int) -> int:
    """numeric_std.resize on SIGNED: keep the sign bit and the rightmost to_bits-1 bits."""
    b = _twos(x, from_bits)
    return _from_bits(b[0] + b[-(to_bits - 1) :])


class Reference:
    """A deliberately plain, per-synapse, per-step integer model of the NeuroCoreX datapath."""

    def __init__(self, p: NeuroCoreXParams, w_ff, w_aa, en_ff, en_aa):
        self.p = p
        self.n, self.n_in = p.n_neurons, p.n_inputs
        self.thr = round(p.threshold * 1024)
        self.leak = round(p.leak * 1024)
        self.bias = round(p.bias * 1024)
        self.reset = round(p.v_reset * 1024)
        self.w_ff = [[int(w_ff[k][j]) for j in range(self.n)] for k in range(self.n_in)]
        self.w_aa = [[int(w_aa[i][j]) for j in range(self.n)] for i in range(self.n)]
        self.en_ff = [[bool(en_ff[k][j]) for j in range(self.n)] for k in range(self.n_in)]
        self.en_aa = [[bool(en_aa[i][j]) for j in range(self.n)] for i in range(self.n)]
        self.v = [self.reset] * self.n
        self.ref = [0] * self.n
        self.prev = [False] * self.n
        # 8-bit counters: -1 (0xFF) means the window is closed
        self.tpre_in = [-1] * self.n_in
        self.tpre_n = [-1] * self.n
        self.tpost = [-1] * self.n

    def step(self, inputs: list[bool]) -> list[bool]:
        p = self.p
        fired = []
        for j in range(self.n):
            s_aa = sum(self.w_aa[i][j] for i in range(self.n) if self.prev[i] and i != j)
            s_ff = sum(self.w_ff[k][j] for k in range(self.n_in) if inputs[k])
            # 15-bit accumulators, times the scale, shifted by 10, resized to 18 bits
            syn = vhdl_resize(wrap(s_aa, 15) * p.amp_aa * 1024, 36, 18)
            syn += vhdl_resize(wrap(s_ff, 15) * p.amp_ff * 1024, 36, 18)
            u = wrap(self.v[j] + self.bias, 18)
            f = u >= self.thr and self.ref[j] == 0
            fired.append(f)
            if f:
                self.v[j] = self.reset
                self.ref[j] = 1
            else:
                self.v[j] = wrap(wrap(wrap(u - self.leak, 18) + syn, 18), 18)
                if 1 <= self.ref[j] < p.refractory:
                    self.ref[j] += 1
                elif self.ref[j] >= p.refractory:
                    self.ref[j] = 0
        if p.stdp:
            for j in range(self.n):
                if not fired[j]:
                    continue
                for k in range(self.n_in):
                    if self.tpre_in[k] >= 0 and self.en_ff[k][j]:
                        self.w_ff[k][j] = min(self.w_ff[k][j] + p.dw_pos, 127)
                for i in range(self.n):
                    if i != j and self.tpre_n[i] >= 0 and self.en_aa[i][j]:
                        self.w_aa[i][j] = min(self.w_aa[i][j] + p.dw_pos, 127)
            for k in range(self.n_in):
                if not inputs[k]:
                    continue
                for j in range(self.n):
                    if self.tpost[j] >= 0 and self.en_ff[k][j]:
                        w = self.w_ff[k][j] - p.dw_neg
                        self.w_ff[k][j] = -1 if w < -1 else w
            for i in range(self.n):
                if not fired[i]:
                    continue
                for j in range(self.n):
                    if j != i and self.tpost[j] >= 0 and self.en_aa[i][j]:
                        w = self.w_aa[i][j] - p.dw_neg
                        self.w_aa[i][j] = -1 if w < -1 else w

            def tick(c: int, spiked: bool, tmax: int) -> int:
                if spiked:
                    return 0
                if c < 0:
                    return -1
                return c + 1 if c < tmax else -1

            self.tpre_in = [tick(c, inputs[k], p.tpre_max) for k, c in enumerate(self.tpre_in)]
            self.tpre_n = [tick(c, fired[i], p.tpre_max) for i, c in enumerate(self.tpre_n)]
            self.tpost = [tick(c, fired[i], p.tpost_max) for i, c in enumerate(self.tpost)]
        self.prev = fired
        return fired


def _random_case(seed: int, **over):
    rng = np.random.default_rng(seed)
    kw = dict(
        profile="extended",
        n_neurons=9,
        n_inputs=14,
        threshold=3.0,
        leak=0.125,
        bias=0.0625,
        v_reset=-0.5,
        refractory=3,
        amp_aa=1,
        amp_ff=2,
        stdp=True,
        tpre_max=3,
        tpost_max=2,
        dw_pos=5,
        dw_neg=3,
        monitor_count=4,
    )
    kw.update(over)
    p = NeuroCoreXParams(**kw)
    w_ff = rng.integers(-20, 60, size=(p.n_inputs, p.n_neurons))
    w_ff[0, :] = 125  # saturates at 127
    w_aa = rng.integers(-40, 40, size=(p.n_neurons, p.n_neurons))
    en_ff = rng.random((p.n_inputs, p.n_neurons)) < 0.8
    en_aa = rng.random((p.n_neurons, p.n_neurons)) < 0.5
    raster = rng.random((300, p.n_inputs)) < 0.25
    return p, w_ff, w_aa, en_ff, en_aa, raster


@pytest.mark.parametrize(
    "seed,over",
    [
        (0, {}),
        (1, {"stdp": False}),
        (2, {"amp_ff": 200, "amp_aa": 300, "threshold": 100.0}),  # 18-bit resize and wrap-around
        (3, {"refractory": 0, "leak": -0.25, "bias": 1.5, "dw_neg": 50}),  # -1 floor of depression
    ],
)
def test_bit_for_bit_against_integer_reference(seed, over):
    p, w_ff, w_aa, en_ff, en_aa, raster = _random_case(seed, **over)
    ref = Reference(p, w_ff, w_aa, en_ff, en_aa)
    eng = NeuroCoreXEngine(p, seed=0)
    eng.set_weights(w_ff=w_ff, w_aa=w_aa)
    eng.set_stdp_enable(en_ff=en_ff, en_aa=en_aa)
    eng.set_input_raster(raster)
    fired_any = 0
    wrapped = False
    for t in range(raster.shape[0]):
        expect = ref.step([bool(x) for x in raster[t]])
        c0 = eng.spikes.cursor
        eng.step(1)
        got = eng.spikes.read_since(c0)[0]
        neurons = sorted(int(i) for i in got[:, 1] if i < p.n_neurons)
        assert neurons == [j for j in range(p.n_neurons) if expect[j]], f"step {t}"
        assert eng.v.tolist() == ref.v, f"step {t}"
        assert eng.ref.tolist() == ref.ref, f"step {t}"
        fired_any += len(neurons)
        wrapped |= any(abs(v) > 100 * 1024 for v in ref.v)
    assert eng.w_ff.tolist() == ref.w_ff
    assert eng.w_aa.tolist() == ref.w_aa
    assert fired_any > 10  # the case exercises spiking
    if p.stdp:
        assert eng.w_ff.tolist() != w_ff.tolist()  # and learning
    if seed == 0:
        assert max(max(r) for r in ref.w_ff) == 127  # potentiation saturates
    if seed == 3:
        # depression stops at -1: weights that started >= 0 end exactly there
        assert np.sum((np.array(ref.w_ff) == -1) & (w_ff >= 0)) > 0
    if seed == 2:
        assert wrapped  # and the fixed-point edge


def test_quantization_and_errors():
    assert to_q(0.5) == 512 and to_q(-1.0) == -1024
    with pytest.raises(ValueError, match="threshold"):
        NeuroCoreXParams(threshold=200.0)
    eng = NeuroCoreXEngine(NeuroCoreXParams(n_neurons=3, n_inputs=2))
    with pytest.raises(ValueError, match=r"w_ff: weights must be integers in \[-128, 127\]"):
        eng.set_weights(w_ff=np.full((2, 3), 300))
    with pytest.raises(ValueError, match="expected shape"):
        eng.set_weights(w_aa=np.zeros((2, 2)))
    other = NeuroCoreXEngine(NeuroCoreXParams(n_neurons=4, n_inputs=2))
    with pytest.raises(StateError, match="3 neurons and 2 inputs"):
        other.load_state_dict(eng.state_dict())


@pytest.mark.parametrize("profile", ["extended", "chip"])
def test_state_restore_continues_bit_identically(profile):
    p, w_ff, w_aa, en_ff, en_aa, raster = _random_case(5, profile=profile)
    a = NeuroCoreXEngine(p)
    a.set_weights(w_ff=w_ff, w_aa=w_aa)
    a.set_stdp_enable(en_ff=en_ff, en_aa=en_aa)
    a.set_input_raster(raster)
    a.step(100)
    state = a.state_dict()
    a.step(150)
    b = NeuroCoreXEngine(p)
    b.load_state_dict(state)
    b.step(150)
    for k in ("v", "ref", "w_ff", "w_aa", "tpre_in", "tpost"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert np.array_equal(a.spikes.read_since(0)[0], b.spikes.read_since(0)[0])
