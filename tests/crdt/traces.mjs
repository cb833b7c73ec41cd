// Real editing traces replayed through an engine's local edits (issue 5).
//
//   node tests/crdt/traces.mjs [--engine CMD] [--max-patches N | --full]
//        [--unicode] [--trace NAME]
//
// Every patch [pos, deleted, text] of every transaction becomes
// `text_delete t pos deleted` and `text_insert t pos <text>`; at the end
// the engine's JSON must be the expected text, and its `state`, loaded
// into a fresh Yjs doc, must give that text too.
// The traces count code points, Yjs counts UTF-16 units. By default the
// ascii_only/ variants are used, where the two agree. --unicode replays the
// original traces instead, converting each position and length from code
// points to UTF-16 units against a model of the text (README.md).
// --max-patches (default 20000, for CI) replays the first N patches of each
// trace and compares with the model; --full replays all and compares with
// the trace's endContent.
import * as Y from 'yjs'
import { parseArgs } from 'node:util'
import { readdirSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { Engine, b64, unb64 } from './engine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const TRACES = '/work/shared/data/editing-traces'
const { values: opt } = parseArgs({
  options: {
    engine: { type: 'string', default: process.env.SITEBASE_CRDT_ENGINE || `node ${join(here, 'yref.mjs')}` },
    'max-patches': { type: 'string', default: '20000' },
    full: { type: 'boolean', default: false },
    unicode: { type: 'boolean', default: false },
    trace: { type: 'string' },
    dir: { type: 'string', default: process.env.SITEBASE_EDITING_TRACES || TRACES }
  }
})
const dir = opt.unicode ? opt.dir : join(opt.dir, 'ascii_only')
const maxPatches = opt.full ? Infinity : Number(opt['max-patches'])
const BATCH = 1000 // commands in flight at once: pipelining hides the round trips

// UTF-16 index of code point `cp` in s (s is the model text).
const utf16At = (s, cp) => {
  let i = 0
  for (let n = 0; n < cp && i < s.length; n++) i += s.codePointAt(i) > 0xffff ? 2 : 1
  return i
}

const replay = async (engine, name) => {
  const trace = JSON.parse(gunzipSync(readFileSync(join(dir, name))).toString('utf8'))
  const patches = trace.txns.flatMap((t) => t.patches).slice(0, maxPatches)
  const whole = patches.length === trace.txns.reduce((n, t) => n + t.patches.length, 0)
  // The model is needed for the expected text of a cut trace and for
  // code point positions; a whole ASCII trace is checked against endContent.
  const needModel = !whole || opt.unicode
  let model = trace.startContent
  let astral = /[\ud800-\udfff]/.test(model)
  await engine.must('reset 1 1')
  if (model) await engine.must(`text_insert t 0 ${b64(Buffer.from(model))}`)
  const start = process.hrtime.bigint()
  let inFlight = []
  let commands = 0
  const send = (line) => {
    commands++
    inFlight.push(engine.call(line).then((a) => {
      if (!a.ok) throw new Error(`${name}: "${line.slice(0, 80)}" answered err ${a.error}`)
    }))
  }
  for (const [pos, del, ins] of patches) {
    let at = pos
    let len = del
    if (opt.unicode && astral) {
      at = utf16At(model, pos)
      len = utf16At(model, pos + del) - at
    }
    if (len > 0) send(`text_delete t ${at} ${len}`)
    if (ins) send(`text_insert t ${at} ${b64(Buffer.from(ins, 'utf8'))}`)
    if (needModel) {
      model = model.slice(0, at) + ins + model.slice(at + len)
      astral ||= /[\ud800-\udfff]/.test(ins)
    }
    if (inFlight.length >= BATCH) {
      await Promise.all(inFlight)
      inFlight = []
    }
  }
  await Promise.all(inFlight)
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  const want = needModel ? model : trace.endContent
  if (whole && model !== trace.endContent && needModel) {
    throw new Error(`${name}: the harness's own model disagrees with endContent (conversion bug)`)
  }
  const got = JSON.parse(await engine.must('json t:Text')).t
  if (got !== want) throw new Error(`${name}: the engine's text differs from the expected text at UTF-16 index ${firstDiff(got, want)}`)
  const state = unb64(await engine.must('state'))
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  if (doc.getText('t').toString() !== want) throw new Error(`${name}: the engine's state, loaded in Yjs, gives another text`)
  console.log(`${name.padEnd(28)} ${String(patches.length).padStart(7)} patches${whole ? ' (all)' : ''}  ${commands} edits in ${ms.toFixed(0)} ms, text ${want.length} units, state ${state.length} bytes: ok`)
}

const firstDiff = (a, b) => {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return i
}

const main = async () => {
  const names = readdirSync(dir).filter((f) => f.endsWith('.json.gz') && (!opt.trace || f.startsWith(opt.trace))).sort()
  if (names.length === 0) throw new Error(`no traces in ${dir}`)
  console.log(`crdt traces: engine "${opt.engine}", ${dir}, ${opt.full ? 'all' : 'at most ' + maxPatches} patches per trace`)
  const engine = new Engine(opt.engine, { timeoutMs: 60000 })
  try {
    for (const name of names) await replay(engine, name)
  } finally {
    await engine.close()
  }
  console.log(`${names.length} traces passed`)
}

main().catch((e) => {
  console.error(`crdt traces: FAIL: ${e.message}`)
  process.exit(1)
})
