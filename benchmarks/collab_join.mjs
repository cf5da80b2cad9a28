// A JavaScript Yjs client (y-websocket) joining a room: how long until it holds the whole room, and the
// heap it takes to hold it. Used by benchmarks/collab.py; run with node --expose-gc.
//   node --expose-gc collab_join.mjs ws://127.0.0.1:PORT ROOM TOKEN
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
const [url, room, token] = process.argv.slice(2)
const heap = () => { global.gc(); global.gc(); return process.memoryUsage().heapUsed }
const before = heap()
const doc = new Y.Doc()
const t0 = performance.now()
const provider = new WebsocketProvider(url, room, doc, { params: { token }, WebSocketPolyfill: WebSocket })
provider.on('sync', (synced) => {
  if (!synced) return
  const ms = performance.now() - t0
  const strokes = doc.getArray('strokes2')
  const n = strokes.length
  provider.disconnect()
  const after = heap()
  console.log(JSON.stringify({ join_s: ms / 1000, strokes: n, heap_bytes: after - before }))
  provider.destroy()
  process.exit(0)
})
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1) }, 120000)
