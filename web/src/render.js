// The stroke model of engines/painting/render.py, ported line for line (render_fast with footprint=true,
// what the studio's canvas shows), so a painting looks the same in the page and in the studio.
//
// Each stroke is a stadium (a rectangle with half-disc ends) of length w and thickness h, centred on
// (x, y), rotated by theta * pi, with a soft edge; all lengths are fractions of the canvas side. A pixel
// centre is mapped into the stroke's frame and its signed distance to the stadium gives the alpha:
//   u = |dx cos t + dy sin t|, v = |dy cos t - dx sin t|, r = min(w, h) / 2
//   q = (u - w/2 + r, v - h/2 + r), sdf = |max(q, 0)| + min(max(q), 0) - r
//   alpha = opacity * smoothstep((e - sdf) / (2 e)), e = EDGE * r
// Strokes are composited in paint order with "over" in float64, then rounded to bytes as to_uint8 does.

export const EDGE = 0.35
const EPS = 1e-4

/** Geometry of one stroke [x, y, w, h, theta, r, g, b] with opacity op on a size-pixel canvas
 * (render.py's _shape with footprint and _geometry): a stroke thinner than a pixel is drawn one pixel
 * thick with its opacity scaled by the part of the pixel it covers. */
export function geometry (p, op, size) {
  let hw = 0.5 * Math.max(p[2], EPS)
  let hh = 0.5 * Math.max(p[3], EPS)
  let e = EDGE * Math.min(hw, hh)
  const half = 0.5 / size
  if (hw < half || hh < half) {
    op = op * Math.min(hw / half, 1.0) * Math.min(hh / half, 1.0)
    hw = Math.max(hw, half)
    hh = Math.max(hh, half)
    e = Math.max(EDGE * Math.min(hw, hh), half)
  }
  const ang = p[4] * Math.PI
  return { x: p[0], y: p[1], hw, hh, c: Math.cos(ang), s: Math.sin(ang), r: Math.min(hw, hh), e, op, cr: p[5], cg: p[6], cb: p[7] }
}

/** Pixel bounding box [x0, x1, y0, y1) of a stroke's support (render.py's _boxes). */
export function box (g, size) {
  const c = Math.abs(g.c)
  const s = Math.abs(g.s)
  const ex = c * (g.hw + g.e) + s * (g.hh + g.e)
  const ey = s * (g.hw + g.e) + c * (g.hh + g.e)
  const clip = (v) => Math.min(Math.max(v, 0), size)
  return [
    clip(Math.floor((g.x - ex) * size - 0.5)),
    clip(Math.ceil((g.x + ex) * size + 0.5) + 1),
    clip(Math.floor((g.y - ey) * size - 0.5)),
    clip(Math.ceil((g.y + ey) * size + 0.5) + 1)
  ]
}

/** The pixel box [x0, x1, y0, y1) a stroke may paint on a size-pixel canvas. */
export function strokeBox (p, opacity, size) {
  return box(geometry(p, opacity, size), size)
}

/** Composite one stroke over img (Float64Array, size * size * 3, rows top first) in place, only inside
 * clip [x0, x1, y0, y1) when given. p = [x, y, w, h, theta, r, g, b]; returns the rows touched [y0, y1). */
export function compositeStroke (img, size, p, opacity, clip = null) {
  const g = geometry(p, opacity, size)
  let [bx0, bx1, by0, by1] = box(g, size)
  if (clip) {
    bx0 = Math.max(bx0, clip[0])
    bx1 = Math.min(bx1, clip[1])
    by0 = Math.max(by0, clip[2])
    by1 = Math.min(by1, clip[3])
  }
  if (bx1 <= bx0 || by1 <= by0) return [0, 0]
  const { x, hw, hh, c, s, r, e, op, cr, cg, cb } = g
  const inv2e = 1.0 / (2 * e)
  const ea = hw + e
  const eb = hh + e
  const invW = 1.0 / size
  for (let i = by0; i < by1; i++) {
    const dy = (i + 0.5) / size - g.y
    const dys = dy * s
    const dyc = dy * c
    // the exact span of this row inside the rotated support |u| <= hw + e, |v| <= hh + e
    let lo = -1e9
    let hi = 1e9
    if (Math.abs(c) > 1e-9) {
      const a0 = (-ea - dys) / c
      const a1 = (ea - dys) / c
      lo = Math.max(lo, Math.min(a0, a1))
      hi = Math.min(hi, Math.max(a0, a1))
    } else if (Math.abs(dys) > ea) continue
    if (Math.abs(s) > 1e-9) {
      const b0 = (dyc - eb) / s
      const b1 = (dyc + eb) / s
      lo = Math.max(lo, Math.min(b0, b1))
      hi = Math.min(hi, Math.max(b0, b1))
    } else if (Math.abs(dyc) > eb) continue
    const j0 = Math.max(bx0, Math.floor((x + lo) * size - 0.5))
    const j1 = Math.min(bx1, Math.ceil((x + hi) * size - 0.5) + 1)
    let k = (i * size + j0) * 3
    for (let j = j0; j < j1; j++, k += 3) {
      const dx = (j + 0.5) * invW - x
      const u = Math.abs(dx * c + dys)
      const v = Math.abs(dyc - dx * s)
      const qx = u - hw + r
      const qy = v - hh + r
      const ox = qx > 0 ? qx : 0
      const oy = qy > 0 ? qy : 0
      const sdf = Math.sqrt(ox * ox + oy * oy + 1e-12) + Math.min(Math.max(qx, qy), 0) - r
      let t = (e - sdf) * inv2e
      if (t <= 0) continue
      if (t > 1) t = 1
      const a = t * t * (3 - 2 * t) * op
      const keep = 1 - a
      img[k] = img[k] * keep + cr * a
      img[k + 1] = img[k + 1] * keep + cg * a
      img[k + 2] = img[k + 2] * keep + cb * a
    }
  }
  return [by0, by1]
}

/** Paint the rectangle [x0, x1, y0, y1) of img with the background colour. */
export function clearRect (img, size, rect, background) {
  for (let i = rect[2]; i < rect[3]; i++) {
    for (let k = (i * size + rect[0]) * 3, end = (i * size + rect[1]) * 3; k < end; k += 3) {
      img[k] = background[0]
      img[k + 1] = background[1]
      img[k + 2] = background[2]
    }
  }
}

/** A blank image of the background colour. */
export function blank (size, background) {
  const img = new Float64Array(size * size * 3)
  for (let k = 0; k < img.length; k += 3) {
    img[k] = background[0]
    img[k + 1] = background[1]
    img[k + 2] = background[2]
  }
  return img
}

/** Rows [y0, y1) of img into RGBA bytes as render.py's to_uint8 rounds: clip(v, 0, 1) * 255 + 0.5, floored. */
export function toBytes (img, rgba, size, y0 = 0, y1 = size) {
  for (let k = y0 * size * 3, q = y0 * size * 4, end = y1 * size * 3; k < end; k += 3, q += 4) {
    rgba[q] = Math.floor(Math.min(Math.max(img[k], 0), 1) * 255 + 0.5)
    rgba[q + 1] = Math.floor(Math.min(Math.max(img[k + 1], 0), 1) * 255 + 0.5)
    rgba[q + 2] = Math.floor(Math.min(Math.max(img[k + 2], 0), 1) * 255 + 0.5)
    rgba[q + 3] = 255
  }
}
