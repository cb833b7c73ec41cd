// The reference engine: tests/crdt/PROTOCOL.md implemented with the `yjs`
// npm package. Run as a program it serves the protocol on stdin/stdout;
// imported, RefEngine answers the same lines in-process (diff.mjs runs one
// beside the engine under test as its shadow).
import * as Y from 'yjs'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { b64, unb64 } from './engine.mjs'

const KINDS = {
  Text: (doc, n) => doc.getText(n),
  Map: (doc, n) => doc.getMap(n),
  Array: (doc, n) => doc.getArray(n),
  XmlFragment: (doc, n) => doc.getXmlFragment(n)
}
const utf8 = (s) => Buffer.from(unb64(s)).toString('utf8')

// `name:kind ...` -> {name: toJSON()} as one JSON line.
const rootsJSON = (doc, specs) => {
  const out = {}
  for (const spec of specs) {
    const [name, kind] = spec.split(':')
    if (!KINDS[kind]) throw new Error(`unknown kind ${kind}`)
    out[name] = KINDS[kind](doc, name).toJSON()
  }
  return JSON.stringify(out)
}

const int = (s) => {
  if (!/^[0-9]+$/.test(s || '')) throw new Error(`not a number: ${s}`)
  return Number(s)
}

// Positions past the end are refused before Yjs sees them: Yjs checks
// some of them only after it has changed the doc (a delete too long
// deletes up to the end, then throws).
const upTo = (len, i, what = 'index') => {
  if (i > len) throw new Error(`${what} ${i} past the end (${len})`)
  return i
}

// Local edits: (doc, args) -> nothing; each runs in one transaction.
const EDITS = {
  text_insert: (d, [n, i, t, a]) => {
    const text = d.getText(n)
    text.insert(upTo(text.length, int(i)), utf8(t), a === undefined ? undefined : JSON.parse(a))
  },
  text_delete: (d, [n, i, l]) => {
    const text = d.getText(n)
    upTo(text.length, int(i) + int(l), 'end')
    text.delete(int(i), int(l))
  },
  text_format: (d, [n, i, l, a]) => d.getText(n).format(int(i), int(l), JSON.parse(a)),
  text_embed: (d, [n, i, v]) => {
    const text = d.getText(n)
    text.insertEmbed(upTo(text.length, int(i)), JSON.parse(v))
  },
  map_set: (d, [n, k, v]) => d.getMap(n).set(k, JSON.parse(v)),
  map_delete: (d, [n, k]) => d.getMap(n).delete(k),
  array_insert: (d, [n, i, v]) => {
    const values = JSON.parse(v)
    if (!Array.isArray(values)) throw new Error('array_insert wants a JSON array')
    const array = d.getArray(n)
    array.insert(upTo(array.length, int(i)), values)
  },
  array_delete: (d, [n, i, l]) => {
    const array = d.getArray(n)
    upTo(array.length, int(i) + int(l), 'end')
    array.delete(int(i), int(l))
  },
  xml_insert: (d, [n, i, tag]) => {
    const xml = d.getXmlFragment(n)
    xml.insert(upTo(xml.length, int(i)), [new Y.XmlElement(tag)])
  },
  xml_attr: (d, [n, i, attr, v]) => {
    const el = d.getXmlFragment(n).get(int(i))
    if (!(el instanceof Y.XmlElement)) throw new Error(`no element at index ${i}`)
    el.setAttribute(attr, utf8(v))
  },
  xml_text: (d, [n, i, t]) => {
    const xml = d.getXmlFragment(n)
    xml.insert(upTo(xml.length, int(i)), [new Y.XmlText(utf8(t))])
  }
}

// Commands whose last argument is JSON, by argument count: JSON is one line
// but may hold spaces (in strings), so that argument is the rest of the
// line, verbatim.
const JSON_LAST = { text_insert: 4, text_format: 4, text_embed: 3, map_set: 3, array_insert: 3 }

const splitLine = (line) => {
  const s = line.trim()
  const cmd = s.split(' ', 1)[0]
  const n = JSON_LAST[cmd]
  const words = s.split(/ +/)
  if (n === undefined || words.length <= n + 1) return words
  const out = [cmd]
  let rest = s.slice(cmd.length)
  for (let k = 1; k < n; k++) {
    rest = rest.replace(/^ +/, '')
    const w = rest.split(' ', 1)[0]
    out.push(w)
    rest = rest.slice(w.length)
  }
  out.push(rest.replace(/^ +/, ''))
  return out
}

// Commands that change the doc. Only these can leave it half-changed.
const MUTATING = new Set(['apply', 'apply2', ...Object.keys(EDITS)])

export class RefEngine {
  constructor () {
    this.#reset(0, true)
  }

  // How an `err` leaves the doc as it was (the protocol's rule): updates
  // are decoded in full before they are applied, edit positions checked
  // before Yjs edits, so Yjs refuses nearly everything before it changes
  // anything. For the rest (Yjs throwing half-way) the doc is rebuilt from
  // `log`, every update it accepted, in order. That is a last resort, not
  // exact: a rebuilt doc got its local edits as remote updates, and Yjs
  // treats those differently (formatting clean-up).
  #reset (clientId, gc) {
    this.clientId = clientId
    this.gc = gc
    this.log = []
    this.#fresh(false)
  }

  #fresh (keepRoots) {
    const old = this.doc
    const doc = new Y.Doc({ gc: this.gc })
    doc.clientID = this.clientId
    this.doc = doc
    // Yjs behaves differently once a root is known as a Text (formatting
    // clean-up): the new doc knows the old one's roots as the old did.
    if (keepRoots) {
      for (const [name, type] of old.share) {
        for (const [kind, get] of Object.entries(KINDS)) if (type.constructor === Y[kind]) get(doc, name)
      }
    }
    const print = console.log
    console.log = () => {} // Yjs's notice about the client id (below)
    try {
      for (const [v2, u] of this.log) (v2 ? Y.applyUpdateV2 : Y.applyUpdate)(doc, u)
    } finally {
      console.log = print
    }
    // Yjs takes a new client id when "remote" structs of its own arrive, as
    // the replayed local edits are: take ours back.
    doc.clientID = this.clientId
    doc.on('update', (u) => this.captured.push(u))
    this.captured = []
  }

  // One command line -> one answer line (without the newline).
  exec (line) {
    const [cmd, ...args] = splitLine(line)
    this.captured = []
    this.#touched = false
    const logLength = this.log.length
    try {
      const r = this.#run(cmd, args)
      return r === undefined ? 'ok' : 'ok ' + r
    } catch (e) {
      // An edit that changed anything made an update event; an update may
      // have left structs pending without one.
      if (MUTATING.has(cmd) && (this.captured.length > 0 || this.#touched)) {
        this.log.length = logLength
        this.#fresh(true)
      }
      return 'err ' + String(e && e.message ? e.message : e).replace(/\s+/g, ' ')
    }
  }

  #touched = false // an update passed decoding and went to Yjs

  #run (cmd, a) {
    const doc = this.doc
    switch (cmd) {
      case 'reset': return this.#reset(int(a[0]), int(a[1]) === 1)
      case 'apply':
      case 'apply2': {
        const u = unb64(a[0])
        ;(cmd === 'apply2' ? Y.decodeUpdateV2 : Y.decodeUpdate)(u) // throws on malformed input
        this.#touched = true
        ;(cmd === 'apply2' ? Y.applyUpdateV2 : Y.applyUpdate)(doc, u)
        this.log.push([cmd === 'apply2', u])
        return
      }
      case 'state': return b64(Y.encodeStateAsUpdate(doc))
      case 'state2': return b64(Y.encodeStateAsUpdateV2(doc))
      case 'diff': return b64(Y.encodeStateAsUpdate(doc, unb64(a[0])))
      case 'sv': return b64(Y.encodeStateVector(doc))
      case 'json': return rootsJSON(doc, a)
      case 'delta': return JSON.stringify(doc.getText(a[0]).toDelta())
      case 'pending': return doc.store.pendingStructs || doc.store.pendingDs ? '1' : '0'
      case 'merge': return b64(Y.mergeUpdates(a.map(unb64)))
      case 'diffupdate': return b64(Y.diffUpdate(unb64(a[0]), unb64(a[1])))
      case 'v1tov2': return b64(Y.convertUpdateFormatV1ToV2(unb64(a[0])))
      case 'v2tov1': return b64(Y.convertUpdateFormatV2ToV1(unb64(a[0])))
      case 'snapshot': return b64(Y.encodeSnapshot(Y.snapshot(doc)))
      case 'json_at': {
        if (this.gc) throw new Error('json_at needs a doc with gc off')
        return rootsJSON(Y.createDocFromSnapshot(doc, Y.decodeSnapshot(unb64(a[0]))), a.slice(1))
      }
      case 'state_at': {
        if (this.gc) throw new Error('state_at needs a doc with gc off')
        return b64(Y.encodeStateAsUpdate(Y.createDocFromSnapshot(doc, Y.decodeSnapshot(unb64(a[0])))))
      }
      case 'delta_at': {
        // Yjs's toDelta does not check gc; the protocol refuses it, as
        // createDocFromSnapshot does (deleted text would be missing)
        if (this.gc) throw new Error('delta_at needs a doc with gc off')
        const prev = a[2] === undefined ? undefined : Y.decodeSnapshot(unb64(a[2]))
        return JSON.stringify(doc.getText(a[1]).toDelta(Y.decodeSnapshot(unb64(a[0])), prev))
      }
    }
    const edit = EDITS[cmd]
    if (!edit) throw new Error(`unknown command ${cmd}`)
    doc.transact(() => edit(doc, a))
    if (this.captured.length === 0) return '-'
    const u = this.captured.length === 1 ? this.captured[0] : Y.mergeUpdates(this.captured)
    this.log.push([false, u])
    return b64(u)
  }
}

// Serves the protocol on stdin/stdout with engine.exec. Answers are written
// per chunk of input (one write for many pipelined commands), but all of
// them before more input is awaited.
export const serve = (engine) => {
  // stdout carries answers only: Yjs's own notices (console.log) go to stderr
  console.log = console.warn = console.info = (...a) => process.stderr.write(a.join(' ') + '\n')
  let out = []
  const flush = () => {
    if (out.length) process.stdout.write(out.join(''))
    out = []
  }
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  rl.on('line', (line) => {
    out.push(engine.exec(line) + '\n')
    if (out.length === 1) setImmediate(flush)
  })
  rl.on('close', flush)
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) serve(new RefEngine())
