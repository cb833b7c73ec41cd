// bench/collab/client.mjs: a raw-protocol collaboration client. Each client
// owns a real Y.Doc and makes real Yjs edits (inserts into a Y.Text); the
// update each edit produces is sent as y-websocket sync message "update"
// (messageSync 0, messageYjsUpdate 2, y-protocols/sync.js). No provider and
// no browser: the client answers sync step 1 with step 2 from its doc, and
// by default does NOT apply what others send (pass apply: true to do so):
// the load generator must stay lighter than the servers it measures.
//
// Two transports (opts.transport): 'raw' (default), wsraw.mjs on a bare
// socket, whose sends are frames masked when the edit was prepared; and
// 'ws', the `ws` package, as a check that the lighter one measures the
// same thing.
//
// Two framings of the same messages:
//   'yws'   y-websocket, as Sitebase's /collab/:project/:doc speaks it
//   'hocus' Hocuspocus: every message starts with the document name, and
//           the first one must be an Auth message (type 2, submessage 0,
//           a token string), which Hocuspocus accepts without extensions
//
// Edits are made ahead of a timed phase (prepare(n)): the Yjs work of
// each edit, the same real update it would send, is done before the clock
// starts, and the phase only sends the ready frames. So the generator's
// cost per edit is a send, and the servers, not the Yjs in this process,
// set the pace at high rates. An edit asked for beyond what was prepared
// is made on the spot.
//
// Latency: an edit's update starts with the struct (client, clock) it
// made (Yjs update format v1: #clients, #structs, client, clock), so the
// sender records its send time under that key in a table shared by every
// client of this process, and a receiver looks it up: end-to-end latency
// from the edit to its arrival at each other client, no clock sync needed.
//
// Garbage: the generator's pauses are in every latency it measures, for
// either server, so the timed path allocates little: send times live in
// one Float64Array per sender (indexed by clock) instead of a Map entry
// per edit, latencies in one growing Float64Array instead of an array
// element per arrival, and a client's prepared edits in one Buffer
// instead of one each. (Most of the heap, 200-270 MB at the end of a
// ramp, is the clients' own Y.Docs; young collections inside a phase
// took 1.2-5 ms every 0.4 s: bench/RESULTS.md.)
import WebSocket from 'ws'
import { RawSocket, maskFrame } from './wsraw.mjs'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'

const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_AUTH = 2

// Grows a Float64Array to hold index i.
function fit (a, i) {
  if (i < a.length) return a
  const b = new Float64Array(Math.max(2 * a.length, i + 1024))
  b.set(a)
  return b
}

// Shared by all clients of a run: (client, clock) -> send time (ms,
// performance.now), and what arrived.
export class Ledger {
  constructor () {
    this.sent = new Map() // client id -> { base: first clock, times: Float64Array by clock - base }
    this.lat = new Float64Array(1 << 16) // latencies of the window, lat[0..nlat)
    this.nlat = 0
    // The measurement window, by send time: arrivals of edits sent inside
    // it count (received, latencies), whenever they arrive.
    this.from = Infinity
    this.to = Infinity
    this.received = 0 // deliveries of edits sent in the window
    this.unmatched = 0 // updates whose first struct was not an edit of ours
    this.editsSent = 0
    this.expected = 0 // deliveries owed: each edit x (clients on its doc - 1)
  }

  // A sender's table starts at its first clock of a phase.
  stamp (client, clock, t) {
    let e = this.sent.get(client)
    if (e === undefined) {
      e = { base: clock, times: new Float64Array(4096) }
      this.sent.set(client, e)
    }
    const i = clock - e.base
    if (i < 0) return // not of this phase: arrivals of it count as unmatched
    e.times = fit(e.times, i)
    e.times[i] = t
  }

  // The send time of (client, clock), or undefined.
  sentAt (client, clock) {
    const e = this.sent.get(client)
    if (e === undefined) return undefined
    const i = clock - e.base
    const t = i >= 0 && i < e.times.length ? e.times[i] : 0
    return t === 0 ? undefined : t
  }

  // Forgets the phase's sends: late arrivals of them count as unmatched.
  clearSent () {
    this.sent.clear()
  }

  addLatency (ms) {
    this.lat = fit(this.lat, this.nlat)
    this.lat[this.nlat++] = ms
  }

  clearLatencies () {
    this.nlat = 0
  }

  // The window's latencies, sorted (a copy).
  sortedLatencies () {
    return this.lat.slice(0, this.nlat).sort()
  }
}

export class Client {
  // opts: { url, proto: 'yws'|'hocus', transport: 'raw'|'ws', docName, ledger, apply, token }
  constructor (opts) {
    this.opts = opts
    this.raw = opts.transport !== 'ws'
    this.doc = new Y.Doc()
    this.text = this.doc.getText('t')
    this.synced = false
    this.closed = false
    this.peers = 1 // clients on this document, set by the load generator
    // Prepared edits, in order: edit i is bytes readyOff[i]..readyOff[i+1]
    // of readyBuf (as the transport writes it), made struct clock
    // readyClock[i]; readyAt is the next to send.
    this.readyBuf = Buffer.alloc(0)
    this.readyOff = new Uint32Array(1)
    this.readyClock = new Float64Array(0)
    this.readyAt = 0
    this.preparing = null // set while prepare() collects frames
    this.doc.on('update', (update, origin) => {
      if (origin === 'remote') return
      const frame = this.frame(MSG_SYNC, enc => syncProtocol.writeUpdate(enc, update))
      if (this.preparing) this.preparing.push(this.wire(frame))
      else this.sendFrame(frame)
    })
  }

  open () {
    return new Promise((resolve, reject) => {
      this.onSynced = resolve
      const opened = () => {
        if (this.opts.proto === 'hocus') {
          this.send(MSG_AUTH, enc => {
            encoding.writeVarUint(enc, 0)
            encoding.writeVarString(enc, this.opts.token || '')
          })
        }
        this.send(MSG_SYNC, enc => syncProtocol.writeSyncStep1(enc, this.doc))
      }
      const closed = (code, reason) => {
        this.closed = true
        if (!this.synced) reject(new Error(`closed before sync: ${code} ${reason}`))
      }
      const failed = err => { if (!this.synced) reject(err) }
      if (this.raw) {
        this.ws = new RawSocket(this.opts.url, {
          onOpen: opened, onMessage: data => this.receive(data), onClose: closed, onError: failed
        })
        return
      }
      const ws = new WebSocket(this.opts.url, { perMessageDeflate: false })
      ws.binaryType = 'arraybuffer'
      this.ws = ws
      ws.on('open', opened)
      ws.on('message', data => this.receive(new Uint8Array(data)))
      ws.on('error', failed)
      ws.on('close', closed)
    })
  }

  frame (type, write) {
    const enc = encoding.createEncoder()
    if (this.opts.proto === 'hocus') encoding.writeVarString(enc, this.opts.docName)
    encoding.writeVarUint(enc, type)
    write(enc)
    return encoding.toUint8Array(enc)
  }

  // A message as its transport sends it: raw frames are masked now.
  wire (frame) {
    return this.raw ? maskFrame(frame) : frame
  }

  sendWire (w) {
    if (!this.ws) return
    if (this.raw) this.ws.sendFrame(w)
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.send(w)
  }

  sendFrame (frame) {
    this.sendWire(this.wire(frame))
  }

  send (type, write) {
    this.sendFrame(this.frame(type, write))
  }

  receive (buf) {
    const dec = decoding.createDecoder(buf)
    if (this.opts.proto === 'hocus') decoding.readVarString(dec)
    const type = decoding.readVarUint(dec)
    if (type !== MSG_SYNC) return // awareness, auth answers, sync status
    const sub = decoding.readVarUint(dec)
    if (sub === syncProtocol.messageYjsSyncStep1) {
      const sv = decoding.readVarUint8Array(dec)
      this.send(MSG_SYNC, enc => {
        encoding.writeVarUint(enc, syncProtocol.messageYjsSyncStep2)
        encoding.writeVarUint8Array(enc, Y.encodeStateAsUpdate(this.doc, sv))
      })
      return
    }
    const update = decoding.readVarUint8Array(dec)
    if (sub === syncProtocol.messageYjsSyncStep2) {
      if (this.opts.apply) Y.applyUpdate(this.doc, update, 'remote')
      if (!this.synced) {
        this.synced = true
        this.onSynced()
      }
      return
    }
    if (sub === syncProtocol.messageYjsUpdate) {
      this.arrived(update)
      if (this.opts.apply) Y.applyUpdate(this.doc, update, 'remote')
    }
  }

  arrived (update) {
    const L = this.opts.ledger
    const d = decoding.createDecoder(update)
    if (decoding.readVarUint(d) < 1) return
    decoding.readVarUint(d) // structs of the first client
    const client = decoding.readVarUint(d)
    const clock = decoding.readVarUint(d)
    if (client === this.doc.clientID) return // our own, echoed (Hocuspocus does)
    const t = L.sentAt(client, clock)
    if (t === undefined) {
      L.unmatched++
      return
    }
    if (t < L.from || t > L.to) return
    L.received++
    L.addLatency(performance.now() - t)
  }

  // One real edit: a short insert at a random place of this client's
  // text. Returns the clock of the struct it makes.
  insert () {
    const clock = Y.getState(this.doc.store, this.doc.clientID)
    this.text.insert(Math.floor(Math.random() * (this.text.length + 1)), 'ab')
    return clock
  }

  // Has n edits ready for edit() to send (frames as the transport writes
  // them), making the ones missing now.
  // Edits left from an earlier phase stay first: they are in the doc
  // already, and later edits may be anchored to them.
  prepare (n) {
    const left = this.readyClock.length - this.readyAt
    const frames = []
    const clocks = []
    for (let i = this.readyAt; i < this.readyClock.length; i++) {
      frames.push(this.readyBuf.subarray(this.readyOff[i], this.readyOff[i + 1]))
      clocks.push(this.readyClock[i])
    }
    this.preparing = []
    for (let i = left; i < n; i++) {
      clocks.push(this.insert())
      frames.push(this.preparing[this.preparing.length - 1])
    }
    this.preparing = null
    this.readyBuf = Buffer.concat(frames)
    this.readyOff = new Uint32Array(frames.length + 1)
    for (let i = 0; i < frames.length; i++) this.readyOff[i + 1] = this.readyOff[i] + frames[i].length
    this.readyClock = Float64Array.from(clocks)
    this.readyAt = 0
  }

  // Sends the next prepared edit, or makes one if none is left.
  edit () {
    const L = this.opts.ledger
    L.editsSent++
    L.expected += this.peers - 1
    if (this.readyAt < this.readyClock.length) {
      const i = this.readyAt++
      L.stamp(this.doc.clientID, this.readyClock[i], performance.now())
      this.sendWire(this.readyBuf.subarray(this.readyOff[i], this.readyOff[i + 1]))
      return
    }
    const at = performance.now() // before the Yjs work, as a prepared edit's stamp is
    const clock = Y.getState(this.doc.store, this.doc.clientID)
    L.stamp(this.doc.clientID, clock, at) // arrivals come from later turns of the event loop
    this.insert()
  }

  close () {
    if (this.ws) this.ws.close()
  }
}
