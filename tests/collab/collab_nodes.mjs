// tests/collab/collab_nodes.mjs: real Yjs clients (yjs + y-websocket) on two
// Sitebase nodes that share PostgreSQL and a Redis bus (docs/collab.md,
// "Several nodes"). Driven by tests/integration/collab_nodes.sh:
// `node collab_nodes.mjs MODE` with ADDR_A, ADDR_B (the nodes), PROJECT and
// the users' tokens (ED, ED2, OWN) in the environment. Each mode prints one
// line per check, "ok - name" or "not ok - name: why", and exits non-zero
// when a check failed.
import * as h from './harness.mjs';
import { env, ok, failures, sleep, pick, until, synced, view, canon, randomEdit } from './harness.mjs';
import WebSocket from 'ws';
import { execSync } from 'node:child_process';

const PROJECT = env.PROJECT;
const provider = (addr, doc, token, ydoc) => h.provider(addr, PROJECT, doc, token, ydoc);
async function rest(addr, path, token) {
  const r = await h.api(addr, 'GET', path, undefined, token);
  return { status: r.status, body: r.json };
}
const serverContent = (addr, doc, root, type) =>
  h.serverContent(addr, PROJECT, doc, root, type, env.ED);
const serverView = (addr, doc) => h.serverView(addr, PROJECT, doc, env.ED);

// Two providers on each node edit Text, Map and Array concurrently: all
// four converge, and both nodes' stored document equals them.
async function converge() {
  const doc = env.DOC;
  const ps = [
    provider(env.ADDR_A, doc, env.ED),
    provider(env.ADDR_B, doc, env.ED2),
    provider(env.ADDR_A, doc, env.OWN),
    provider(env.ADDR_B, doc, env.ED),
  ];
  ok('providers on both nodes connect and sync', await synced(ps));
  const edits = Number(env.EDITS || 40);
  await Promise.all(
    ps.map(async (p, w) => {
      for (let i = 0; i < edits; i++) {
        randomEdit(p.doc, `c${w}`, i);
        // OUTAGE: a command run in the middle (cutting the nodes' Redis
        // connections): what is published meanwhile is lost to the bus.
        if (w === 0 && env.OUTAGE && i % 10 === 5) execSync(env.OUTAGE);
        await sleep(pick(25));
      }
    }),
  );
  const converged = await until(() => ps.every((p) => canon(view(p.doc)) === canon(view(ps[0].doc))), 15000);
  ok('clients on both nodes converge', converged, converged ? '' : ps.map((p) => canon(view(p.doc))).join('\n'));
  for (const [name, addr] of [['A', env.ADDR_A], ['B', env.ADDR_B]]) {
    let sv;
    const matched = await until(async () => {
      sv = await serverView(addr, doc);
      return canon(sv) === canon(view(ps[0].doc));
    }, 15000, 200);
    ok(`stored document (read on ${name}) equals the clients'`, matched, `server ${canon(sv)} client ${canon(view(ps[0].doc))}`);
  }
  ok('the edits did something', view(ps[0].doc).t.length > 0);
  // One edit at a time from A to B: how long until the B client has it.
  if (!env.OUTAGE) {
    const ms = [];
    for (let i = 0; i < 20; i++) {
      const mark = `[lat${i}]`;
      const t0 = process.hrtime.bigint();
      ps[0].doc.getText('t').insert(0, mark);
      await until(() => ps[1].doc.getText('t').toString().startsWith(mark), 5000, 1);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((x, y) => x - y);
    console.log(`# edit on A seen by a client on B: p50 ${ms[10].toFixed(1)} ms, max ${ms[19].toFixed(1)} ms`);
  }
  // A client that joins later, on either node, gets everything.
  const late = provider(env.ADDR_B, doc, env.ED2);
  ok('a late client on B syncs', await synced([late]));
  ok('and has the same document', await until(() => canon(view(late.doc)) === canon(view(ps[0].doc))));
  late.destroy();
  ps.forEach((p) => p.destroy());
}

// Awareness set on A reaches a client on B, shows in B's presence, and
// goes when the A client disconnects (from the B client and B's presence).
async function awareness() {
  const doc = env.DOC;
  const b = provider(env.ADDR_B, doc, env.ED2);
  ok('watcher on B synced', await synced([b]));
  const a = provider(env.ADDR_A, doc, env.ED);
  ok('client on A synced', await synced([a]));
  a.awareness.setLocalState({ user: { name: 'eddie' }, cursor: { anchor: 1, head: 4 } });
  const id = a.awareness.clientID;
  ok('awareness from A reaches B', await until(() => (b.awareness.getStates().get(id) || {}).cursor?.head === 4));
  let r;
  const listed = await until(async () => {
    r = await rest(env.ADDR_B, `/projects/${PROJECT}/presence`, env.OWN);
    return r.status === 200 && r.body.items.some((i) => i.user_id === env.ED_ID && i.cursor && i.cursor.head === 4);
  });
  ok("B's presence lists A's client with its cursor", listed, JSON.stringify(r && r.body));
  // A state set on B reaches a client on A too.
  b.awareness.setLocalState({ cursor: { anchor: 0, head: 9 } });
  ok('awareness from B reaches A', await until(() => (a.awareness.getStates().get(b.awareness.clientID) || {}).cursor?.head === 9));
  const t0 = Date.now();
  a.destroy();
  ok('gone on B when the A client disconnects', await until(() => !b.awareness.getStates().has(id), 5000), `${Date.now() - t0} ms`);
  const dropped = await until(async () => {
    r = await rest(env.ADDR_B, `/projects/${PROJECT}/presence`, env.OWN);
    return r.status === 200 && !r.body.items.some((i) => i.user_id === env.ED_ID);
  });
  ok("and from B's presence", dropped, JSON.stringify(r && r.body));
  b.destroy();
}

// A writer on B appends items while a watcher on A records each one it
// receives (acknowledged); then B is killed with SIGKILL (B_PID). The
// watcher's view of the writer's awareness state expires, every
// acknowledged item is in the stored document, and A keeps serving.
async function kill() {
  const doc = env.DOC;
  const w = provider(env.ADDR_B, doc, env.ED), o = provider(env.ADDR_A, doc, env.ED2);
  ok('writer on B and watcher on A synced', await synced([w, o]));
  w.awareness.setLocalState({ cursor: { anchor: 2, head: 2 } });
  const wid = w.awareness.clientID;
  ok('the writer\'s state reaches A', await until(() => o.awareness.getStates().has(wid)));
  const acked = new Set();
  o.doc.getArray('a').observe(() => {
    for (const x of o.doc.getArray('a').toArray())
      if (typeof x === 'string' && x.startsWith('ack-')) acked.add(x);
  });
  let stop = false;
  const writing = (async () => {
    for (let i = 0; !stop; i++) {
      w.doc.getArray('a').push([`ack-${i}`]);
      await sleep(3);
    }
  })();
  await sleep(Number(env.DURATION || 1500));
  process.kill(Number(env.B_PID), 'SIGKILL');
  stop = true;
  await writing;
  const killedAt = Date.now();
  await sleep(300); // what was in flight to the watcher has arrived
  const want = [...acked];
  w.destroy();
  const expired = await until(() => !o.awareness.getStates().has(wid), 20000, 100);
  ok('the killed node\'s client state expires on A', expired, `${Date.now() - killedAt} ms`);
  console.log(`# state expired after ${Date.now() - killedAt} ms`);
  const arr = await serverContent(env.ADDR_A, doc, 'a', 'array');
  const have = new Set(Array.isArray(arr) ? arr : []);
  const lost = want.filter((x) => !have.has(x));
  ok(`no acknowledged update lost (${want.length} acknowledged)`, want.length > 0 && lost.length === 0, `lost ${lost.length}: ${lost.slice(0, 5)}`);
  // A carries on: a new client there syncs, edits, and the watcher sees it.
  const p = provider(env.ADDR_A, doc, env.ED);
  ok('A still serves the document', await synced([p]));
  p.doc.getText('t').insert(0, 'after the kill ');
  ok('edits still flow on A', await until(() => o.doc.getText('t').toString().startsWith('after the kill')));
  p.destroy();
  o.destroy();
}

// With --collab-max-clients 2 on both nodes: one client on A and one on B
// fill the document; a third on A is refused (503) once B's beat counted.
async function limits() {
  const doc = env.DOC;
  const a = provider(env.ADDR_A, doc, env.ED), b = provider(env.ADDR_B, doc, env.ED2);
  ok('one client on each node', await synced([a, b]));
  await sleep(Number(env.BEAT_WAIT || 2500)); // a beat from B reached A
  const ws = new WebSocket(`ws://${env.ADDR_A}/collab/${PROJECT}/${doc}?token=${encodeURIComponent(env.OWN)}`);
  const st = await new Promise((res) => {
    ws.on('open', () => res('open'));
    ws.on('unexpected-response', (req, r) => res(r.statusCode));
    ws.on('error', () => {});
  });
  ok('the third client, on A, is refused: the document is full across nodes', st === 503, String(st));
  if (st === 'open') ws.close();
  a.destroy();
  b.destroy();
}

async function api(addr, method, path, body) {
  const r = await fetch(`http://${addr}/api/projects/${PROJECT}${path}`, {
    method,
    headers: { authorization: `Bearer ${env.ED}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

// REST writes on node B while the document's room is open on node A (B
// opens its own room, applies the write there, stores and publishes it):
// the provider on A gets it, and a provider edit on A reaches the file as
// B reads it; PUTs on B racing edits on A end with one content everywhere.
async function restWrites() {
  const path = 'src/shared.js';
  let r = await api(env.ADDR_A, 'POST', '/files', { path, content: 'one\n' });
  ok('file created on A', r.status === 201, r.text);
  const p = provider(env.ADDR_A, `code:${path}`, env.ED2);
  ok('provider on A synced', await synced([p]));
  const text = () => p.doc.getText('content').toString();
  ok('the document starts as the file', await until(() => text() === 'one\n'), JSON.stringify(text()));
  r = await api(env.ADDR_B, 'PUT', `/files/${path}`, { content: 'one\ntwo\n' });
  ok('PUT on B', r.status === 200, r.text);
  ok('a PUT on B reaches the provider on A', await until(() => text() === 'one\ntwo\n'), JSON.stringify(text()));
  p.doc.getText('content').insert(0, 'zero\n');
  const file = async (addr) => (await api(addr, 'GET', `/files/${path}`)).text;
  let got;
  ok("a provider's edit on A reaches the file as B reads it",
    await until(async () => (got = await file(env.ADDR_B)) === 'zero\none\ntwo\n'), JSON.stringify(got));
  for (let i = 0; i < 8; i++) {
    const cur = await file(env.ADDR_B);
    await api(env.ADDR_B, 'PUT', `/files/${path}`, { content: cur + `put ${i}\n` });
    p.doc.getText('content').insert(0, `edit ${i}\n`);
    await sleep(pick(40));
  }
  let a, b;
  const same = await until(async () => {
    a = await file(env.ADDR_A);
    b = await file(env.ADDR_B);
    return a === text() && b === text();
  }, 15000, 100);
  ok('PUTs on B and edits on A converge: provider, file on A, file on B', same,
    JSON.stringify({ provider: text(), a, b }));
  p.destroy();
}

// A user with a connection on each node takes a lock: closing the one on A
// keeps it (the user is still connected, on B), closing the one on B too
// releases it.
async function locks() {
  const doc = env.DOC;
  const a = provider(env.ADDR_A, doc, env.ED), b = provider(env.ADDR_B, doc, env.ED);
  ok('one connection on each node', await synced([a, b]));
  let r = await api(env.ADDR_A, 'POST', '/locks', { element: 'hero', type: 'edit' });
  ok('lock taken', r.status === 200 || r.status === 201, r.text);
  await sleep(500); // B's beat listing its connection has reached A
  a.destroy();
  await sleep(1500);
  r = await api(env.ADDR_A, 'GET', '/locks');
  ok('kept while the user is connected on the other node', r.status === 200 && JSON.parse(r.text).items.length === 1, r.text);
  b.destroy();
  const released = await until(async () => {
    r = await api(env.ADDR_B, 'GET', '/locks');
    return r.status === 200 && JSON.parse(r.text).items.length === 0;
  });
  ok("released when the user's last connection, on B, closes", released, r.text);
}

const modes = { converge, awareness, kill, limits, locks, rest: restWrites };
const mode = modes[process.argv[2]];
if (!mode) {
  console.error('usage: collab_nodes.mjs ' + Object.keys(modes).join('|'));
  process.exit(2);
}
await mode();
console.log(`# seed ${env.SEED || ''}`);
process.exit(failures() ? 1 : 0);
