"""Compiled fast path of :mod:`engines.collab.validate`: a room's tables and the check of a whole update.

The room's tables (one set, read by both paths; only :func:`commit_records`
writes them) are plain numpy arrays:

* ``h_keys``/``h_vals``: an open-addressing hash of client id (its 64 bits as an
  int64) -> client index ``cidx`` (empty slot: value -1; load at most 1/2);
* ``cl[cidx] = (base, n, cap, end)``: the client's runs are ``r_start/r_tag/r_ref
  [base : base + n]`` (room for ``cap``), and ``end`` is its clock;
* ``r_start``/``r_tag``/``r_ref``: runs of item tags, each client's in one
  segment of these flat arrays; a full segment moves to the end with twice the
  room, and full arrays are copied into new ones twice the size of what is
  live, segment after segment (what moved segments left behind is dropped);
* ``d_keys``: the set of removed stroke maps (packed ids, empty slot -1);
* ``meta``: (clients, runs slots used, slots left behind, removed maps).

A run covers ``[r_start[i], r_start[i + 1])`` (the last one up to ``end``) with
one tag and ref, except a *block* (:data:`T_BLOCK`): the 13 items of a stroke
as a client writes it (the map, then its keys in :data:`STROKE_KEYS` order),
any number of them back to back. Clock ``c`` of a block starting at ``s`` is
the map when ``(c - s) % 13 == 0``, else key ``(c - s) % 13 - 1`` of the map at
``c - (c - s) % 13``. So a stroke usually costs no run at all.

:func:`check_update` does what ``UpdateValidator.check`` does (parse, keep
what is new, place, schema) for a whole update and says accept (0) or "ask the
Python path" (1): for anything it refuses or does not handle (gaps; text,
binary, JSON, embedded, formatting or sub-document content; named XML types),
and the Python path then accepts it or says why not. It never writes the
tables. Numbers are int64: a varint >= 2^63 is negative here, and every place
that bounds a number treats a negative one as too large. Nothing is read
outside the update's bytes: every length is checked against what remains
before it is used (numba does not check indices).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engines.painting.strokes import FORMAT_NAME, MIN_SIZE, PARAM_NAMES

# ------------------------------------------------------------------ constants
STROKE_KEYS = ("id", "author", *PARAM_NAMES, "opacity", "clock")
META_KEYS = ("format", "version", "background")
MAX_TEXT = 200

# content references (the low five bits of an item's info byte)
C_GC, C_DELETED, C_JSON, C_BINARY, C_STRING, C_EMBED, C_FORMAT, C_TYPE, C_ANY, C_DOC, C_SKIP = range(11)
TYPE_MAP = 1

# what the tables remember of an item (its "tag")
T_OTHER = 0  # GC'd, or content that no item can live under
T_STROKE = 1  # a stroke map in ``strokes``
T_ENTRY = 2  # another (deleted) entry of ``strokes``
T_BLOCK = 3  # (runs only) strokes written map-then-keys, see the module doc
T_META = 8  # + key index: a value of ``meta``
T_FIELD = 16  # + key index: a value in a stroke map (ref: the map)
BLOCK_LEN = 1 + len(STROKE_KEYS)

# meta slots of the tables
M_CLIENTS, M_USED, M_GARBAGE, M_DEAD = range(4)

ACCEPT = 0
FALL_BACK = 1

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_M53 = 2**53

# names the update may use as keys: STROKE_KEYS (0..11), META_KEYS (12..14), then the two top-level names
_NAMES = (*STROKE_KEYS, *META_KEYS, "strokes", "meta")
K_STROKES = len(STROKE_KEYS) + len(META_KEYS)
K_META = K_STROKES + 1
_NAME_BYTES = np.zeros((len(_NAMES), max(len(n) for n in _NAMES)), np.uint8)
for _i, _n in enumerate(_NAMES):
    _NAME_BYTES[_i, : len(_n)] = np.frombuffer(_n.encode(), np.uint8)
_FORMAT = np.frombuffer(FORMAT_NAME.encode(), np.uint8).copy()
#: the name of a given length and first byte (the names differ there), -1: none
_NAME_AT = np.full((_NAME_BYTES.shape[1] + 1, 256), -1, np.int64)
for _i, _n in enumerate(_NAMES):
    assert _NAME_AT[len(_n), _n.encode()[0]] < 0
    _NAME_AT[len(_n), _n.encode()[0]] = _i

# where a struct's parent is written
P_NONE, P_STROKES, P_META, P_KEY_OTHER, P_ID = range(5)
SUB_ABSENT = -2
SUB_OTHER = -1
# places (what _tag calls kind)
K_NOWHERE, K_ARRAY, K_MAPMETA, K_MAPSTROKE = range(4)

_FAIL9 = (-1, 0, 0, 0, 0, 0, 0, 0, 0)


def hash_slot(key: int, mask: int) -> int:
    """The first slot of ``key`` (an int64) in a table of ``mask + 1`` slots (the Python twin of _slot)."""
    return ((((key & 0xFFFFFFFFFFFFFFFF) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32) & mask


# ------------------------------------------------------------ hash tables
@njit(cache=True, nogil=True)
def _slot(key, mask):
    return np.int64(((np.uint64(key) * _GOLD) >> np.uint64(32)) & np.uint64(mask))


@njit(cache=True, nogil=True)
def map_get(keys, vals, key):
    """The value stored for ``key``, or -1."""
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    while True:
        v = vals[i]
        if v < 0:
            return -1
        if keys[i] == key:
            return v
        i = (i + 1) & mask


@njit(cache=True, nogil=True)
def _map_put(keys, vals, key, val):
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    while vals[i] >= 0:
        if keys[i] == key:
            vals[i] = val
            return
        i = (i + 1) & mask
    keys[i] = key
    vals[i] = val


@njit(cache=True, nogil=True)
def set_has(keys, key):
    """Whether ``key`` (>= 0) is in the set ``keys`` (empty slots -1)."""
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    while True:
        k = keys[i]
        if k == key:
            return True
        if k < 0:
            return False
        i = (i + 1) & mask


@njit(cache=True, nogil=True)
def _set_add(keys, key):
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    while True:
        k = keys[i]
        if k == key:
            return False
        if k < 0:
            keys[i] = key
            return True
        i = (i + 1) & mask


@njit(cache=True, nogil=True)
def _pow2_at_least(n):
    c = 16
    while c < n:
        c *= 2
    return c


@njit(cache=True, nogil=True)
def _copy_rows(src, dst, n):
    """dst[:n] = src[:n] for 2-D arrays (a loop: numba's slice assignment takes seconds to compile)."""
    for i in range(n):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


# ------------------------------------------------------------ the tables
@njit(cache=True, nogil=True)
def _reserve(meta, cl, r_start, r_tag, r_ref, need):
    """Room for ``need`` more run slots at the end of the flat arrays: when full, they are copied
    into new ones, each client's segment after the other (what full segments left behind is
    dropped), twice the size of what is live."""
    used = meta[M_USED]
    if used + need <= r_start.shape[0]:
        return r_start, r_tag, r_ref
    live = used - meta[M_GARBAGE]
    cap = max(2 * (live + need), 64)
    s2 = np.zeros(cap, np.int64)
    t2 = np.zeros(cap, np.int8)
    f2 = np.zeros(cap, np.int64)
    w = 0
    for c in range(meta[M_CLIENTS]):
        b = cl[c, 0]
        for k in range(cl[c, 1]):
            s2[w + k] = r_start[b + k]
            t2[w + k] = r_tag[b + k]
            f2[w + k] = r_ref[b + k]
        cl[c, 0] = w
        w += cl[c, 2]
    meta[M_USED] = w
    meta[M_GARBAGE] = 0
    return s2, t2, f2


@njit(cache=True, nogil=True)
def commit_records(meta, h_keys, h_vals, cl, r_start, r_tag, r_ref, d_keys, clients, recs, dead):
    """Record a checked update: new clients (in order), structs ``recs`` rows (client position in
    ``clients``, clock, length, tag, ref) in clock order per client, removed maps ``dead``.

    Returns the arrays (new ones where they had to grow)."""
    nc = clients.shape[0]
    cidx = np.empty(nc, np.int64)
    for j in range(nc):
        c = map_get(h_keys, h_vals, clients[j])
        if c < 0:
            c = meta[M_CLIENTS]
            if (c + 1) * 2 > h_keys.shape[0]:
                cap = h_keys.shape[0] * 2
                k2 = np.zeros(cap, np.int64)
                v2 = np.full(cap, -1, np.int64)
                for i in range(h_keys.shape[0]):
                    if h_vals[i] >= 0:
                        _map_put(k2, v2, h_keys[i], h_vals[i])
                h_keys, h_vals = k2, v2
            _map_put(h_keys, h_vals, clients[j], c)
            if c >= cl.shape[0]:
                cl2 = np.zeros((cl.shape[0] * 2, 4), np.int64)
                _copy_rows(cl, cl2, cl.shape[0])
                cl = cl2
            cl[c, 0] = 0
            cl[c, 1] = 0
            cl[c, 2] = 0
            cl[c, 3] = 0
            meta[M_CLIENTS] = c + 1
        cidx[j] = c
    for i in range(recs.shape[0]):
        c = cidx[recs[i, 0]]
        clock = recs[i, 1]
        length = recs[i, 2]
        tag = recs[i, 3]
        ref = recs[i, 4]
        n = cl[c, 1]
        if n > 0:
            j = cl[c, 0] + n - 1
            lt = r_tag[j]
            ext = False
            if lt == T_BLOCK:
                if length == 1:
                    o = (clock - r_start[j]) % BLOCK_LEN
                    if o == 0:
                        ext = tag == T_STROKE
                    else:
                        ext = tag == T_FIELD + o - 1 and ref == ((c << 32) | (clock - o))
            elif lt == tag and r_ref[j] == ref:
                ext = True
            if ext:
                cl[c, 3] = clock + length
                continue
        if n == cl[c, 2]:
            cap = max(4, 2 * n)
            r_start, r_tag, r_ref = _reserve(meta, cl, r_start, r_tag, r_ref, cap)
            b = cl[c, 0]
            nb = meta[M_USED]
            for k in range(n):
                r_start[nb + k] = r_start[b + k]
                r_tag[nb + k] = r_tag[b + k]
                r_ref[nb + k] = r_ref[b + k]
            meta[M_GARBAGE] += cl[c, 2]
            meta[M_USED] = nb + cap
            cl[c, 0] = nb
            cl[c, 2] = cap
        k = cl[c, 0] + n
        r_start[k] = clock
        if tag == T_STROKE:
            r_tag[k] = T_BLOCK
            r_ref[k] = 0
        else:
            r_tag[k] = tag
            r_ref[k] = ref
        cl[c, 1] = n + 1
        cl[c, 3] = clock + length
    for i in range(dead.shape[0]):
        if (meta[M_DEAD] + 1) * 2 > d_keys.shape[0]:
            cap = d_keys.shape[0] * 2
            d2 = np.full(cap, -1, np.int64)
            for k in range(d_keys.shape[0]):
                if d_keys[k] >= 0:
                    _set_add(d2, d_keys[k])
            d_keys = d2
        if _set_add(d_keys, dead[i]):
            meta[M_DEAD] += 1
    return h_keys, h_vals, cl, r_start, r_tag, r_ref, d_keys


@njit(cache=True, nogil=True)
def _run_index(cl, r_start, c, clock):
    """Index (in the flat arrays) of the run of client ``c`` holding ``clock`` (clock < end)."""
    lo = cl[c, 0]
    hi = lo + cl[c, 1]
    # last start <= clock
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if r_start[mid] <= clock:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _room_at(cl, r_start, r_tag, r_ref, c, clock):
    j = _run_index(cl, r_start, c, clock)
    t = r_tag[j]
    if t == T_BLOCK:
        o = (clock - r_start[j]) % BLOCK_LEN
        if o == 0:
            return T_STROKE, 0
        return T_FIELD + o - 1, (c << 32) | (clock - o)
    return np.int64(t), r_ref[j]


# ------------------------------------------------------------------ reading
@njit(cache=True, nogil=True)
def _uint(buf, pos):
    """lib0 varUint as int64 (values >= 2^63 come out negative); pos -1: bad."""
    n = buf.shape[0]
    out = np.uint64(0)
    shift = 0
    while True:
        if pos >= n:
            return 0, -1
        b = np.int64(buf[pos])
        pos += 1
        if shift == 63 and (b & 0x7F) > 1:
            return 0, -1  # above 64 bits
        out |= np.uint64(b & 0x7F) << np.uint64(shift)
        if b < 0x80:
            return np.int64(out), pos
        shift += 7
        if shift > 63:
            return 0, -1


@njit(cache=True, nogil=True)
def utf8_chars(buf, a, b):
    """Code points in ``buf[a:b]`` when it is UTF-8 as Python's strict decoder takes it, else -1."""
    i = a
    count = 0
    while i < b:
        c = buf[i]
        if c < 0x80:
            i += 1
        elif c < 0xC2:
            return -1
        elif c < 0xE0:
            if i + 1 >= b or (buf[i + 1] & 0xC0) != 0x80:
                return -1
            i += 2
        elif c < 0xF0:
            if i + 2 >= b:
                return -1
            c1 = buf[i + 1]
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
            if c1 < lo or c1 > hi or (buf[i + 2] & 0xC0) != 0x80:
                return -1
            i += 3
        elif c < 0xF5:
            if i + 3 >= b:
                return -1
            c1 = buf[i + 1]
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
            if c1 < lo or c1 > hi or (buf[i + 2] & 0xC0) != 0x80 or (buf[i + 3] & 0xC0) != 0x80:
                return -1
            i += 4
        else:
            return -1
        count += 1
    return count


@njit(cache=True, nogil=True)
def _span(buf, pos):
    """A length-prefixed byte string: (start, end); end -1: bad."""
    k, pos = _uint(buf, pos)
    if pos < 0 or k < 0 or k > buf.shape[0] - pos:
        return 0, -1
    return pos, pos + k


@njit(cache=True, nogil=True)
def _string(buf, pos):
    a, b = _span(buf, pos)
    if b < 0 or utf8_chars(buf, a, b) < 0:
        return -1
    return b


@njit(cache=True, nogil=True)
def _key_code(buf, a, b):
    """Index of the name ``buf[a:b]`` in _NAMES, or -1."""
    L = b - a
    if L < 1 or L >= _NAME_AT.shape[0]:
        return -1
    i = _NAME_AT[L, buf[a]]
    if i < 0:
        return -1
    for k in range(1, L):
        if buf[a + k] != _NAME_BYTES[i, k]:
            return -1
    return i


@njit(cache=True, nogil=True)
def _read_int(buf, pos):
    """lib0 varInt: (negative, magnitude, big, pos): big when the magnitude is 2^53 or more."""
    n = buf.shape[0]
    if pos >= n:
        return False, 0, False, -1
    b = np.int64(buf[pos])
    pos += 1
    neg = (b & 0x40) != 0
    mag = b & 0x3F
    big = False
    shift = 6
    while b & 0x80:
        if pos >= n:
            return False, 0, False, -1
        b = np.int64(buf[pos])
        pos += 1
        bits = b & 0x7F
        if shift >= 53:
            if bits:
                big = True
        else:
            mag |= bits << shift
        shift += 7
        if shift > 70:
            return False, 0, False, -1
    if mag >= _M53:
        big = True
    return neg, mag, big, pos


@njit(cache=True, nogil=True)
def _skip_any(buf, pos, max_depth, rem, isobj):
    """Past one lib0 Any value, checked as ``_Reader.any_`` checks it; -1: bad."""
    n = buf.shape[0]
    depth = 0
    while True:
        if pos >= n:
            return -1
        tag = buf[pos]
        pos += 1
        if tag == 119:
            pos = _string(buf, pos)
        elif tag == 125:
            _, _, _, pos = _read_int(buf, pos)
        elif tag == 123 or tag == 122:
            pos = pos + 8 if pos + 8 <= n else -1
        elif tag == 124:
            pos = pos + 4 if pos + 4 <= n else -1
        elif tag == 120 or tag == 121 or tag == 126 or tag == 127:
            pass
        elif tag == 116:
            _, pos = _span(buf, pos)
        elif tag == 117 or tag == 118:
            if depth >= max_depth:
                return -1
            k, pos = _uint(buf, pos)
            if pos < 0:
                return -1
            m = 1 if tag == 117 else 2
            if k < 0 or k > (n - pos) // m:
                return -1
            if k > 0:
                rem[depth] = k
                isobj[depth] = tag == 118
                depth += 1
                if tag == 118:
                    pos = _string(buf, pos)
                    if pos < 0:
                        return -1
                continue
        else:
            return -1
        if pos < 0:
            return -1
        # a value is complete: count it in its containers
        while True:
            if depth == 0:
                return pos
            rem[depth - 1] -= 1
            if rem[depth - 1] > 0:
                if isobj[depth - 1]:
                    pos = _string(buf, pos)
                    if pos < 0:
                        return -1
                break
            depth -= 1


@njit(cache=True, nogil=True)
def _number(buf, pos):
    """A number value at ``pos`` (its tag byte first): (kind, int value, float value); kind 0: not a
    number, 1: an int, 2: a float, 3: an int of magnitude 2^53 or more (too large for any key)."""
    tag = buf[pos]
    pos += 1
    if tag == 125:
        neg, mag, big, _ = _read_int(buf, pos)
        if big:
            return 3, np.int64(0), 0.0
        return 1, (-mag if neg else mag), 0.0
    if tag == 122 or tag == 123:
        u = np.uint64(0)
        for k in range(8):
            u = (u << np.uint64(8)) | np.uint64(buf[pos + k])
        if tag == 122:
            return 1, np.int64(u), 0.0
        return 2, np.int64(0), _ieee(u, 11, 52)
    if tag == 124:
        u = np.uint64(0)
        for k in range(4):
            u = (u << np.uint64(8)) | np.uint64(buf[pos + k])
        return 2, np.int64(0), _ieee(u, 8, 23)
    return 0, np.int64(0), 0.0


@njit(cache=True, nogil=True)
def _ieee(u, ebits, mbits):
    """The IEEE 754 number with these bits (exponent and mantissa widths), exactly."""
    m = np.int64(u & np.uint64((1 << mbits) - 1))
    e = np.int64((u >> np.uint64(mbits)) & np.uint64((1 << ebits) - 1))
    neg = (u >> np.uint64(ebits + mbits)) & np.uint64(1)
    bias = (1 << (ebits - 1)) - 1
    if e == (1 << ebits) - 1:
        v = np.inf if m == 0 else np.nan
    elif e == 0:
        v = math.ldexp(float(m), 1 - bias - mbits)
    else:
        v = math.ldexp(float(m | (1 << mbits)), e - bias - mbits)
    return -v if neg else v


@njit(cache=True, nogil=True)
def _unit_ok(kind, iv, fv):
    if kind == 1:
        return 0 <= iv <= 1
    if kind == 2:
        return 0.0 <= fv <= 1.0
    return False


@njit(cache=True, nogil=True)
def _value_ok(buf, pos, place, key):
    """Whether the value at ``pos`` is valid for key ``key`` of a stroke (place K_MAPSTROKE) or of
    meta; (ok, start, end of the text for id and author)."""
    if place == K_MAPSTROKE:
        if key <= 1:  # id, author
            if buf[pos] != 119:
                return False, 0, 0
            a, b = _span(buf, pos + 1)
            chars = utf8_chars(buf, a, b)
            return 1 <= chars <= MAX_TEXT, a, b
        kind, iv, fv = _number(buf, pos)
        if key == len(STROKE_KEYS) - 1:  # clock
            if kind == 1:
                return 0 <= iv < _M53, 0, 0
            if kind == 2:
                return np.isfinite(fv) and fv == np.floor(fv) and 0.0 <= fv < 2.0**53, 0, 0
            return False, 0, 0
        if not _unit_ok(kind, iv, fv):
            return False, 0, 0
        if key == 4 or key == 5:  # w, h
            if kind == 1:
                return iv >= MIN_SIZE, 0, 0
            return fv >= MIN_SIZE, 0, 0
        return True, 0, 0
    # meta
    if key == K_STROKES - 3:  # format
        if buf[pos] != 119:
            return False, 0, 0
        a, b = _span(buf, pos + 1)
        if b - a != _FORMAT.shape[0]:
            return False, 0, 0
        for k in range(b - a):
            if buf[a + k] != _FORMAT[k]:
                return False, 0, 0
        return True, 0, 0
    if key == K_STROKES - 2:  # version
        kind, iv, fv = _number(buf, pos)
        return (kind == 1 and iv == 1) or (kind == 2 and fv == 1.0), 0, 0
    # background: [r, g, b]
    if buf[pos] != 117:
        return False, 0, 0
    k, p = _uint(buf, pos + 1)
    if k != 3:
        return False, 0, 0
    for _ in range(3):
        kind, iv, fv = _number(buf, p)
        if not _unit_ok(kind, iv, fv):
            return False, 0, 0
        t = buf[p]
        if t == 125:
            _, _, _, p = _read_int(buf, p + 1)
        elif t == 124:
            p += 5
        else:
            p += 9
    return True, 0, 0


@njit(cache=True, nogil=True)
def _header(buf, pos, info):
    """An item's origin, right and parent: (pos, oc, ok, rc, rk, pkind, pc, pk, sub); pos -1: bad."""
    oc = ok = rc = rk = pc = pk = np.int64(0)
    pkind = P_NONE
    sub = SUB_ABSENT
    if info & 0x80:
        oc, pos = _uint(buf, pos)
        if pos < 0:
            return _FAIL9
        ok, pos = _uint(buf, pos)
        if pos < 0:
            return _FAIL9
    if info & 0x40:
        rc, pos = _uint(buf, pos)
        if pos < 0:
            return _FAIL9
        rk, pos = _uint(buf, pos)
        if pos < 0:
            return _FAIL9
    if not info & 0xC0:
        flag, pos = _uint(buf, pos)
        if pos < 0 or flag < 0 or flag > 1:
            return _FAIL9
        if flag == 1:
            a, pos = _span(buf, pos)
            if pos < 0:
                return _FAIL9
            code = _key_code(buf, a, pos)
            if code == K_STROKES:
                pkind = P_STROKES
            elif code == K_META:
                pkind = P_META
            else:
                if code < 0 and utf8_chars(buf, a, pos) < 0:
                    return _FAIL9
                pkind = P_KEY_OTHER
        else:
            pc, pos = _uint(buf, pos)
            if pos < 0:
                return _FAIL9
            pk, pos = _uint(buf, pos)
            if pos < 0:
                return _FAIL9
            pkind = P_ID
        if info & 0x20:
            a, pos = _span(buf, pos)
            if pos < 0:
                return _FAIL9
            code = _key_code(buf, a, pos)
            if code < 0:
                if utf8_chars(buf, a, pos) < 0:
                    return _FAIL9
                sub = SUB_OTHER
            elif code < K_STROKES:
                sub = code
            else:
                sub = SUB_OTHER
    return pos, oc, ok, rc, rk, pkind, pc, pk, sub


# ------------------------------------------------------------- the check
# columns of S (int64, one row per struct of the update) and B (int8)
S_CLOCK, S_LEN, S_REF, S_POS, S_CI = range(5)
B_CONTENT, B_STATE, B_TAG, B_ONSTACK = range(4)
ST_DROP, ST_RESENT, ST_NEW = range(3)
# columns of U (int64, one row per client of the update that writes structs)
U_KEY, U_FIRST, U_END, U_NF, U_CIDX, U_ROOM, U_HAVE, U_CUT = range(8)
# columns of D (delete ranges)
D_CLIENT, D_CLOCK, D_LEN = range(3)


@njit(cache=True, nogil=True)
def _grow_rows(M, n):
    """A copy of M with twice the rows (the first n copied)."""
    M2 = np.zeros((M.shape[0] * 2, M.shape[1]), M.dtype)
    _copy_rows(M, M2, n)
    return M2


@njit(cache=True, nogil=True)
def _sort_rows(M, n, c0, c1):
    """The order of rows M[:n] by column c0, then c1 (a merge sort: numba's sorts take seconds to compile)."""
    idx = np.arange(n)
    tmp = np.empty(n, np.int64)
    w = 1
    while w < n:
        for lo in range(0, n, 2 * w):
            mid = min(lo + w, n)
            hi = min(lo + 2 * w, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                x = idx[i]
                y = idx[j]
                if M[y, c0] < M[x, c0] or (M[y, c0] == M[x, c0] and M[y, c1] < M[x, c1]):
                    tmp[k] = y
                    j += 1
                else:
                    tmp[k] = x
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = idx[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = idx[j]
                j += 1
                k += 1
        idx, tmp = tmp, idx
        w *= 2
    return idx


@njit(cache=True, nogil=True)
def _parse(buf, max_depth, max_clock):
    """Read the structs and the delete set, checked as ``_read_structs``/``_read_deletes`` check them.

    Returns (ok, S, B, ns, U, nu, uh_keys, uh_vals, D, nd); ``uh`` maps a client of the update to
    its row of U."""
    n = buf.shape[0]
    S = np.zeros((max(64, min(n // 16, 1 << 20)), 5), np.int64)
    B = np.zeros((S.shape[0], 4), np.int8)
    U = np.zeros((1, 8), np.int64)
    D = np.zeros((16, 3), np.int64)
    uh_keys = np.zeros(16, np.int64)
    uh_vals = np.full(16, -1, np.int64)
    rem = np.zeros(max_depth + 1, np.int64)
    isobj = np.zeros(max_depth + 1, np.bool_)
    ns = np.int64(0)
    nu = np.int64(0)
    nd = np.int64(0)
    bad = (False, S, B, ns, U, nu, uh_keys, uh_vals, D, nd)
    nuc, pos = _uint(buf, ns)
    if pos < 0 or nuc < 0 or nuc > (n - pos) // 3:
        return bad
    uh_keys = np.zeros(_pow2_at_least(2 * nuc + 2), np.int64)
    uh_vals = np.full(uh_keys.shape[0], -1, np.int64)
    U = np.zeros((nuc, 8), np.int64)
    for _ in range(nuc):
        k, pos = _uint(buf, pos)
        if pos < 0 or k < 0 or k > (n - pos) // 2:
            return bad
        client, pos = _uint(buf, pos)
        if pos < 0:
            return bad
        clock, pos = _uint(buf, pos)
        if pos < 0:
            return bad
        if map_get(uh_keys, uh_vals, client) >= 0:
            return bad  # written twice
        first = ns
        for _ in range(k):
            if pos >= n:
                return bad
            p0 = pos
            info = np.int64(buf[pos])
            pos += 1
            ref = info & 0x1F
            if ref == C_GC:
                length, pos = _uint(buf, pos)
                if pos < 0:
                    return bad
            elif ref == C_DELETED or ref == C_ANY or ref == C_TYPE:
                pos = _header(buf, pos, info)[0]
                if pos < 0:
                    return bad
                if ref == C_DELETED:
                    length, pos = _uint(buf, pos)
                    if pos < 0:
                        return bad
                elif ref == C_ANY:
                    length, pos = _uint(buf, pos)
                    if pos < 0 or length < 0 or length > n - pos:
                        return bad
                    for _ in range(length):
                        pos = _skip_any(buf, pos, max_depth, rem, isobj)
                        if pos < 0:
                            return bad
                else:
                    tr, pos = _uint(buf, pos)
                    if pos < 0 or tr < 0 or tr > 6 or tr == 3 or tr == 5:
                        return bad  # unknown, or a named XML type (never accepted as new)
                    length = np.int64(1)
            else:
                return bad  # gaps, rare content, unknown content: the Python path says
            if length < 1 or clock < 0 or clock > max_clock or length > max_clock - clock:
                return bad
            if ns == S.shape[0]:
                S = _grow_rows(S, ns)
                B = _grow_rows(B, ns)
            S[ns, S_CLOCK] = clock
            S[ns, S_LEN] = length
            S[ns, S_POS] = p0
            S[ns, S_CI] = nu
            B[ns, B_CONTENT] = ref
            B[ns, B_TAG] = -1
            ns += 1
            clock += length
        if ns > first:
            _map_put(uh_keys, uh_vals, client, nu)
            U[nu, U_KEY] = client
            U[nu, U_FIRST] = first
            U[nu, U_END] = ns
            nu += 1
    ndc, pos = _uint(buf, pos)
    if pos < 0 or ndc < 0 or ndc > (n - pos) // 2:
        return bad
    for _ in range(ndc):
        client, pos = _uint(buf, pos)
        if pos < 0:
            return bad
        k, pos = _uint(buf, pos)
        if pos < 0 or k < 0 or k > (n - pos) // 2:
            return bad
        for _ in range(k):
            clock, pos = _uint(buf, pos)
            if pos < 0:
                return bad
            length, pos = _uint(buf, pos)
            if pos < 0 or length < 1 or clock < 0 or clock > max_clock - length:
                return bad
            if nd == D.shape[0]:
                D = _grow_rows(D, nd)
            D[nd, D_CLIENT] = client
            D[nd, D_CLOCK] = clock
            D[nd, D_LEN] = length
            nd += 1
    if pos != n:
        return bad
    return True, S, B, ns, U, nu, uh_keys, uh_vals, D, nd


@njit(cache=True, nogil=True)
def _keep_new(S, B, U, nu, h_keys, h_vals, cl, n_known, max_clients):
    """Mark what the room has (dropped, or a value sent again) and cut the known head of a struct.

    Returns (ok, order): ``order`` lists the rows of U with new structs, in update order."""
    order = np.zeros(nu, np.int64)
    n_news = 0
    n_new_clients = 0
    for ci in range(nu):
        c = map_get(h_keys, h_vals, U[ci, U_KEY])
        U[ci, U_ROOM] = c
        have = cl[c, 3] if c >= 0 else 0
        U[ci, U_HAVE] = have
        if S[U[ci, U_FIRST], S_CLOCK] > have:
            return False, order  # depends on changes the room does not have
        nf = U[ci, U_END]
        for s in range(U[ci, U_FIRST], U[ci, U_END]):
            if S[s, S_CLOCK] + S[s, S_LEN] <= have:
                B[s, B_STATE] = ST_RESENT if B[s, B_CONTENT] == C_ANY else ST_DROP
                continue
            if S[s, S_CLOCK] < have:  # the known head of a run: keep its new tail
                U[ci, U_CUT] = have - S[s, S_CLOCK]
                S[s, S_LEN] -= U[ci, U_CUT]
                S[s, S_CLOCK] = have
            B[s, B_STATE] = ST_NEW
            if nf == U[ci, U_END]:
                nf = s
        U[ci, U_NF] = nf
        if nf < U[ci, U_END]:
            order[n_news] = ci
            n_news += 1
            if c >= 0:
                U[ci, U_CIDX] = c
            else:  # the index commit will give it
                U[ci, U_CIDX] = n_known + n_new_clients
                n_new_clients += 1
    if n_known + n_news > max_clients:
        return False, order
    return True, order[:n_news]


@njit(cache=True, nogil=True)
def _new_at(S, U, uh_keys, uh_vals, client, clock, hint):
    """Row of the new struct of ``client`` holding ``clock``, or -1 (``hint``: the row of U to try first)."""
    if clock < 0:
        return -1
    ci = hint if U[hint, U_KEY] == client else map_get(uh_keys, uh_vals, client)
    if ci < 0:
        return -1
    lo = U[ci, U_NF]
    hi = U[ci, U_END]
    if lo >= hi or S[lo, S_CLOCK] > clock:
        return -1
    # structs of length 1 (the usual): the row follows from the clock
    d = clock - S[lo, S_CLOCK]
    if d < hi - lo and S[lo + d, S_CLOCK] == clock:
        return lo + d
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if S[mid, S_CLOCK] <= clock:
            lo = mid
        else:
            hi = mid
    if clock < S[lo, S_CLOCK] + S[lo, S_LEN]:
        return lo
    return -1


@njit(cache=True, nogil=True)
def _room_known(h_keys, h_vals, cl, r_start, r_tag, r_ref, client, clock):
    """(ok, tag, ref) of an item the room has; not ok: it does not have it."""
    c = map_get(h_keys, h_vals, client)
    if c < 0 or clock < 0 or clock >= cl[c, 3]:
        return False, np.int64(0), np.int64(0)
    tag, ref = _room_at(cl, r_start, r_tag, r_ref, c, clock)
    return True, tag, ref


@njit(cache=True, nogil=True)
def _parent_of(tag, ref):
    """(place, key, ref) of the items next to an item with this tag."""
    if tag == T_STROKE or tag == T_ENTRY:
        return K_ARRAY, np.int64(0), np.int64(0)
    if T_META <= tag < T_FIELD:
        return K_MAPMETA, np.int64(len(STROKE_KEYS) + tag - T_META), np.int64(0)
    if tag >= T_FIELD:
        return K_MAPSTROKE, np.int64(tag - T_FIELD), ref
    return K_NOWHERE, np.int64(0), np.int64(0)


@njit(cache=True, nogil=True)
def _links(buf, S, U, s):
    """An item's neighbours and parent as placing sees them (the cut head of a run is placed
    after the room's last item of its client): (has_o, oc, ok, has_r, rc, rk, pkind, pc, pk, sub, hp)."""
    p = S[s, S_POS]
    info = np.int64(buf[p])
    hp, oc, ok, rc, rk, pkind, pc, pk, sub = _header(buf, p + 1, info)
    has_o = (info & 0x80) != 0
    ci = S[s, S_CI]
    if s == U[ci, U_NF] and U[ci, U_CUT] > 0:
        has_o = True
        oc = U[ci, U_KEY]
        ok = U[ci, U_HAVE] - 1
    return has_o, oc, ok, (info & 0x40) != 0, rc, rk, pkind, pc, pk, sub, hp


TAGGED = -1
REFUSED = -2


@njit(cache=True, nogil=True)
def _tag_one(buf, S, B, U, uh_keys, uh_vals, h_keys, h_vals, cl, r_start, r_tag, r_ref, s, rem, isobj):
    """Tag struct ``s`` as ``UpdateValidator._tag`` does: TAGGED, REFUSED, or the row of a new
    struct it refers to that is not placed yet (to place first)."""
    content = np.int64(B[s, B_CONTENT])
    if content == C_GC:
        B[s, B_TAG] = T_OTHER
        return TAGGED
    # its links, as _links gives them (written out here: a call costs a reference count per array)
    ci = S[s, S_CI]
    p = S[s, S_POS]
    info = np.int64(buf[p])
    hp, oc, ok, rc, rk, pkind, pc, pk, sub = _header(buf, p + 1, info)
    has_o = (info & 0x80) != 0
    has_r = (info & 0x40) != 0
    if s == U[ci, U_NF] and U[ci, U_CUT] > 0:
        has_o = True
        oc = U[ci, U_KEY]
        ok = U[ci, U_HAVE] - 1
    # what it refers to (new structs: placed first)
    t_o = t_r = t_p = -1
    if has_o or has_r:
        if has_o:
            t_o = _new_at(S, U, uh_keys, uh_vals, oc, ok, ci)
            if t_o >= 0 and B[t_o, B_TAG] < 0:
                return t_o
        if has_r:
            t_r = _new_at(S, U, uh_keys, uh_vals, rc, rk, ci)
            if t_r >= 0 and B[t_r, B_TAG] < 0:
                return t_r
    elif pkind == P_ID:
        t_p = _new_at(S, U, uh_keys, uh_vals, pc, pk, ci)
        if t_p >= 0 and B[t_p, B_TAG] < 0:
            return t_p
    # where does it live?
    place = K_NOWHERE
    key = np.int64(0)
    pref = np.int64(0)
    if has_o or has_r:
        nplaces = 0
        for side in range(2):
            if side == 0:
                if not has_o:
                    continue
                xc, xk, t = oc, ok, t_o
            else:
                if not has_r:
                    continue
                xc, xk, t = rc, rk, t_r
            if t >= 0:
                xtag, xref = np.int64(B[t, B_TAG]), S[t, S_REF]
            else:
                good, xtag, xref = _room_known(h_keys, h_vals, cl, r_start, r_tag, r_ref, xc, xk)
                if not good:
                    return REFUSED
            pl, pkey, pr = _parent_of(xtag, xref)
            if nplaces == 0:
                place, key, pref = pl, pkey, pr
            elif pl != place or pkey != key or pr != pref:
                return REFUSED  # neighbours in different places
            nplaces += 1
    elif pkind == P_STROKES and sub == SUB_ABSENT:
        place = K_ARRAY
    elif pkind == P_META and sub != SUB_ABSENT:
        place = K_MAPMETA
        key = sub
    elif pkind != P_ID:
        return REFUSED  # another top-level name, or strokes/meta used as the other type
    else:
        if t_p >= 0:
            ptag = np.int64(B[t_p, B_TAG])
        else:
            good, ptag, _ = _room_known(h_keys, h_vals, cl, r_start, r_tag, r_ref, pc, pk)
            if not good:
                return REFUSED
        if ptag != T_STROKE or sub == SUB_ABSENT:
            if ptag == T_OTHER and (content == C_ANY or content == C_DELETED):
                B[s, B_TAG] = T_OTHER  # a value under a collected stroke: yrs drops it
                return TAGGED
            return REFUSED
        place = K_MAPSTROKE
        key = sub
        if t_p >= 0:  # a map of this update: its client's index, in the room or to be
            c = U[S[t_p, S_CI], U_CIDX]
        else:
            c = map_get(h_keys, h_vals, pc)
        pref = (c << 32) | pk
    if place == K_NOWHERE:  # next to a collected item: yrs drops it
        if content != C_ANY and content != C_DELETED:
            return REFUSED
        B[s, B_TAG] = T_OTHER
        return TAGGED
    if place == K_ARRAY:
        if content == C_TYPE and _uint(buf, hp)[0] == TYPE_MAP:
            B[s, B_TAG] = T_STROKE
            return TAGGED
        if content == C_DELETED:
            B[s, B_TAG] = T_ENTRY
            return TAGGED
        return REFUSED
    nsk = len(STROKE_KEYS)
    if place == K_MAPMETA:
        if key < nsk or key >= K_STROKES:
            return REFUSED
    elif key < 0 or key >= nsk:
        return REFUSED
    if content == C_ANY:
        cut = U[ci, U_CUT] if s == U[ci, U_NF] else 0
        kvals, p = _uint(buf, hp)
        if kvals - cut != 1:
            return REFUSED
        for _ in range(cut):
            p = _skip_any(buf, p, np.int64(rem.shape[0] - 1), rem, isobj)
        if not _value_ok(buf, p, place, key)[0]:
            return REFUSED
    elif content != C_DELETED:
        return REFUSED
    if place == K_MAPMETA:
        B[s, B_TAG] = T_META + key - nsk
    else:
        B[s, B_TAG] = T_FIELD + key
        S[s, S_REF] = pref
    return TAGGED


@njit(cache=True, nogil=True)
def _place(buf, S, B, U, order, uh_keys, uh_vals, h_keys, h_vals, cl, r_start, r_tag, r_ref, max_depth):
    """Tag every new struct, each after what it refers to (a stack, no recursion); False: refused."""
    rem = np.zeros(max_depth + 1, np.int64)
    isobj = np.zeros(max_depth + 1, np.bool_)
    stack = np.zeros(16, np.int64)
    for ci0 in order:
        for s0 in range(U[ci0, U_NF], U[ci0, U_END]):
            if B[s0, B_TAG] >= 0:
                continue
            sp = 1
            stack[0] = s0
            B[s0, B_ONSTACK] = 1
            while sp > 0:
                s = stack[sp - 1]
                t = _tag_one(
                    buf,
                    S,
                    B,
                    U,
                    uh_keys,
                    uh_vals,
                    h_keys,
                    h_vals,
                    cl,
                    r_start,
                    r_tag,
                    r_ref,
                    s,
                    rem,
                    isobj,
                )
                if t == REFUSED:
                    return False
                if t == TAGGED:
                    B[s, B_ONSTACK] = 0
                    sp -= 1
                    continue
                if B[t, B_ONSTACK]:
                    return False  # refers to itself
                stack, sp = _append(stack, sp, t)
                B[t, B_ONSTACK] = 1
    return True


@njit(cache=True, nogil=True)
def _append(out, n, v):
    """out[n] = v, growing ``out`` when full; returns (out, n + 1)."""
    if n == out.shape[0]:
        o2 = np.zeros(2 * n + 16, np.int64)
        for i in range(n):
            o2[i] = out[i]
        out = o2
    out[n] = v
    return out, n + 1


@njit(cache=True, nogil=True)
def _set_add_grow(keys, count, key):
    """Add ``key`` to a set that grows (returns the set and its size)."""
    if (count + 1) * 2 > keys.shape[0]:
        k2 = np.full(keys.shape[0] * 2, -1, np.int64)
        for i in range(keys.shape[0]):
            if keys[i] >= 0:
                _set_add(k2, keys[i])
        keys = k2
    if _set_add(keys, key):
        count += 1
    return keys, count


@njit(cache=True, nogil=True)
def _merge_deletes(D, nd):
    """The delete ranges merged per client: (G, M), G rows (client, first, end) sorted by client,
    M[first:end] its ranges (a, z), sorted and disjoint."""
    order = _sort_rows(D, nd, D_CLIENT, D_CLOCK)
    M = np.zeros((nd, 2), np.int64)
    G = np.zeros((nd, 3), np.int64)
    nm = 0
    ng = 0
    for i in order:
        client = D[i, D_CLIENT]
        a = D[i, D_CLOCK]
        z = a + D[i, D_LEN]
        if ng > 0 and G[ng - 1, 0] == client:
            if a <= M[nm - 1, 1]:
                if z > M[nm - 1, 1]:
                    M[nm - 1, 1] = z
                continue
        else:
            G[ng, 0] = client
            G[ng, 1] = nm
            ng += 1
        M[nm, 0] = a
        M[nm, 1] = z
        nm += 1
        G[ng - 1, 2] = nm
    return G[:ng], M[:nm]


@njit(cache=True, nogil=True)
def _group(G, client):
    """Row of ``client`` in G (sorted by client), or -1."""
    lo = 0
    hi = G.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if G[mid, 0] < client:
            lo = mid + 1
        else:
            hi = mid
    if lo < G.shape[0] and G[lo, 0] == client:
        return lo
    return -1


@njit(cache=True, nogil=True)
def _in_ranges(M, lo, hi, clock):
    """Whether ``clock`` is in one of the sorted, disjoint ranges M[lo:hi]."""
    if lo >= hi or M[lo, 0] > clock:
        return False
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if M[mid, 0] <= clock:
            lo = mid
        else:
            hi = mid
    return clock < M[lo, 1]


@njit(cache=True, nogil=True)
def _news_first(S, lo, hi, a):
    """First new struct in rows [lo, hi) that ends after clock ``a``."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if S[mid, S_CLOCK] + S[mid, S_LEN] <= a:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _delete_ok(tag, ref, chg_keys, d_keys, metas, dead_keys):
    """Whether an item with this tag may be deleted: a stroke's value goes only when its stroke goes
    (here or before) or a new value replaces it; a meta value may go."""
    if tag >= T_FIELD:
        return (
            set_has(dead_keys, ref) or set_has(d_keys, ref) or set_has(chg_keys, (ref << 4) | (tag - T_FIELD))
        )
    return True  # meta values may go: each key is optional (no background: white)


@njit(cache=True, nogil=True)
def _note_values(cl, r_start, r_tag, r_ref, c, clock, length, chg_keys, nchg, metas):
    """Values [clock, clock + length) of room client ``c`` sent again: each stroke value goes into
    ``chg_keys``, each meta value into ``metas``. Returns (chg_keys, nchg, metas)."""
    end = clock + length
    j = _run_index(cl, r_start, c, clock)
    last = cl[c, 0] + cl[c, 1]
    while j < last and r_start[j] < end:
        lo = max(r_start[j], clock)
        hi = min(r_start[j + 1] if j + 1 < last else cl[c, 3], end)
        t = np.int64(r_tag[j])
        if t == T_BLOCK:
            for k in range(lo, hi):
                o = (k - r_start[j]) % BLOCK_LEN
                if o > 0:
                    chg_keys, nchg = _set_add_grow(chg_keys, nchg, (((c << 32) | (k - o)) << 4) | (o - 1))
        elif t >= T_FIELD:
            chg_keys, nchg = _set_add_grow(chg_keys, nchg, (r_ref[j] << 4) | (t - T_FIELD))
        elif t >= T_META:
            metas |= 1 << (t - T_META)
        j += 1
    return chg_keys, nchg, metas


@njit(cache=True, nogil=True)
def _room_deletes_ok(cl, r_start, r_tag, r_ref, c, clock, length, chg_keys, d_keys, metas, dead_keys):
    """Whether the room's items [clock, clock + length) of client ``c`` may be deleted (:func:`_delete_ok`)."""
    end = clock + length
    j = _run_index(cl, r_start, c, clock)
    last = cl[c, 0] + cl[c, 1]
    while j < last and r_start[j] < end:
        lo = max(r_start[j], clock)
        hi = min(r_start[j + 1] if j + 1 < last else cl[c, 3], end)
        t = np.int64(r_tag[j])
        if t == T_BLOCK:
            for k in range(lo, hi):
                o = (k - r_start[j]) % BLOCK_LEN
                if o > 0 and not _delete_ok(
                    T_FIELD + o - 1, (c << 32) | (k - o), chg_keys, d_keys, metas, dead_keys
                ):
                    return False
        elif not _delete_ok(t, r_ref[j], chg_keys, d_keys, metas, dead_keys):
            return False
        j += 1
    return True


@njit(cache=True, nogil=True)
def _collect_strokes(cl, r_start, r_tag, S, B, U, c, ci, own, a, z, out, n):
    """Append the packed ids of the stroke maps among clocks [a, z) of a client (room index ``c``,
    row ``ci`` of U; ``own``: its index once committed) to ``out[:n]``; returns (out, n)."""
    if c >= 0 and a < cl[c, 3]:
        top = min(z, cl[c, 3])
        j = _run_index(cl, r_start, c, a)
        last = cl[c, 0] + cl[c, 1]
        while j < last and r_start[j] < top:
            lo = max(r_start[j], a)
            hi = min(r_start[j + 1] if j + 1 < last else cl[c, 3], top)
            if r_tag[j] == T_BLOCK:
                o = (lo - r_start[j]) % BLOCK_LEN
                k = lo if o == 0 else lo + BLOCK_LEN - o
                while k < hi:
                    out, n = _append(out, n, (own << 32) | k)
                    k += BLOCK_LEN
            j += 1
    if ci >= 0:
        s = _news_first(S, U[ci, U_NF], U[ci, U_END], a)
        while s < U[ci, U_END] and S[s, S_CLOCK] < z:
            if B[s, B_TAG] == T_STROKE:
                out, n = _append(out, n, (own << 32) | S[s, S_CLOCK])
            s += 1
    return out, n


@njit(cache=True, nogil=True)
def _schema(
    buf,
    S,
    B,
    U,
    nu,
    order,
    uh_keys,
    uh_vals,
    D,
    nd,
    h_keys,
    h_vals,
    cl,
    r_start,
    r_tag,
    r_ref,
    d_keys,
    max_depth,
):
    """The checks of ``UpdateValidator._check_schema``: (ok, dead, ids), ``dead`` the stroke maps
    removed (sorted), ``ids`` the byte spans (start, end) of the new strokes' ids."""
    no = (False, np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    # deletes reach only what the room or the update has
    for i in range(nd):
        client = D[i, D_CLIENT]
        c = map_get(h_keys, h_vals, client)
        end = cl[c, 3] if c >= 0 else 0
        ci = map_get(uh_keys, uh_vals, client)
        if ci >= 0 and U[ci, U_NF] < U[ci, U_END]:
            end = S[U[ci, U_END] - 1, S_CLOCK] + S[U[ci, U_END] - 1, S_LEN]
        if D[i, D_CLOCK] + D[i, D_LEN] > end:
            return no
    G, M = _merge_deletes(D, nd)
    ng = G.shape[0]
    # new stroke maps, in update order
    n_new = 0
    for ci in order:
        n_new += U[ci, U_END] - U[ci, U_NF]
    seen_keys = np.zeros(_pow2_at_least(2 * n_new + 2), np.int64)
    seen_vals = np.full(seen_keys.shape[0], -1, np.int64)
    seen = np.zeros((n_new, 3), np.int64)  # (pack, keys set, row of the id value)
    nseen = 0
    for ci in order:
        for s in range(U[ci, U_NF], U[ci, U_END]):
            if B[s, B_TAG] == T_STROKE:
                pk = (U[ci, U_CIDX] << 32) | S[s, S_CLOCK]
                _map_put(seen_keys, seen_vals, pk, nseen)
                seen[nseen, 0] = pk
                seen[nseen, 2] = -1
                nseen += 1
    # values set here (and not deleted here)
    chg_keys = np.full(16, -1, np.int64)
    nchg = np.int64(0)
    metas = np.int64(0)
    for ci in order:
        g = _group(G, U[ci, U_KEY])
        for s in range(U[ci, U_NF], U[ci, U_END]):
            tag = np.int64(B[s, B_TAG])
            if B[s, B_CONTENT] != C_ANY or tag < T_META:
                continue
            if g >= 0 and _in_ranges(M, G[g, 1], G[g, 2], S[s, S_CLOCK]):
                continue
            if tag >= T_FIELD:
                k = tag - T_FIELD
                if ng > 0:
                    chg_keys, nchg = _set_add_grow(chg_keys, nchg, (S[s, S_REF] << 4) | k)
                j = map_get(seen_keys, seen_vals, S[s, S_REF])
                if j >= 0:
                    seen[j, 1] |= 1 << k
                    if k == 0:
                        seen[j, 2] = s
                elif k <= 1:
                    return no  # id and author never change
            else:
                metas |= 1 << (tag - T_META)
    dead_list = np.zeros(16, np.int64)
    ndead = np.int64(0)
    if ng > 0:
        # values sent again: they may stand for what their update set
        for ci in range(nu):
            for s in range(U[ci, U_FIRST], U[ci, U_END]):
                if B[s, B_STATE] == ST_RESENT:
                    chg_keys, nchg, metas = _note_values(
                        cl,
                        r_start,
                        r_tag,
                        r_ref,
                        U[ci, U_ROOM],
                        S[s, S_CLOCK],
                        S[s, S_LEN],
                        chg_keys,
                        nchg,
                        metas,
                    )
        # stroke maps removed here
        for g in range(ng):
            c = map_get(h_keys, h_vals, G[g, 0])
            ci = map_get(uh_keys, uh_vals, G[g, 0])
            own = c if c >= 0 else (U[ci, U_CIDX] if ci >= 0 else -1)
            for i in range(G[g, 1], G[g, 2]):
                dead_list, ndead = _collect_strokes(
                    cl, r_start, r_tag, S, B, U, c, ci, own, M[i, 0], M[i, 1], dead_list, ndead
                )
    dead_keys = np.full(_pow2_at_least(2 * ndead + 2), -1, np.int64)
    for i in range(ndead):
        _set_add(dead_keys, dead_list[i])
    # new strokes: complete, unless removed in the same update
    rem = np.zeros(max_depth + 1, np.int64)
    isobj = np.zeros(max_depth + 1, np.bool_)
    ids = np.zeros((nseen, 2), np.int64)
    nid = 0
    for j in range(nseen):
        if ndead > 0 and set_has(dead_keys, seen[j, 0]):
            continue
        if seen[j, 1] != (1 << len(STROKE_KEYS)) - 1:
            return no
        s = seen[j, 2]
        hp = _links(buf, S, U, s)[10]
        _, p = _uint(buf, hp)
        ci = S[s, S_CI]
        cut = U[ci, U_CUT] if s == U[ci, U_NF] else 0
        for _ in range(cut):
            p = _skip_any(buf, p, max_depth, rem, isobj)
        _, a, b = _value_ok(buf, p, np.int64(K_MAPSTROKE), np.int64(0))
        ids[nid, 0] = a
        ids[nid, 1] = b
        nid += 1
    # deletes: a value goes only when its stroke goes or another value replaces it
    for g in range(ng):
        c = map_get(h_keys, h_vals, G[g, 0])
        ci = map_get(uh_keys, uh_vals, G[g, 0])
        have = cl[c, 3] if c >= 0 else 0
        for i in range(G[g, 1], G[g, 2]):
            a = M[i, 0]
            z = M[i, 1]
            if c >= 0 and a < have:
                if not _room_deletes_ok(
                    cl, r_start, r_tag, r_ref, c, a, min(z, have) - a, chg_keys, d_keys, metas, dead_keys
                ):
                    return no
            if ci >= 0:
                s = _news_first(S, U[ci, U_NF], U[ci, U_END], a)
                while s < U[ci, U_END] and S[s, S_CLOCK] < z:
                    if not _delete_ok(np.int64(B[s, B_TAG]), S[s, S_REF], chg_keys, d_keys, metas, dead_keys):
                        return no
                    s += 1
    dead = np.zeros((ndead, 1), np.int64)
    for i in range(ndead):
        dead[i, 0] = dead_list[i]
    by = _sort_rows(dead, ndead, 0, 0)
    out = np.zeros(ndead, np.int64)
    for i in range(ndead):
        out[i] = dead[by[i], 0]
    return True, out, ids[:nid]


@njit(cache=True, nogil=True)
def check_update(
    buf, max_depth, max_clock, max_clients, meta, h_keys, h_vals, cl, r_start, r_tag, r_ref, d_keys
):
    """Check a whole update against the tables (read only).

    Returns (status, clients, recs, dead, ids, n_deletes): status ACCEPT or FALL_BACK; for an
    accepted update, the client ids with new structs (update order), the records to commit (rows:
    client position, clock, length, tag, ref), the stroke maps it removes (sorted), the byte spans
    of the new strokes' ids (rows: start, end) and the number of delete ranges it holds."""
    fail = (FALL_BACK, np.zeros(0, np.int64), np.zeros((0, 5), np.int64), np.zeros(0, np.int64),
            np.zeros((0, 2), np.int64), np.int64(0))  # fmt: skip
    ok, S, B, ns, U, nu, uh_keys, uh_vals, D, nd = _parse(buf, max_depth, max_clock)
    if not ok:
        return fail
    ok, order = _keep_new(S, B, U, nu, h_keys, h_vals, cl, meta[M_CLIENTS], max_clients)
    if not ok:
        return fail
    if not _place(
        buf, S, B, U, order, uh_keys, uh_vals, h_keys, h_vals, cl, r_start, r_tag, r_ref, max_depth
    ):
        return fail
    ok, dead, ids = _schema(
        buf,
        S,
        B,
        U,
        nu,
        order,
        uh_keys,
        uh_vals,
        D,
        nd,
        h_keys,
        h_vals,
        cl,
        r_start,
        r_tag,
        r_ref,
        d_keys,
        max_depth,
    )
    if not ok:
        return fail
    # what commit records
    nrec = 0
    for ci in order:
        nrec += U[ci, U_END] - U[ci, U_NF]
    recs = np.zeros((nrec, 5), np.int64)
    clients = np.zeros(order.shape[0], np.int64)
    r = 0
    for j in range(order.shape[0]):
        ci = order[j]
        clients[j] = U[ci, U_KEY]
        for s in range(U[ci, U_NF], U[ci, U_END]):
            recs[r, 0] = j
            recs[r, 1] = S[s, S_CLOCK]
            recs[r, 2] = S[s, S_LEN]
            recs[r, 3] = B[s, B_TAG]
            recs[r, 4] = S[s, S_REF]
            r += 1
    return ACCEPT, clients, recs, dead, ids, nd
