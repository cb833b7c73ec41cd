// Deliberately wrong engines, to show that diff.mjs notices (run by
// tests/integration/crdt_diff.sh, which expects each to fail but `partial`):
//   node broken.mjs MODE
// Each mode is one plausible engine bug; the rest is yref.mjs.
import * as Y from 'yjs'
import { RefEngine, serve } from './yref.mjs'
import { b64, unb64 } from './engine.mjs'

const varuint = (n, out) => {
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80)
  out.push(n)
}

const PARTIAL = new Set(['merge', 'diffupdate', 'v1tov2', 'v2tov1', 'apply2', 'state2', 'snapshot', 'json_at',
  'delta_at', 'state_at', 'delta', 'diff', 'text_format', 'text_embed', 'xml_attr'])

const MODES = {
  // not a bug: an engine still under construction, which must pass with
  // every skip counted
  partial: (e, line, cmd) => (PARTIAL.has(cmd) ? 'err unsupported' : null),
  // dies on v2 input, as a C engine with a bad pointer would
  crash: (e, line, cmd) => {
    if (cmd === 'apply2') process.kill(process.pid, 'SIGSEGV')
    return null
  },
  // loses an update now and then, yet says ok
  'drop-apply': (e, line, cmd) => (cmd === 'apply' && ++e.n % 7 === 0 ? 'ok' : null),
  // a merge that forgets its last input
  'merge-drop': (e, line, cmd, a) =>
    cmd === 'merge' && a.length > 1 ? 'ok ' + b64(Y.mergeUpdates(a.slice(0, -1).map(unb64))) : null,
  // an off-by-one in text positions
  'shift-insert': (e, line, cmd, a) =>
    cmd === 'text_insert' && Number(a[1]) > 0 ? e.run([cmd, a[0], Number(a[1]) - 1, ...a.slice(2)].join(' ')) : null,
  // never collects garbage: deleted content stays in `state`
  'gc-off': (e, line, cmd, a) => (cmd === 'reset' ? e.run(`reset ${a[0]} 0`) : null),
  // the doc at a snapshot is the doc now (the snapshot ignored)
  'snapshot-now': (e, line, cmd, a) => (cmd === 'json_at' && !e.gc ? e.run(`json ${a.slice(1).join(' ')}`) : null),
  // the state vector's clients in ascending order (Yjs: descending)
  'sv-order': (e, line, cmd) => {
    if (cmd !== 'sv') return null
    const sv = [...Y.decodeStateVector(Y.encodeStateVector(e.doc))].sort((x, y) => x[0] - y[0])
    const out = []
    varuint(sv.length, out)
    for (const [client, clock] of sv) {
      varuint(client, out)
      varuint(clock, out)
    }
    return 'ok ' + b64(new Uint8Array(out))
  }
}

class Broken extends RefEngine {
  constructor (mode) {
    super()
    this.bug = MODES[mode]
    if (!this.bug) throw new Error(`modes: ${Object.keys(MODES).join(' ')}`)
    this.n = 0
  }

  run (line) { return super.exec(line) }

  exec (line) {
    const [cmd, ...a] = line.trim().split(/ +/)
    return this.bug(this, line, cmd, a) ?? super.exec(line)
  }
}

serve(new Broken(process.argv[2]))
