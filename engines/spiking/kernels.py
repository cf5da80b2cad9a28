"""numba kernels of the LIF engine: a whole chunk of time steps per call.

Everything that runs per time step lives here, compiled with
``nogil=True`` (the GUI thread keeps running while a chunk is simulated) and
``cache=True`` (compiled once per machine).

Order of one time step (Brian2's default schedule):

1. input units fire (Poisson, counter-based random numbers; spike-time arrays);
2. every LIF neuron is integrated (forward Euler or exponential Euler),
   refractory neurons keep their membrane potential, and a neuron whose
   ``v`` exceeds its threshold spikes, is reset and becomes refractory;
3. the spikes of this step are propagated (directly, or into the delay queue
   for delayed synapses) and the queue slot due now is delivered;
4. pair STDP with exponential traces (pre pathway, then post pathway);
5. spikes, population counts and monitored state are recorded.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# model codes
COBA = 0
CUBA_EXP = 1
CUBA_DELTA = 2

#: synaptic variables smaller than this are flushed to zero: a decaying
#: conductance would otherwise reach denormal numbers after a few seconds of
#: silence, and denormal arithmetic is ~100x slower
TINY = 1e-30

# kinds of synapse rows (per source), for branch-free propagation
ROW_MIXED = 0
ROW_POS = 1  # every weight >= 0 (STDP keeps it so: it clips at 0)
ROW_NEG = 2  # every weight < 0 (never plastic)
ROW_POS_UNIFORM = 3  # ... and all equal (used only while STDP is off)
ROW_NEG_UNIFORM = 4

# float parameter slots (fp)
F_DT_TAU = 0  # dt / tau_m
F_DECAY_E = 1
F_DECAY_I = 2
F_V_REST = 3
F_V_RESET = 4
F_E_E = 5
F_E_I = 6
F_TR_DECAY_PRE = 7
F_TR_DECAY_POST = 8
F_A_PLUS = 9
F_A_MINUS = 10
F_W_MAX = 11
F_V_LIMIT = 12  # |v| beyond this is a blow-up
F_TINY = 13
F_ONE = 14
N_FP = 15

# int parameter slots (ip)
I_MODEL = 0
I_N = 1
I_N_IN = 2
I_REF_STEPS = 3
I_N_EXC = 4
I_DELAY_SLOTS = 5  # 0: no delay queue
I_STDP = 6  # 0 off, 1 additive, 2 multiplicative
I_MON_EVERY = 7
I_EXP_EULER = 8
I_SEED = 9
N_IP = 10

# counters (out)
C_SPIKES = 0
C_MON = 1
C_EVENTS = 2
C_STATUS = 3
C_BAD_NEURON = 4
N_COUNTERS = 5


@njit(nogil=True, cache=True, inline="always")
def _mix64(z):
    # splitmix64 finaliser on uint64
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(nogil=True, cache=True)
def uniform(seed, step, unit):
    """A uniform number in [0, 1) that depends only on (seed, step, unit)."""
    z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    z = _mix64(z + np.uint64(step) * np.uint64(0xD1B54A32D192ED03))
    z = _mix64(z + np.uint64(unit) * np.uint64(0x8CB92BA72F3D8DD7) + np.uint64(1))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(nogil=True, cache=True)
def run_chunk(
    n_steps,
    step0,
    fp,
    ip,
    v,
    se,
    si,
    refc,
    vt,
    iext,
    indptr,
    indices,
    weights,
    delays,
    row_kind,
    acc_e,
    acc_i,
    in_prob,
    st_steps,
    st_ids,
    st_ptr,
    plastic,
    xpre,
    xpost,
    post_ptr,
    post_syn,
    syn_pre,
    mon_idx,
    mon_buf,
    spk_step,
    spk_id,
    rate_buf,
    counters,
):
    """Advance up to ``n_steps`` steps; returns how many were done.

    Stops early when the spike buffer might overflow in the next step, or on
    a blow-up (``counters[C_STATUS] = 1``, the offending neuron in
    ``counters[C_BAD_NEURON]``).
    """
    model = ip[I_MODEL]
    n = ip[I_N]
    n_in = ip[I_N_IN]
    ref_steps = ip[I_REF_STEPS]
    n_exc = ip[I_N_EXC]
    dslots = ip[I_DELAY_SLOTS]
    stdp = ip[I_STDP]
    mon_every = ip[I_MON_EVERY]
    exp_euler = ip[I_EXP_EULER]
    seed = ip[I_SEED]

    dt_tau = fp[F_DT_TAU]
    decay_e = fp[F_DECAY_E]
    decay_i = fp[F_DECAY_I]
    v_rest = fp[F_V_REST]
    v_reset = fp[F_V_RESET]
    e_e = fp[F_E_E]
    e_i = fp[F_E_I]
    tr_pre = fp[F_TR_DECAY_PRE]
    tr_post = fp[F_TR_DECAY_POST]
    a_plus = fp[F_A_PLUS]
    a_minus = fp[F_A_MINUS]
    w_max = fp[F_W_MAX]
    v_limit = fp[F_V_LIMIT]
    # typed constants: with float32 state, Python float literals would promote to float64
    tiny = fp[F_TINY]
    one = fp[F_ONE]
    zero = one - one
    exp_m = np.exp(-dt_tau)

    cap = spk_step.shape[0]
    n_st = st_steps.shape[0]
    n_mon = mon_idx.shape[0]
    fired = np.empty(n + n_in, np.int32)
    n_words = (n + 7) // 8
    fl = np.zeros(8 * n_words, np.uint8)  # spike flags of this step, padded to whole words
    fl_words = fl.view(np.uint64)
    nspk = 0
    nmon = 0
    events = 0
    status = 0
    bad = -1
    s = 0
    while s < n_steps:
        if nspk + n + n_in > cap:
            break
        step = step0 + s
        nf = 0
        # 1. inputs --------------------------------------------------------
        for k in range(n_in):
            p = in_prob[k]
            if p > 0.0:
                if uniform(seed, step, k) < p:
                    fired[nf] = n + k
                    nf += 1
        while st_ptr[0] < n_st and st_steps[st_ptr[0]] <= step:
            if st_steps[st_ptr[0]] == step:
                fired[nf] = n + st_ids[st_ptr[0]]
                nf += 1
            st_ptr[0] += 1
        n_in_fired = nf
        # 2. neurons: a branch-free integration loop (vectorisable), then a
        # threshold scan -------------------------------------------------
        bad_any = False
        if model == COBA and not exp_euler:
            for j in range(n):
                r = refc[j]
                r = r - 1 if r > 0 else 0
                refc[j] = r
                ge = se[j]
                gi = si[j]
                vj = v[j]
                vn = vj + dt_tau * (ge * (e_e - vj) + gi * (e_i - vj) - (vj - v_rest) + iext[j])
                vj = vn if r == 0 else vj
                f = (vj > vt[j]) & (r == 0)
                fl[j] = f
                v[j] = v_reset if f else vj
                refc[j] = ref_steps if f else r
                ge = ge * decay_e
                se[j] = ge if abs(ge) > tiny else zero  # no denormals (they are slow)
                gi = gi * decay_i
                si[j] = gi if abs(gi) > tiny else zero  # no denormals (they are slow)
                bad_any |= not (abs(vj) < v_limit)
        elif model == COBA:
            for j in range(n):
                r = refc[j]
                r = r - 1 if r > 0 else 0
                refc[j] = r
                ge = se[j]
                gi = si[j]
                vj = v[j]
                gtot = one + ge + gi
                vinf = (v_rest + ge * e_e + gi * e_i + iext[j]) / gtot
                vn = vinf + (vj - vinf) * np.exp(-dt_tau * gtot)
                vj = vn if r == 0 else vj
                f = (vj > vt[j]) & (r == 0)
                fl[j] = f
                v[j] = v_reset if f else vj
                refc[j] = ref_steps if f else r
                ge = ge * decay_e
                se[j] = ge if abs(ge) > tiny else zero  # no denormals (they are slow)
                gi = gi * decay_i
                si[j] = gi if abs(gi) > tiny else zero  # no denormals (they are slow)
                bad_any |= not (abs(vj) < v_limit)
        elif model == CUBA_EXP:
            # exponential Euler: v relaxes to v_rest + I with factor exp(-dt/tau_m)
            k_old = exp_m if exp_euler else one - dt_tau
            k_new = one - k_old
            for j in range(n):
                r = refc[j]
                r = r - 1 if r > 0 else 0
                refc[j] = r
                ie = se[j]
                ii = si[j]
                vj = v[j]
                vn = vj * k_old + k_new * (v_rest + ie - ii + iext[j])
                vj = vn if r == 0 else vj
                f = (vj > vt[j]) & (r == 0)
                fl[j] = f
                v[j] = v_reset if f else vj
                refc[j] = ref_steps if f else r
                ie = ie * decay_e
                se[j] = ie if abs(ie) > tiny else zero  # no denormals (they are slow)
                ii = ii * decay_i
                si[j] = ii if abs(ii) > tiny else zero  # no denormals (they are slow)
                bad_any |= not (abs(vj) < v_limit)
        else:  # CUBA_DELTA: se/si hold the jumps that arrived last step
            k_old = exp_m if exp_euler else one - dt_tau
            k_new = one - k_old
            for j in range(n):
                r = refc[j]
                r = r - 1 if r > 0 else 0
                refc[j] = r
                vj = v[j]
                vd = vj + se[j] - si[j]
                vn = vd * k_old + k_new * (v_rest + iext[j])
                vj = vn if r == 0 else vj
                f = (vj > vt[j]) & (r == 0)
                fl[j] = f
                v[j] = v_reset if f else vj
                refc[j] = ref_steps if f else r
                se[j] = zero
                si[j] = zero
                bad_any |= not (abs(vj) < v_limit)
        if bad_any and status == 0:
            status = 1
            for j in range(n):
                if not (abs(v[j]) < v_limit):
                    bad = j
                    break
        # collect the spikes: skip 8 neurons at a time where no flag is set
        for w in range(n_words):
            if fl_words[w] != 0:
                for j in range(8 * w, min(8 * w + 8, n)):
                    if fl[j]:
                        fired[nf] = j
                        nf += 1
        # 3. propagation ---------------------------------------------------
        if dslots > 0:
            for f in range(nf):
                i = fired[f]
                a = indptr[i]
                b = indptr[i + 1]
                events += b - a
                for q in range(a, b):
                    slot = (step + delays[q]) % dslots
                    w = weights[q]
                    if w >= 0.0:
                        acc_e[slot, indices[q]] += w
                    else:
                        acc_i[slot, indices[q]] -= w
            slot = step % dslots
            for j in range(n):
                se[j] += acc_e[slot, j]
                si[j] += acc_i[slot, j]
                acc_e[slot, j] = zero
                acc_i[slot, j] = zero
        else:
            for f in range(nf):
                i = fired[f]
                a = indptr[i]
                b = indptr[i + 1]
                events += b - a
                kind = row_kind[i]
                if kind == ROW_POS_UNIFORM and stdp == 0:
                    w = weights[a]
                    for q in range(a, b):
                        se[indices[q]] += w
                elif kind == ROW_NEG_UNIFORM and stdp == 0:
                    w = -weights[a]
                    for q in range(a, b):
                        si[indices[q]] += w
                elif kind == ROW_POS or kind == ROW_POS_UNIFORM:
                    for q in range(a, b):
                        se[indices[q]] += weights[q]
                elif kind == ROW_NEG or kind == ROW_NEG_UNIFORM:
                    for q in range(a, b):
                        si[indices[q]] -= weights[q]
                else:
                    for q in range(a, b):
                        w = weights[q]
                        if w >= 0.0:
                            se[indices[q]] += w
                        else:
                            si[indices[q]] -= w
        # 4. STDP ----------------------------------------------------------
        if stdp > 0:
            for i in range(n + n_in):
                x = xpre[i] * tr_pre
                xpre[i] = x if x > TINY else 0.0
            for j in range(n):
                x = xpost[j] * tr_post
                xpost[j] = x if x > TINY else 0.0
            for f in range(nf):  # pre pathway: depression by the post trace
                i = fired[f]
                xpre[i] += 1.0
                for q in range(indptr[i], indptr[i + 1]):
                    if plastic[q]:
                        w = weights[q]
                        if stdp == 1:
                            w -= a_minus * xpost[indices[q]]
                        else:
                            w -= a_minus * xpost[indices[q]] * w
                        weights[q] = w if w > 0.0 else 0.0
            for f in range(n_in_fired, nf):  # post pathway: potentiation by pre traces
                j = fired[f]
                xpost[j] += 1.0
                for t in range(post_ptr[j], post_ptr[j + 1]):
                    q = post_syn[t]
                    if plastic[q]:
                        w = weights[q]
                        if stdp == 1:
                            w += a_plus * xpre[syn_pre[q]]
                        else:
                            w += a_plus * xpre[syn_pre[q]] * (w_max - w)
                        weights[q] = w if w < w_max else w_max
        # 5. records -------------------------------------------------------
        ne = 0
        ni = 0
        for f in range(nf):
            i = fired[f]
            spk_step[nspk] = step
            spk_id[nspk] = i
            nspk += 1
            if i < n_exc:
                ne += 1
            elif i < n:
                ni += 1
        rate_buf[s, 0] = ne
        rate_buf[s, 1] = ni
        if mon_every > 0 and step % mon_every == 0 and nmon < mon_buf.shape[0]:
            mon_buf[nmon, 0] = step
            for m in range(n_mon):
                j = mon_idx[m]
                if j < 0:
                    mon_buf[nmon, 1 + m] = np.nan
                    mon_buf[nmon, 1 + n_mon + m] = np.nan
                    mon_buf[nmon, 1 + 2 * n_mon + m] = np.nan
                else:
                    mon_buf[nmon, 1 + m] = v[j]
                    mon_buf[nmon, 1 + n_mon + m] = se[j]
                    mon_buf[nmon, 1 + 2 * n_mon + m] = si[j]
            nmon += 1
        s += 1
        if status != 0:
            break
    counters[C_SPIKES] = nspk
    counters[C_MON] = nmon
    counters[C_EVENTS] = events
    counters[C_STATUS] = status
    counters[C_BAD_NEURON] = bad
    return s
