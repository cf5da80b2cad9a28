"""The chip profile's fast clock: the weight sums and the STDP scans of ``Core_engine.vhd``, clock by clock.

On the chip the neuron pipeline runs on a slow clock (one slot per clock, 96 per round) and everything
that touches the RAMs runs on a 1000 times faster one (``CLK100M``; the slow clock is its count to 500,
twice). :func:`fast_round` runs those fast processes for the 96,000 fast clocks of one round, as the
VHDL writes them, with the RAMs as the VHDL has them (one word per ``row * 96 + column``, 16384 words,
the address taken modulo 16384 as the GHDL bench's RAMs do; words past the loaded 96 x 96 keep the
VHDL's initial value, 6 for the weights):

* ``accumulation_process`` and ``lat_accumulation_process``: the feed-forward sum of each input address
  (one RAM column, read row by row after ``en_input``) and the lateral sum of each spike; both sets of
  sums are handed to the slow clock at the first fast clock of slot 95 (they drive the next round);
* ``FF_weight_loader`` and ``AA_weight_loader``: the read-modify-write scans over 96 words that apply
  ``+dw_pos`` (8-bit adder, wraps) and ``-dw_neg`` (8-bit, floored at -1) where the pre/post flags and
  the enable bit read on the way are set, at the addresses the VHDL computes (which are not the cells
  the sums read for the firing neuron: the scans run while the slot counter already shows the next
  slot, and the write address is offset from the read address);
* ``tpre_updater_FF`` and ``tpre_updater``: the 8-bit pre-window counters and their flags (``tpre`` and
  ``apre`` RAMs), the post-window counters of every slot (``tpost``/``apost``), including the counters
  that re-trigger a scan every 1000 fast clocks while a level stays high (so that scans drift against
  the slot boundaries, and straddle them), and ``tpre_skip_flag_FF_tracker``.

The slow side gives, per slot period ``p`` (what the fast clock sees after the slow edge that starts it):
the slot counter ``p``, ``Spike_out`` = the spike of slot ``p - 1`` and ``en_tpre_update`` its negation,
and the host's inputs as the GHDL bench sends them (``scripts/ncx_ghdl_reference.py``): the step's
addresses, lowest first, on the address bus from slot period 1; the input spike (``S_in``) and its
address (``NEURON_ADDR``) during period 2; ``en_input`` at fast clock ``1 + 152 i`` of period 2 for the
``i``-th address, which stays on the bus 152 clocks (later addresses spill into the next periods).

:func:`engines.spiking.ncx_chip.chip_run` compiles this kernel into itself and numba caches it with
``ncx_chip.py``'s stamp: after editing this file, touch ``ncx_chip.py`` (or clear ``__pycache__``) so
that the cache is rebuilt.
"""

from __future__ import annotations

import numpy as np
from numba import njit

WORDS = 16384
FAST = 1000  # fast clocks per slot
SPACING = 152  # fast clocks between two input addresses sent by the host
CNT_MAX = 1000  # multiple_spike_counter_max: the re-trigger counters
# indices into the fast state vector ``fs``
(
    F_CLKD, F_ACC_I, F_ACC_DONE, F_BRAM_ADDR, F_PSOP, F_MSC, F_FLAG_MSC, F_FLAG_TRIG, F_LACC_I, F_LACC_DONE,
    F_LBRAM_ADDR, F_LUI, F_LUD, F_LUA, F_TW, F_LAT_RADDR, F_APRE_RADDR, F_ENAA_RADDR, F_AA_WE, F_AA_WADDR,
    F_AA_DIN, F_FUI, F_FUD, F_FUA, F_TWF, F_FF_RADDR, F_APREF_RADDR, F_APOSTF, F_ENFF_RADDR, F_FF_WE,
    F_FF_WADDR, F_FF_DIN, F_PSIP, F_MSCF, F_FLAG_MSCF, F_FLAG_TNSCF, F_TUIF, F_UAF, F_UDF, F_FLAG_TRIGF,
    F_ETUPF, F_MNSCF, F_FLAG_MNSCF, F_TRAF, F_TWDF, F_AWDF, F_TWAF, F_TWEF, F_AWEF, F_MISSF, F_FLAG_TNSC,
    F_TUI, F_UA, F_UD, F_ETUP, F_MNSC, F_FLAG_MNSC, F_TRA, F_TWD, F_AWD, F_TWA, F_TWE, F_MISS, F_CSF,
    F_SKIP, F_ONCE,
    # RAM outputs (registered reads)
    F_BRAM_D, F_FF_RD, F_LBRAM_D, F_LAT_RD, F_TPRE_RD, F_APRE_RD, F_TPREF_RD, F_APREF_RD, F_ENAA_RD,
    F_ENFF_RD,
) = range(76)  # fmt: skip
N_FAST = 76
#: the registers the kernel indexes arrays with (a loaded state is checked: each in [0, 96])
INDEX_FIELDS = (F_ACC_I, F_LACC_I, F_LUI, F_FUI, F_TUIF, F_TUI)


def fresh_state() -> tuple[np.ndarray, np.ndarray]:
    """The fast registers after a quiet start-up round: scans idle, windows closed (``fs``, ``tpost``)."""
    fs = np.zeros(N_FAST, np.int64)
    for k in (F_ACC_DONE, F_LACC_DONE, F_LUD, F_FUD, F_UDF, F_UD, F_ETUPF, F_ETUP, F_ONCE):
        fs[k] = 1
    fs[F_CSF] = CNT_MAX + 1
    tpost = np.full((2, 96), -1, np.int64)  # row 0: tpost_dummy, row 1: apost_dummy
    tpost[1] = 0
    return fs, tpost


def fresh_rams() -> np.ndarray:
    """The eight RAMs (rows: FF weights, AA weights, tpre AA, apre AA, tpre FF, apre FF, enable AA, FF)."""
    r = np.zeros((8, WORDS), np.int64)
    r[0:2, 96 * 96 :] = 6
    r[2] = -1
    r[4] = -1
    return r


@njit(nogil=True, cache=True, inline="always")
def _w8(x):
    return ((x + 128) & 255) - 128


@njit(nogil=True, cache=True, inline="always")
def _w15(x):
    return ((x + 16384) & 32767) - 16384


@njit(nogil=True, cache=True)
def fast_round(fs, tpost, rams, wff, wlat, wff_prev, wlat_prev, fired, prev95, addrs, n_addr, sp):
    """The 96,000 fast clocks of one round (see the module docstring); ``sp``: tpre_FF_max, tpre_AA_max,
    tpost_AA_max, dw_pos, dw_neg (8-bit registers). ``wff``/``wlat``: the sums being accumulated;
    ``wff_prev``/``wlat_prev`` receive them at slot 95."""
    ram_ff = rams[0]
    ram_aa = rams[1]
    tpre_aa = rams[2]
    apre_aa = rams[3]
    tpre_ff = rams[4]
    apre_ff = rams[5]
    en_aa = rams[6]
    en_ff = rams[7]
    tpre_ff_max = _w8(sp[0])
    tpre_aa_max = _w8(sp[1])
    tpost_aa_max = _w8(sp[2])
    dw_pos = _w8(sp[3])
    dw_neg = _w8(sp[4])
    n = fs.copy()
    m = WORDS - 1
    na0 = addrs[0] if n_addr > 0 else 0
    for p in range(96):
        cni = p
        so = (fired[p - 1] if p >= 1 else prev95) != 0
        so_i = 1 if so else 0
        en_tpre = 1 - so_i
        sin = 1 if (p == 2 and n_addr > 0) else 0
        na = na0 if p == 2 else 0
        for t in range(FAST):
            # the host's address bus and en_input
            u = (p - 2) * FAST + t  # fast clocks since the start of period 2
            if p < 1:
                nal = 0
            elif u < 0:
                nal = na0
            else:
                i = u // SPACING
                nal = addrs[i] if i < n_addr else 0
            en_input = 1 if (u >= 1 and (u - 1) % SPACING == 0 and (u - 1) // SPACING < n_addr) else 0
            clk = 1 if t < FAST // 2 else 0
            for k in range(N_FAST):
                n[k] = fs[k]
            copy = cni == 95 and clk == 1 and fs[F_CLKD] == 0
            # ---- accumulation_process (feed-forward sums)
            n[F_CLKD] = clk
            acc_i = fs[F_ACC_I]
            acc_w = -1
            if en_input:
                n[F_ACC_I] = 0
                n[F_ACC_DONE] = 0
                n[F_BRAM_ADDR] = nal
            elif fs[F_ACC_DONE] == 0:
                if acc_i > 0:
                    acc_w = acc_i - 1
                if acc_i < 95:
                    n[F_ACC_I] = acc_i + 1
                    n[F_BRAM_ADDR] = (acc_i + 1) * 96 + nal
                elif acc_i == 95:
                    n[F_BRAM_ADDR] = acc_i * 96 + nal
                    n[F_ACC_I] = acc_i + 1
                else:
                    n[F_ACC_I] = 0
                    n[F_ACC_DONE] = 1
            # ---- lat_accumulation_process (lateral sums, and the spike re-trigger counter)
            n[F_PSOP] = so_i
            msc = fs[F_MSC]
            if msc == CNT_MAX:
                n[F_MSC] = 0
                n[F_FLAG_MSC] = 1
            elif fs[F_FLAG_TRIG] == 1 or msc > 0:
                n[F_MSC] = msc + 1
                n[F_FLAG_MSC] = 0
            else:
                n[F_FLAG_MSC] = 0
            spike_trig = so and (fs[F_PSOP] == 0 or fs[F_FLAG_MSC] == 1)
            lacc_i = fs[F_LACC_I]
            lat_w = -1
            if spike_trig:
                n[F_LACC_I] = 0
                n[F_LACC_DONE] = 0
                n[F_FLAG_TRIG] = 1
                n[F_LBRAM_ADDR] = lacc_i * 96 + cni
            elif fs[F_LACC_DONE] == 0:
                if lacc_i > 0 and (lacc_i - 1) != cni and 4 < cni < 95:
                    lat_w = lacc_i - 1
                if lacc_i < 95:
                    n[F_LACC_I] = lacc_i + 1
                    n[F_LBRAM_ADDR] = (lacc_i + 1) * 96 + cni
                elif lacc_i == 95:
                    n[F_LBRAM_ADDR] = lacc_i * 96 + cni
                    n[F_LACC_I] = lacc_i + 1
                else:
                    n[F_LACC_I] = 0
                    n[F_LACC_DONE] = 1
            else:
                n[F_FLAG_TRIG] = 0
            # ---- AA_weight_loader (lateral STDP scans)
            lui = fs[F_LUI]
            tw = fs[F_TW]
            if spike_trig and fs[F_LUD] == 1:
                n[F_LUI] = 0
                n[F_LUD] = 0
                n[F_LUA] = 1
                n[F_TW] = 0
            elif tw == 1 and fs[F_LUA] == 0:
                n[F_LUI] = 0
                n[F_LUA] = 1
                n[F_LUD] = 0
            if fs[F_LUA] == 1:
                if tw == 0 and lui < 95:
                    n[F_LAT_RADDR] = (cni + 1) * 96 + lui
                    n[F_APRE_RADDR] = lui * 96 + cni
                    n[F_ENAA_RADDR] = (cni + 1) * 96 + lui
                elif tw == 1 and lui <= 95:
                    n[F_LAT_RADDR] = (lui + 1) * 96 + cni
                    n[F_APRE_RADDR] = cni * 96 + lui
                    n[F_ENAA_RADDR] = (lui + 1) * 96 + cni
                else:
                    n[F_LAT_RADDR] = 0
                    n[F_APRE_RADDR] = 0
                    n[F_ENAA_RADDR] = 0
                if lui > 0:
                    if fs[F_APRE_RD] == 1 and tw == 0 and fs[F_ENAA_RD] == 1:
                        n[F_AA_DIN] = _w8(fs[F_LAT_RD] + dw_pos)
                        n[F_AA_WE] = 1
                        n[F_AA_WADDR] = (cni + 1) * 96 + (lui - 2)
                    elif tw == 1 and lui > 1 and fs[F_ENAA_RD] == 1:
                        if tpost[1, lui - 2] == 1 and (lui - 2) != cni:
                            d = _w8(fs[F_LAT_RD] - dw_neg)
                            n[F_AA_DIN] = -1 if d < -1 else d
                            n[F_AA_WE] = 1
                            n[F_AA_WADDR] = (lui - 1) * 96 + cni
                        else:
                            n[F_AA_WE] = 0
                    else:
                        n[F_AA_WE] = 0
                    if lui <= 95:
                        n[F_LUI] = lui + 1
                    elif so and tw == 0:
                        n[F_TW] = 1
                        n[F_LUA] = 0
                        n[F_LUD] = 1
                    else:
                        n[F_LUA] = 0
                        n[F_LUD] = 1
                        n[F_TW] = 0
                elif lui == 0:
                    n[F_LUI] = 1
            else:
                n[F_AA_WE] = 0
            # ---- FF_weight_loader (feed-forward STDP scans)
            fui = fs[F_FUI]
            twf = fs[F_TWF]
            if fs[F_PSIP] == 0 and sin == 1 and fs[F_FUD] == 1:
                n[F_FUI] = 0
                n[F_FUD] = 0
                n[F_FUA] = 1
                n[F_TWF] = 1
            if spike_trig and fs[F_FUD] == 1:
                n[F_FUI] = 0
                n[F_FUD] = 0
                n[F_FUA] = 1
                n[F_TWF] = 0
            if fs[F_FUA] == 1:
                if twf == 0 and fui < 95:
                    n[F_FF_RADDR] = fui * 96 + cni
                    n[F_APREF_RADDR] = fui * 96 + cni
                    n[F_APOSTF] = 0
                    n[F_ENFF_RADDR] = fui * 96 + cni
                elif twf == 1 and 0 < fui <= 95:
                    n[F_FF_RADDR] = na * 96 + fui
                    n[F_APREF_RADDR] = 0
                    n[F_APOSTF] = tpost[1, fui - 1]
                    n[F_ENFF_RADDR] = na * 96 + fui
                else:
                    n[F_FF_RADDR] = 0
                    n[F_APREF_RADDR] = 0
                    n[F_ENFF_RADDR] = 0
                if fui > 0:
                    if fs[F_APREF_RD] == 1 and twf == 0 and fs[F_ENFF_RD] == 1:
                        n[F_FF_DIN] = _w8(fs[F_FF_RD] + dw_pos)
                        n[F_FF_WE] = 1
                        n[F_FF_WADDR] = (fui - 2) * 96 + cni
                    elif twf == 1 and fs[F_APOSTF] == 1 and fs[F_ENFF_RD] == 1:
                        d = _w8(fs[F_FF_RD] - dw_neg)
                        n[F_FF_DIN] = -1 if d < -1 else d
                        n[F_FF_WE] = 1
                        n[F_FF_WADDR] = (cni + 1) * 96 + (fui - 2)
                    else:
                        n[F_FF_WE] = 0
                    if fui <= 95:
                        n[F_FUI] = fui + 1
                    else:
                        n[F_FUA] = 0
                        n[F_FUD] = 1
                elif fui == 0:
                    n[F_FUI] = 1
            else:
                n[F_FF_WE] = 0
            # ---- tpre_skip_flag_FF_tracker
            csf = fs[F_CSF]
            if csf == 1000:
                n[F_SKIP] = 0
                n[F_ONCE] = 1
                n[F_CSF] = (csf + 1) & 1023
            elif fs[F_FLAG_TRIGF] == 1:
                n[F_CSF] = 0
                n[F_SKIP] = 0
                n[F_ONCE] = 0
            elif cni == nal and fs[F_ONCE] == 0:
                n[F_CSF] = (csf + 1) & 1023
                n[F_SKIP] = 1
            else:
                n[F_SKIP] = 0
            # ---- tpre_updater_FF (input pre windows)
            n[F_PSIP] = sin
            mscf = fs[F_MSCF]
            if mscf == CNT_MAX:
                n[F_MSCF] = 0
                n[F_FLAG_MSCF] = 1
            elif fs[F_FLAG_TRIGF] == 1 or mscf > 0:
                n[F_MSCF] = mscf + 1
                n[F_FLAG_MSCF] = 0
            else:
                n[F_FLAG_MSCF] = 0
            en_ff_upd = 1 - sin
            if en_ff_upd == 1 and (fs[F_ETUPF] == 0 or fs[F_FLAG_MNSCF] == 1):
                n[F_FLAG_TNSCF] = 1
                n[F_TUIF] = 0
                n[F_UAF] = 1
                n[F_UDF] = 0
            elif sin == 1 and (fs[F_PSIP] == 0 or fs[F_FLAG_MSCF] == 1):
                n[F_TUIF] = 0
                n[F_UAF] = 1
                n[F_UDF] = 0
                n[F_FLAG_TRIGF] = 1
            elif fs[F_MISSF] == 1 and fs[F_UAF] == 0:
                n[F_TUIF] = 0
                n[F_UAF] = 1
                n[F_UDF] = 0
            else:
                n[F_FLAG_TNSCF] = 0
                n[F_FLAG_TRIGF] = 0
            n[F_ETUPF] = en_ff_upd
            mn = fs[F_MNSCF]
            if mn == CNT_MAX:
                n[F_MNSCF] = 0
                n[F_FLAG_MNSCF] = 1
            elif fs[F_FLAG_TNSCF] == 1 or mn > 0:
                n[F_MNSCF] = mn + 1
                n[F_FLAG_MNSCF] = 0
            else:
                n[F_FLAG_MNSCF] = 0
            if fs[F_UAF] == 1:
                tui = fs[F_TUIF]
                miss = fs[F_MISSF]
                if sin == 1 and tui <= 95 and miss == 1:
                    n[F_TRAF] = tui * 96 + na
                elif sin == 1 and tui <= 95:
                    n[F_TRAF] = na * 96 + tui
                elif en_ff_upd == 1 and tui <= 95:
                    n[F_TRAF] = tui * 96 + cni
                elif tui == 96:
                    n[F_TRAF] = 0
                trd = fs[F_TPREF_RD]
                if tui > 0 and sin == 1 and miss == 0:
                    n[F_TWDF] = 0
                    n[F_AWDF] = 1
                    n[F_TWAF] = fs[F_TRAF]
                    n[F_TWEF] = 1
                    n[F_AWEF] = 1
                elif tui > 1:
                    if trd >= 0 and miss == 1 and tui - 2 != na:
                        n[F_TWDF] = _w8(trd + 1)
                        n[F_TWEF] = 1
                        n[F_AWEF] = 0
                        n[F_TWAF] = (tui - 2) * 96 + na
                    elif trd >= 0 and trd < tpre_ff_max and miss == 0 and fs[F_SKIP] == 0:
                        n[F_TWDF] = _w8(trd + 1)
                        n[F_TWEF] = 1
                        n[F_AWEF] = 0
                        n[F_TWAF] = (tui - 2) * 96 + cni
                    elif trd >= 0 and trd >= tpre_ff_max:
                        n[F_TWDF] = -1
                        n[F_AWDF] = 0
                        n[F_TWEF] = 1
                        n[F_AWEF] = 1
                        n[F_TWAF] = (tui - 2) * 96 + cni
                    else:
                        n[F_TWEF] = 0
                        n[F_AWEF] = 0
                if tui <= 95:
                    n[F_TUIF] = tui + 1
                elif sin == 1 and miss == 0:
                    n[F_MISSF] = 1
                    n[F_UAF] = 0
                    n[F_UDF] = 1
                else:
                    n[F_UAF] = 0
                    n[F_UDF] = 1
                    n[F_MISSF] = 0
            else:
                n[F_TWEF] = 0
                n[F_AWEF] = 0
            # ---- tpre_updater (neuron pre windows, post windows)
            post_i = -1
            post_t = np.int64(0)
            post_a = np.int64(0)
            if en_tpre == 1 and (fs[F_ETUP] == 0 or fs[F_FLAG_MNSC] == 1):
                n[F_FLAG_TNSC] = 1
                n[F_TUI] = 0
                n[F_UA] = 1
                n[F_UD] = 0
                tp = tpost[0, cni]
                if tp >= 0 and tp < tpost_aa_max:
                    post_i, post_t, post_a = cni, _w8(tp + 1), tpost[1, cni]
                elif tp >= 0 and tp >= tpost_aa_max:
                    post_i, post_t, post_a = cni, -1, 0
            elif spike_trig:
                n[F_TUI] = 0
                n[F_UA] = 1
                n[F_UD] = 0
                post_i, post_t, post_a = cni, 0, 1
            elif fs[F_MISS] == 1 and fs[F_UA] == 0:
                n[F_TUI] = 0
                n[F_UA] = 1
                n[F_UD] = 0
            else:
                n[F_FLAG_TNSC] = 0
            n[F_ETUP] = en_tpre
            mn = fs[F_MNSC]
            if mn == CNT_MAX:
                n[F_MNSC] = 0
                n[F_FLAG_MNSC] = 1
            elif fs[F_FLAG_TNSC] == 1 or mn > 0:
                n[F_MNSC] = mn + 1
                n[F_FLAG_MNSC] = 0
            else:
                n[F_FLAG_MNSC] = 0
            if fs[F_UA] == 1:
                tui = fs[F_TUI]
                miss = fs[F_MISS]
                if so and tui <= 95 and miss == 1:
                    n[F_TRA] = tui * 96 + cni
                elif so and tui <= 95:
                    n[F_TRA] = cni * 96 + tui
                elif en_tpre == 1 and tui <= 95:
                    n[F_TRA] = tui * 96 + cni
                elif tui == 96:
                    n[F_TRA] = 0
                trd = fs[F_TPRE_RD]
                if tui > 0 and so and miss == 0:
                    n[F_TWD] = 0
                    n[F_AWD] = 1
                    n[F_TWA] = fs[F_TRA]
                    n[F_TWE] = 1
                elif tui > 1:
                    if trd >= 0 and miss == 1 and (tui - 2) != cni:
                        n[F_TWD] = _w8(trd + 1)
                        n[F_TWE] = 1
                        n[F_TWA] = (tui - 2) * 96 + cni
                        n[F_AWD] = 1
                    elif trd >= 0 and trd < tpre_aa_max and miss == 0:
                        n[F_TWD] = _w8(trd + 1)
                        n[F_TWE] = 1
                        n[F_TWA] = (tui - 2) * 96 + cni
                        n[F_AWD] = 1
                    elif trd >= 0 and trd >= tpre_aa_max:
                        n[F_TWD] = -1
                        n[F_AWD] = 0
                        n[F_TWE] = 1
                        n[F_TWA] = (tui - 2) * 96 + cni
                    else:
                        n[F_TWE] = 0
                if tui <= 95:
                    n[F_TUI] = tui + 1
                elif so and miss == 0:
                    n[F_MISS] = 1
                    n[F_UA] = 0
                    n[F_UD] = 1
                else:
                    n[F_UA] = 0
                    n[F_UD] = 1
                    n[F_MISS] = 0
            else:
                n[F_TWE] = 0
            # ---- the RAMs: registered reads of the old addresses, then the writes of this edge
            n[F_BRAM_D] = ram_ff[fs[F_BRAM_ADDR] & m]
            n[F_FF_RD] = ram_ff[fs[F_FF_RADDR] & m]
            n[F_LBRAM_D] = ram_aa[fs[F_LBRAM_ADDR] & m]
            n[F_LAT_RD] = ram_aa[fs[F_LAT_RADDR] & m]
            n[F_TPRE_RD] = tpre_aa[fs[F_TRA] & m]
            n[F_APRE_RD] = apre_aa[fs[F_APRE_RADDR] & m]
            n[F_TPREF_RD] = tpre_ff[fs[F_TRAF] & m]
            n[F_APREF_RD] = apre_ff[fs[F_APREF_RADDR] & m]
            n[F_ENAA_RD] = en_aa[fs[F_ENAA_RADDR] & m]
            n[F_ENFF_RD] = en_ff[fs[F_ENFF_RADDR] & m]
            if fs[F_FF_WE] == 1:
                ram_ff[fs[F_FF_WADDR] & m] = fs[F_FF_DIN]
            if fs[F_AA_WE] == 1:
                ram_aa[fs[F_AA_WADDR] & m] = fs[F_AA_DIN]
            if fs[F_TWE] == 1:
                tpre_aa[fs[F_TWA] & m] = fs[F_TWD]
                apre_aa[fs[F_TWA] & m] = fs[F_AWD]
            if fs[F_TWEF] == 1:
                tpre_ff[fs[F_TWAF] & m] = fs[F_TWDF]
            if fs[F_AWEF] == 1:
                apre_ff[fs[F_TWAF] & m] = fs[F_AWDF]
            # ---- the sums (after the copy test, which reads the old sums) and the post windows
            if copy:
                for j in range(96):
                    wff_prev[j] = wff[j]
                    wlat_prev[j] = wlat[j]
                    wff[j] = 0
                    wlat[j] = 0
            else:
                if acc_w >= 0:
                    wff[acc_w] = _w15(wff[acc_w] + fs[F_BRAM_D])
                if lat_w >= 0:
                    wlat[lat_w] = _w15(wlat[lat_w] + fs[F_LBRAM_D])
            if post_i >= 0:
                tpost[0, post_i] = post_t
                tpost[1, post_i] = post_a
            for k in range(N_FAST):
                fs[k] = n[k]


def check_state(fs: np.ndarray, tpost: np.ndarray, rams: np.ndarray, error: type[Exception]) -> None:
    """Raise ``error`` unless loaded fast registers and RAMs hold what the chip can (the kernel indexes
    with the scan counters and does not check bounds)."""
    idx = fs[list(INDEX_FIELDS)]
    if idx.min() < 0 or idx.max() > 96:
        raise error("state field 'chip_fs' holds a scan index outside [0, 96]")
    byte = rams[[0, 1, 2, 4]]
    bits = rams[[3, 5, 6, 7]]
    if byte.min() < -128 or byte.max() > 127 or bits.min() < 0 or bits.max() > 1:
        raise error("state field 'chip_rams' holds words outside their RAM's range")
    if tpost[0].min() < -128 or tpost[0].max() > 127 or tpost[1].min() < 0 or tpost[1].max() > 1:
        raise error("state field 'chip_tpost' holds values outside [-128, 127] / [0, 1]")


def load_matrices(rams: np.ndarray, w_ff: np.ndarray, w_aa: np.ndarray, en_ff: np.ndarray, en_aa: np.ndarray):
    """Write the engine's matrices into the RAM words the chip keeps them in.

    ``w_ff[k, j]`` is FF word ``(j + 2) * 96 + k`` and ``w_aa[i, j]`` lateral word ``(j + 2) * 96 + i + 1``
    (the enable bits likewise); neurons past 93 and lateral sources past 94 have no word.
    """
    n_in, n = w_ff.shape
    j = min(n, 94)
    i = min(n, 95)
    for r, w in ((0, w_ff), (7, en_ff)):
        rams[r, : 96 * 96].reshape(96, 96)[2 : 2 + j, :n_in] = np.asarray(w[:, :j], np.int64).T
    for r, w in ((1, w_aa), (6, en_aa)):
        rams[r, : 96 * 96].reshape(96, 96)[2 : 2 + j, 1 : 1 + i] = np.asarray(w[:i, :j], np.int64).T


def read_matrices(rams: np.ndarray, w_ff: np.ndarray, w_aa: np.ndarray) -> None:
    """The engine's weights back from the RAM words (see :func:`load_matrices`)."""
    n_in, n = w_ff.shape
    j = min(n, 94)
    i = min(n, 95)
    w_ff[:, :j] = rams[0, : 96 * 96].reshape(96, 96)[2 : 2 + j, :n_in].T
    w_aa[:i, :j] = rams[1, : 96 * 96].reshape(96, 96)[2 : 2 + j, 1 : 1 + i].T
