// Normalisation of Yjs v1 updates for comparisons (see README.md, "Why
// normalise"). Two encodings of the same document content may cut the same
// clock ranges into different structs: Yjs splits an item when something
// is inserted inside it or part of it is deleted, merges neighbours only
// when a transaction touched them, and a diff or merge slices items at
// state-vector boundaries. So updates are compared unit by unit: every
// struct is cut into one entry per clock (an Item of length n becomes n
// entries, entry k > 0 having entry k-1 as its origin, exactly as Yjs
// encodes an item sliced at k), Skip structs (gaps) are dropped, and the
// delete set becomes sorted, merged ranges. What is compared is therefore
// every clock's id, origins, parent, key, content kind and value: all that
// decides how Yjs integrates it; only the cutting is left out.
import * as Y from 'yjs'

const id = (i) => (i ? `${i.client}.${i.clock}` : '-')

// JSON with what JSON drops made visible: -0, undefined, binaries, bigints.
export const valueKey = (v) =>
  JSON.stringify(v, (k, x) => {
    if (Object.is(x, -0)) return '<-0>'
    if (x === undefined) return '<undefined>'
    if (typeof x === 'bigint') return `<bigint ${x}>`
    if (x instanceof Uint8Array) return `<bin ${Buffer.from(x).toString('hex')}>`
    return x
  }) ?? '<undefined>'

const typeName = (t) => {
  // subclasses first: XmlText is a Text, XmlElement a XmlFragment, XmlHook a Map
  if (t instanceof Y.XmlText) return 'XmlText'
  if (t instanceof Y.XmlElement) return `XmlElement<${t.nodeName}>`
  if (t instanceof Y.XmlHook) return `XmlHook<${t.hookName}>`
  if (t instanceof Y.XmlFragment) return 'XmlFragment'
  if (t instanceof Y.Text) return 'Text'
  if (t instanceof Y.Map) return 'Map'
  if (t instanceof Y.Array) return 'Array'
  return 'type?'
}

// The per-clock values of one item's content.
const contentUnits = (c) => {
  if (c instanceof Y.ContentString) return [...Array(c.str.length)].map((_, i) => 'str ' + JSON.stringify(c.str[i]))
  if (c instanceof Y.ContentAny) return c.arr.map((v) => 'any ' + valueKey(v))
  if (c instanceof Y.ContentJSON) return c.arr.map((v) => 'json ' + valueKey(v))
  if (c instanceof Y.ContentDeleted) return Array(c.len).fill('deleted')
  if (c instanceof Y.ContentBinary) return ['binary ' + valueKey(c.content)]
  if (c instanceof Y.ContentEmbed) return ['embed ' + valueKey(c.embed)]
  if (c instanceof Y.ContentFormat) return [`format ${JSON.stringify(c.key)} ${valueKey(c.value)}`]
  if (c instanceof Y.ContentType) return ['type ' + typeName(c.type)]
  if (c instanceof Y.ContentDoc) return [`doc ${c.doc.guid} ${valueKey(c.opts)}`]
  return ['content?']
}

// update (v1 bytes) -> {units: [string], ds: [string]}, both sorted.
export const canon = (update) => {
  const { structs, ds } = Y.decodeUpdate(update)
  const units = new Set()
  for (const s of structs) {
    const { client, clock } = s.id
    if (s instanceof Y.Skip) continue
    if (s instanceof Y.GC) {
      for (let k = 0; k < s.length; k++) units.add(`${client}.${clock + k} gc`)
      continue
    }
    const parent = typeof s.parent === 'string' ? 'root:' + s.parent : id(s.parent)
    contentUnits(s.content).forEach((value, k) => {
      const head = k === 0
        ? `o=${id(s.origin)} r=${id(s.rightOrigin)} p=${s.origin || s.rightOrigin ? '-' : parent} k=${s.parentSub ?? '-'}`
        : `o=${client}.${clock + k - 1} r=${id(s.rightOrigin)} p=- k=-`
      units.add(`${client}.${clock + k} ${head} ${value}`)
    })
  }
  const ranges = []
  for (const [client, items] of ds.clients) {
    const sorted = [...items].sort((a, b) => a.clock - b.clock)
    let cur = null
    for (const { clock, len } of sorted) {
      if (cur && clock <= cur.end) cur.end = Math.max(cur.end, clock + len)
      else ranges.push((cur = { client, clock, end: clock + len }))
    }
  }
  const byId = (a, b) => {
    const [ca, ka] = a.split(' ')[0].split('.').map(Number)
    const [cb, kb] = b.split(' ')[0].split('.').map(Number)
    return ca - cb || ka - kb
  }
  return {
    units: [...units].sort(byId),
    ds: ranges.map((r) => `${r.client}.${r.clock}+${r.end - r.clock}`).sort(byId)
  }
}

// null when a and b (v1 updates) are equal after normalisation, else a
// short description of the first difference.
export const canonDiff = (a, b) => {
  const x = canon(a)
  const y = canon(b)
  for (const part of ['units', 'ds']) {
    const n = Math.max(x[part].length, y[part].length)
    for (let i = 0; i < n; i++) {
      if (x[part][i] !== y[part][i]) {
        return `${part}[${i}] of ${x[part].length}/${y[part].length}: engine ${x[part][i] ?? '(none)'} | yjs ${y[part][i] ?? '(none)'}`
      }
    }
  }
  return null
}
