// bench/collab/wsraw.mjs: the load generator's own WebSocket client
// (RFC 6455, client side, binary messages only), on a bare net.Socket.
//
// Why not `ws`: the generator shares the machine's two cores with the
// server it measures, and every cycle it spends is one the server cannot.
// Most of its time is the kernel's (a write per edit, a read per burst of
// arrivals), but `ws` added its per-message machinery on top: a mask drawn
// and applied per send, a frame assembled per send, an ArrayBuffer copied
// per message received. Here a send is one socket write of a frame masked
// when the edit was prepared (maskFrame), and a receive is a scan of the
// bytes the read returned, handing each payload on as a view (no copy).
// Measured at 12,000 edits/s (bench/RESULTS.md): 0.63-0.64 of a core
// against 0.70-0.74 with `ws`, which stays selectable (load.mjs
// --transport ws) so the two can be compared.
//
// What it does not do, because the servers measured here do not need it:
// extensions (no permessage-deflate is offered), text messages (handed on
// as bytes like binary ones), sending fragmented messages. It does answer
// pings, take fragmented messages, and close on a close frame.
import net from 'node:net'
import { createHash, randomBytes } from 'node:crypto'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_MESSAGE = 64 << 20 // a server's message larger than this is an error here

// A client frame (FIN, opcode, masked payload): the bytes a send writes.
export function maskFrame (payload, opcode = 2) {
  const len = payload.length
  const head = len < 126 ? 2 : len <= 0xffff ? 4 : 10
  const f = Buffer.allocUnsafe(head + 4 + len)
  f[0] = 0x80 | opcode
  if (len < 126) {
    f[1] = 0x80 | len
  } else if (len <= 0xffff) {
    f[1] = 0x80 | 126
    f.writeUInt16BE(len, 2)
  } else {
    f[1] = 0x80 | 127
    f.writeBigUInt64BE(BigInt(len), 2)
  }
  const key = randomBytes(4)
  key.copy(f, head)
  const at = head + 4
  for (let i = 0; i < len; i++) f[at + i] = payload[i] ^ key[i & 3]
  return f
}

// new RawSocket(url, { onOpen, onMessage(Uint8Array), onClose(code, reason), onError(err) })
// url: ws://host:port/path?query (no TLS: the benchmark runs on loopback).
export class RawSocket {
  constructor (url, handlers) {
    const u = new URL(url)
    if (u.protocol !== 'ws:') throw new Error(`wsraw: only ws:// URLs, not ${u.protocol}`)
    this.h = handlers
    this.open = false
    this.closed = false
    this.pending = null // bytes received and not yet a whole frame
    this.parts = null // the fragments of a message in progress
    this.key = randomBytes(16).toString('base64')
    const s = net.connect({ host: u.hostname, port: Number(u.port || 80) })
    this.sock = s
    s.setNoDelay(true)
    s.on('connect', () => {
      s.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
    s.on('data', buf => this.open ? this.frames(buf) : this.handshake(buf))
    s.on('error', err => this.fail(err))
    s.on('close', () => this.finish(1006, 'connection lost'))
  }

  // The 101 and its headers; what follows them in the same read is frames.
  handshake (buf) {
    const all = this.pending ? Buffer.concat([this.pending, buf]) : buf
    const end = all.indexOf('\r\n\r\n')
    if (end < 0) {
      if (all.length > 16384) return this.fail(new Error('wsraw: handshake answer too long'))
      this.pending = all
      return
    }
    this.pending = null
    const head = all.subarray(0, end).toString('latin1').split('\r\n')
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head[0])
    if (!status || status[1] !== '101') {
      return this.fail(new Error(`wsraw: handshake answered ${head[0]}`))
    }
    const want = createHash('sha1').update(this.key + GUID).digest('base64')
    const accept = head.find(l => /^sec-websocket-accept:/i.test(l))
    if (!accept || accept.slice(accept.indexOf(':') + 1).trim() !== want) {
      return this.fail(new Error('wsraw: wrong Sec-WebSocket-Accept'))
    }
    this.open = true
    this.h.onOpen()
    if (end + 4 < all.length) this.frames(all.subarray(end + 4))
  }

  // Every whole frame in the bytes received so far; a partial one waits.
  frames (buf) {
    let b = this.pending ? Buffer.concat([this.pending, buf]) : buf
    this.pending = null
    let at = 0
    while (!this.closed) {
      if (b.length - at < 2) break
      const b0 = b[at]
      const b1 = b[at + 1]
      if (b1 & 0x80) return this.fail(new Error('wsraw: a server frame was masked'))
      let len = b1 & 0x7f
      let head = 2
      if (len === 126) {
        if (b.length - at < 4) break
        len = b.readUInt16BE(at + 2)
        head = 4
      } else if (len === 127) {
        if (b.length - at < 10) break
        const big = b.readBigUInt64BE(at + 2)
        if (big > BigInt(MAX_MESSAGE)) return this.fail(new Error('wsraw: message too large'))
        len = Number(big)
        head = 10
      }
      if (b.length - at < head + len) break
      this.frame(b0 & 0x80, b0 & 0x0f, b.subarray(at + head, at + head + len))
      at += head + len
    }
    if (at < b.length && !this.closed) {
      b = b.subarray(at)
      this.pending = Buffer.from(b) // a copy: the read's buffer is not ours to keep
    }
  }

  frame (fin, opcode, payload) {
    if (opcode === 0x9) { // ping: the answer carries its payload
      this.sock.write(maskFrame(payload, 0xa))
      return
    }
    if (opcode === 0xa) return // pong
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
      const reason = payload.subarray(2).toString('utf8')
      if (!this.closed) this.sock.write(maskFrame(payload.subarray(0, 2), 0x8))
      this.sock.end()
      this.finish(code, reason)
      return
    }
    if (opcode === 0x0) { // a continuation
      if (!this.parts) return this.fail(new Error('wsraw: a continuation with no message'))
      this.parts.push(Buffer.from(payload))
    } else if (opcode === 0x1 || opcode === 0x2) {
      if (this.parts) return this.fail(new Error('wsraw: a new message inside a fragmented one'))
      if (fin) return this.h.onMessage(payload)
      this.parts = [Buffer.from(payload)]
    } else {
      return this.fail(new Error(`wsraw: unknown opcode ${opcode}`))
    }
    if (fin) {
      const whole = Buffer.concat(this.parts)
      this.parts = null
      this.h.onMessage(whole)
    }
  }

  // frame: bytes from maskFrame.
  sendFrame (frame) {
    if (this.open && !this.closed) this.sock.write(frame)
  }

  close () {
    if (this.closed) return
    if (this.open) this.sock.write(maskFrame(Buffer.from([0x03, 0xe8]), 0x8)) // 1000
    this.sock.end()
    this.finish(1000, '')
  }

  fail (err) {
    if (this.closed) return
    this.h.onError(err)
    this.sock.destroy()
    this.finish(1006, err.message)
  }

  finish (code, reason) {
    if (this.closed) return
    this.closed = true
    this.h.onClose(code, reason)
  }
}
