// bench/collab/client.mjs: a raw-protocol collaboration client. Each client
// owns a real Y.Doc and makes real Yjs edits (inserts into a Y.Text); the
// update each edit produces is sent as y-websocket sync message "update"
// (messageSync 0, messageYjsUpdate 2, y-protocols/sync.js). No provider and
// no browser: the client answers sync step 1 with step 2 from its doc, and
// by default does NOT apply what others send (pass apply: true to do so):
// the load generator must stay lighter than the servers it measures.
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
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'

const MSG_SYNC = 0
const MSG_AWARENESS = 1
const MSG_AUTH = 2

// Shared by all clients of a run: edit key -> send time (ms, performance.now).
export class Ledger {
  constructor () {
    this.sent = new Map()
    this.latencies = []
    // The measurement window, by send time: arrivals of edits sent inside
    // it count (received, latencies), whenever they arrive.
    this.from = Infinity
    this.to = Infinity
    this.received = 0 // deliveries of edits sent in the window
    this.unmatched = 0 // updates whose first struct was not an edit of ours
    this.editsSent = 0
    this.expected = 0 // deliveries owed: each edit x (clients on its doc - 1)
  }

  key (client, clock) {
    return client * 2097152 + clock // client < 2^32, clock < 2^21: exact in a double
  }
}

export class Client {
  // opts: { url, proto: 'yws'|'hocus', docName, ledger, apply, token }
  constructor (opts) {
    this.opts = opts
    this.doc = new Y.Doc()
    this.text = this.doc.getText('t')
    this.synced = false
    this.closed = false
    this.peers = 1 // clients on this document, set by the load generator
    this.ready = [] // prepared edits: { key, frame }, in order
    this.readyAt = 0
    this.preparing = null // set while prepare() collects frames
    this.doc.on('update', (update, origin) => {
      if (origin === 'remote') return
      const frame = this.frame(MSG_SYNC, enc => syncProtocol.writeUpdate(enc, update))
      if (this.preparing) this.preparing.push(frame)
      else this.sendFrame(frame)
    })
  }

  open () {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.opts.url, { perMessageDeflate: false })
      ws.binaryType = 'arraybuffer'
      this.ws = ws
      this.onSynced = resolve
      ws.on('open', () => {
        if (this.opts.proto === 'hocus') {
          this.send(MSG_AUTH, enc => {
            encoding.writeVarUint(enc, 0)
            encoding.writeVarString(enc, this.opts.token || '')
          })
        }
        this.send(MSG_SYNC, enc => syncProtocol.writeSyncStep1(enc, this.doc))
      })
      ws.on('message', data => this.receive(new Uint8Array(data)))
      ws.on('error', err => { if (!this.synced) reject(err) })
      ws.on('close', (code, reason) => {
        this.closed = true
        if (!this.synced) reject(new Error(`closed before sync: ${code} ${reason}`))
      })
    })
  }

  frame (type, write) {
    const enc = encoding.createEncoder()
    if (this.opts.proto === 'hocus') encoding.writeVarString(enc, this.opts.docName)
    encoding.writeVarUint(enc, type)
    write(enc)
    return encoding.toUint8Array(enc)
  }

  sendFrame (frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return
    this.ws.send(frame)
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
    const t = L.sent.get(L.key(client, clock))
    if (t === undefined) {
      L.unmatched++
      return
    }
    if (t < L.from || t > L.to) return
    L.received++
    L.latencies.push(performance.now() - t)
  }

  // One real edit: a short insert at a random place of this client's
  // text. Its key is the (client, clock) of the struct it makes.
  insert () {
    const key = this.opts.ledger.key(this.doc.clientID, Y.getState(this.doc.store, this.doc.clientID))
    this.text.insert(Math.floor(Math.random() * (this.text.length + 1)), 'ab')
    return key
  }

  // Has n edits ready for edit() to send, making the ones missing now.
  // Edits left from an earlier phase stay first: they are in the doc
  // already, and later edits may be anchored to them.
  prepare (n) {
    this.ready = this.ready.slice(this.readyAt)
    this.readyAt = 0
    while (this.ready.length < n) {
      this.preparing = []
      const key = this.insert()
      this.ready.push({ key, frame: this.preparing[0] })
    }
    this.preparing = null
  }

  // Sends the next prepared edit, or makes one if none is left.
  edit () {
    const L = this.opts.ledger
    L.editsSent++
    L.expected += this.peers - 1
    if (this.readyAt < this.ready.length) {
      const e = this.ready[this.readyAt++]
      L.sent.set(e.key, performance.now())
      this.sendFrame(e.frame)
      return
    }
    const at = performance.now() // before the Yjs work, as a prepared edit's stamp is
    L.sent.set(this.insert(), at) // arrivals come from later turns of the event loop
  }

  close () {
    if (this.ws) this.ws.close()
  }
}
