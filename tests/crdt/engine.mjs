// A client for engines speaking tests/crdt/PROTOCOL.md: spawns the engine
// command and exchanges lines with it. Commands may be pipelined (several
// sent before the answers arrive): answers come back in order, so a FIFO of
// waiting promises is enough.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

// Bytes <-> the protocol's base64 ("-" stands for zero bytes).
export const b64 = (bytes) => (bytes.length === 0 ? '-' : Buffer.from(bytes).toString('base64'))
export const unb64 = (s) => (s === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'base64')))

// Thrown for protocol failures (death, timeout, a malformed answer): the
// engine can no longer be trusted, unlike an `err` answer, which is data.
export class EngineError extends Error {}

export class Engine {
  // command: a shell command line ("node tests/crdt/yref.mjs", "build/ycli").
  // timeoutMs: how long the engine may go without answering while commands
  // wait; it bounds a hung engine, not a slow batch.
  constructor (command, { timeoutMs = 20000 } = {}) {
    this.command = command
    this.timeoutMs = timeoutMs
    this.waiting = [] // {resolve, reject, line}
    this.stderr = ''
    this.dead = null
    this.proc = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc.stderr.on('data', (d) => {
      // keep the tail only: it is for error messages
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    this.proc.stdin.on('error', () => {}) // EPIPE: reported by 'exit' below
    createInterface({ input: this.proc.stdout, crlfDelay: Infinity }).on('line', (l) => this.#answer(l))
    this.proc.on('exit', (code, signal) => {
      // stderr may still be draining: give it a moment before reporting
      setTimeout(() => this.#fail(`engine "${command}" exited (${signal || 'status ' + code})`), 50)
    })
    this.proc.on('error', (e) => this.#fail(`cannot start engine "${command}": ${e.message}`))
  }

  #answer (line) {
    const w = this.waiting.shift()
    if (!w) return this.#fail(`engine sent an unrequested line: ${line.slice(0, 200)}`)
    this.#arm()
    if (line === 'ok' || line.startsWith('ok ')) w.resolve({ ok: true, value: line.slice(3) })
    else if (line.startsWith('err')) w.resolve({ ok: false, error: line.slice(4) })
    else {
      w.reject(new EngineError(`malformed answer to "${w.line.slice(0, 120)}": ${line.slice(0, 200)}`))
    }
  }

  #fail (message) {
    if (this.dead) return
    const tail = this.stderr.trim()
    this.dead = new EngineError(message + (tail ? `\n--- engine stderr (tail) ---\n${tail}` : ''))
    clearTimeout(this.timer)
    for (const w of this.waiting.splice(0)) w.reject(this.dead)
  }

  // (Re)starts the watchdog while answers are awaited.
  #arm () {
    clearTimeout(this.timer)
    if (this.waiting.length === 0) return
    this.timer = setTimeout(() => {
      const head = this.waiting[0]?.line.slice(0, 120)
      this.#fail(`engine gave no answer in ${this.timeoutMs} ms (waiting for "${head}")`)
      this.proc.kill('SIGKILL')
    }, this.timeoutMs)
  }

  // Sends one command line; resolves to {ok: true, value} or {ok: false,
  // error} (the engine's `err` message), rejects with EngineError.
  call (line) {
    if (this.dead) return Promise.reject(this.dead)
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, line })
      if (this.waiting.length === 1) this.#arm()
      this.proc.stdin.write(line + '\n')
    })
  }

  // Like call, but an `err` answer becomes an exception too.
  async must (line) {
    const r = await this.call(line)
    if (!r.ok) throw new EngineError(`"${line.slice(0, 120)}" answered err ${r.error}`)
    return r.value
  }

  async close () {
    if (this.dead) return
    this.dead = new EngineError('engine closed')
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    clearTimeout(this.timer)
    const exited = new Promise((resolve) => this.proc.once('exit', resolve))
    this.proc.stdin.end()
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(t)
  }
}
