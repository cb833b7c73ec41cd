// snapshot_vectors.mjs: records transcripts of the snapshot commands of
// tests/crdt/PROTOCOL.md (`snapshot`, `json_at`, `delta_at` with and
// without a previous snapshot, `state_at`)
// from the real `yjs` package, for tests/unit/crdt_snapshot_test.c to
// replay against the C engine: commands "> ..." and Yjs's answers "< ...".
//
// Each case: 2-3 Yjs docs with gc off edit text (with formatting), a map,
// an array and an XML fragment, and sync now and then; their updates go, in
// the order they were made, to the reference engine (yref.mjs), which takes
// snapshots between them and makes local edits of its own. At the end it
// reads the doc at each of its snapshots and at snapshots the peers took
// (some ahead of it while it was behind: those answer err). Then the same
// doc with gc on refuses them. Errors are recorded as "< err" (their text
// is not part of the contract).
//
// Regenerate (deterministic for a yjs version; the vectors record 13.6.33):
//   node tests/crdt/snapshot_vectors.mjs > tests/crdt/vectors/snapshot_v1.txt
import * as Y from 'yjs'
import { RefEngine } from './yref.mjs'

let seed = 7
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
const ri = (n) => Math.floor(rand() * n)
const pick = (a) => a[ri(a.length)]
const b64 = (u) => (u.length ? Buffer.from(u).toString('base64') : '-')
const WORDS = ['a', 'bc', 'hello', 'xyz', 'é', '😀', 'ab😀c', '\n']
const VALUES = [0, 1, -3, 1.5, 'two', '', true, null, [1, 'x'], { k: 1, b: [null] }]

const peerEdit = (doc) => {
  const r = ri(12)
  const t = doc.getText('t')
  if (r < 3) t.insert(ri(t.length + 1), pick(WORDS), rand() < 0.3 ? { bold: true } : undefined)
  else if (r < 5 && t.length > 0) {
    const i = ri(t.length)
    t.delete(i, 1 + ri(Math.min(4, t.length - i)))
  } else if (r < 6 && t.length > 0) {
    const i = ri(t.length)
    t.format(i, 1 + ri(t.length - i), pick([{ bold: true }, { bold: null }, { italic: true }]))
  } else if (r < 8) {
    const m = doc.getMap('m')
    if (rand() < 0.7) m.set(pick(['a', 'b', '1']), pick(VALUES))
    else m.delete(pick(['a', 'b', '1']))
  } else if (r < 10) {
    const a = doc.getArray('a')
    if (rand() < 0.6 || a.length === 0) a.insert(ri(a.length + 1), [pick(VALUES), pick(VALUES)])
    else {
      const i = ri(a.length)
      a.delete(i, 1 + ri(Math.min(2, a.length - i)))
    }
  } else {
    const x = doc.getXmlFragment('x')
    if (rand() < 0.5 || x.length === 0) {
      const el = new Y.XmlElement(pick(['p', 'div']))
      el.setAttribute('class', pick(WORDS))
      x.insert(ri(x.length + 1), [rand() < 0.5 ? el : new Y.XmlText(pick(WORDS))])
    } else x.delete(ri(x.length), 1)
  }
}

const ROOTS = 't:Text m:Map a:Array x:XmlFragment'
const lines = []
const engine = new RefEngine()
const run = (cmd) => {
  const ans = engine.exec(cmd)
  lines.push('> ' + cmd, '< ' + (ans.startsWith('err') ? 'err' : ans))
  return ans
}

for (let c = 1; c <= 40; c++) {
  lines.push(`# case ${c}`)
  const peers = Array.from({ length: 2 + ri(2) }, (_, k) => {
    const d = new Y.Doc({ gc: false })
    d.clientID = 10 + k * 7 + c
    return d
  })
  const updates = []
  peers.forEach((d) => d.on('update', (u, _o, _d, tr) => tr.local && updates.push(u)))
  const peerSnaps = []
  for (let step = 0; step < 25; step++) {
    const p = pick(peers)
    if (rand() < 0.7) p.transact(() => peerEdit(p))
    else {
      const q = pick(peers)
      if (q !== p) Y.applyUpdate(q, Y.encodeStateAsUpdate(p, Y.encodeStateVector(q)))
    }
    if (rand() < 0.15) peerSnaps.push(b64(Y.encodeSnapshot(Y.snapshot(p))))
  }
  const id = 1000 + c
  // the engine's session: its own edits between the peers' updates
  const edits = []
  for (let k = 0; k < updates.length; k++) {
    if (rand() < 0.15) edits[k] = pick([`text_insert t 0 ${b64(Buffer.from(pick(WORDS)))} ${pick(["{}", "{\"bold\":true}"])}`, 'map_set m e [1,{"z":null}]', 'array_insert a 0 ["mine"]'])
  }
  const snaps = []
  run(`reset ${id} 0`)
  for (let k = 0; k < updates.length; k++) {
    run('apply ' + b64(updates[k]))
    if (edits[k] !== undefined) run(edits[k])
    if (rand() < 0.25) {
      const s = run('snapshot')
      if (s.startsWith('ok ')) snaps.push(s.slice(3))
      // a peer's snapshot may be ahead of the engine now
      if (peerSnaps.length && rand() < 0.3) run(`json_at ${pick(peerSnaps)} ${ROOTS}`)
    }
  }
  run('json ' + ROOTS)
  const all = [...snaps, ...peerSnaps]
  all.forEach((s, k) => {
    run(`json_at ${s} ${ROOTS}`)
    run(`delta_at ${s} t`)
    run(`state_at ${s}`)
    // the changes since the previous one, and back (ychange)
    if (k > 0) run(`delta_at ${s} t ${all[k - 1]}`)
    if (k > 0) run(`delta_at ${all[k - 1]} t ${s}`)
  })
  run('snapshot')
  run('state')
  // gc on: refused
  if (snaps.length) {
    run(`reset ${id} 1`)
    for (const u of updates) run('apply ' + b64(u))
    run(`json_at ${snaps[0]} t:Text`)
    run(`delta_at ${snaps[0]} t`)
    run(`state_at ${snaps[0]}`)
  }
}
process.stdout.write(lines.join('\n') + '\n')
