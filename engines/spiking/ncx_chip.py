"""The ``chip`` profile of NeuroCoreX mode: one time step is one round of the FPGA's neuron pipeline.

Written from ORNL's public VHDL (``vhdl_src/Core_engine.vhd``, ``LIF_unit.vhd`` and the RAM files) and
checked bit for bit, STDP included, against a GHDL simulation of it (``scripts/ncx_ghdl_reference.py``
says how; its traces are the test fixture ``tests/engines/spiking/data/ncx_chip_ghdl.npz``).

The chip has 96 neuron *slots* (``0..95``), visited one per slow clock in a round started by the trigger
(96 clocks). A neuron's membrane, its feed-forward and its lateral current pass through a three-stage
pipeline and FIFOs, and this module keeps the registers of that pipeline as they are, so that what one
slot does to the next (a held current, a zeroed current) comes out as it does on the board. Neuron ``j``
of the engine is slot ``j``. What follows from the VHDL, slot by slot in a round (``c`` = slot):

* ``vin = v[c] + Iin`` (18-bit wrap), where ``Iin`` is the bias register only for the debug slot
  (register ``N_debug``: the bias reaches slot ``N_debug + 3``) and 0 for every other slot;
* the slot fires when ``vin >= threshold[c]``, its refractory counter is 0 and ``4 <= c <= 93``
  (slots 0-3, 94 and 95 never fire); firing writes ``v = 0`` (``vreset`` is never assigned);
* otherwise ``v = wrap18(vin - leak + I_lat + I_ff)`` with ONE leak for every slot, the leak register of
  slot 8 (``V_by_Tau_dt <= tau_mem(8)``), and the two current registers *as the previous slot left them*;
* ``I_ff`` (the register the next slot reads) becomes ``resize18(S_ff * amp << 10)`` when the input gate
  is open, but 0 if this slot fires; it keeps its value when the gate is closed and any lateral spike
  count is non-zero; 0 otherwise. ``S_ff`` is the 15-bit sum of the feed-forward RAM row ``c + 2`` over
  the input addresses received in the previous round (an address sent twice counts twice);
  ``amp`` is the low 8 bits of slot 0's refractory register (``Tref_max(0)``);
* ``I_lat`` becomes ``wrap18(I_in + resize18(S_lat << 10))`` (scale fixed at 1) when the lateral spike
  count of slot ``c + 1`` is positive and keeps its value otherwise: one register, never decaying, where
  ``I_in`` is what the lateral FIFO gives back for this slot from the previous round. ``S_lat`` is the
  15-bit sum of lateral RAM row ``c + 2`` over the slots ``f`` that fired in the previous round, each
  read in column ``f + 1``; the row equal to ``f + 1`` is skipped (so a slot's weight onto the slot
  *before* it is ignored and its weight onto itself is not);
* the input gate is open in a round when an input spike was on the bus at slot 1 of the round before
  (slots 0-2 of a round still see the gate of the round before that);
* the refractory counter: 1 on a spike, then +1 each round up to ``Tref_max[c]``, then 0;
* slots 94 and 95 read slot 93's membrane of this round from the FIFO, slots 0-3 the one of the
  round before (the FIFO holds 90 entries, for slots 4-93).

Weights as the engine holds them map to the RAMs as: ``w_ff[k, j]`` -> FF RAM row ``j + 2``, column
``k``; ``w_aa[i, j]`` -> lateral RAM row ``j + 2``, column ``i + 1``. Rows past 95 do not exist, so the
feed-forward and lateral weights onto slots 94 and 95 are dropped. The host is assumed to send each
step's input addresses at the start of the round, lowest address first, so that the first one is on the
bus when slot 1 is sampled (the GHDL bench does the same).

STDP is simulated too, clock by clock on the fast clock (:mod:`engines.spiking.ncx_chip_stdp`), and
checked against GHDL word for word (both weight RAMs after every round, with the spikes and membranes,
in cases with several neurons of unequal settings, random inputs and enable bits, where potentiation
and depression of feed-forward and lateral weights all occur). What the chip does, in short:

* the feed-forward sums and the lateral sums are the fast clock's too (96 RAM reads per input address
  or spike) and see the STDP writes made before them in the round;
* a spike of slot ``c`` starts its scans while the slot counter already shows ``c + 1``: the feed-forward
  potentiation scan reads the pre flags of FF RAM column ``c + 1`` and adds ``dw_pos`` to the words of
  that column (input ``c + 1`` onto every neuron ``j`` whose flag, row ``j + 2``, is set), not to the
  synapses of the firing neuron; the lateral potentiation scan writes row ``c + 2`` (the synapses onto
  the firing neuron, from sources whose pre flag is set), and its depression scan (``toggle_write``)
  column ``c + 1`` (the synapses from it), where row ``L + 1`` (neuron ``L - 1``) is gated by the post
  flag of slot ``L``, one neuron off;
* an input spike (only the first address of a step, on the bus during slot 2 as ``S_in``/``NEURON_ADDR``)
  sets the pre flags of FF RAM row ``a`` (its address) and its depression scan reads row ``a`` but
  writes row ``c + 1`` of the slot counter at that time (slot 2: row 3);
* the write of a potentiation is ``w + dw_pos`` in an 8-bit adder (``127 + 1 = -128``: the clamp at 127
  never fires); a depression writes ``max(wrap8(w - dw_neg), -1)``; every write needs its enable bit, read
  at the word the scan reads;
* the window counters (``tpre``/``apre`` RAMs, 96 x 96 per matrix, and ``tpost``/``apost`` per slot) are
  8-bit, counted up by scans that a falling spike level starts and that counters of 1000 fast clocks
  re-start while the level stays: their phase drifts against the slot boundaries (a scan can straddle
  two slots), and ``tpre_skip_flag_FF_tracker`` skips the counting while the slot counter equals the
  address on the bus;
* the scans read one row past the 96 x 96 matrix, and a potentiation scan's first write (index 1,
  flags read at the address the scan before left) can go to ``slot - 96``: the RAMs are 16384 words,
  addressed modulo 16384 as in the GHDL bench (words past the loaded 9216 keep the VHDL's initial 6
  for the weights).

The engine's matrices are the RAM words the datapath reads (``w_ff`` / ``w_aa`` as above, the enable
masks likewise); the other words (FF rows 0-1, lateral column 0, row 96, ...) are kept in
``chip_rams`` and written by the scans as on the chip. The host's timing is the bench's: the step's
addresses, lowest first, the first on the bus from slot 1 with the input-spike line, then each for 152
fast clocks from slot 2 (``en_input`` one clock after it appears); more than about 600 sendings in
one step do not fit a round. The fast clock is taken as
1000 times the slow one (the board's ``Clock_Divider`` counts to 500 twice).
With ``stdp`` off (on the chip: every enable bit 0, so the scans write nothing) the round's sums are
computed directly (:func:`chip_sums`), which gives the same sums without running the fast clock.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .ncx_chip_stdp import fast_round

N_SLOTS = 96
FIRST_FIRING, LAST_FIRING = 4, 93
LEAK_SLOT = 8
#: the registers carried from round to round (indices into the ``st`` state vector)
R_WFF, R_WLAT, R_S1, R_S2, R_SIN, R_I1, R_I2, R_SI, R_ISYN, R_IFF, R_V93, R_IS92, R_GATE = range(13)
N_STATE = 16


@njit(nogil=True, cache=True, inline="always")
def wrap_bits(x, bits):
    half = np.int64(1) << (bits - 1)
    full = np.int64(1) << bits
    return ((x + half) % full) - half


@njit(nogil=True, cache=True, inline="always")
def resize18(x):
    low = x & np.int64((1 << 17) - 1)
    return low - np.int64(1 << 17) if x < 0 else low


@njit(nogil=True, cache=True, inline="always")
def record_step(step, s, n, fired, inp, v, spk_step, spk_id, nspk, counts, mon_buf, mon_idx):
    """Append step ``step``'s neuron spikes (ids 0..n-1) and input events (ids n..) to the raster, count the
    neurons that fired in ``counts[s]`` and write monitored membranes (in units of the threshold scale 1024)
    to ``mon_buf[s]``; returns the new raster length. Shared by both NeuroCoreX profiles' kernels."""
    ne = 0
    for j in range(n):
        if fired[j]:
            spk_step[nspk] = step
            spk_id[nspk] = j
            nspk += 1
            ne += 1
    for k in range(inp.shape[0]):
        if inp[k]:
            spk_step[nspk] = step
            spk_id[nspk] = n + k
            nspk += 1
    counts[s] = ne
    mon_buf[s, 0] = step
    for m in range(mon_idx.shape[0]):
        j = mon_idx[m]
        mon_buf[s, 1 + m] = v[j] / 1024.0 if j >= 0 else np.nan
    return nspk


@njit(nogil=True, cache=True, inline="always")
def _bias_at(c, n_debug, bias):
    """The Iin register seen by slot ``c``: the bias travels three clocks from the debug counter."""
    e = c - 3
    if e >= 0:
        return bias if e == n_debug else np.int64(0)
    e += N_SLOTS
    return bias if (e == n_debug or (e == N_SLOTS - 1 and n_debug == N_SLOTS - 2)) else np.int64(0)


@njit(nogil=True, cache=True)
def chip_round(thr, tref, leak, bias, n_debug, n_fire, v, ref, st, is_ring, wffp, wlp, slp, fired, sl):
    """One trigger round over the 96 slots; ``fired`` and ``sl`` (lateral spike counts) are outputs."""
    amp = tref[0] & np.int64(0xFF)
    v93_prev = st[R_V93]  # slot 93 as the FIFO gave it in the previous round (for slots 0-3)
    v93_now = v[93]  # and as it gives it in this round (for slots 94, 95)
    is92_prev = st[R_IS92]
    is92_now = is_ring[92]
    for i in range(N_SLOTS):
        sl[i] = 0
    for c in range(N_SLOTS):
        o_wff = st[R_WFF]
        o_wlat = st[R_WLAT]
        o_s1 = st[R_S1]
        o_s2 = st[R_S2]
        o_sin = st[R_SIN]
        o_i1 = st[R_I1]
        o_i2 = st[R_I2]
        o_si = st[R_SI]
        o_isyn = st[R_ISYN]
        o_iff = st[R_IFF]
        if FIRST_FIRING <= c <= LAST_FIRING:
            vr = v[c]
        elif c > LAST_FIRING:
            vr = v93_now
        else:
            vr = v93_prev
        if 3 <= c <= 92:
            isin = is_ring[c]
        elif c > 92:
            isin = is92_now
        else:
            isin = is92_prev
        vin = wrap_bits(vr + _bias_at(c, n_debug, bias), 18)
        f = vin >= thr[c] and FIRST_FIRING <= c <= LAST_FIRING and c < n_fire and ref[c] == 0
        fired[c] = f
        if o_si > 0:
            st[R_ISYN] = wrap_bits(isin + resize18(o_wlat * 1024), 18)
        if o_sin:
            st[R_IFF] = 0 if f else resize18(o_wff * amp * 1024)
        elif o_si <= 0:
            st[R_IFF] = 0
        if f:
            vout = np.int64(0)
            ref[c] = 1
            for i in range(N_SLOTS):
                if i != c:
                    sl[i] += 1
        else:
            rc = ref[c]
            if rc >= 1 and rc < tref[c]:
                ref[c] = rc + 1
            elif rc >= tref[c]:
                ref[c] = 0
            vout = wrap_bits(vin - leak + o_isyn + o_iff, 18)
        v[c] = vout  # slots outside 4-93 are not read back (they take slot 93's), only shown
        is_ring[c] = st[R_ISYN]
        if c <= 91:
            st[R_S1] = st[R_GATE]
            st[R_S2] = o_s1
            st[R_SIN] = o_s2
            st[R_I1] = slp[c + 4]
            st[R_I2] = o_i1
            st[R_SI] = o_i2
            st[R_WLAT] = wlp[c + 4]
            st[R_WFF] = wffp[c + 4]
        elif c == 92:
            st[R_SI] = o_i2
            st[R_WFF] = 0
        else:
            st[R_SI] = 0
            st[R_WLAT] = 0
            st[R_WFF] = 0
    st[R_V93] = v93_now
    st[R_IS92] = is92_now
    for i in range(N_SLOTS):
        slp[i] = wrap_bits(sl[i], 8)


@njit(nogil=True, cache=True)
def chip_sums(inp_cnt, w_ff, fired, w_aa, wffp, wlp):
    """The fast clock's sums for the next round: FF rows over this round's inputs, lateral rows over its spikes."""
    n_in, n = w_ff.shape
    for r in range(N_SLOTS):
        j = r - 2
        s = np.int64(0)
        t = np.int64(0)
        if 0 <= j < n:
            for k in range(n_in):
                if inp_cnt[k]:
                    s += inp_cnt[k] * np.int64(w_ff[k, j])
            for f in range(n):
                if fired[f] and r != f + 1:
                    t += w_aa[f, j]
        wffp[r] = wrap_bits(s, 15)
        wlp[r] = wrap_bits(t, 15)


@njit(nogil=True, cache=True)
def chip_run(
    n_steps,
    step0,
    ip,  # bias, n_debug, stdp, tpre_max, tpost_max, dw_pos, dw_neg, seed, leak
    thr,  # (96,) raw Q7.10 thresholds per slot
    tref,  # (96,) refractory registers per slot (slot 0's low 8 bits are the feed-forward scale)
    v,
    ref,
    st,
    is_ring,
    wffp,
    wlp,
    slp,
    w_aa,
    w_ff,
    rams,  # (8, 16384) the RAMs of the fast clock (ncx_chip_stdp), used when STDP is on
    fs,  # the fast registers
    tpost,  # (2, 96) tpost / apost of every slot
    wacc,  # (2, 96) the feed-forward / lateral sums being accumulated
    in_raster,
    raster_start,
    in_prob,
    mon_idx,
    mon_buf,
    spk_step,
    spk_id,
    counts,
):
    bias = ip[0]
    n_debug = ip[1]
    stdp = ip[2]
    seed = ip[7]
    leak = ip[8]
    n_in, n = w_ff.shape
    n_rast = in_raster.shape[0]
    cnt = np.zeros(n_in, np.int64)
    fired = np.zeros(N_SLOTS, np.bool_)
    sl = np.zeros(N_SLOTS, np.int64)
    addrs = np.zeros(max(1, 255 * n_in), np.int64)
    sp = np.array([ip[3], ip[3], ip[4], ip[5], ip[6]], np.int64)
    nspk = 0
    for s in range(n_steps):
        step = step0 + s
        r = step - raster_start
        seen = -1
        for k in range(n_in):
            if 0 <= r < n_rast:
                cnt[k] = in_raster[r, k]
            elif in_prob[k] > 0.0:
                cnt[k] = 1 if _uniform(seed, step, k) < in_prob[k] else 0
            else:
                cnt[k] = 0
            if cnt[k] and seen < 0:
                seen = k
        # the round: currents summed from the previous round's inputs and spikes
        chip_round(thr, tref, leak, bias, n_debug, n, v, ref, st, is_ring, wffp, wlp, slp, fired, sl)
        st[R_GATE] = 1 if seen >= 0 else 0
        if stdp:
            # the fast clock clock by clock: the sums for the next round and the STDP scans
            na = 0
            for k in range(n_in):
                for _ in range(cnt[k]):
                    addrs[na] = k
                    na += 1
            fast_round(fs, tpost, rams, wacc[0], wacc[1], wffp, wlp, fired, 0, addrs, na, sp)
        else:
            # what the fast clock sums during this round, for the next one (no RAM writes without STDP)
            chip_sums(cnt, w_ff, fired, w_aa, wffp, wlp)
        nspk = record_step(step, s, n, fired, cnt, v, spk_step, spk_id, nspk, counts, mon_buf, mon_idx)
    return nspk


@njit(nogil=True, cache=True)
def _uniform(seed, step, unit):
    # the same counter-based generator as the extended kernel (same inputs for one seed)
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(step) * np.uint64(0xD1B54A32D192ED03)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    z = z + np.uint64(unit) * np.uint64(0x8CB92BA72F3D8DD7) + np.uint64(1)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)
