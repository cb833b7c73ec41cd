// Drives the /_test/ws echo route with the `ws` package: the same client
// library y-websocket uses in node. Exits non-zero with a message on the
// first failed expectation.
import WebSocket from 'ws';
import assert from 'node:assert/strict';

const url = process.argv[2];
const deadline = setTimeout(() => { console.error('timed out'); process.exit(1); }, 20000);

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws) {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

const ws = await open();
ws.send('héllo wörld');
let m = await next(ws);
assert.equal(m.isBinary, false);
assert.equal(m.data.toString(), 'héllo wörld');

const bin = Buffer.from([0, 1, 2, 255, 254, 0]);
ws.send(bin);
m = await next(ws);
assert.equal(m.isBinary, true);
assert.deepEqual(Buffer.from(m.data), bin);

// Every length encoding of a server frame (RFC 6455 5.2: 7 bits up to 125,
// 16 bits up to 65535, 64 bits beyond), at its edges, byte for byte.
for (const n of [0, 1, 125, 126, 127, 65535, 65536]) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 255;
  ws.send(b);
  m = await next(ws);
  assert.equal(m.isBinary, true);
  assert.ok(Buffer.from(m.data).equals(b), `a ${n}-byte message comes back whole`);
}

// 1000 messages in a burst come back complete and in order.
const got = [];
const all = new Promise((resolve) => ws.on('message', (d) => { got.push(d.toString()); if (got.length === 1000) resolve(); }));
for (let i = 0; i < 1000; i++) ws.send(`m${i}`);
await all;
assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => `m${i}`));
ws.removeAllListeners('message');

// A message over the 64 KiB limit: the server closes with 1009.
const big = await open();
const c = closed(big);
big.send(Buffer.alloc(70 * 1024, 1));
assert.equal((await c).code, 1009);

// 50 clients at once, each with its own echo.
const many = await Promise.all(Array.from({ length: 50 }, open));
const echoes = await Promise.all(many.map((w, i) => { const p = next(w); w.send(`c${i}`); return p; }));
echoes.forEach((e, i) => assert.equal(e.data.toString(), `c${i}`));
await Promise.all(many.map((w) => { const p = closed(w); w.close(1000); return p; }));

// Backpressure: a client that stops reading while its messages are echoed.
// Once more than ws_max_queue (1 MiB here) waits, the server drops it.
const slow = await open();
const dropped = closed(slow);
slow._socket.pause();
const chunk = Buffer.alloc(60 * 1024, 7);
for (let i = 0; i < 400; i++) slow.send(chunk);
setTimeout(() => slow._socket.resume(), 1000);
const d = await dropped;
assert.notEqual(d.code, 1000, 'a slow reader is dropped, not closed politely');

const cl = closed(ws);
ws.close(1000, 'bye');
assert.equal((await cl).code, 1000);
clearTimeout(deadline);
console.log('websocket: all expectations met');
