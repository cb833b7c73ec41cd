// lib0_vectors.mjs: writes tests/crdt/lib0_vectors.json, byte vectors from
// the real lib0 (the encoding library under yjs) that tests/unit/
// crdt_lib0_vectors_test.c checks src/crdt/ against, both ways: our
// encoders must give these bytes and our decoders these values.
//
// Regenerate (lib0 and yjs in a throwaway prefix, nothing added to tests/):
//   npm install --prefix /tmp/lib0v lib0@^0.2 yjs@13.6.33
//   LIB0_DIR=/tmp/lib0v/node_modules/lib0 YJS_DIR=/tmp/lib0v/node_modules/yjs \
//       node tests/crdt/lib0_vectors.mjs > tests/crdt/lib0_vectors.json
//
// Values are described so C can rebuild them exactly: numbers as the hex
// of their float64 bits (keeps -0 and NaN), bigints and large integers as
// decimal strings, bytes as hex, "any" values as tagged trees.
import { readFileSync } from 'node:fs'

const dir = process.env.LIB0_DIR || 'lib0'
const enc = await import(`${dir}/encoding.js`)
const dec = await import(`${dir}/decoding.js`)
const version = dir === 'lib0' ? 'lib0' : JSON.parse(readFileSync(`${dir}/package.json`)).version

const hex = (u8) => Buffer.from(u8).toString('hex')
const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'))
const f64hex = (x) => {
  const dv = new DataView(new ArrayBuffer(8))
  dv.setFloat64(0, x)
  return hex(new Uint8Array(dv.buffer))
}
const encode = (f) => { const e = enc.createEncoder(); f(e); return enc.toUint8Array(e) }
const check = (cond, what) => { if (!cond) throw new Error(`lib0 disagrees with itself: ${what}`) }

// A tagged tree of a JavaScript value as readAny returns it.
const describe = (v) => {
  if (v === undefined) return ['undefined']
  if (v === null) return ['null']
  switch (typeof v) {
    case 'boolean': return ['bool', v]
    case 'number': return ['number', f64hex(v)]
    case 'bigint': return ['bigint', v.toString()]
    case 'string': return ['string', v]
  }
  if (v instanceof Uint8Array) return ['binary', hex(v)]
  if (Array.isArray(v)) return ['array', v.map(describe)]
  return ['object', Object.keys(v).map((k) => [k, describe(v[k])])]
}

// The inverse of describe, for values a vector script names.
const undescribe = ([tag, arg]) => {
  switch (tag) {
    case 'undefined': return undefined
    case 'null': return null
    case 'bool': return arg
    case 'number': return new DataView(unhex(arg).buffer).getFloat64(0)
    case 'bigint': return BigInt(arg)
    case 'string': return arg
    case 'binary': return unhex(arg)
    case 'array': return arg.map(undescribe)
  }
  return Object.fromEntries(arg.map(([k, v]) => [k, undescribe(v)]))
}

// JSON.stringify's text, or null when it has none (undefined) or throws
// (bigint): the C test then skips the JSON check.
const jsonOf = (v) => {
  try {
    const s = JSON.stringify(v)
    return s === undefined ? null : s
  } catch { return null }
}

const P2 = (n) => 2 ** n
const uints = [0, 1, 2, 63, 64, 127, 128, 255, 256, 300, 8191, 8192, 16383, 16384, P2(21) - 1,
  P2(21), P2(28), P2(31) - 1, P2(31), P2(32) - 1, P2(32), P2(35), P2(42), P2(49), P2(52),
  P2(53) - 1]

const out = { generator: 'tests/crdt/lib0_vectors.mjs', lib0: version }

out.var_uint = uints.map((v) => ({ value: String(v), hex: hex(encode((e) => enc.writeVarUint(e, v))) }))
out.var_int = []
for (const v of uints) {
  for (const x of v === 0 ? [0, -0] : [v, -v]) {
    const bytes = encode((e) => enc.writeVarInt(e, x))
    const back = dec.readVarInt(dec.createDecoder(bytes))
    check(Object.is(back, x), `varint ${x}`)
    out.var_int.push({ value: Object.is(x, -0) ? '-0' : String(x), hex: hex(bytes) })
  }
}

const strings = ['', 'a', 'hello', 'é', 'ünïcödé', '日本語', '😀', 'a😀b𝄞c', '\u0000', '\u2028\u2029',
  'x'.repeat(200), '€'.repeat(100)]
out.var_string = strings.map((s) => ({ value: s, hex: hex(encode((e) => enc.writeVarString(e, s))) }))

const floats = [0, -0, 1, -1, 1.5, -2.5, 0.1, 1 / 3, 3.4028234663852886e38, 1.401298464324817e-45,
  1e-40, 123456.789, 16777217, Infinity, -Infinity, NaN]
out.float32 = floats.map((x) => {
  const bytes = encode((e) => enc.writeFloat32(e, x))
  return { in: f64hex(x), hex: hex(bytes), out: f64hex(dec.readFloat32(dec.createDecoder(bytes))) }
})
out.float64 = floats.concat([5e-324, 1.7976931348623157e308, 1e300, Math.PI]).map((x) => ({
  value: f64hex(x), hex: hex(encode((e) => enc.writeFloat64(e, x)))
}))
const bigints = [0n, 1n, -1n, 255n, -256n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]
out.bigint64 = bigints.map((v) => ({ value: v.toString(), hex: hex(encode((e) => enc.writeBigInt64(e, v))) }))

// writeAny, then readAny: the vector holds what lib0 reads back (JavaScript
// reorders object keys), and lib0 must write that back to the same bytes.
let deep = 'bottom'
for (let i = 0; i < 20; i++) deep = i % 2 ? [deep] : { d: deep }
const anys = [undefined, null, true, false, 0, -0, 1, -1, 63, 64, -64, 127, 128, 1000, -1000,
  P2(31) - 1, -(P2(31) - 1), P2(31), -P2(31), P2(32), P2(40) + 1, P2(53) - 1, -(P2(53) - 1),
  0.5, -0.5, 0.1, 1 / 3, 1e21, 1e-7, 123.456, 1.5e-7, 3.4028234663852886e38, 1e300, 5e-324,
  16777217, NaN, Infinity, -Infinity, 10n, -10n, 2n ** 63n - 1n,
  ...strings.map((s) => s), 'quote"back\\slash\n\t\u0001\u001f',
  new Uint8Array(0), new Uint8Array([0, 1, 2, 255]),
  [], [1, 'a', null, undefined, true, 0.25, []], {}, { a: 1, b: [1, 2, { c: 'd' }] },
  { 2: 'two', 1: 'one', b: 'b', a: 'a', '01': 'zero-one', 4294967294: 'max', 4294967295: 'not' },
  { u: undefined, n: null, '😀': 'astral key', '': 'empty key' },
  [new Uint8Array([7]), { bin: new Uint8Array([8, 9]) }], deep]
out.any = anys.map((v) => {
  const bytes = encode((e) => enc.writeAny(e, v))
  const back = dec.readAny(dec.createDecoder(bytes))
  check(hex(encode((e) => enc.writeAny(e, back))) === hex(bytes), `any ${String(v)}`)
  return { value: describe(back), hex: hex(bytes), json: jsonOf(back) }
})

// Bytes lib0 never writes but reads: what it builds, and how it writes that.
const anyIn = [
  '7c3f800000', // float32 1.0 -> the integer 1
  '7b4000000000000000', // float64 2.0 -> the integer 2
  '7b3fe0000000000000', // float64 0.5 -> float32
  '7c7f800001', // float32 NaN with a payload -> canonical float64 NaN
  '7d818000', // var-int 1 padded with a zero group
  '7d8080808080808001', // var-int 2^48 -> float32
  '7d40', // -0
  '7603017a7d01' + '01337d02' + '017a7d03', // duplicate "z": first place, last value; "3" first
  '7602095f5f70726f746f5f5f7e' + '01617d01', // "__proto__": null sets the prototype, no own key
  '7602095f5f70726f746f5f5f7d05' + '01617d01', // "__proto__": 5 is ignored
  '760301327600' + '0131760001617600', // index keys reorder: {"1":.., "2":.., a}
]
out.any_decode = anyIn.map((h) => {
  const back = dec.readAny(dec.createDecoder(unhex(h)))
  return { in: h, value: describe(back), hex: hex(encode((e) => enc.writeAny(e, back))), json: jsonOf(back) }
})

// The update-v2 column codecs (lib0 encoding.js), each fed a sequence.
let seed = 42
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
const randSeq = (len, f) => Array.from({ length: len }, f)
const runs = (len, vals) => { const r = []; while (r.length < len) { const v = vals(); for (let k = 1 + rand(4); k > 0; k--) r.push(v) } return r.slice(0, len) }

const rleU8 = [[], [0], [1], [1, 1, 1], [1, 2, 2, 3, 3, 3, 0], [5, 5, 6], runs(300, () => rand(3))]
out.rle_u8 = rleU8.map((seq) => {
  const e = new enc.RleEncoder(enc.writeUint8)
  seq.forEach((v) => e.write(v))
  return { values: seq, hex: hex(enc.toUint8Array(e)) }
})
const uintSeqs = [[], [0], [0, 0], [0, 0, 0, 1], [5], [5, 5, 5, 1, 2, 3, 3], [P2(53) - 1, 0, 0],
  [1, 2, 3, 4, 5], runs(300, () => rand(2) ? rand(5) : rand(100000)), [0, 1, 0, 1]]
const column = (E, seq) => { const e = new E(); seq.forEach((v) => e.write(v)); return hex(e.toUint8Array()) }
out.uint_opt_rle = uintSeqs.map((seq) => ({ values: seq.map(String), hex: column(enc.UintOptRleEncoder, seq) }))
const incSeqs = [[], [0], [0, 1, 2, 3], [5, 6, 7, 1, 2], [3, 3], [7, 9, 10, 11, 0, 1],
  runs(200, () => rand(50)).map((v, i) => i + (v < 5 ? v : 0))]
out.inc_uint_opt_rle = incSeqs.map((seq) => ({ values: seq.map(String), hex: column(enc.IncUintOptRleEncoder, seq) }))
const intSeqs = [[], [0], [0, 0, 0], [1, 2, 3, 4], [10, 5, 0, -5, -10], [100, 101, 102, 50, 51],
  [P2(51), P2(51) + 1, 0], [-(P2(40)), 0], [P2(51) - 1, -(P2(51) - 1)], randSeq(300, () => rand(1000) - 500),
  runs(300, () => rand(10)).map((v, i) => i * 3 + v)]
out.int_diff_opt_rle = intSeqs.map((seq) => ({ values: seq.map(String), hex: column(enc.IntDiffOptRleEncoder, seq) }))
const strSeqs = [[], [''], ['a', 'bc', ''], ['😀', 'x', '😀😀'], ['hello world, more than 19', 'é', 'key'],
  randSeq(100, () => ['a', 'bb', 'é', '😀', '', '日本'][rand(6)].repeat(1 + rand(3)))]
out.string = strSeqs.map((seq) => {
  const e = new enc.StringEncoder()
  seq.forEach((s) => e.write(s))
  const bytes = e.toUint8Array()
  const d = new dec.StringDecoder(bytes)
  seq.forEach((s) => check(d.read() === s, 'string column'))
  return { values: seq, hex: hex(bytes) }
})

// Numbers as JSON.stringify prints them: random doubles of every magnitude
// (random bits), short decimals, and integers around 2^53 and 1e21.
{
  const nums = []
  const dv = new DataView(new ArrayBuffer(8))
  for (let i = 0; i < 1500; i++) {
    dv.setUint32(0, rand(2 ** 31) * 2 + rand(2)); dv.setUint32(4, rand(2 ** 31) * 2 + rand(2))
    const x = dv.getFloat64(0)
    if (Number.isFinite(x)) nums.push(x)
  }
  for (let i = 0; i < 300; i++) nums.push(rand(100000) / 10 ** rand(12), (rand(2 ** 30) + 1) * 10 ** (rand(40) - 20))
  for (let i = -3; i <= 3; i++) nums.push(2 ** 53 + i * 2, 1e21 + i * 2 ** 17, -(2 ** 53) - i * 2)
  out.json_numbers = nums.map((x) => [f64hex(x), JSON.stringify(x)])
}

// Yjs's field coders (UpdateEncoderV1/V2) fed one script of field writes:
// the C coders must write the same bytes and read the same fields back.
const Y = await import(process.env.YJS_DIR ? `${process.env.YJS_DIR}/src/index.js` : 'yjs')
const fieldOps = [['client', 5], ['left', 5, 0], ['right', 5, 3], ['info', 0x84], ['string', 'hello'],
  ['parent', true], ['parent', false], ['typeRef', 3], ['len', 7], ['any', describe({ a: [1, 'x'] })],
  ['buf', '00ff10'], ['json', describe({ bold: true, n: 1.5, s: 'é\n' })], ['json', describe(null)],
  ['key', 'k1'], ['key', 'k1'], ['key', '😀'], ['string', 'a😀b'], ['rest', 17],
  ['dsReset'], ['dsClock', 3], ['dsLen', 2], ['dsClock', 10], ['dsLen', 5], ['dsReset'], ['dsClock', 0], ['dsLen', 1]]
const kinds = ['client', 'left', 'right', 'info', 'string', 'parent', 'typeRef', 'len', 'key', 'rest']
for (let i = 0; i < 400; i++) {
  const k = kinds[rand(kinds.length)]
  const small = () => rand(4) ? rand(8) : rand(1 << 30)
  if (k === 'left' || k === 'right') fieldOps.push([k, small(), small()])
  else if (k === 'string' || k === 'key') fieldOps.push([k, ['', 'a', 'key', 'é', '😀'][rand(5)]])
  else if (k === 'parent') fieldOps.push([k, rand(2) === 1])
  else if (k === 'info') fieldOps.push([k, rand(256)])
  else fieldOps.push([k, small()])
}
const runFields = (enc2) => {
  const e = enc2 ? new Y.UpdateEncoderV2() : new Y.UpdateEncoderV1()
  for (const [op, a, b] of fieldOps) {
    switch (op) {
      case 'client': e.writeClient(a); break
      case 'left': e.writeLeftID(Y.createID(a, b)); break
      case 'right': e.writeRightID(Y.createID(a, b)); break
      case 'info': e.writeInfo(a); break
      case 'string': e.writeString(a); break
      case 'parent': e.writeParentInfo(a); break
      case 'typeRef': e.writeTypeRef(a); break
      case 'len': e.writeLen(a); break
      case 'any': e.writeAny(dec.readAny(dec.createDecoder(encode((x) => enc.writeAny(x, undescribe(a)))))); break
      case 'buf': e.writeBuf(unhex(a)); break
      case 'json': e.writeJSON(undescribe(a)); break
      case 'key': e.writeKey(a); break
      case 'rest': enc.writeVarUint(e.restEncoder, a); break
      case 'dsReset': e.resetDsCurVal(); break
      case 'dsClock': e.writeDsClock(a); break
      case 'dsLen': e.writeDsLen(a); break
    }
  }
  return hex(e.toUint8Array())
}
out.update_fields = { ops: fieldOps, v1: runFields(false), v2: runFields(true) }

// Whole updates from Yjs documents with every kind of content, in both
// formats, and Yjs's own conversions of them (Y.convertUpdateFormat*).
const docs = []
const addDoc = (name, v1, v2) => docs.push({
  name,
  v1: hex(v1),
  v2: hex(v2),
  v1tov2: hex(Y.convertUpdateFormatV1ToV2(v1)),
  v2tov1: hex(Y.convertUpdateFormatV2ToV1(v2))
})
const fill = (doc) => {
  const text = doc.getText('text')
  text.insert(0, 'hello wörld 😀')
  text.format(0, 5, { bold: true })
  text.insertEmbed(3, { image: 'x.png', size: [1, 2.5] })
  text.delete(7, 2)
  const map = doc.getMap('map')
  map.set('n', 42)
  map.set('f', 0.1)
  map.set('o', { a: [1, null, 'x'], b: -0 })
  map.set('bin', new Uint8Array([1, 2, 3]))
  map.set('big', 2 ** 40)
  const inner = new Y.Map()
  map.set('inner', inner)
  inner.set('k', 'v')
  map.set('n', 43)
  map.delete('f')
  map.set('sub', new Y.Doc({ guid: 'sub-guid' }))
  const arr = doc.getArray('arr')
  arr.insert(0, [1, 'two', { three: 3 }, [4], true, null])
  arr.delete(1, 2)
  arr.push([new Y.Text('nested')])
  const xml = doc.getXmlFragment('xml')
  const el = new Y.XmlElement('p')
  xml.insert(0, [el, new Y.XmlText('text')])
  el.setAttribute('class', 'c')
  el.insert(0, [new Y.XmlText('inside')])
  if (Y.XmlHook) xml.insert(0, [new Y.XmlHook('hook')])
}
for (const gc of [true, false]) {
  const doc = new Y.Doc({ gc })
  doc.clientID = 7
  fill(doc)
  addDoc(`one client, gc ${gc}`, Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdateV2(doc))
}
{
  // Two clients editing concurrently, then synced.
  const a = new Y.Doc(); a.clientID = 1
  const b = new Y.Doc(); b.clientID = 2
  fill(a)
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  a.getText('text').insert(2, 'AAA')
  b.getText('text').insert(2, 'BBB')
  b.getArray('arr').delete(0, 1)
  a.getMap('map').set('n', 'a')
  b.getMap('map').set('n', 'b')
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  addDoc('two clients', Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdateV2(a))
}
{
  // Updates merged with a gap: Y.mergeUpdates writes a Skip struct.
  const doc = new Y.Doc(); doc.clientID = 3
  const ups = []
  const ups2 = []
  doc.on('update', (u) => ups.push(u))
  doc.on('updateV2', (u) => ups2.push(u))
  const t = doc.getText('t')
  t.insert(0, 'abc')
  t.insert(3, 'def')
  t.insert(6, 'ghi')
  addDoc('merge with a gap', Y.mergeUpdates([ups[0], ups[2]]), Y.mergeUpdatesV2([ups2[0], ups2[2]]))
  addDoc('one transaction', ups[1], ups2[1])
}
addDoc('empty doc', Y.encodeStateAsUpdate(new Y.Doc()), Y.encodeStateAsUpdateV2(new Y.Doc()))
out.updates = docs

process.stdout.write(JSON.stringify(out, null, 1) + '\n')
