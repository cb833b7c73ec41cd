// tests/collab/collab_rest.mjs: documents and the REST view
// (docs/collab.md, "Documents and the REST API"), with real yjs +
// y-websocket providers. Driven by tests/integration/collab_rest.sh:
// `node collab_rest.mjs MODE` with SB_ADDR, PROJECT, PAGE, ED, ED2 in the
// environment. Prints "ok - name" / "not ok - name: why" per check and
// exits non-zero when one failed.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const env = process.env;
const ADDR = env.SB_ADDR;
const PROJECT = env.PROJECT;
let failed = 0;

function ok(name, cond, why = '') {
  if (cond) console.log(`ok - ${name}`);
  else {
    failed++;
    console.log(`not ok - ${name}${why ? ': ' + why : ''}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seed = Number(env.SEED || Date.now() % 100000);
function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = (n) => Math.floor(rand() * n);

function provider(doc, token = env.ED, ydoc = new Y.Doc()) {
  return new WebsocketProvider(`ws://${ADDR}/collab/${PROJECT}`, doc, ydoc, {
    WebSocketPolyfill: WebSocket,
    params: { token },
    disableBc: true,
    resyncInterval: -1,
  });
}

async function until(cond, ms = 10000, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(step);
  }
  return false;
}

async function api(method, path, body, token = env.ED) {
  const r = await fetch(`http://${ADDR}/api/projects/${PROJECT}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, text, json };
}

const fileText = async (path) => (await api('GET', `/files/${path}`)).text;
const page = async () => (await api('GET', `/pages/${env.PAGE}`)).json;

// Milliseconds until cond holds (polling every 20 ms), or -1 after 5 s.
async function timed(cond) {
  const t0 = Date.now();
  return (await until(cond, 5000)) ? Date.now() - t0 : -1;
}

function close(...ps) {
  for (const p of ps) {
    p.destroy();
    p.doc.destroy();
  }
}

// An edit by a provider shows in GET of the file and of the page within a
// second; the document starts as the REST content.
async function providerToRest() {
  const code = provider('code:src/main.js');
  const pg = provider(`page:${env.PAGE}`);
  await until(() => code.synced && pg.synced);
  const text = code.doc.getText('content');
  ok('code document starts as the file', text.toString() === 'let a = 1;\n', JSON.stringify(text.toString()));
  ok('page document starts as the page', pg.doc.getMap('page').get('name') === 'Home' && pg.doc.getMap('page').get('path') === '/',
    JSON.stringify(pg.doc.getMap('page').toJSON()));
  text.insert(text.length, 'let b = "é😀";\n');
  const want = text.toString();
  let ms = await timed(async () => (await fileText('src/main.js')) === want);
  ok('provider edit shows in GET file within a second', ms >= 0 && ms < 1000, `ms=${ms}`);
  console.log(`# file visible after ${ms} ms`);
  text.delete(0, 4);
  const want2 = text.toString();
  ms = await timed(async () => (await fileText('src/main.js')) === want2);
  ok('provider delete shows in GET file within a second', ms >= 0 && ms < 1000, `ms=${ms}`);
  pg.doc.getMap('page').set('name', 'Home (edited)');
  ms = await timed(async () => (await page())?.name === 'Home (edited)');
  ok('provider edit shows in GET page within a second', ms >= 0 && ms < 1000, `ms=${ms}`);
  const comps = new Y.Array();
  const c = new Y.Map();
  c.set('id', 'hero');
  c.set('type', 'section');
  c.set('props', new Y.Map());
  c.set('children', new Y.Array());
  comps.push([c]);
  pg.doc.getMap('page').set('components', comps);
  ms = await timed(async () => (await page())?.components?.[0]?.id === 'hero');
  ok('provider components show in GET page', ms >= 0 && ms < 1000, `ms=${ms} ${JSON.stringify(await page())}`);
  close(code, pg);
}

// A REST PUT reaches connected providers, as the smallest edit.
async function restToProvider() {
  const a = provider('code:src/main.js');
  const b = provider('code:src/main.js', env.ED2);
  const st = provider('style:main', env.ED2);
  const pg = provider(`page:${env.PAGE}`);
  await until(() => a.synced && b.synced && st.synced && pg.synced);
  const before = a.doc.getText('content').toString();
  // One change in the middle: the diff keeps the common prefix and suffix.
  const k = before.indexOf('\n') + 1;
  const next = before.slice(0, k) + 'let mid = 0;\n' + before.slice(k);
  // Deleted characters, as the document's delete set counts them.
  const deletedLen = (doc) => {
    let n = 0;
    Y.snapshot(doc).ds.clients.forEach((rs) => rs.forEach((r) => (n += r.len)));
    return n;
  };
  const deletedBefore = deletedLen(a.doc);
  const r = await api('PUT', '/files/src/main.js', { content: next });
  ok('PUT file 200', r.status === 200, r.text);
  let ms = await timed(() => a.doc.getText('content').toString() === next && b.doc.getText('content').toString() === next);
  ok('PUT file reaches both providers', ms >= 0, JSON.stringify(a.doc.getText('content').toString()));
  ok('PUT that only adds deletes nothing', deletedLen(a.doc) === deletedBefore,
    `deleted ${deletedLen(a.doc) - deletedBefore} more`);
  console.log(`# PUT visible to providers after ${ms} ms`);
  const r2 = await api('PUT', '/files/styles/main.css', { content: 'body { color: red }\n' });
  ok('PUT style 200', r2.status === 200, r2.text);
  ms = await timed(() => st.doc.getText('content').toString() === 'body { color: red }\n');
  ok('PUT style sheet reaches the style document', ms >= 0, JSON.stringify(st.doc.getText('content').toString()));
  const p = await page();
  const r3 = await api('PUT', `/pages/${env.PAGE}`, { name: 'Renamed', path: '/home' });
  ok('PUT page 200', r3.status === 200, r3.text);
  ms = await timed(() => pg.doc.getMap('page').get('name') === 'Renamed' && pg.doc.getMap('page').get('path') === '/home');
  ok('PUT page reaches the page document', ms >= 0, JSON.stringify(pg.doc.getMap('page').toJSON()));
  ok('page components kept', JSON.stringify((await page()).components) === JSON.stringify(p.components));
  close(a, b, st, pg);
}

// REST PUTs and provider edits at the same time converge: every provider,
// the stored document and GET agree.
async function concurrent() {
  const ps = [provider('code:race.js'), provider('code:race.js', env.ED2), provider('code:race.js')];
  await until(() => ps.every((p) => p.synced));
  const work = [];
  for (let w = 0; w < ps.length; w++) {
    work.push((async () => {
      for (let i = 0; i < 40; i++) {
        const t = ps[w].doc.getText('content');
        if (t.length > 0 && rand() < 0.3) t.delete(pick(t.length), 1);
        else t.insert(pick(t.length + 1), String.fromCharCode(97 + pick(26)) + w);
        await sleep(pick(15));
      }
    })());
  }
  work.push((async () => {
    for (let i = 0; i < 10; i++) {
      const cur = await fileText('race.js');
      const r = await api('PUT', '/files/race.js', { content: `/*${i}*/` + cur + `\n// put ${i}\n` });
      if (r.status !== 200) ok(`PUT ${i}`, false, r.text);
      await sleep(pick(40));
    }
  })());
  await Promise.all(work);
  const same = () => ps.every((p) => p.doc.getText('content').toString() === ps[0].doc.getText('content').toString());
  ok('providers converge', await until(same), ps.map((p) => p.doc.getText('content').toString()).join(' | '));
  const want = ps[0].doc.getText('content').toString();
  let ms = await timed(async () => (await fileText('race.js')) === want);
  ok('GET file converges within a second', ms >= 0 && ms < 1000, `ms=${ms}: ${JSON.stringify(await fileText('race.js'))} vs ${JSON.stringify(want)}`);
  // A last PUT, with nobody typing, is what everyone ends with.
  const last = 'final\n' + want.slice(want.length >> 1);
  await api('PUT', '/files/race.js', { content: last });
  ms = await timed(() => ps.every((p) => p.doc.getText('content').toString() === last));
  ok('a last PUT is every provider\'s content', ms >= 0, ps[0].doc.getText('content').toString());
  ok('a last PUT is GET\'s content', (await fileText('race.js')) === last);
  close(...ps);
}

const modes = { providerToRest, restToProvider, concurrent };
const mode = modes[process.argv[2]];
if (!mode) {
  console.error(`modes: ${Object.keys(modes).join(' ')}`);
  process.exit(2);
}
await mode();
process.exit(failed ? 1 : 0);
