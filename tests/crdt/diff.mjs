// Differential test of a CRDT engine against Yjs (issue 5; README.md).
//
//   node tests/crdt/diff.mjs [--engine CMD] [--cases N] [--seed S]
//        [--time-limit SECONDS] [--case I] [--shrink-seconds S] [--verbose]
//        [--kinds text,format,map,array,xml] [--gc 0|1]
//
// Each case: K Yjs docs ("peers") edit Text, Map, Array and Xml content,
// nested types included, and sync in random, partial, duplicated and
// out-of-order ways while some are offline. The engine under test then gets
// every update in another random order (some merged, some as v2, a few
// corrupted) and makes edits of its own, and every answer it gives is
// compared with a shadow: the reference engine (yref.mjs) run in-process on
// exactly the same command lines. At the end the engine's state vector,
// JSON and state are compared with the peers' converged doc, its diffs with
// each peer's state, and its edits are replayed into Yjs docs.
// On a mismatch: seed, case, the command log cut down to a short
// reproduction, exit 1; the same, exit 2, when the engine dies or hangs.
import * as Y from 'yjs'
import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { tmpdir } from 'node:os'
import { Engine, EngineError, b64, unb64 } from './engine.mjs'
import { RefEngine } from './yref.mjs'
import { canonDiff } from './canon.mjs'
import { Rand } from './rand.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const { values: opt } = parseArgs({
  options: {
    engine: { type: 'string', default: process.env.SITEBASE_CRDT_ENGINE || `node ${join(here, 'yref.mjs')}` },
    cases: { type: 'string', default: '200' },
    seed: { type: 'string' },
    'time-limit': { type: 'string', default: '60' },
    case: { type: 'string' },
    'shrink-seconds': { type: 'string', default: '30' },
    verbose: { type: 'boolean', default: false },
    // what the peers and the engine edit: plain text, formatting (text
    // attributes, format, embeds), maps, arrays, XML; to look at one part of
    // an engine while another is known to be wrong
    kinds: { type: 'string', default: 'text,format,map,array,xml' },
    // force every case's gc setting (snapshots need gc 0)
    gc: { type: 'string' }
  }
})
const KINDS = new Set(opt.kinds.split(','))
for (const k of KINDS) if (!['text', 'format', 'map', 'array', 'xml'].includes(k)) throw new Error(`unknown kind ${k}`)
const FORMAT = KINDS.has('format')
const SEED = opt.seed !== undefined ? Number(opt.seed) : (Math.random() * 2 ** 31) >>> 0
const ROOTS = ['t:Text', 'm:Map', 'a:Array', 'x:XmlFragment']
const ROOT_LIST = ROOTS.join(' ')

class Mismatch extends Error {}

// ---------------------------------------------------------------- content

const PIECES = ['a', 'b', 'xy', ' ', '\n', 'é', '中文', '😀', '👍🏽', '𝄞', 'q😀r']
const randText = (r) => r.times(r.int(1, 4), () => r.pick(PIECES)).join('')
const ATTRS = [{ bold: true }, { bold: null }, { italic: true }, { color: '#f00' }, { color: null }, { link: { href: 'x' } }]
const randAttrs = (r) => Object.assign({}, ...r.times(r.int(1, 2), () => r.pick(ATTRS)))
const NUMBERS = [0, 1, -1, 42, 127, 128, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2 ** 40), 0.5, -1.25, 1e300, 3.14159]
const KEYS = ['k', 'key2', 'ключ', '😀', '']

// A JSON value of any kind; `extra` adds what only JS can pass (binaries,
// undefined, -0), for the peers' edits, not for protocol edits.
const randValue = (r, depth = 0, extra = false) => {
  const n = r.int(0, depth > 1 ? 4 : 6)
  if (n === 0) return null
  if (n === 1) return r.chance(0.5)
  if (n === 2) return extra && r.chance(0.15) ? r.pick([-0, undefined]) : r.pick(NUMBERS)
  if (n === 3) return r.chance(0.2) ? '' : randText(r)
  if (n === 4) return extra && r.chance(0.3) ? new Uint8Array(r.times(r.int(0, 4), () => r.int(0, 255))) : 'str'
  if (n === 5) return r.times(r.int(0, 3), () => randValue(r, depth + 1, extra))
  const o = {}
  for (let i = r.int(0, 3); i > 0; i--) o[r.pick(KEYS)] = randValue(r, depth + 1, extra)
  return o
}

// A value for a peer's Map or Array: JSON, a binary, or a new nested type.
const randItem = (r) => {
  const n = r.int(0, 9)
  if (n === 0) return new Uint8Array(r.times(r.int(0, 5), () => r.int(0, 255)))
  if (n === 1 && KINDS.has('map')) return new Y.Map()
  if (n === 2 && KINDS.has('array')) return new Y.Array()
  if (n === 3 && KINDS.has('text')) {
    const t = new Y.Text()
    t.insert(0, randText(r))
    return t
  }
  return randValue(r, 0, true)
}

// Every shared type of a doc reachable from the roots: [type, kind].
const allTypes = (doc) => {
  const out = []
  const walk = (t) => {
    const kind = t instanceof Y.XmlText ? 'text' : t instanceof Y.Text ? 'text'
      : t instanceof Y.XmlElement ? 'xml' : t instanceof Y.XmlFragment ? 'xml'
        : t instanceof Y.Map ? 'map' : t instanceof Y.Array ? 'array' : null
    if (!kind) return
    out.push([t, kind])
    if (kind === 'map') for (const v of t.values()) walk(v)
    if (kind === 'array' || kind === 'xml') for (const v of t.toArray()) walk(v)
  }
  walk(doc.getText('t'))
  walk(doc.getMap('m'))
  walk(doc.getArray('a'))
  walk(doc.getXmlFragment('x'))
  return out
}

// Cutting a surrogate pair turns both halves into U+FFFD in the doc that
// cuts, and Yjs diverges when the cut does not travel (found by this
// harness; README.md): a format that changes nothing makes no update, and
// a delete of half a pair next to another delete travels as one merged
// range (which only shows in deleted content, so with gc off). So formats,
// and deletes with gc off, cover whole code points; inserts inside pairs
// and deletes of halves with gc on are tested.
const wholeCodePoints = (t, at, len) => {
  const flat = t.toDelta().map((d) => (typeof d.insert === 'string' ? d.insert : ' ')).join('')
  const mid = (k) => k > 0 && k < flat.length && /[\ud800-\udbff]/.test(flat[k - 1])
  const start = mid(at) ? at - 1 : at
  let end = at + len
  if (mid(end)) end++
  return [start, end - start]
}

// One random edit by a peer, on any of its types. Yjs may refuse an edit
// (it throws): that is fine, the doc stays consistent either way.
const peerEdit = (r, doc) => {
  const [t, kind] = r.pick(allTypes(doc).filter(([, k]) => KINDS.has(k)))
  const len = kind === 'text' ? t.length : kind === 'map' ? t.size : t.length
  const i = r.int(0, len)
  const span = () => r.int(0, Math.min(len - i, 4))
  if (kind === 'text') {
    let n = r.int(0, 9)
    if (n >= 8 && !FORMAT) n = 0
    if (n < 5) t.insert(i, randText(r), r.chance(0.3) && FORMAT ? randAttrs(r) : undefined)
    else if (n < 8) t.delete(...(doc.gc ? [i, span()] : wholeCodePoints(t, i, span())))
    else if (n < 9) {
      const [at, l] = wholeCodePoints(t, i, span())
      t.format(at, l, randAttrs(r))
    } else t.insertEmbed(i, { image: randText(r) }, r.chance(0.3) ? randAttrs(r) : undefined)
  } else if (kind === 'map') {
    const key = r.pick(KEYS)
    if (r.chance(0.75)) t.set(key, randItem(r))
    else t.delete(key)
  } else if (kind === 'array') {
    if (r.chance(0.65)) t.insert(i, r.times(r.int(1, 3), () => randItem(r)))
    else t.delete(i, span())
  } else {
    const n = r.int(0, 9)
    if (n < 3) {
      const el = new Y.XmlElement(r.pick(['p', 'div', 'span', 'H1']))
      if (r.chance(0.5)) el.setAttribute('class', randText(r))
      if (r.chance(0.3)) el.insert(0, [new Y.XmlText(randText(r))])
      t.insert(i, [el])
    } else if (n < 5) {
      const xt = new Y.XmlText()
      xt.insert(0, randText(r), r.chance(0.3) && FORMAT ? randAttrs(r) : undefined)
      t.insert(i, [xt])
    } else if (n < 7) t.delete(i, span())
    else if (t instanceof Y.XmlElement) {
      if (r.chance(0.7)) t.setAttribute(r.pick(['class', 'id', 'data-x']), randText(r))
      else t.removeAttribute(r.pick(['class', 'id', 'data-x']))
    }
  }
}

// ------------------------------------------------------------- the case

// One run of one case. `replay` (a list of command lines) replaces the
// random engine phase: used to cut a failing log down (see shrink()).
class Case {
  constructor (engine, caseNo, stats) {
    this.engine = engine
    this.caseNo = caseNo
    this.stats = stats
    this.r = new Rand(SEED, caseNo)
    // snapshots draw from their own stream, so taking them changes
    // nothing else a seed makes
    this.rs = new Rand(SEED ^ 0x5eed, caseNo)
    this.lines = [] // every line sent to the engine: the reproduction
    this.skipped = new Set() // commands the engine does not support
  }

  // Sends one line to the engine and to the shadow and compares answers.
  // Returns the engine's answer, or null when it answered `err unsupported`
  // (then the shadow is not told, and the caller takes another way).
  async both (line) {
    this.lastWant = null
    this.lines.push(line)
    const cmd = line.split(' ', 1)[0]
    const got = await this.engine.call(line)
    if (!got.ok && /^unsupported/.test(got.error)) {
      this.lines.pop()
      this.stats.skip(cmd, this.caseNo)
      this.skipped.add(cmd)
      return null
    }
    const want = parseAnswer(this.shadow.exec(line))
    this.lastWant = want
    const problem = compareAnswers(cmd, got, want)
    if (problem) throw new Mismatch(`${cmd}: ${problem}\n  engine: ${show(got)}\n  yjs:    ${show(want)}`)
    return got
  }

  async run (replay) {
    const r = this.r
    const gcDraw = r.chance(0.7)
    const gc = (this.gc = opt.gc === undefined ? gcDraw : opt.gc === '1')
    const k = r.int(2, 5)
    const ids = new Set()
    while (ids.size < k + 1) ids.add(r.chance(0.2) ? r.int(0, 20) : r.int(0, 2 ** 32 - 1))
    const [engineId, ...peerIds] = [...ids]
    this.engineId = engineId
    // --- the peers' session
    const peers = peerIds.map((cid) => {
      const d = new Y.Doc({ gc })
      d.clientID = cid
      return d
    })
    const messages = [] // every local transaction's update
    peers.forEach((d) => d.on('update', (u, _o, _d, tr) => tr.local && messages.push(u)))
    const extra = [] // sync messages: duplicates for the engine
    const offline = new Set()
    const sync = (from, to) => {
      const u = Y.encodeStateAsUpdate(from, Y.encodeStateVector(to))
      Y.applyUpdate(to, u)
      if (r.chance(0.3)) extra.push(u)
    }
    // snapshots of the peers mid-way (gc off): versions the engine never
    // was at, valid for it once it has everything
    this.peerSnapshots = []
    for (let step = r.int(10, 60); step > 0; step--) {
      if (!gc && this.rs.chance(0.1)) this.peerSnapshots.push(b64(Y.encodeSnapshot(Y.snapshot(this.rs.pick(peers)))))
      const p = r.pick(peers)
      const n = r.int(0, 19)
      if (n < 11) {
        p.transact(() => {
          for (let e = r.int(1, 3); e > 0; e--) {
            try { peerEdit(r, p) } catch { /* Yjs refused: part of the game */ }
          }
        })
      } else if (n < 15) {
        const q = r.pick(peers)
        if (q !== p && !offline.has(p) && !offline.has(q)) sync(p, q)
      } else if (n < 18) {
        // raw messages, any order, duplicates: dependencies may come later
        if (!offline.has(p)) for (const u of r.times(r.int(1, 4), () => r.pick(messages) || new Uint8Array([0, 0]))) Y.applyUpdate(p, u)
      } else if (offline.has(p)) offline.delete(p)
      else offline.add(p)
    }
    if (messages.length === 0) peers[0].getText('t').insert(0, 'z')
    for (let round = 0; round < 2; round++) for (const a of peers) for (const b of peers) if (a !== b) sync(a, b)
    const truth = peers[0]
    const want = canonJSON(rootsOf(truth))
    for (const p of peers) {
      if (canonJSON(rootsOf(p)) !== want || p.store.pendingStructs || p.store.pendingDs) {
        throw new Error(`harness: the Yjs peers did not converge (seed ${SEED} case ${this.caseNo})`)
      }
    }
    // --- the engine's session
    this.shadow = new RefEngine()
    this.echo = new Y.Doc({ gc }) // gets the engine's edits as updates
    // ... and this one Yjs's own updates for the same edits: a remote
    // transaction may end elsewhere than the local one that made it (it
    // integrates pending structs and runs the formatting cleanup, which a
    // local one does not), and then the engine must end where Yjs does.
    this.echoRef = new Y.Doc({ gc })
    this.engineEdits = []
    this.snapshots = []
    if (replay) {
      for (const l of replay) {
        const ans = await this.both(l)
        if (ans && ans.ok && l.startsWith('apply ')) this.toEchoes(unb64(l.slice(6)))
      }
      return
    }
    await this.both(`reset ${engineId} ${gc ? 1 : 0}`)
    const pool = r.shuffle([...messages, ...extra, ...r.times(r.int(0, 3), () => r.pick(messages))])
    while (pool.length > 0) {
      const chunk = pool.splice(0, r.int(1, 4))
      await this.feed(chunk)
      if (r.chance(0.15)) await this.engineEdit()
      if (r.chance(0.05)) await this.corrupt(r.pick(messages))
      if (r.chance(0.1)) await this.checkpoint()
    }
    for (let e = r.int(0, 4); e > 0; e--) await this.engineEdit()
    await this.checkpoint()
    await this.final(truth, peers, messages, gc)
  }

  // Hands a chunk of updates to the engine in one of several ways.
  async feed (chunk) {
    const r = this.r
    const n = r.int(0, 9)
    let u = null
    if (n === 0) {
      const m = await this.both('merge ' + chunk.map(b64).join(' '))
      if (m) u = unb64(m.value)
    } else if (n === 1) {
      u = Y.mergeUpdates(chunk)
    } else if (n === 2) {
      for (const c of chunk) {
        const v2 = r.chance(0.5) ? await this.both('v1tov2 ' + b64(c)) : { value: b64(Y.convertUpdateFormatV1ToV2(c)) }
        if (!v2 || !(await this.both('apply2 ' + v2.value))) await this.apply(c)
        else this.toEchoes(c)
      }
      return
    }
    if (u) await this.apply(u)
    else for (const c of chunk) await this.apply(c)
  }

  async apply (u) {
    await this.both('apply ' + b64(u))
    this.toEchoes(u)
  }

  toEchoes (u) {
    Y.applyUpdate(this.echo, u)
    Y.applyUpdate(this.echoRef, u)
  }

  // A damaged copy of an update (cut short, a bit flipped) that Yjs cannot
  // decode: the engine must refuse it and stay unchanged. (Damage Yjs can
  // still decode is a different, valid update: it would spoil the end
  // comparison with the peers, so it is not sent.)
  async corrupt (u) {
    const r = this.r
    for (let tries = 0; tries < 5; tries++) {
      const bad = new Uint8Array(u.subarray(0, r.chance(0.5) ? r.int(0, u.length - 1) : u.length))
      if (bad.length > 0 && r.chance(0.5)) bad[r.int(0, bad.length - 1)] ^= 1 << r.int(0, 7)
      try {
        Y.decodeUpdate(bad)
        continue
      } catch { /* undecodable: what we want */ }
      this.stats.corrupt++
      if (await this.both('apply ' + b64(bad))) await this.checkpoint() // unchanged, as the shadow?
      return
    }
  }

  // One local edit by the engine, chosen on the shadow's doc (the engine's
  // twin); rarely an invalid one, which must fail on both sides.
  async engineEdit () {
    const r = this.r
    // Reading the shadow's doc declares its roots (getText...), and Yjs
    // cleans up formatting only in texts declared as Text: declare them on
    // both sides first, or the shadow would no longer be the engine's twin.
    await this.both('json ' + ROOT_LIST)
    const d = this.shadow.doc
    const bad = r.chance(0.05) ? 1000 : 0
    const t = d.getText('t').length
    const a = d.getArray('a').length
    const x = d.getXmlFragment('x').length
    const i = (len) => r.int(0, len) + bad
    const span = (len, at) => r.int(0, Math.max(0, Math.min(len - at, 5))) + bad
    const s = (str) => b64(Buffer.from(str, 'utf8'))
    // the kind each draw of n edits (--kinds)
    const KIND_OF = ['text', 'text', 'text', 'text', 'format', 'format', 'map', 'array', 'xml', 'xml', 'xml']
    let n = r.int(0, 10)
    for (let tries = 0; !KINDS.has(KIND_OF[n]); tries++) {
      if (tries === 100) return
      n = r.int(0, 10)
    }
    let line
    if (n < 3) {
      line = `text_insert t ${i(t)} ${s(randText(r))}` + (r.chance(0.3) && FORMAT ? ' ' + JSON.stringify(randAttrs(r)) : '')
    } else if (n === 3) {
      const at = i(t)
      const [from, l] = this.gc ? [at, span(t, at)] : wholeCodePoints(d.getText('t'), at, span(t, at))
      line = `text_delete t ${from} ${l}`
    } else if (n === 4) {
      const at0 = i(t)
      const [at, l] = wholeCodePoints(d.getText('t'), at0, span(t, at0))
      line = `text_format t ${at} ${l} ${JSON.stringify(randAttrs(r))}`
    } else if (n === 5) line = `text_embed t ${i(t)} ${JSON.stringify({ image: randText(r) })}`
    else if (n === 6) {
      const key = r.pick(['k', 'key2', 'e'])
      line = r.chance(0.75) ? `map_set m ${key} ${JSON.stringify(randValue(r))}` : `map_delete m ${key}`
    } else if (n === 7) {
      const at = i(a)
      line = r.chance(0.7) ? `array_insert a ${at} ${JSON.stringify(r.times(r.int(1, 3), () => randValue(r)))}` : `array_delete a ${at} ${span(a, at)}`
    } else if (n === 8) line = `xml_insert x ${i(x)} ${r.pick(['p', 'div', 'Li'])}`
    else if (n === 9) line = `xml_text x ${i(x)} ${s(randText(r))}`
    else {
      const els = d.getXmlFragment('x').toArray().map((e, k) => (e instanceof Y.XmlElement ? k : -1)).filter((k) => k >= 0)
      line = `xml_attr x ${els.length ? r.pick(els) + bad : 0} ${r.pick(['class', 'id'])} ${s(randText(r))}`
    }
    const ans = await this.both(line)
    const ref = this.lastWant
    this.stats.edits++
    if (ref && ref.ok && ref.value !== '-') Y.applyUpdate(this.echoRef, unb64(ref.value))
    if (ans && ans.ok && ans.value !== '-') {
      const u = unb64(ans.value)
      Y.applyUpdate(this.echo, u)
      this.engineEdits.push(u)
      // The update alone, in Yjs, must say what the engine's doc says, or
      // else what Yjs's own update for the edit says there (echoRef).
      const got = await this.both('json ' + ROOT_LIST)
      const echoJSON = canonJSON(rootsOf(this.echo))
      if (got && canonJSON(JSON.parse(got.value)) !== echoJSON &&
          echoJSON !== canonJSON(rootsOf(this.echoRef))) {
        throw new Mismatch(`the engine's update for "${line.slice(0, 80)}", applied in Yjs, gives other JSON\n  engine: ${got.value}\n  yjs:    ${JSON.stringify(rootsOf(this.echo))}`)
      }
    }
  }

  // Everything readable, engine vs shadow.
  async checkpoint () {
    await this.both('sv')
    await this.both('pending')
    await this.both('json ' + ROOT_LIST)
    await this.both('state')
    if (this.r.chance(0.3)) {
      await this.both('delta t')
      await this.both('state2')
    }
    if (!this.gc) await this.snapshotChecks()
  }

  // gc off: take a snapshot now and then (compared byte for byte) and read
  // the doc at an earlier one: as JSON (createDocFromSnapshot), as the
  // update that restores it, as a delta (toDelta(snapshot)).
  async snapshotChecks () {
    const rs = this.rs
    if (rs.chance(0.5)) {
      const s = await this.both('snapshot')
      if (s) this.snapshots.push(s.value)
      this.stats.snapshots++
    }
    const all = [...this.snapshots, ...this.peerSnapshots] // a peer's may be ahead: err
    if (all.length > 0 && rs.chance(0.5)) await this.readAt(rs.pick(all))
    if (all.length > 0 && rs.chance(0.1)) {
      // cut short: both must refuse it (a flipped bit could make a valid
      // snapshot with bytes left over, which Yjs ignores and we refuse)
      const bytes = unb64(rs.pick(all))
      await this.both(`json_at ${b64(bytes.subarray(0, rs.int(0, bytes.length - 1)))} t:Text`)
    }
  }

  // The doc at snapshot snap, every way the protocol has.
  async readAt (snap) {
    this.stats.readsAt++
    await this.both(`json_at ${snap} ${ROOT_LIST}`)
    await this.both(`delta_at ${snap} t`)
    await this.both(`state_at ${snap}`)
    // the changes from another version to this one (ychange)
    const all = [...this.snapshots, ...this.peerSnapshots]
    if (this.rs.chance(0.5)) await this.both(`delta_at ${snap} t ${this.rs.pick(all)}`)
  }

  // The engine, with every update and its own edits, against the peers'
  // converged doc plus those edits. A command the engine does not support
  // (null from get) skips just the checks that need it.
  async final (truth, peers, messages, gc) {
    const r = this.r
    // A doc that receives formatting from others deletes the marks that
    // became redundant (Yjs's cleanupYTextAfterTransaction): a local delete
    // that depends on the order updates came in, and that a real peer
    // broadcasts. So the peers' doc and the engine end as peers do: the
    // peers' doc takes the engine's edits and deletes (from the shadow: apply
    // answers just ok), the engine takes the peers' doc's new local updates,
    // until neither makes any.
    let fromTruth = []
    truth.on('update', (u, _o, _d, tr) => tr.local && fromTruth.push(u))
    for (const u of this.engineEdits) Y.applyUpdate(truth, u)
    for (let round = 0; round < 5; round++) {
      Y.applyUpdate(truth, Y.encodeStateAsUpdate(this.shadow.doc, Y.encodeStateVector(truth)))
      if (fromTruth.length === 0) break
      const send = fromTruth
      fromTruth = []
      for (const u of send) await this.apply(u)
    }
    const get = async (cmd) => {
      const a = await this.both(cmd)
      return a && a.value
    }
    // Yjs itself may not converge: it can drop pending structs (when an
    // update's leftovers replace those of a client already waiting, as
    // restStructs.clients.set does). Then the shadow, real Yjs given the
    // same lines, differs from the peers too; the engine has been held to
    // the shadow at every answer, and the checks against the peers would
    // test Yjs, not the engine. Counted, and printed at the end.
    const yjsPending = this.shadow.doc.store.pendingStructs !== null
    const yjsSv = b64(Y.encodeStateVector(this.shadow.doc))
    const yjsDiverged = yjsPending || yjsSv !== b64(Y.encodeStateVector(truth))
    if (yjsDiverged) this.stats.yjsDiverged++
    const expect = (what, problem) => {
      if (problem && !yjsDiverged) throw new Mismatch(`final ${what} differs from the peers' Yjs doc: ${problem}`)
    }
    const pending = await get('pending')
    if (pending !== null) expect('pending', pending !== '0' && 'pending structs remain')
    const sv = await get('sv')
    const truthSv = b64(Y.encodeStateVector(truth))
    if (sv !== null) expect('sv', sv !== truthSv && `${sv} vs ${truthSv}`)
    const json = await get('json ' + ROOT_LIST)
    const truthJSON = canonJSON(rootsOf(truth))
    if (json !== null) expect('json', canonJSON(JSON.parse(json)) !== truthJSON && `${json} vs ${truthJSON}`)
    const delta = await get('delta t')
    if (delta !== null) expect('delta', canonJSON(JSON.parse(delta)) !== canonJSON(truth.getText('t').toDelta()) && delta)
    const truthState = Y.encodeStateAsUpdate(truth)
    const s2 = await get('state2')
    if (s2 !== null) expect('state2 (normalised)', canonDiff(Y.convertUpdateFormatV2ToV1(unb64(s2)), truthState))
    const v1 = await get('state')
    if (v1 === null) return
    const state = unb64(v1)
    expect('state (normalised)', canonDiff(state, truthState))
    if (!yjsDiverged) {
      this.stats.states++
      if (Buffer.compare(Buffer.from(state), Buffer.from(truthState)) === 0) this.stats.statesRaw++
    }
    // Diffs against each peer's state vector (and an empty one), applied to
    // that peer in Yjs, must reach the engine's state.
    for (const p of [...peers, new Y.Doc()]) {
      const psv = b64(Y.encodeStateVector(p))
      for (const cmd of [`diff ${psv}`, `diffupdate ${b64(state)} ${psv}`]) {
        const u = await get(cmd)
        if (u === null) continue
        const c = new Y.Doc({ gc })
        Y.applyUpdate(c, Y.encodeStateAsUpdate(p))
        Y.applyUpdate(c, unb64(u))
        expect(`${cmd.split(' ')[0]} against a peer's sv, applied to that peer (normalised state)`,
          canonDiff(Y.encodeStateAsUpdate(c), truthState))
      }
    }
    // Merges and diffs of raw messages and format conversions: both() has
    // compared them with Yjs's own answers and checked Yjs reads them.
    await get('merge ' + r.times(r.int(2, 6), () => b64(r.pick(messages))).join(' '))
    await get(`diffupdate ${b64(r.pick(messages))} ${b64(Y.encodeStateVector(r.pick(peers)))}`)
    const v2 = await get('v1tov2 ' + v1)
    if (v2 !== null) await get('v2tov1 ' + v2)
    // Old snapshots (gc off): the doc as it was then, at the engine's own
    // snapshots and at the peers' (versions the engine never had, which
    // its doc now holds); the doc now, taken as a snapshot, is the doc.
    if (!gc) {
      for (const snap of [...this.snapshots.slice(-3), ...this.peerSnapshots.slice(-3)]) await this.readAt(snap)
      const now = await get('snapshot')
      if (now !== null) {
        const at = await get(`json_at ${now} ${ROOT_LIST}`)
        if (at !== null) expect('json_at of a snapshot taken now', canonJSON(JSON.parse(at)) !== truthJSON && at)
      }
    }
    if (gc) { // must be refused with gc on
      await get('json_at AAA= t:Text')
      await get('delta_at AAA= t')
      await get('state_at AAA=')
    }
  }
}

// --------------------------------------------------------- comparisons

const rootsOf = (doc) => ({
  t: doc.getText('t').toJSON(),
  m: doc.getMap('m').toJSON(),
  a: doc.getArray('a').toJSON(),
  x: doc.getXmlFragment('x').toJSON()
})

// JSON with object keys sorted: Y.Map's key order depends on the order a
// doc learnt its keys in, which is not part of the contract.
// Goes through JSON text first, so that a Yjs binary (a Uint8Array) and the
// engine's JSON of it (an object of indexes) meet in the same form.
const canonJSON = (v) => JSON.stringify(JSON.parse(JSON.stringify(v)), (k, x) =>
  x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]]))
    : x)

const parseAnswer = (line) =>
  line === 'ok' || line.startsWith('ok ') ? { ok: true, value: line.slice(3) } : { ok: false, error: line.slice(4) }
const show = (a) => (a.ok ? 'ok ' + a.value : 'err ' + a.error).slice(0, 400)

// cmd -> [answers byte-identical to Yjs's, answers]: how much the
// normalisation had to forgive (printed at the end).
const RAW = new Map()
const UPDATE_ANSWERS = new Set(['state', 'diff', 'merge', 'diffupdate', 'v2tov1', 'state_at'])
const V2_ANSWERS = new Set(['state2', 'v1tov2'])
const JSON_ANSWERS = new Set(['json', 'json_at', 'delta', 'delta_at'])

// null when the engine's answer is as good as Yjs's, else what is wrong.
const compareAnswers = (cmd, got, want) => {
  if (got.ok !== want.ok) return got.ok ? 'the engine accepted what Yjs refused' : 'the engine refused what Yjs accepted'
  if (!got.ok) return null
  if (UPDATE_ANSWERS.has(cmd) || V2_ANSWERS.has(cmd)) {
    let u
    try {
      u = V2_ANSWERS.has(cmd) ? Y.convertUpdateFormatV2ToV1(unb64(got.value)) : unb64(got.value)
      Y.applyUpdate(new Y.Doc({ gc: false }), u) // Yjs must take it as it is
    } catch (e) {
      return `Yjs cannot read the engine's update: ${e.message}`
    }
    const w = V2_ANSWERS.has(cmd) ? Y.convertUpdateFormatV2ToV1(unb64(want.value)) : unb64(want.value)
    const n = RAW.get(cmd) || [0, 0]
    RAW.set(cmd, [n[0] + (got.value === want.value ? 1 : 0), n[1] + 1])
    return canonDiff(u, w)
  }
  if (JSON_ANSWERS.has(cmd)) {
    try {
      return canonJSON(JSON.parse(got.value)) === canonJSON(JSON.parse(want.value)) ? null : 'other JSON'
    } catch (e) {
      return `not JSON: ${e.message}`
    }
  }
  if (cmd === 'snapshot') {
    // Y.encodeSnapshot is deterministic (clients sorted, ranges merged)
    if (got.value === want.value) return null
    let eq
    try {
      eq = Y.equalSnapshots(Y.decodeSnapshot(unb64(got.value)), Y.decodeSnapshot(unb64(want.value)))
    } catch (e) {
      return `Yjs cannot read the engine's snapshot: ${e.message}`
    }
    return eq ? 'an equal snapshot in other bytes' : 'other snapshot'
  }
  if (cmd === 'sv' || cmd === 'pending' || cmd === 'apply' || cmd === 'apply2' || cmd === 'reset') {
    return got.value === want.value ? null : 'other answer'
  }
  // local edits: '-' on both sides or an update on both; what the update
  // does is checked by replaying it (engineEdit) and by later states.
  if ((got.value === '-') !== (want.value === '-')) return 'one side changed nothing'
  const w = unb64(want.value)
  return got.value === '-' ? null : canonDiff(unb64(got.value), w)
}

// ------------------------------------------------------------ the runner

// Cuts a failing case's engine log down: drops chunks of lines while a
// replay against engine and shadow still fails the same way (a mismatch,
// or the engine dying or hanging, after which it is restarted), within a
// time budget. Returns the shortest log found.
const shrink = async (caseNo, lines, crash, budgetMs) => {
  let engine = new Engine(opt.engine)
  const fails = async (ls) => {
    if (engine.dead) engine = new Engine(opt.engine)
    try {
      await new Case(engine, caseNo, new Stats()).run(ls)
      return false
    } catch (e) {
      if (e instanceof EngineError) return crash
      if (e instanceof Mismatch) return !crash
      throw e
    }
  }
  try {
    // A failure found by the harness's own Yjs docs (not by comparing
    // answers) does not show in a bare replay: then the whole log it is.
    if (!(await fails(lines))) return lines
    const end = Date.now() + budgetMs
    let cur = lines
    for (let size = Math.ceil((cur.length - 1) / 2); size >= 1 && Date.now() < end; size = Math.floor(size / 2)) {
      for (let at = 1; at < cur.length && Date.now() < end;) {
        const cand = [...cur.slice(0, at), ...cur.slice(at + size)]
        if (await fails(cand)) cur = cand
        else at += size
      }
    }
    return cur
  } finally {
    await engine.close()
  }
}

class Stats {
  constructor () {
    this.skips = new Map() // command -> Set of cases
    this.commands = 0
    this.edits = 0
    this.corrupt = 0
    this.states = 0
    this.statesRaw = 0
    this.yjsDiverged = 0
    this.snapshots = 0
    this.readsAt = 0
  }

  skip (cmd, caseNo) {
    if (!this.skips.has(cmd)) this.skips.set(cmd, new Set())
    this.skips.get(cmd).add(caseNo)
  }
}

const main = async () => {
  const stats = new Stats()
  const engine = new Engine(opt.engine)
  const start = Date.now()
  const limitMs = Number(opt['time-limit']) * 1000
  const cases = opt.case !== undefined ? [Number(opt.case)] : [...Array(Number(opt.cases)).keys()]
  let done = 0
  console.log(`crdt diff: engine "${opt.engine}", seed ${SEED}, up to ${cases.length} cases, ${opt['time-limit']} s`)
  for (const caseNo of cases) {
    if (Date.now() - start > limitMs) {
      console.log(`time limit reached after ${done} cases`)
      break
    }
    const c = new Case(engine, caseNo, stats)
    try {
      await c.run()
    } catch (e) {
      // a mismatch (exit 1) or the engine dying or hanging (exit 2): both
      // are shrunk; anything else is the harness's own failure
      if (!(e instanceof Mismatch) && !(e instanceof EngineError)) throw e
      const crash = e instanceof EngineError
      console.log(`\n${crash ? 'ENGINE FAILURE' : 'MISMATCH'}, seed ${SEED} case ${caseNo}: ${e.message}`)
      await engine.close()
      const full = c.lines
      const file = join(tmpdir(), `crdt-diff-${SEED}-${caseNo}.log`)
      writeFileSync(file, full.join('\n') + '\n')
      console.log(`reproduce: node tests/crdt/diff.mjs --engine '${opt.engine}' --seed ${SEED} --case ${caseNo}`)
      console.log(`full command log (${full.length} lines): ${file}`)
      const small = await shrink(caseNo, full, crash, Number(opt['shrink-seconds']) * 1000)
      console.log(`shortest failing command log found (${small.length} lines; feed it to the engine to see):`)
      for (const l of small) console.log('  ' + (l.length > 300 ? l.slice(0, 300) + '...' : l))
      process.exit(crash ? 2 : 1)
    }
    done++
    stats.commands += c.lines.length
    if (opt.verbose) console.log(`case ${caseNo}: ${c.lines.length} commands`)
  }
  await engine.close()
  const secs = ((Date.now() - start) / 1000).toFixed(1)
  console.log(`${done} cases passed in ${secs} s (seed ${SEED}): ${stats.commands} commands, ${stats.edits} engine edits, ${stats.corrupt} corrupted updates`)
  if (stats.snapshots + stats.readsAt > 0) console.log(`snapshots: ${stats.snapshots} taken, the doc read at one ${stats.readsAt} times (json_at, delta_at, state_at; half of them delta_at against a previous one too)`)
  console.log(`final states byte-identical to Yjs's before normalisation: ${stats.statesRaw}/${stats.states}`)
  console.log('update answers byte-identical to Yjs\'s before normalisation: ' +
    [...RAW].map(([cmd, [same, all]]) => `${cmd} ${same}/${all}`).join(', '))
  if (stats.yjsDiverged) console.log(`cases where Yjs itself did not reach the peers' state (engine held to Yjs only): ${stats.yjsDiverged}`)
  if (stats.skips.size === 0) console.log('skipped checks: none')
  for (const [cmd, set] of stats.skips) console.log(`skipped: ${cmd} unsupported (${set.size} cases)`)
}

main().catch((e) => {
  console.error(`crdt diff: seed ${SEED}: ${e.stack || e}`)
  process.exit(2)
})
