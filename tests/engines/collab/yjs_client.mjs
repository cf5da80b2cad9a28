// A JavaScript Yjs client (yjs + y-websocket + ws from npm) joining a room: used by test_js_client.py.
// Painting schema version 2: each stroke one plain value [id, author, clock, x, y, w, h, theta, r, g, b, opacity].
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
const [url, room, token] = process.argv.slice(2)
const doc = new Y.Doc()
const provider = new WebsocketProvider(url, room, doc, { params: { token }, WebSocketPolyfill: WebSocket })
provider.awareness.setLocalState({ name: 'js', colour: '#00aa00', cursor: [0.5, 0.5] })
provider.on('sync', (synced) => {
  if (!synced) return
  const strokes = doc.getArray('strokes2')
  const values = strokes.toArray()
  const ids = values.map((v) => v[0])
  const clock = Math.max(-1, ...values.map((v) => v[2]))
  doc.transact(() => {
    // a new stroke on top
    strokes.insert(0, [['js:1', 'js', clock + 1, 0.25, 0.5, 0.1, 0.02, 0.5, 1, 0, 0, 1]])
    // an edit of the first stroke: delete its entry, insert the new value (same id and author)
    const i = strokes.toArray().findIndex((v) => v[0] === ids[0])
    const v = strokes.get(i)
    strokes.delete(i, 1)
    strokes.insert(0, [[v[0], v[1], v[2], 0.75, ...v.slice(4)]])
  })
  console.log(JSON.stringify({ seen: ids.length, ids, edited: ids[0] }))
  setTimeout(() => { provider.destroy(); process.exit(0) }, 1500)
})
setTimeout(() => { console.log('timeout'); process.exit(1) }, 10000)
