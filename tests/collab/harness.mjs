// tests/collab/harness.mjs: what the collaboration test clients share
// (collab.mjs, collab_rest.mjs, collab_nodes.mjs, vcs_rooms.mjs): checks
// printed as "ok - name" / "not ok - name: why", a seeded generator so a
// failure replays (SEED=...), real y-websocket providers on node's `ws`,
// polling, the REST API, and the random Text/Map/Array edits with the
// views they are compared by.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

export const env = process.env;

let failed = 0;
export function ok(name, cond, why = '') {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`not ok - ${name}${why ? ': ' + why : ''}`);
  }
}
export const failures = () => failed;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let seed = Number(env.SEED || Date.now() % 100000);
export function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
export const pick = (n) => Math.floor(rand() * n);

// A provider on addr's project document, as a browser would open it.
export function provider(addr, project, doc, token, ydoc = new Y.Doc()) {
  return new WebsocketProvider(`ws://${addr}/collab/${project}`, doc, ydoc, {
    WebSocketPolyfill: WebSocket,
    params: token ? { token } : {},
    disableBc: true,
    resyncInterval: -1,
  });
}

export async function until(cond, ms = 10000, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(step);
  }
  return false;
}

export const synced = (ps) => until(() => ps.every((p) => p.synced));

export function close(...ps) {
  for (const p of ps) {
    p.destroy();
    p.doc.destroy();
  }
}

// A call of /api on addr: {status, json, text}.
export async function api(addr, method, path, body, token) {
  const r = await fetch(`http://${addr}/api${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, json, text };
}

// The stored document's root as JSON, read through GET .../docs/*doc.
export async function serverContent(addr, project, doc, root, type, token) {
  const path = doc.split('/').map(encodeURIComponent).join('/');
  const r = await api(addr, 'GET', `/projects/${project}/docs/${path}?root=${root}&type=${type}`,
    undefined, token);
  return r.status === 200 ? r.json.content : { status: r.status, body: r.json };
}

// The three roots the random edits touch.
export function view(ydoc) {
  return {
    t: ydoc.getText('t').toString(),
    m: ydoc.getMap('m').toJSON(),
    a: ydoc.getArray('a').toJSON(),
  };
}

export async function serverView(addr, project, doc, token) {
  return {
    t: await serverContent(addr, project, doc, 't', 'text', token),
    m: await serverContent(addr, project, doc, 'm', 'map', token),
    a: await serverContent(addr, project, doc, 'a', 'array', token),
  };
}

// Map key order is not part of the content: compare maps sorted.
export function canon(v) {
  const m = Object.keys(v.m || {}).sort().reduce((o, k) => ((o[k] = v.m[k]), o), {});
  return JSON.stringify({ t: v.t, m, a: v.a });
}

export function randomEdit(ydoc, who, i) {
  const t = ydoc.getText('t'), m = ydoc.getMap('m'), a = ydoc.getArray('a');
  switch (pick(6)) {
    case 0:
    case 1:
      t.insert(pick(t.length + 1), `${who}${i} `);
      break;
    case 2:
      if (t.length > 3) t.delete(pick(t.length - 2), 1 + pick(2));
      else t.insert(0, 'x');
      break;
    case 3:
      m.set(`k${pick(8)}`, { by: who, i, n: rand() });
      break;
    case 4:
      a.insert(pick(a.length + 1), [`${who}-${i}`]);
      break;
    default:
      if (a.length > 0) a.delete(pick(a.length), 1);
      else a.push([i]);
  }
}
