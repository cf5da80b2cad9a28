// The painting document (schema version 2, docs/collab-schema.md) as the page reads and writes it:
// each stroke one plain array [id, author, clock, x, y, w, h, theta, r, g, b, opacity] in the Y.Array
// `strokes2`; paint order by (clock, author, id); a stroke whose id appears twice is the entry first in
// array order. Also drag_to_strokes of engines/painting/strokes.py and the studio's colour of a name.

export const MIN_SIZE = 1e-3
export const MAX_TEXT = 200

/** Strings in code-point order (as Python compares them). */
export function cmpText (a, b) {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)
    const cb = b.codePointAt(i)
    if (ca !== cb) return ca < cb ? -1 : 1
    if (ca > 0xffff) i++
  }
  return a.length < b.length ? -1 : 1
}

/** Paint order: (clock, author, id), bottom first. */
export function cmpStroke (a, b) {
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1
  return cmpText(a[1], b[1]) || cmpText(a[0], b[0])
}

const unit = (v) => typeof v === 'number' && v >= 0 && v <= 1

/** True for a well-formed stroke value (the server checked it; a page still reads defensively). */
export function isStroke (v) {
  if (!Array.isArray(v) || v.length !== 12) return false
  if (typeof v[0] !== 'string' || typeof v[1] !== 'string' || !v[0] || !v[1]) return false
  if (typeof v[2] !== 'number' || !Number.isInteger(v[2]) || v[2] < 0) return false
  for (let i = 3; i < 12; i++) if (!unit(v[i])) return false
  return true
}

/** The live strokes of the array's values: id -> value (first entry in array order), the largest clock. */
export function liveStrokes (values) {
  const byId = new Map()
  let clock = -1
  for (const v of values) {
    if (!isStroke(v)) continue
    if (v[2] > clock) clock = v[2]
    if (!byId.has(v[0])) byId.set(v[0], v)
  }
  return { byId, clock }
}

/** Linear interpolation of ys at xs over increasing knots (numpy.interp). */
function interp (x, knots, ys) {
  if (x <= knots[0]) return ys[0]
  const n = knots.length
  if (x >= knots[n - 1]) return ys[n - 1]
  let lo = 0
  let hi = n - 1
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (knots[mid] <= x) lo = mid
    else hi = mid
  }
  const d = knots[hi] - knots[lo]
  return d > 0 ? ys[lo] + (ys[hi] - ys[lo]) * (x - knots[lo]) / d : ys[hi]
}

/** A drag path into stroke parameters [x, y, w, h, theta, r, g, b] (drag_to_strokes of the studio).
 *
 * points: [x, y] or [x, y, pressure] in canvas fractions; size the brush thickness; colour [r, g, b].
 * The path is cut by arc length into pieces of about spacing * size, each one stroke centred on it, as
 * long as the piece plus one brush width, rotated along it; a click without motion gives one round dab.
 * Where the points carry a pen's pressure (0..1), a piece's thickness is size * (0.25 + 1.5 p) at its
 * middle (so p = 0.5, what a mouse reports, paints the chosen size). */
export function dragToStrokes (points, size, colour, spacing = 2.0) {
  const pts = points.map((q) => [Math.min(Math.max(q[0], 0), 1), Math.min(Math.max(q[1], 0), 1), q[2]])
  if (pts.length === 0) return []
  const press = pts.every((q) => typeof q[2] === 'number' && Number.isFinite(q[2]))
  const thick = (p) => press ? Math.min(Math.max(size * (0.25 + 1.5 * Math.min(Math.max(p, 0), 1)), MIN_SIZE), 1) : size
  const cum = [0]
  for (let i = 1; i < pts.length; i++) {
    cum.push(cum[i - 1] + Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]))
  }
  const total = cum[cum.length - 1]
  const piece = Math.max(spacing * size, 1e-6)
  if (total < 0.25 * size) {
    let cx = 0
    let cy = 0
    let cp = 0
    for (const q of pts) { cx += q[0]; cy += q[1]; cp += press ? q[2] : 0 }
    const h = thick(cp / pts.length)
    return [[cx / pts.length, cy / pts.length, h, h, 0, ...colour]]
  }
  const n = Math.max(1, Math.ceil(total / piece))
  const xs = pts.map((q) => q[0])
  const ys = pts.map((q) => q[1])
  const ps = pts.map((q) => q[2])
  const cut = []
  for (let k = 0; k <= n; k++) {
    const s = k === n ? total : k * (total / n) // numpy.linspace
    cut.push([interp(s, cum, xs), interp(s, cum, ys), s])
  }
  const out = []
  for (let k = 0; k < n; k++) {
    const [ax, ay] = cut[k]
    const [bx, by] = cut[k + 1]
    const dx = bx - ax
    const dy = by - ay
    const length = Math.hypot(dx, dy)
    let ang = Math.atan2(dy, dx) % Math.PI
    if (ang < 0) ang += Math.PI
    ang /= Math.PI
    if (ang >= 1) ang = 0
    const h = press ? thick(interp(0.5 * (cut[k][2] + cut[k + 1][2]), cum, ps)) : size
    const w = Math.min(Math.max(length + h, MIN_SIZE), 1)
    out.push([0.5 * (ax + bx), 0.5 * (ay + by), w, h, ang, ...colour])
  }
  return out
}

// --- the studio's colour of a name (studio/widgets/collab.py colour_for: sha1(name)[0] % 8) ---------

export const PEER_COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324']

/** The first byte of SHA-1 of bytes (a plain implementation: crypto.subtle needs a secure context). */
function sha1FirstByte (bytes) {
  const ml = bytes.length * 8
  const len = (((bytes.length + 8) >> 6) + 1) << 6
  const m = new Uint8Array(len)
  m.set(bytes)
  m[bytes.length] = 0x80
  const dv = new DataView(m.buffer)
  dv.setUint32(len - 4, ml >>> 0)
  dv.setUint32(len - 8, Math.floor(ml / 2 ** 32))
  let [h0, h1, h2, h3, h4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]
  const w = new Uint32Array(80)
  const rol = (x, n) => (x << n) | (x >>> (32 - n))
  for (let off = 0; off < len; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + 4 * i)
    for (let i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
    let [a, b, c, d, e] = [h0, h1, h2, h3, h4]
    for (let i = 0; i < 80; i++) {
      const [f, k] = i < 20 ? [(b & c) | (~b & d), 0x5a827999] : i < 40 ? [b ^ c ^ d, 0x6ed9eba1]
        : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc] : [b ^ c ^ d, 0xca62c1d6]
      const t = (rol(a, 5) + f + e + k + w[i]) >>> 0
      e = d; d = c; c = rol(b, 30) >>> 0; b = a; a = t
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0
  }
  return h0 >>> 24
}

/** The studio's stable colour for a display name. */
export function colourFor (name) {
  return PEER_COLOURS[sha1FirstByte(new TextEncoder().encode(name)) % PEER_COLOURS.length]
}

/** A presence colour safe to put in a style: #rgb / #rrggbb(aa), else grey. */
export function safeColour (c) {
  return typeof c === 'string' && /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/.test(c) ? c : '#888888'
}

/** "#rrggbb" -> [r, g, b] in [0, 1]. */
export function hexToRgb (hex) {
  const v = parseInt(hex.slice(1, 7), 16)
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255]
}
