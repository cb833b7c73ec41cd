// One trace through Yjs, in a process of its own (so that one trace's
// garbage and JIT state do not weigh on the next): prints one JSON line,
// the contract every engine's bench program follows (README.md).
//   node --expose-gc bench/crdt/yjs.mjs TRACE.json.gz
import * as Y from 'yjs'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { basename } from 'node:path'

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc')
const file = process.argv[2]
const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'))
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
// CPU time (all the process's threads, GC helpers included) beside wall
// time: on shared, busy cores it is the steadier of the two.
const cpuMs = (c0) => {
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const heap = () => {
  global.gc()
  return process.memoryUsage().heapUsed
}

// Every transaction of the trace as one Yjs transaction of local edits.
const edit = (doc) => {
  const text = doc.getText('t')
  for (const txn of trace.txns) {
    doc.transact(() => {
      for (const [pos, del, ins] of txn.patches) {
        if (del > 0) text.delete(pos, del)
        if (ins) text.insert(pos, ins)
      }
    })
  }
  return text
}
const check = (doc, what) => {
  if (doc.getText('t').toString() !== trace.endContent) throw new Error(`${basename(file)}: ${what} gives another text`)
}

const heapBefore = heap()
let t0 = process.hrtime.bigint()
let c0 = process.cpuUsage()
let doc = new Y.Doc()
edit(doc)
const applyMs = ms(t0)
const applyCpuMs = cpuMs(c0)
const heapDoc = heap() // the doc alive, all else collected
check(doc, 'local editing')

// Whole-state encode and decode: small, so the median of a few runs.
const state = Y.encodeStateAsUpdate(doc)
const encodeMs = median(Array.from({ length: 7 }, () => {
  const t = process.hrtime.bigint()
  Y.encodeStateAsUpdate(doc)
  return ms(t)
}))
const decodeMs = median(Array.from({ length: 7 }, () => {
  const t = process.hrtime.bigint()
  Y.applyUpdate(new Y.Doc(), state)
  return ms(t)
}))
const decoded = new Y.Doc()
Y.applyUpdate(decoded, state)
check(decoded, 'the decoded state')

// Remote apply: every transaction's update, made untimed, applied in order
// to a fresh doc, as a client joining live would receive them.
const updates = []
doc = new Y.Doc()
doc.on('update', (u) => updates.push(u))
edit(doc)
doc = null
global.gc()
const remote = new Y.Doc()
t0 = process.hrtime.bigint()
c0 = process.cpuUsage()
for (const u of updates) Y.applyUpdate(remote, u)
const remoteMs = ms(t0)
const remoteCpuMs = cpuMs(c0)
check(remote, 'remote apply')

console.log(JSON.stringify({
  engine: `yjs ${JSON.parse(readFileSync(new URL('./node_modules/yjs/package.json', import.meta.url))).version}, node ${process.versions.node}`,
  trace: basename(file, '.json.gz'),
  edits: trace.txns.reduce((n, t) => n + t.patches.length, 0),
  transactions: trace.txns.length,
  apply_ms: applyMs,
  remote_ms: remoteMs,
  apply_cpu_ms: applyCpuMs,
  remote_cpu_ms: remoteCpuMs,
  encode_ms: encodeMs,
  decode_ms: decodeMs,
  state_bytes: state.length,
  heap_bytes: heapDoc - heapBefore, // what the doc adds to the heap, after GC
  heap_total_bytes: heapDoc, // the whole heap after GC, the parsed trace included
  rss_peak_bytes: process.resourceUsage().maxRSS * 1024
}))
