// tests/collab/collab_rest.mjs: documents and the REST view
// (docs/collab.md, "Documents and the REST API"), with real yjs +
// y-websocket providers. Driven by tests/integration/collab_rest.sh:
// `node collab_rest.mjs MODE` with SB_ADDR, PROJECT, PAGE, ED, ED2 in the
// environment. Prints "ok - name" / "not ok - name: why" per check and
// exits non-zero when one failed.
import * as Y from 'yjs';
import * as h from './harness.mjs';
import { env, ok, failures, sleep, rand, pick, until, close } from './harness.mjs';

const ADDR = env.SB_ADDR;
const PROJECT = env.PROJECT;
const provider = (doc, token = env.ED, ydoc) => h.provider(ADDR, PROJECT, doc, token, ydoc);
const api = (method, path, body, token = env.ED) =>
  h.api(ADDR, method, `/projects/${PROJECT}${path}`, body, token);

const fileText = async (path) => (await api('GET', `/files/${path}`)).text;
const page = async () => (await api('GET', `/pages/${env.PAGE}`)).json;

// Milliseconds until cond holds (polling every 20 ms), or -1 after 5 s.
async function timed(cond) {
  const t0 = Date.now();
  return (await until(cond, 5000)) ? Date.now() - t0 : -1;
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
  // style:main and code:styles/main.css are one document.
  const sc = provider('code:styles/main.css');
  await until(() => sc.synced);
  ok('the code name of a style sheet is the same document', sc.doc.getText('content').toString() === 'body { color: red }\n',
    JSON.stringify(sc.doc.getText('content').toString()));
  st.doc.getText('content').insert(0, '/* s */\n');
  ms = await timed(() => sc.doc.getText('content').toString() === '/* s */\nbody { color: red }\n');
  ok('a style edit reaches the code name', ms >= 0);
  ms = await timed(async () => (await fileText('styles/main.css')) === '/* s */\nbody { color: red }\n');
  ok('and the file', ms >= 0 && ms < 1000, `ms=${ms}`);
  close(sc);
  const p = await page();
  const r3 = await api('PUT', `/pages/${env.PAGE}`, { name: 'Renamed', path: '/home' });
  ok('PUT page 200', r3.status === 200, r3.text);
  ms = await timed(() => pg.doc.getMap('page').get('name') === 'Renamed' && pg.doc.getMap('page').get('path') === '/home');
  ok('PUT page reaches the page document', ms >= 0, JSON.stringify(pg.doc.getMap('page').toJSON()));
  ok('page components kept', JSON.stringify((await page()).components) === JSON.stringify(p.components));
  // Components and metadata written through REST become API.md's shared
  // types in the document.
  const tree = [
    { id: 'nav', type: 'navbar', props: { links: ['a', 'b'], sticky: true }, children: [] },
    { id: 'hero', type: 'section', props: { title: 'Hi' },
      children: [{ id: 'cta', type: 'button', props: { label: 'Go' }, children: [] }] },
  ];
  const r4 = await api('PUT', `/pages/${env.PAGE}`, { components: tree, metadata: { title: 'Home', tags: ['x'] } });
  ok('PUT page components 200', r4.status === 200, r4.text);
  const comps = () => pg.doc.getMap('page').get('components');
  ms = await timed(() => comps() instanceof Y.Array && comps().length === 2 && comps().get(1).get('children')?.length === 1);
  ok('PUT components reach the document', ms >= 0, JSON.stringify(pg.doc.getMap('page').toJSON()));
  if (ms >= 0) {
    const hero = comps().get(1);
    ok('a component is a Y.Map with props a Y.Map and children a Y.Array',
      hero instanceof Y.Map && hero.get('props') instanceof Y.Map && hero.get('children') instanceof Y.Array &&
      hero.get('children').get(0) instanceof Y.Map && hero.get('children').get(0).get('props').get('label') === 'Go');
    ok('prop values stay plain', Array.isArray(comps().get(0).get('props').get('links')));
    const md = pg.doc.getMap('page').get('metadata');
    ok('metadata is a Y.Map of plain values', md instanceof Y.Map && md.get('title') === 'Home' && Array.isArray(md.get('tags')));
    // A provider's edit inside the tree goes back to REST.
    hero.get('props').set('title', 'Hello');
    ms = await timed(async () => (await page())?.components?.[1]?.props?.title === 'Hello');
    ok('a provider edit inside a component shows in GET page', ms >= 0 && ms < 1000, `ms=${ms}`);
  }
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
  // A PUT answers once its row is written; its update may still be on the
  // way to the providers. So what converges is all of them and GET, not
  // GET and a snapshot of the providers taken as the last PUT answered.
  const text = (p) => p.doc.getText('content').toString();
  let want = '';
  let ms = await timed(async () => {
    want = await fileText('race.js');
    return ps.every((p) => text(p) === want);
  });
  ok('providers and GET file converge within a second', ms >= 0 && ms < 1000,
    `ms=${ms}: GET ${JSON.stringify(want)} vs ${ps.map((p) => JSON.stringify(text(p))).join(' | ')}`);
  // A last PUT, with nobody typing, is what everyone ends with.
  const last = 'final\n' + want.slice(want.length >> 1);
  await api('PUT', '/files/race.js', { content: last });
  ms = await timed(() => ps.every((p) => text(p) === last));
  ok('a last PUT is every provider\'s content', ms >= 0, text(ps[0]));
  ok('a last PUT is GET\'s content', (await fileText('race.js')) === last);
  close(...ps);
}

// The project's event stream (SSE) as a queue of {event, data}.
async function stream(token) {
  const ctl = new AbortController();
  const r = await fetch(`http://${ADDR}/api/projects/${PROJECT}/events/stream`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ctl.signal,
  });
  const events = [];
  const s = { status: r.status, events, close: () => ctl.abort() };
  if (r.status !== 200) return s;
  (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of r.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          events.push({ event, data: data ? JSON.parse(data) : null });
        }
      }
    } catch {}
  })();
  await until(() => events.some((e) => e.event === 'ready'), 3000);
  return s;
}

const seen = (s, pred) => until(() => s.events.some(pred), 3000);
const lockEv = (action, element) => (e) =>
  e.event === 'lock' && e.data.action === action && e.data.lock.element === element;

// Locks: one holder, 409 for others, expiry, release on disconnect, roles;
// lock and comment changes pushed to the project's streams.
async function locks() {
  const s = await stream(env.ED2);
  ok('event stream opens for an editor', s.status === 200 && s.events.some((e) => e.event === 'ready'));
  const vs = await stream(env.VW);
  ok('event stream opens for a viewer', vs.status === 200);
  const st = await stream(env.ST);
  ok('event stream refused to a stranger', st.status === 404, `status ${st.status}`);
  const gu = await stream(env.GU);
  ok('event stream refused to a guest', gu.status === 404 || gu.status === 403, `status ${gu.status}`);

  let r = await api('POST', '/locks', { element: 'hero', type: 'edit' });
  ok('editor takes a lock', r.status === 200 && r.json.element === 'hero' && r.json.type === 'edit' && r.json.user_id === env.ED_ID, r.text);
  ok('lock taken is pushed', await seen(s, lockEv('taken', 'hero')));
  ok('viewer stream gets it too', await seen(vs, lockEv('taken', 'hero')));
  r = await api('POST', '/locks', { element: 'hero', type: 'view' }, env.ED2);
  ok('another user gets 409', r.status === 409, `${r.status} ${r.text}`);
  r = await api('POST', '/locks', { element: 'hero', type: 'edit' });
  ok('the holder renews', r.status === 200, r.text);
  r = await api('GET', '/locks', undefined, env.VW);
  ok('viewer lists locks', r.status === 200 && r.json.items.length === 1 && r.json.items[0].element === 'hero', r.text);
  r = await api('POST', '/locks', { element: 'x', type: 'edit' }, env.VW);
  ok('viewer cannot lock (403)', r.status === 403, `${r.status}`);
  r = await api('POST', '/locks', { element: 'x', type: 'edit' }, env.ST);
  ok('stranger cannot lock (404)', r.status === 404, `${r.status}`);
  r = await api('POST', '/locks', { element: 'x', type: 'write' });
  ok('bad type 400', r.status === 400, `${r.status}`);
  r = await api('POST', '/locks', { element: 'x', expires_at: '2001-01-01T00:00:00Z' });
  ok('expiry in the past 400', r.status === 400, `${r.status}`);
  r = await api('DELETE', '/locks?element=hero', undefined, env.ED2);
  ok('another editor cannot release it (403)', r.status === 403, `${r.status}`);

  // Comments on the locked element are pushed as they change.
  r = await api('POST', '/comments', { page_id: env.PAGE, element_id: 'hero', body: 'Bigger title?' });
  ok('comment created', r.status === 201, r.text);
  const cid = r.json && r.json.id;
  ok('comment creation pushed', await seen(s, (e) => e.event === 'comment' && e.data.action === 'created' && e.data.comment.id === cid && e.data.comment.element_id === 'hero'));
  r = await api('POST', `/comments/${cid}/resolve`);
  ok('comment resolution pushed', r.status === 200 && (await seen(s, (e) => e.event === 'comment' && e.data.action === 'resolved' && e.data.comment.id === cid)), r.text);
  r = await api('DELETE', `/comments/${cid}`);
  ok('comment deletion pushed', r.status === 200 && (await seen(s, (e) => e.event === 'comment' && e.data.action === 'deleted' && e.data.comment.id === cid)), r.text);

  r = await api('DELETE', '/locks?element=hero');
  ok('holder releases (204)', r.status === 204, `${r.status} ${r.text}`);
  ok('release pushed', await seen(s, (e) => e.event === 'lock' && e.data.action === 'released' && e.data.lock.element === 'hero'));
  r = await api('DELETE', '/locks?element=hero');
  ok('releasing a free element 404', r.status === 404, `${r.status}`);

  // Expiry.
  r = await api('POST', '/locks', { element: 'short', expires_at: new Date(Date.now() + 1500).toISOString() });
  ok('short lock taken', r.status === 200, r.text);
  r = await api('POST', '/locks', { element: 'short' }, env.ED2);
  ok('short lock blocks', r.status === 409, `${r.status}`);
  ok('expiry pushed', await seen(s, lockEv('expired', 'short')));
  r = await api('POST', '/locks', { element: 'short' }, env.ED2);
  ok('expired lock is free', r.status === 200 && r.json.user_id === env.ED2_ID, r.text);
  r = await api('DELETE', '/locks?element=short', undefined, env.OWN);
  ok('an owner breaks another user\'s lock', r.status === 204, `${r.status}`);

  // Released when its holder's last collaboration connection closes.
  const p1 = provider('code:src/main.js');
  const p2 = provider(`page:${env.PAGE}`);
  ok('holder connected to two documents', await until(() => p1.synced && p2.synced),
    `code ${p1.synced} page ${p2.synced}`);
  r = await api('POST', '/locks', { element: 'nav' });
  ok('connected holder takes a lock', r.status === 200, r.text);
  close(p1);
  await sleep(300);
  r = await api('POST', '/locks', { element: 'nav' }, env.ED2);
  ok('still held while another connection is open', r.status === 409, `${r.status}`);
  close(p2);
  ok('disconnect release pushed', await seen(s, lockEv('released', 'nav')));
  r = await api('POST', '/locks', { element: 'nav' }, env.ED2);
  ok('free after the holder disconnected', r.status === 200, r.text);
  for (const x of [s, vs]) x.close();
}

// A version-control rollback writes the live file: its document follows,
// and collaborators' edits keep reaching REST afterwards.
async function rollback() {
  const p = provider('code:src/vcs.js');
  ok('provider connected', await until(() => p.synced));
  const text = p.doc.getText('content');
  ok('document starts as the file', text.toString() === 'v1\n', JSON.stringify(text.toString()));
  let r = await api('POST', '/vcs/commits', { message: 'v1', from_live: true });
  ok('commit v1', r.status === 201, r.text);
  const c1 = r.json && r.json.id;
  text.insert(text.length, 'v2\n');
  ok('edit reaches the file', (await timed(async () => (await fileText('src/vcs.js')) === 'v1\nv2\n')) >= 0);
  r = await api('POST', '/vcs/commits', { message: 'v2', from_live: true });
  ok('commit v2', r.status === 201, r.text);
  r = await api('POST', '/vcs/rollback', { to: c1 }, env.OWN);
  ok('rollback to v1', r.status === 201, r.text);
  let ms = await timed(() => text.toString() === 'v1\n');
  ok('the rollback reaches the provider', ms >= 0, JSON.stringify(text.toString()));
  ok('the file stays rolled back', (await fileText('src/vcs.js')) === 'v1\n');
  text.insert(text.length, 'v3\n');
  ms = await timed(async () => (await fileText('src/vcs.js')) === 'v1\nv3\n');
  ok('later edits still reach the file within a second', ms >= 0 && ms < 1000, `ms=${ms}`);
  close(p);
}

// A document taking many edits a second writes its page at most every
// 100 ms (docs/collab.md, "Materialising"), and its last edit still shows
// in GET within a second.
async function paced() {
  const pg = provider(`page:${env.PAGE}`);
  ok('provider connected', await until(() => pg.synced));
  const v0 = (await page()).version;
  const m = pg.doc.getMap('page');
  const n = 150;
  const t0 = Date.now();
  for (let i = 1; i <= n; i++) {
    m.set('name', `Paced ${i}`); // one update each: each is its own batch
    await sleep(5);
  }
  const ms = await timed(async () => (await page())?.name === `Paced ${n}`);
  ok('the last of many edits shows in GET within a second', ms >= 0 && ms < 1000, `ms=${ms}`);
  const elapsed = Date.now() - t0;
  const writes = (await page()).version - v0;
  const most = Math.floor(elapsed / 100) + 2;
  ok('the page is written at most once per 100 ms', writes >= 1 && writes <= most,
    `${writes} writes in ${elapsed} ms, at most ${most}`);
  console.log(`# ${n} edits in ${elapsed} ms: ${writes} page writes`);
  close(pg);
}

// A write the pacing holds back is not lost to a clean shutdown: the
// server's drain waits for it. This mode stops the server (SB_PID); the
// driver starts it again and reads the page.
async function pacedStop() {
  const a = provider(`page:${env.PAGE}`);
  const b = provider(`page:${env.PAGE}`, env.ED2);
  ok('providers connected', await until(() => a.synced && b.synced));
  const m = a.doc.getMap('page');
  m.set('name', 'Before stop 1');
  ok('the first edit shows in GET', await until(async () => (await page())?.name === 'Before stop 1', 1000, 5));
  // Within 100 ms of that write: this one's write is paced.
  m.set('name', 'Before stop 2');
  ok('the second edit is stored and relayed',
    await until(() => b.doc.getMap('page').get('name') === 'Before stop 2', 1000, 1));
  process.kill(Number(env.SB_PID), 'SIGTERM');
  close(a, b);
}

const modes = { providerToRest, restToProvider, concurrent, locks, rollback, paced, pacedStop };
const mode = modes[process.argv[2]];
if (!mode) {
  console.error(`modes: ${Object.keys(modes).join(' ')}`);
  process.exit(2);
}
await mode();
process.exit(failures() ? 1 : 0);
