// merge_vectors.mjs: writes tests/crdt/merge_vectors.json, the outputs of
// the real Yjs's document-free update operations (Y.mergeUpdates,
// Y.diffUpdate, Y.encodeStateVectorFromUpdate, Y.parseUpdateMeta and their
// V2 forms) on updates from random documents, which
// tests/unit/crdt_merge_test.c checks src/crdt/update_ops.c against byte
// for byte.
//
// Regenerate (yjs in a throwaway prefix, nothing added to tests/):
//   npm install --prefix /tmp/yjsm yjs@13.6.33
//   YJS_DIR=/tmp/yjsm/node_modules/yjs node tests/crdt/merge_vectors.mjs \
//       > tests/crdt/merge_vectors.json
//
// Each case: several clients edit Text, Map, Array and Xml types
// concurrently (inserts, deletes, formatting, embeds, nested types, a
// subdocument), syncing now and then; every transaction's update is kept
// (v1 and v2). The updates are cut into random groups, each group merged,
// then the partial merges merged again; diffs are taken against state
// vectors of other replicas and of partial merges. Bytes are hex.
const dir = process.env.YJS_DIR || 'yjs'
const Y = await import(`${dir}/src/index.js`)

let seed = 0x2545f491
const rnd = () => { // xorshift32, so the file is reproducible
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed / 4294967296
}
const ri = (n) => Math.floor(rnd() * n)
const pick = (a) => a[ri(a.length)]
const hex = (u8) => Buffer.from(u8).toString('hex')
const words = ['a', 'bc', 'hello', 'ü', 'x😀y', '😀', 'line\n', 'zz', '中文']

const edit = (doc) => {
  const t = doc.getText('text')
  const m = doc.getMap('map')
  const a = doc.getArray('array')
  const x = doc.getXmlFragment('xml')
  doc.transact(() => {
    const ops = 1 + ri(3)
    for (let k = 0; k < ops; k++) {
      switch (ri(12)) {
        case 0: case 1: t.insert(ri(t.length + 1), pick(words)); break
        case 2: if (t.length) { const p = ri(t.length); t.delete(p, 1 + ri(Math.min(4, t.length - p))) } break
        case 3: t.insert(ri(t.length + 1), pick(words), ri(2) ? { bold: true } : { italic: ri(9), color: pick(['red', null]) }); break
        case 4: if (t.length) { const p = ri(t.length); t.format(p, 1 + ri(t.length - p), { bold: ri(2) ? true : null }) } break
        case 5: if (ri(3)) t.insertEmbed(ri(t.length + 1), { img: pick(words), w: ri(100) }); else m.set('doc' + ri(2), new Y.Doc({ guid: 'g' + ri(1e6), meta: ri(2) ? { k: 1 } : null, autoLoad: ri(2) === 1 })); break
        case 6: m.set(pick(['k1', 'k2', 'k3']), pick([1, 'str', true, null, [1, 2], { o: 1.5 }, new Uint8Array([1, 2, 3])])); break
        case 7: if (m.size) m.delete(pick([...m.keys()])); else m.set('n', new Y.Map()); break
        case 8: a.insert(ri(a.length + 1), Array.from({ length: 1 + ri(4) }, () => pick([ri(1000), 'v', -2.5, false, { a: [1] }]))); break
        case 9: if (a.length) { const p = ri(a.length); a.delete(p, 1 + ri(Math.min(3, a.length - p))) } else a.push([new Y.Array()]); break
        case 10: {
          const e = new Y.XmlElement(pick(['p', 'div']))
          e.setAttribute('class', pick(['c1', 'c2']))
          const xt = new Y.XmlText()
          e.insert(0, [xt])
          xt.insert(0, pick(words))
          x.insert(ri(x.length + 1), [e])
          break
        }
        case 11: if (x.length) x.delete(ri(x.length), 1); else x.insert(0, [new Y.XmlText('t')]); break
      }
    }
  })
}

// Cuts list into random consecutive groups (shuffled first when asked).
const groups = (list, shuffle) => {
  const l = list.slice()
  if (shuffle) for (let i = l.length - 1; i > 0; i--) { const j = ri(i + 1); [l[i], l[j]] = [l[j], l[i]] }
  const out = []
  for (let i = 0; i < l.length;) { const n = 1 + ri(5); out.push(l.slice(i, i + n)); i += n }
  return out
}

const cases = []
for (let c = 0; c < 40; c++) {
  const nclients = 2 + ri(3)
  const gc = c % 3 !== 0
  const docs = Array.from({ length: nclients }, (_, i) => { const d = new Y.Doc({ gc }); d.clientID = 1 + i * 7 + ri(3) * 1000 + (c % 5 === 0 ? 4294967000 : 0); return d })
  const v1 = []; const v2 = []
  docs.forEach((d) => {
    d.on('update', (u, origin) => { if (origin !== 'sync') v1.push(u) })
    d.on('updateV2', (u, origin) => { if (origin !== 'sync') v2.push(u) })
  })
  const svs = []
  const steps = 5 + ri(18)
  for (let s = 0; s < steps; s++) {
    edit(pick(docs))
    if (ri(4) === 0) { // one replica catches up with another
      const a = pick(docs); const b = pick(docs)
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'sync')
    }
    if (ri(3) === 0) svs.push(Y.encodeStateVector(pick(docs)))
  }
  // v1 and v2 updates are the same transactions, in the same order
  const idx = v1.map((_, i) => i)
  const parts = groups(idx, c % 2 === 1)
  const merge = (ix, V2) => V2 ? Y.mergeUpdatesV2(ix.map((i) => v2[i])) : Y.mergeUpdates(ix.map((i) => v1[i]))
  const partial1 = parts.map((g) => merge(g, false))
  const partial2 = parts.map((g) => merge(g, true))
  const merges = []
  for (const g of parts) merges.push({ in: g.map((i) => hex(v1[i])), in2: g.map((i) => hex(v2[i])), out: hex(merge(g, false)), out2: hex(merge(g, true)) })
  merges.push({ in: partial1.map(hex), in2: partial2.map(hex), out: hex(Y.mergeUpdates(partial1)), out2: hex(Y.mergeUpdatesV2(partial2)) })
  const all1 = Y.mergeUpdates(v1); const all2 = Y.mergeUpdatesV2(v2)
  merges.push({ in: v1.map(hex), in2: v2.map(hex), out: hex(all1), out2: hex(all2) })
  // a document's own state, with gc'd structs when gc is on
  const full1 = Y.encodeStateAsUpdate(docs[0]); const full2 = Y.encodeStateAsUpdateV2(docs[0])
  // ... merged with transactions it has seen: a GC and an item at one id
  for (let k = 0; k < 2; k++) {
    const ix = groups(idx, true)[0]
    const pos = ri(ix.length + 1)
    const in1 = ix.map((i) => v1[i]); const in2 = ix.map((i) => v2[i])
    in1.splice(pos, 0, full1); in2.splice(pos, 0, full2)
    merges.push({ in: in1.map(hex), in2: in2.map(hex), out: hex(Y.mergeUpdates(in1)), out2: hex(Y.mergeUpdatesV2(in2)) })
  }
  svs.splice(3)
  for (let k = 0; k < 2; k++) svs.push(Y.encodeStateVectorFromUpdate(pick(partial1)))
  svs.push(new Uint8Array([0]))
  const diffs = []
  const sources = [[all1, all2], [full1, full2], [pick(partial1), null], [v1[ri(v1.length)], null]]
  for (const sv of svs) {
    for (const [u1, u2v] of sources) {
      const u2 = u2v || Y.convertUpdateFormatV1ToV2(u1)
      diffs.push({ in: hex(u1), in2: hex(u2), sv: hex(sv), out: hex(Y.diffUpdate(u1, sv)), out2: hex(Y.diffUpdateV2(u2, sv)) })
    }
  }
  const svOf = []
  for (const u of [all1, full1, ...partial1, ...v1.slice(0, 3)]) {
    const u2 = Y.convertUpdateFormatV1ToV2(u)
    const meta = Y.parseUpdateMeta(u)
    svOf.push({ in: hex(u), in2: hex(u2), sv: hex(Y.encodeStateVectorFromUpdate(u)), sv2: hex(Y.encodeStateVectorFromUpdateV2(u2)), from: [...meta.from], to: [...meta.to] })
  }
  cases.push({ name: `case ${c} (${nclients} clients, gc ${gc})`, merges, diffs, svs: svOf })
}
// A long session: merges of more than 64 updates (Yjs's sort is then a
// real TimSort), alone and with a gc'd state among them.
{
  const docs = [1, 2, 3].map((id) => { const d = new Y.Doc(); d.clientID = id * 11; return d })
  const v1 = []; const v2 = []
  docs.forEach((d) => {
    d.on('update', (u, origin) => { if (origin !== 'sync') v1.push(u) })
    d.on('updateV2', (u, origin) => { if (origin !== 'sync') v2.push(u) })
  })
  for (let s = 0; s < 150; s++) {
    edit(pick(docs))
    if (ri(5) === 0) { const a = pick(docs); const b = pick(docs); Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'sync') }
  }
  const merges = [{ in: v1.map(hex), in2: v2.map(hex), out: hex(Y.mergeUpdates(v1)), out2: hex(Y.mergeUpdatesV2(v2)) }]
  const r1 = v1.slice().reverse(); const r2 = v2.slice().reverse()
  merges.push({ in: r1.map(hex), in2: r2.map(hex), out: hex(Y.mergeUpdates(r1)), out2: hex(Y.mergeUpdatesV2(r2)) })
  { // a gc'd state among them: GC/item ties past 64 readers (docs/crdt.md)
    const g = new Y.Doc({ gc: true }); Y.applyUpdate(g, Y.mergeUpdates(v1))
    const m1 = v1.slice(); const m2 = v2.slice()
    m1.splice(70, 0, Y.encodeStateAsUpdate(g)); m2.splice(70, 0, Y.encodeStateAsUpdateV2(g))
    merges.push({ in: m1.map(hex), in2: m2.map(hex), out: hex(Y.mergeUpdates(m1)), out2: hex(Y.mergeUpdatesV2(m2)) })
  }
  cases.push({ name: `long session (${v1.length} updates)`, merges, diffs: [], svs: [] })
}

// Crafted updates (v1) that Yjs never writes but must take: a map item of
// three units cut by a GC or a state vector (the cut keeps the parent-sub
// flag), a GC and an item at one id in every order, a string cut inside a
// surrogate pair.
{
  const u = (...b) => new Uint8Array(b)
  const gc01 = u(1, 1, 1, 0, 0, 1, 0) // client 1: GC [0,1)
  const gc02 = u(1, 1, 1, 0, 0, 2, 0) // client 1: GC [0,2)
  const sub = u(1, 1, 1, 0, 0x24, 1, 1, 109, 1, 107, 3, 97, 98, 99, 0) // "abc" in m[k]
  const emoji = u(1, 1, 1, 0, 4, 1, 1, 116, 6, 120, 0xf0, 0x9f, 0x98, 0x80, 121, 0) // "x😀y" in t
  const sets = [[gc01, sub], [sub, gc01], [gc02, sub, gc01], [sub, gc02, gc01], [gc01, gc02, sub], [emoji, gc02], [gc02, emoji], [emoji, sub, gc01]]
  const merges = sets.map((ins) => {
    const ins2 = ins.map((x) => Y.convertUpdateFormatV1ToV2(x))
    return { in: ins.map(hex), in2: ins2.map(hex), out: hex(Y.mergeUpdates(ins)), out2: hex(Y.mergeUpdatesV2(ins2)) }
  })
  const diffs = []
  for (const x of [sub, emoji]) {
    for (let k = 0; k < 5; k++) {
      const sv = u(1, 1, k)
      diffs.push({ in: hex(x), in2: hex(Y.convertUpdateFormatV1ToV2(x)), sv: hex(sv), out: hex(Y.diffUpdate(x, sv)), out2: hex(Y.diffUpdateV2(Y.convertUpdateFormatV1ToV2(x), sv)) })
    }
  }
  cases.push({ name: 'crafted', merges, diffs, svs: [] })
}

process.stdout.write(JSON.stringify({ yjs: JSON.parse((await import('node:fs')).readFileSync(`${dir}/package.json`)).version, cases }, null, 0) + '\n')
