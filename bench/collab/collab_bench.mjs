// bench/collab/collab_bench.mjs: y-websocket clients against a server,
// Sitebase's /collab or y-websocket's own node server, on one workload:
//   latency:    CLIENTS clients in one room; one writer pushes 300 array
//               items 5 ms apart; each item's latency is the time until the
//               last other client has it (one process, one clock);
//   throughput: 4 writers push ITEMS items each as fast as they can; the
//               time until every client has all of them.
// Prints one JSON line. usage: node collab_bench.mjs WS_BASE ROOM [TOKEN]
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const [base, room, token] = process.argv.slice(2);
const CLIENTS = Number(process.env.CLIENTS || 20);
const ITEMS = Number(process.env.ITEMS || 500);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function until(cond, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(2);
  }
  return false;
}

const ps = [];
for (let i = 0; i < CLIENTS; i++)
  ps.push(new WebsocketProvider(base, room, new Y.Doc(), {
    WebSocketPolyfill: WebSocket, params: token ? { token } : {}, disableBc: true, resyncInterval: -1,
  }));
if (!(await until(() => ps.every((p) => p.synced), 20000))) {
  console.error('clients did not sync');
  process.exit(1);
}

// ---- latency ----
const seen = new Map(); // item id -> [sent, receivers, last]
ps.forEach((p, i) => {
  p.doc.getArray('lat').observe((ev) => {
    const t = now();
    for (const d of ev.changes.delta) for (const x of d.insert || []) {
      const s = seen.get(x.id);
      if (s && i !== 0) { s.n++; s.last = t; }
    }
  });
});
const N = 300;
for (let k = 0; k < N; k++) {
  seen.set(k, { sent: now(), n: 0, last: 0 });
  ps[0].doc.getArray('lat').push([{ id: k }]);
  await sleep(5);
}
await until(() => [...seen.values()].every((s) => s.n === CLIENTS - 1), 30000);
const lat = [...seen.values()].filter((s) => s.n === CLIENTS - 1).map((s) => s.last - s.sent).sort((a, b) => a - b);
const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];

// ---- throughput ----
const W = 4, total = W * ITEMS;
const t0 = now();
await Promise.all([...Array(W).keys()].map(async (w) => {
  for (let k = 0; k < ITEMS; k++) {
    ps[w].doc.getArray('tp').push([w * ITEMS + k]);
    if (k % 50 === 49) await sleep(0);
  }
}));
const done = await until(() => ps.every((p) => p.doc.getArray('tp').length === total), 60000);
const t1 = now();
console.log(JSON.stringify({
  clients: CLIENTS, latency_items: lat.length, p50_ms: +pct(0.5).toFixed(2), p99_ms: +pct(0.99).toFixed(2),
  throughput_updates: total, all_delivered: done, seconds: +((t1 - t0) / 1000).toFixed(3),
  updates_per_s: Math.round(total / ((t1 - t0) / 1000)),
}));
ps.forEach((p) => p.destroy());
process.exit(0);
