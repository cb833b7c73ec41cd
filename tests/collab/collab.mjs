// tests/collab/collab.mjs: real Yjs clients (yjs + y-websocket's
// WebsocketProvider on node's `ws`) against Sitebase's /collab endpoint.
// Driven by tests/integration/collab.sh: `node collab.mjs MODE` with the
// server and the users in the environment (SB_ADDR, PROJECT, ED, ED2, VW,
// ST tokens). Each mode prints one line per check, "ok - name" or
// "not ok - name: why", and exits non-zero when a check failed.
import * as Y from 'yjs';
import WebSocket from 'ws';
import * as h from './harness.mjs';
import { env, ok, failures, sleep, rand, pick, until, synced, view, canon, randomEdit } from './harness.mjs';
import fs from 'node:fs';

const ADDR = env.SB_ADDR;
const PROJECT = env.PROJECT;
const WS_BASE = `ws://${ADDR}/collab/${PROJECT}`;

const provider = (doc, token, ydoc) => h.provider(ADDR, PROJECT, doc, token, ydoc);
async function rest(path, token) {
  const r = await h.api(ADDR, 'GET', path, undefined, token);
  return { status: r.status, body: r.json };
}
const serverContent = (doc, root, type, token = env.ED) =>
  h.serverContent(ADDR, PROJECT, doc, root, type, token);
const serverView = (doc) => h.serverView(ADDR, PROJECT, doc, env.ED);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function converge() {
  const doc = env.DOC;
  const tokens = [env.ED, env.ED2, env.ED, env.OWN].filter(Boolean);
  const ps = tokens.map((t) => provider(doc, t));
  ok('providers connect and sync', await synced(ps));
  const edits = Number(env.EDITS || 40);
  await Promise.all(
    ps.map(async (p, w) => {
      for (let i = 0; i < edits; i++) {
        randomEdit(p.doc, `c${w}`, i);
        await sleep(pick(25));
      }
    }),
  );
  const converged = await until(() => ps.every((p) => canon(view(p.doc)) === canon(view(ps[0].doc))), 15000);
  ok('clients converge', converged, converged ? '' : ps.map((p) => canon(view(p.doc))).join('\n'));
  let sv;
  const matched = await until(async () => {
    sv = await serverView(doc);
    return canon(sv) === canon(view(ps[0].doc));
  }, 15000, 200);
  ok('server state equals the clients\'', matched, `server ${canon(sv)} client ${canon(view(ps[0].doc))}`);
  ok('the edits did something', view(ps[0].doc).t.length > 0);
  ps.forEach((p) => p.destroy());
}

async function offline() {
  const doc = env.DOC;
  const a = provider(doc, env.ED), b = provider(doc, env.ED2);
  ok('both sync', await synced([a, b]));
  a.doc.getText('t').insert(0, 'shared ');
  ok('online edit reaches the other', await until(() => b.doc.getText('t').toString().includes('shared')));
  a.disconnect();
  await until(() => !a.wsconnected);
  for (let i = 0; i < 20; i++) {
    a.doc.getArray('a').push([`offline-${i}`]);
    b.doc.getArray('a').push([`online-${i}`]);
    await sleep(5);
  }
  a.doc.getMap('m').set('offline', true);
  await sleep(300);
  ok('offline edits did not travel', !b.doc.getMap('m').has('offline'));
  a.connect();
  const merged = await until(() => canon(view(a.doc)) === canon(view(b.doc)) && b.doc.getMap('m').get('offline') === true);
  ok('reconnected client merges both ways', merged);
  let sv;
  ok('server has the merged state', await until(async () => canon((sv = await serverView(doc))) === canon(view(a.doc)), 10000, 200), canon(sv));
  ok('no edit lost', view(a.doc).a.filter((x) => String(x).startsWith('offline-')).length === 20 && view(a.doc).a.filter((x) => String(x).startsWith('online-')).length === 20);
  a.destroy();
  b.destroy();
}

// A raw client: the y-websocket frames by hand, to see what the server sends.
function raw(doc, token) {
  const url = `${WS_BASE}/${doc}` + (token ? `?token=${encodeURIComponent(token)}` : '');
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const st = { ws, msgs: [], closed: null, status: null, opened: false };
  ws.on('message', (d) => st.msgs.push(new Uint8Array(d)));
  ws.on('open', () => (st.opened = true));
  ws.on('close', (code, reason) => (st.closed = { code, reason: reason.toString() }));
  ws.on('unexpected-response', (req, res) => {
    st.status = res.statusCode;
    let b = '';
    res.on('data', (c) => (b += c));
    res.on('end', () => (st.body = b));
  });
  ws.on('error', () => {});
  return st;
}

function varUint(n) {
  const out = [];
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f));
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const frame = (type, step, payload) =>
  Uint8Array.from([...varUint(type), ...varUint(step), ...varUint(payload.length), ...payload]);

async function viewer() {
  const doc = env.DOC;
  const ed = provider(doc, env.ED), vw = provider(doc, env.VW);
  ok('viewer and editor sync', await synced([ed, vw]));
  ed.doc.getText('t').insert(0, 'from editor ');
  ok('viewer receives updates', await until(() => vw.doc.getText('t').toString().includes('from editor')));
  vw.doc.getText('t').insert(0, 'VIEWER ');
  await sleep(500);
  ok('editor never sees the viewer\'s edit', !ed.doc.getText('t').toString().includes('VIEWER'));
  const st = await serverContent(doc, 't', 'text');
  ok('server state has no viewer edit', typeof st === 'string' && !st.includes('VIEWER'), JSON.stringify(st));
  // The same by hand: an update from a viewer is answered with auth/permission-denied.
  const y = new Y.Doc();
  y.getText('t').insert(0, 'RAW VIEWER');
  const r = raw(doc, env.VW);
  await until(() => r.opened);
  r.ws.send(frame(0, 2, Y.encodeStateAsUpdate(y)));
  const denied = await until(() => r.msgs.some((m) => m[0] === 2 && m[1] === 0 && new TextDecoder().decode(m.slice(3)) === 'permission-denied'));
  ok('viewer update answered with auth permission-denied', denied, JSON.stringify(r.msgs.map((m) => Array.from(m.slice(0, 4)))));
  r.ws.close();
  ed.destroy();
  vw.destroy();
}

async function refused() {
  const doc = env.DOC;
  const cases = [
    ['no token', raw(doc, null), 401],
    ['bad token', raw(doc, 'not-a-token'), 401],
    ['stranger', raw(doc, env.ST), 404],
    ['unknown document kind', raw('nope:1', env.ED), 404],
  ];
  await until(() => cases.every(([, r]) => r.status || r.opened), 5000);
  await sleep(100);
  for (const [name, r, want] of cases) {
    ok(`${name} refused with ${want} before any byte`, r.status === want && r.msgs.length === 0 && !r.opened, `status ${r.status}`);
    ok(`${name} answer is problem+json`, (r.body || '').includes('"status":' + want), r.body);
  }
}

async function malformed() {
  const doc = env.DOC;
  const good = provider(doc, env.ED);
  ok('a good client syncs', await synced([good]));
  const cases = [
    ['unknown message type', Uint8Array.from([9, 0]), 1002],
    ['truncated sync message', Uint8Array.from([0, 2, 50, 1]), 1002],
    ['bytes after a message', Uint8Array.from([3, 0]), 1002],
    ['garbage update', frame(0, 2, [5, 200, 1, 2, 3]), 1003],
    ['bad awareness update', Uint8Array.from([1, 3, 2, 1, 1]), 1003],
  ];
  for (const [name, bytes, code] of cases) {
    const r = raw(doc, env.ED);
    await until(() => r.opened);
    r.ws.send(bytes);
    ok(`${name} closes that connection with ${code}`, await until(() => r.closed), 'not closed');
    ok(`${name}: close code ${code}`, r.closed && r.closed.code === code, JSON.stringify(r.closed));
  }
  const text = raw(doc, env.ED);
  await until(() => text.opened);
  text.ws.send('hello');
  ok('a text message closes with 1003', (await until(() => text.closed)) && text.closed.code === 1003);
  good.doc.getText('t').insert(0, 'still alive ');
  const other = provider(doc, env.ED2);
  ok('other clients unaffected', await until(() => other.doc.getText('t').toString().includes('still alive')));
  good.destroy();
  other.destroy();
}

async function presence() {
  const doc = env.DOC;
  const p = provider(doc, env.ED);
  ok('synced', await synced([p]));
  p.awareness.setLocalState({ user: { name: 'eddie' }, cursor: { anchor: 3, head: 5 }, selection: [3, 5] });
  let r;
  const seen = await until(async () => {
    r = await rest(`/projects/${PROJECT}/presence`, env.OWN);
    return r.status === 200 && r.body.items.some((i) => i.doc === doc && i.cursor && i.cursor.head === 5);
  });
  ok('presence lists the client with its cursor', seen, JSON.stringify(r && r.body));
  const item = seen ? r.body.items.find((i) => i.doc === doc && i.cursor) : {};
  ok('presence names the user', item.user_id === env.ED_ID && item.name === 'eddie', JSON.stringify(item));
  ok('presence carries the selection', same(item.selection, [3, 5]), JSON.stringify(item));
  // Another client sees the awareness state (relay).
  const q = provider(doc, env.ED2);
  ok('awareness relayed to another client', await until(() => [...q.awareness.getStates().values()].some((s) => s.cursor && s.cursor.head === 5)));
  // Another connection may neither clear nor overwrite that state.
  const evil = raw(doc, env.ED2);
  await until(() => evil.opened);
  const id = p.awareness.clientID;
  const clock = p.awareness.meta.get(id).clock;
  const fake = new TextEncoder().encode(JSON.stringify({ cursor: { anchor: 0, head: 99 } }));
  const enc = (entries) => {
    const upd = [...varUint(entries.length)];
    for (const [c, k, st] of entries) upd.push(...varUint(c), ...varUint(k), ...varUint(st.length), ...st);
    return Uint8Array.from([1, ...varUint(upd.length), ...upd]);
  };
  evil.ws.send(enc([[id, clock + 5, new TextEncoder().encode('null')]]));
  evil.ws.send(enc([[id, clock + 9, fake]]));
  await new Promise((res) => setTimeout(res, 500));
  ok("another connection cannot clear a client's state", [...q.awareness.getStates().values()].some((s) => s.cursor && s.cursor.head === 5));
  r = await rest(`/projects/${PROJECT}/presence`, env.OWN);
  ok('nor overwrite it', r.body.items.some((i) => i.cursor && i.cursor.head === 5) && !r.body.items.some((i) => i.cursor && i.cursor.head === 99), JSON.stringify(r.body));
  evil.ws.close();
  p.destroy();
  const gone = await until(async () => {
    r = await rest(`/projects/${PROJECT}/presence`, env.OWN);
    return r.status === 200 && !r.body.items.some((i) => i.user_id === env.ED_ID);
  });
  ok('presence empties when the client leaves', gone, JSON.stringify(r && r.body));
  ok('the other client is told the state went', await until(() => ![...q.awareness.getStates().values()].some((s) => s.cursor)));
  q.destroy();
  const stranger = await rest(`/projects/${PROJECT}/presence`, env.ST);
  ok('presence hidden from strangers', stranger.status === 404, String(stranger.status));
}

// Writes array items from one client while another watches; every item the
// watcher received (acknowledged) is appended to ACK_FILE at once. Runs
// until killed or DURATION ms.
async function ackWriter() {
  const doc = env.DOC;
  const w = provider(doc, env.ED), o = provider(doc, env.ED2);
  await synced([w, o]);
  const seen = new Set();
  o.doc.getArray('a').observe(() => {
    for (const x of o.doc.getArray('a').toArray()) {
      if (typeof x === 'string' && x.startsWith('ack-') && !seen.has(x)) {
        seen.add(x);
        fs.appendFileSync(env.ACK_FILE, x + '\n');
      }
    }
  });
  const end = Date.now() + Number(env.DURATION || 4000);
  for (let i = 0; Date.now() < end; i++) {
    w.doc.getArray('a').push([`ack-${env.TAG}-${i}`]);
    await sleep(5);
  }
  w.destroy();
  o.destroy();
}

async function ackCheck() {
  const want = fs.readFileSync(env.ACK_FILE, 'utf8').split('\n').filter(Boolean);
  const arr = await serverContent(env.DOC, 'a', 'array');
  const have = new Set(Array.isArray(arr) ? arr : []);
  const lost = want.filter((x) => !have.has(x));
  ok(`every acknowledged update survived (${want.length} acknowledged)`, want.length > 0 && lost.length === 0, `lost ${lost.length}: ${lost.slice(0, 5)}`);
  // A client that reconnects sees the same.
  const p = provider(env.DOC, env.ED);
  ok('a new client syncs after the restart', await synced([p]));
  const got = new Set(p.doc.getArray('a').toArray());
  ok('the client gets every acknowledged update', want.every((x) => got.has(x)));
  p.destroy();
}

// With --collab-max-clients 2 --collab-max-conns-per-user 3: the third
// client of a document gets 503, a user's fourth connection 429, both as
// problem+json before any document byte; a place frees when a client goes.
async function limits() {
  const a = raw('code:full.js', env.ED), b = raw('code:full.js', env.ED2);
  await until(() => a.opened && b.opened);
  const c = raw('code:full.js', env.OWN);
  await until(() => c.status || c.opened);
  await sleep(50);
  ok('third client of a full document refused with 503', c.status === 503 && !c.opened, String(c.status));
  ok('503 says document_full', (c.body || '').includes('document_full'), c.body);
  const mine = [raw('code:u1.js', env.ED), raw('code:u2.js', env.ED)];
  await until(() => mine.every((r) => r.opened));
  const fourth = raw('code:u3.js', env.ED);
  await until(() => fourth.status || fourth.opened);
  await sleep(50);
  ok('a user\'s fourth connection refused with 429', fourth.status === 429 && !fourth.opened, String(fourth.status));
  a.ws.close();
  await until(() => a.closed);
  await sleep(200);
  const d = raw('code:full.js', env.OWN);
  ok('a place frees when a client leaves', await until(() => d.opened), String(d.status));
  [b, d, ...mine].forEach((r) => r.ws.close());
}

// With --collab-awareness-timeout 2s: a client that publishes a state once
// and never renews it (a raw connection: providers renew every 15 s)
// disappears from presence and from the other clients while its
// connection stays open.
async function awarenessTimeout() {
  const doc = env.DOC;
  const q = provider(doc, env.ED2);
  ok('watcher synced', await synced([q]));
  const r = raw(doc, env.ED);
  await until(() => r.opened);
  const state = new TextEncoder().encode(JSON.stringify({ cursor: { head: 7 } }));
  const upd = [1, ...varUint(424242), 1, ...varUint(state.length), ...state];
  r.ws.send(Uint8Array.from([1, ...varUint(upd.length), ...upd]));
  ok('the watcher sees the state', await until(() => q.awareness.getStates().has(424242)));
  let p;
  ok('presence lists it', await until(async () => {
    p = await rest(`/projects/${PROJECT}/presence`, env.OWN);
    return p.body.items.some((i) => i.cursor && i.cursor.head === 7);
  }));
  const t0 = Date.now();
  const gone = await until(async () => {
    p = await rest(`/projects/${PROJECT}/presence`, env.OWN);
    return !p.body.items.some((i) => i.cursor && i.cursor.head === 7) && !q.awareness.getStates().has(424242);
  }, 8000, 100);
  ok('an unrenewed state times out, for presence and for the others', gone, JSON.stringify(p.body));
  ok('not before the timeout', Date.now() - t0 >= 1000, `${Date.now() - t0} ms`);
  ok('the connection itself stays open', r.closed === null && p.body.items.some((i) => i.user_id === env.ED_ID));
  r.ws.close();
  q.destroy();
}

// With --collab-max-queue 64K: a client that stops reading while others
// write is disconnected once 64 KiB wait for it, rather than buffered; the
// writer and the stored document carry on.
async function slowReader() {
  const doc = env.DOC;
  const r = raw(doc, env.ED);
  await until(() => r.opened);
  r.ws._socket.pause();
  const w = provider(doc, env.ED2);
  ok('writer synced', await synced([w]));
  const big = 'x'.repeat(50000);
  for (let i = 0; i < 200; i++) {
    w.doc.getArray('a').push([`${i}:${big}`]);
    await sleep(2);
  }
  let arr;
  ok('every update stored', await until(async () => {
    arr = await serverContent(doc, 'a', 'array');
    return Array.isArray(arr) && arr.length === 200;
  }, 20000, 200), Array.isArray(arr) ? String(arr.length) : JSON.stringify(arr));
  r.ws._socket.resume();
  ok('the slow reader was disconnected', await until(() => r.closed !== null, 10000), 'still open');
  w.destroy();
}

// A guest reads the page shared with them (read-only, like a viewer) and
// is refused, before the upgrade, the documents not shared with them.
async function guest() {
  const ed = provider(env.DOC, env.ED), gu = provider(env.DOC, env.GU);
  ok('guest syncs the shared page', await synced([ed, gu]));
  ed.doc.getText('t').insert(0, 'for the guest ');
  ok('guest receives updates', await until(() => gu.doc.getText('t').toString().includes('for the guest')));
  const y = new Y.Doc();
  y.getText('t').insert(0, 'GUEST');
  const r = raw(env.DOC, env.GU);
  await until(() => r.opened);
  r.ws.send(frame(0, 2, Y.encodeStateAsUpdate(y)));
  ok('guest update refused with permission-denied', await until(() => r.msgs.some((m) => m[0] === 2)));
  const other = raw(env.DOC2, env.GU), comp = raw('component:c1', env.GU);
  await until(() => (other.status || other.opened) && (comp.status || comp.opened));
  ok('unshared page refused with 404', other.status === 404 && !other.opened, String(other.status));
  ok('components refused to guests with 404', comp.status === 404 && !comp.opened, String(comp.status));
  r.ws.close();
  ed.destroy();
  gu.destroy();
}

const modes = { guest, slowReader, awarenessTimeout, limits, converge, offline, viewer, refused, malformed, presence, ackWriter, ackCheck };
const mode = modes[process.argv[2]];
if (!mode) {
  console.error('usage: collab.mjs ' + Object.keys(modes).join('|'));
  process.exit(2);
}
await mode();
console.log(`# seed ${env.SEED || ''}`);
process.exit(failures() ? 1 : 0);
