// The painting room in a browser: http://HOST:PORT/ROOM?token=T (engines/collab/web.py serves this page).
// Joins the room over the server's ordinary Yjs WebSocket protocol (y-websocket), draws the document
// with the studio's stroke model (render.js), paints with Pointer Events, undoes only its own strokes
// (Y.UndoManager over this page's transactions), and shows the others' cursors, drags and names
// (awareness, as engines/collab/presence.py reads and writes them).
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { blank, clearRect, compositeStroke, strokeBox, toBytes } from './render.js'
import { cmpStroke, colourFor, dragToStrokes, hexToRgb, liveStrokes, MAX_TEXT, safeColour } from './strokes.js'
import { buildUi } from './ui.js'

const PRESENCE_MS = 50 // the studio sends its cursor at most 20 times a second
const DRAG_POINTS = 120 // most points of a drag in progress sent to the others
const NAME_CHARS = 40

const room = location.pathname.slice(1)
const query = new URLSearchParams(location.search)
const token = query.get('token') || ''
const ui = buildUi(document.getElementById('app'), room)

// --- my name: ?name=, else the last one used here, else a guest name -------------------------------
function goodName (s) {
  return typeof s === 'string' && s.length >= 1 && s.length <= NAME_CHARS && !/[\x00-\x1f]/.test(s) // eslint-disable-line no-control-regex
}
function remembered (value) { // the name used here last time (storage may be refused: private windows)
  try {
    if (value === undefined) return localStorage.getItem('ns-name')
    localStorage.setItem('ns-name', value)
  } catch { }
  return null
}
let myName = [query.get('name'), remembered()].find(goodName) ||
  `guest-${Math.floor(100 + Math.random() * 900)}`
const replica = Math.random().toString(36).slice(2, 8)
let counter = 0

// --- the document ---------------------------------------------------------------------------------
const doc = new Y.Doc()
const strokes = doc.getArray('strokes2')
const meta = doc.getMap('meta')
const ORIGIN = { page: replica } // my own transactions: what undo and redo act on
const undo = new Y.UndoManager(strokes, { trackedOrigins: new Set([ORIGIN]), captureTimeout: 0 })
const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host
// close codes after which reconnecting would only be refused again (docs/collab-schema.md)
const terminal = (ev) => ev.code === 1002 || ev.code === 1009 || (ev.code === 1008 && /^update refused/.test(ev.reason))
const provider = new WebsocketProvider(wsUrl, room, doc, {
  params: { token },
  disableBc: true, // every page talks to the server, never to another tab directly
  shouldReconnect: (ev) => !terminal(ev)
})
const awareness = provider.awareness

// --- what the test suite and the benchmark read (window.nsRoom) ------------------------------------
const stats = { renders: 0, fullRenders: 0, partialRenders: 0, lastRenderMs: 0, seen: new Map(), painted: new Map(), syncedAt: null, shownAt: null }

// --- the brush and the drag in progress -----------------------------------------------------------
const brush = { colour: '#c0392b', size: 0.03, opacity: 1.0 }
let drag = null // {id: pointerId, points: [[x, y(, pressure)]], pen}

// --- drawing the painting --------------------------------------------------------------------------
let live = { byId: new Map(), clock: -1 }
let maxClock = -1 // every clock ever seen (a new stroke goes on top of all of them)
let order = [] // the strokes drawn on the canvas, paint order
let size = 0
let img = null
let rgba = null
let background = [1, 1, 1]
let dirty = true
let scheduled = false

function pickSize () {
  const side = ui.paper.getBoundingClientRect().width || 512
  return Math.max(256, Math.min(2048, Math.round(side * (window.devicePixelRatio || 1))))
}

function readBackground () {
  const b = meta.get('background')
  return Array.isArray(b) && b.length === 3 && b.every((c) => typeof c === 'number' && c >= 0 && c <= 1) ? b : [1, 1, 1]
}

const params = (v) => [v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]]

/** The box of what changed between two paint orders other than strokes added on top, or null when
 * it is most of the canvas (then everything is drawn again). Values are compared by identity: an
 * unchanged entry of the Y.Array is the same object in every read. */
function changedRect (before, after) {
  const was = new Set(before)
  const now = new Set(after)
  const r = [size, 0, size, 0]
  for (const [list, other] of [[before, now], [after, was]]) {
    for (const v of list) {
      if (other.has(v)) continue
      const b = strokeBox(params(v), v[11], size)
      r[0] = Math.min(r[0], b[0]); r[1] = Math.max(r[1], b[1]); r[2] = Math.min(r[2], b[2]); r[3] = Math.max(r[3], b[3])
    }
  }
  if (r[1] <= r[0] || r[3] <= r[2]) return [0, 0, 0, 0]
  return (r[1] - r[0]) * (r[3] - r[2]) > 0.5 * size * size ? null : r
}

function render () {
  scheduled = false
  const t0 = performance.now()
  const want = pickSize()
  const bg = readBackground()
  const next = [...live.byId.values()].sort(cmpStroke)
  let full = want !== size || bg.some((c, i) => c !== background[i])
  // strokes added on top are composited onto the image; any other change redraws the box it touched
  const onTop = !full && order.length <= next.length && order.every((v, i) => v === next[i])
  const rect = full || onTop ? null : changedRect(order, next)
  if (!full && !onTop && rect === null) full = true
  if (full) {
    size = want
    background = bg
    img = blank(size, background)
    rgba = new ImageData(size, size)
    ui.canvas.width = ui.canvas.height = size
    ui.overlay.width = ui.overlay.height = size
    stats.fullRenders++
  }
  let y0 = size
  let y1 = 0
  const start = onTop ? order.length : 0
  if (rect) {
    clearRect(img, size, rect, background)
    stats.partialRenders++
  }
  for (let k = start; k < next.length; k++) {
    const v = next[k]
    const [a, b] = compositeStroke(img, size, params(v), v[11], rect)
    if (b > a) { y0 = Math.min(y0, a); y1 = Math.max(y1, b) }
  }
  if (full) { y0 = 0; y1 = size }
  if (rect) { y0 = rect[2]; y1 = rect[3] }
  if (y1 > y0) {
    toBytes(img, rgba.data, size, y0, y1)
    ui.canvas.getContext('2d').putImageData(rgba, 0, 0, 0, y0, size, y1 - y0)
  }
  order = next
  dirty = false
  const now = performance.timeOrigin + performance.now()
  for (let k = start; k < next.length; k++) if (!stats.painted.has(next[k][0])) stats.painted.set(next[k][0], now)
  stats.renders++
  stats.lastRenderMs = performance.now() - t0
  if (provider.synced && stats.shownAt === null) stats.shownAt = now
  drawOverlay()
  ui.setCount(order.length)
}

function schedule () {
  dirty = true
  if (!scheduled) { scheduled = true; setTimeout(render, 0) }
}

// --- the document changes ---------------------------------------------------------------------------
let announced = false // model strokes present when the room first synced are not news
strokes.observe((event) => {
  const before = live.byId
  live = liveStrokes(strokes.toArray())
  maxClock = Math.max(maxClock, live.clock)
  const now = performance.timeOrigin + performance.now()
  let model = 0
  for (const [id, v] of live.byId) {
    if (!stats.seen.has(id)) stats.seen.set(id, now)
    if (!before.has(id) && v[1] === 'model' && event.transaction.origin !== ORIGIN) model++
  }
  if (model && announced) ui.modelAccepted(model)
  schedule()
})
meta.observe(() => schedule())
provider.on('sync', (synced) => {
  if (synced && stats.syncedAt === null) {
    stats.syncedAt = performance.timeOrigin + performance.now()
    announced = true
  }
  showState()
  schedule()
})

// --- connection state ----------------------------------------------------------------------------------
let everOnline = false
let refusal = null
function peers () {
  const out = []
  for (const [cid, st] of awareness.getStates()) {
    if (cid === doc.clientID || st === null || typeof st !== 'object') continue
    const name = String(st.name ?? '?').slice(0, NAME_CHARS)
    out.push({ cid, name, colour: safeColour(st.colour), cursor: st.cursor, drag: st.drag })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.cid - b.cid))
}
let tokenRefused = false // the server answers this page's address with 401 now (its token changed)
function showState () {
  if (refusal) return ui.setState('bad', 'Refused', refusal)
  if (provider.wsconnected && provider.synced) {
    everOnline = true
    tokenRefused = false
    const n = peers().length
    return ui.setState('ok', `Connected (${n} peer${n === 1 ? '' : 's'})`, `room ${room}`)
  }
  if (tokenRefused) {
    return ui.setState('bad', 'Refused', 'the server does not take this link\'s token any more: ask the host for the new link')
  }
  if (everOnline) return ui.setState('wait', 'Reconnecting…', 'connection lost; what you paint meanwhile is kept and sent')
  return ui.setState('wait', 'Connecting…', `room ${room}`)
}
let lastProbe = 0
/** A browser sees a refused WebSocket upgrade (401) only as a failed connection: ask over HTTP, at most
 * every 5 s, whether the server is away or refuses the token. Reconnecting goes on either way. */
async function probe () {
  if (Date.now() - lastProbe < 5000) return
  lastProbe = Date.now()
  try {
    const r = await fetch(location.pathname + location.search, { cache: 'no-store' })
    tokenRefused = r.status === 401
  } catch {
    tokenRefused = false // the server is away
  }
  showState()
}
provider.on('status', showState)
provider.on('connection-close', (ev) => {
  if (ev && terminal(ev)) {
    refusal = `the server closed the connection (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`
  } else if (ev && ev.code === 1006) probe()
  showState()
})

// --- presence: mine and the others' ------------------------------------------------------------------
const me = { name: myName, colour: colourFor(myName), cursor: null, drag: null }
let presenceTimer = null
function publish () {
  presenceTimer = null
  awareness.setLocalState({ ...me })
}
function presence (fields) {
  Object.assign(me, fields)
  if (presenceTimer === null) presenceTimer = setTimeout(publish, PRESENCE_MS)
}
publish()
awareness.on('change', () => {
  ui.setPeople([{ name: `${me.name} (you)`, colour: me.colour }, ...peers()])
  showState()
  drawOverlay()
})

function validPair (q) {
  return Array.isArray(q) && q.length === 2 && q.every((v) => typeof v === 'number' && Number.isFinite(v))
}

function drawOverlay () {
  const cv = ui.overlay
  if (!cv.width) return
  const g = cv.getContext('2d')
  const s = cv.width
  const k = s / (ui.overlay.getBoundingClientRect().width || s) // canvas pixels per CSS pixel
  g.clearRect(0, 0, s, s)
  g.lineCap = g.lineJoin = 'round'
  const path = (pts, colour, width, alpha) => {
    g.globalAlpha = alpha
    g.strokeStyle = colour
    g.lineWidth = Math.max(1, width * s)
    g.beginPath()
    pts.forEach((q, i) => (i ? g.lineTo(q[0] * s, q[1] * s) : g.moveTo(q[0] * s, q[1] * s)))
    if (pts.length === 1) g.lineTo(pts[0][0] * s + 0.01, pts[0][1] * s)
    g.stroke()
    g.globalAlpha = 1
  }
  for (const p of peers()) {
    const d = p.drag
    if (d && typeof d === 'object' && Array.isArray(d.points) && typeof d.size === 'number' && d.size > 0 && d.size <= 1) {
      const pts = d.points.slice(0, 2 * DRAG_POINTS).filter(validPair)
      if (pts.length) path(pts, safeColour(d.colour), d.size, 0.6)
    }
  }
  if (drag && drag.points.length) path(drag.points, brush.colour, brush.size, 0.6 * brush.opacity + 0.2)
  g.font = `${Math.round(12 * k)}px system-ui, sans-serif`
  g.textBaseline = 'top'
  for (const p of peers()) {
    if (!validPair(p.cursor)) continue
    const x = p.cursor[0] * s
    const y = p.cursor[1] * s
    g.fillStyle = p.colour
    g.strokeStyle = '#ffffff'
    g.lineWidth = 1.5 * k
    g.beginPath() // an arrow pointing up-left at the spot
    g.moveTo(x, y)
    g.lineTo(x + 4 * k, y + 14 * k)
    g.lineTo(x + 7.5 * k, y + 8.5 * k)
    g.lineTo(x + 14 * k, y + 6 * k)
    g.closePath()
    g.stroke()
    g.fill()
    const w = g.measureText(p.name).width + 8 * k
    g.fillRect(x + 12 * k, y + 12 * k, w, 17 * k)
    g.fillStyle = '#ffffff'
    g.fillText(p.name, x + 16 * k, y + 14 * k)
  }
}

// --- painting ------------------------------------------------------------------------------------------

function toCanvas (ev) {
  const r = ui.overlay.getBoundingClientRect()
  return [(ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height]
}

function pressureOf (ev) {
  // a pen's pressure, or a touch's where the device measures it (0 and 0.5 are "not measured")
  if (ev.pointerType === 'pen' || (ev.pointerType === 'touch' && ev.pressure > 0 && ev.pressure !== 0.5 && ev.pressure !== 1)) {
    return Math.min(Math.max(ev.pressure, 0), 1)
  }
  return null
}

function thinned (pts) {
  if (pts.length <= DRAG_POINTS) return pts.map((q) => [+q[0].toFixed(4), +q[1].toFixed(4)])
  const step = pts.length / DRAG_POINTS
  const out = []
  for (let i = 0; i < DRAG_POINTS - 1; i++) out.push(pts[Math.floor(i * step)])
  out.push(pts[pts.length - 1])
  return out.map((q) => [+q[0].toFixed(4), +q[1].toFixed(4)])
}

/** Add strokes (parameters [x, y, w, h, theta, r, g, b]) on top, as one transaction of mine. */
function addStrokes (params, opacity) {
  if (!params.length) return []
  const author = me.name.slice(0, MAX_TEXT)
  const base = maxClock + 1
  const values = params.map((p, i) => [`${author}@${replica}:${counter++}`, author, base + i, ...p, opacity])
  doc.transact(() => strokes.insert(0, values), ORIGIN)
  return values.map((v) => v[0])
}

/** A finished drag (points in canvas fractions, with pressure where measured) into strokes. */
function paintPath (points) {
  return addStrokes(dragToStrokes(points, brush.size, hexToRgb(brush.colour)), brush.opacity)
}

ui.overlay.addEventListener('pointerdown', (ev) => {
  if (ev.button !== 0 || drag) return
  ui.overlay.setPointerCapture(ev.pointerId)
  const [x, y] = toCanvas(ev)
  const p = pressureOf(ev)
  drag = { id: ev.pointerId, points: [p === null ? [x, y] : [x, y, p]], pen: p !== null }
  ev.preventDefault()
})
ui.overlay.addEventListener('pointermove', (ev) => {
  const [x, y] = toCanvas(ev)
  const inside = x >= 0 && x <= 1 && y >= 0 && y <= 1
  if (drag && ev.pointerId === drag.id) {
    const evs = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : []
    for (const e of (evs.length ? evs : [ev])) {
      const [cx, cy] = toCanvas(e)
      const p = pressureOf(e)
      drag.points.push(drag.pen && p !== null ? [cx, cy, p] : [cx, cy])
    }
    presence({ cursor: inside ? [x, y] : null, drag: { points: thinned(drag.points), colour: brush.colour, size: brush.size } })
    drawOverlay()
  } else if (!drag) {
    presence({ cursor: inside ? [x, y] : null })
  }
})
function endDrag (ev, keep) {
  if (!drag || ev.pointerId !== drag.id) return
  const pts = drag.pen ? drag.points : drag.points.map((q) => [q[0], q[1]])
  drag = null
  if (keep) paintPath(pts)
  presence({ drag: null })
  drawOverlay()
}
ui.overlay.addEventListener('pointerup', (ev) => endDrag(ev, true))
ui.overlay.addEventListener('pointercancel', (ev) => endDrag(ev, false))
ui.overlay.addEventListener('pointerleave', () => { if (!drag) presence({ cursor: null }) })

// --- the controls ----------------------------------------------------------------------------------
ui.onBrush((b) => Object.assign(brush, b))
ui.onUndo(() => undo.undo())
ui.onRedo(() => undo.redo())
function syncUndo () { ui.setUndo(undo.undoStack.length > 0, undo.redoStack.length > 0) }
undo.on('stack-item-added', syncUndo)
undo.on('stack-item-popped', syncUndo)
undo.on('stack-cleared', syncUndo)
syncUndo()
ui.setName(myName)
ui.onName((name) => {
  if (!goodName(name)) return false
  myName = name
  remembered(name)
  me.name = name
  me.colour = colourFor(name)
  publish()
  ui.setPeople([{ name: `${me.name} (you)`, colour: me.colour }, ...peers()])
  return true
})
document.addEventListener('keydown', (ev) => {
  if (!(ev.ctrlKey || ev.metaKey) || ev.target instanceof HTMLInputElement) return
  const k = ev.key.toLowerCase()
  if (k === 'z' && !ev.shiftKey) { undo.undo(); ev.preventDefault() } else if ((k === 'z' && ev.shiftKey) || k === 'y') { undo.redo(); ev.preventDefault() }
})
let resizeTimer = null
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer)
  resizeTimer = setTimeout(() => { if (pickSize() !== size) schedule(); else drawOverlay() }, 150)
})
window.addEventListener('beforeunload', () => awareness.setLocalState(null))
ui.setPeople([{ name: `${me.name} (you)`, colour: me.colour }])
showState()
schedule()

window.nsRoom = {
  room,
  doc,
  provider,
  stats,
  get size () { return size },
  get name () { return me.name },
  get synced () { return provider.synced },
  get connected () { return provider.wsconnected },
  get shown () { return dirty ? -1 : order.length },
  ids: () => order.map((v) => v[0]),
  authors: () => order.map((v) => v[1]),
  state: () => ui.stateText(),
  people: () => ui.peopleText(),
  cursors: () => peers().filter((p) => validPair(p.cursor)).map((p) => p.name),
  paintPath,
  undo: () => undo.undo(),
  redo: () => undo.redo(),
  /** The canvas's pixels as base64 RGB bytes (what the page shows). */
  pixels () {
    const d = ui.canvas.getContext('2d').getImageData(0, 0, size, size).data
    let s = ''
    for (let q = 0; q < d.length; q += 4) s += String.fromCharCode(d[q], d[q + 1], d[q + 2])
    return btoa(s)
  }
}
