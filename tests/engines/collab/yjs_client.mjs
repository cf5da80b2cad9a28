// A JavaScript Yjs client (yjs + y-websocket + ws from npm) joining a room: used by test_js_client.py.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
const [url, room, token] = process.argv.slice(2)
const doc = new Y.Doc()
const provider = new WebsocketProvider(url, room, doc, { params: { token }, WebSocketPolyfill: WebSocket })
provider.awareness.setLocalState({ name: 'js', colour: '#00aa00', cursor: [0.5, 0.5] })
provider.on('sync', (synced) => {
  if (!synced) return
  const strokes = doc.getArray('strokes')
  const ids = strokes.toArray().map((m) => m.get('id'))
  let clock = 0
  strokes.forEach((m) => { clock = Math.max(clock, m.get('clock')) })
  const m = new Y.Map()
  for (const [k, v] of Object.entries({ id: 'js:1', author: 'js', x: 0.25, y: 0.5, w: 0.1, h: 0.02, theta: 0.5, r: 1, g: 0, b: 0, opacity: 1, clock: clock + 1 })) m.set(k, v)
  strokes.push([m])
  console.log(JSON.stringify({ seen: ids.length, ids }))
  setTimeout(() => { provider.destroy(); process.exit(0) }, 1500)
})
setTimeout(() => { console.log('timeout'); process.exit(1) }, 10000)
