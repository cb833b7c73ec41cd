// tests/collab/vcs_rooms.mjs: collaborative documents and version control
// (docs/vcs.md "Branch rooms", docs/history.md "Events"), with real yjs +
// y-websocket providers. Driven by tests/integration/vcs_rooms.sh:
// `node vcs_rooms.mjs MODE` with SB_ADDR, PROJECT, PAGE, OWN, ED, VW, GU,
// OUT in the environment. Prints "ok - name" / "not ok - name: why" per
// check and exits non-zero when one failed.
//
//   events    provider edits of the live page and file are materialised and
//             logged as page_updated / file_updated events (no actor), whose
//             payload is the new content
//   branches  a branch's documents start as the branch head's files, are
//             separate from main's, are read-only to viewers and hidden from
//             guests and strangers; both sides edited by providers, committed
//             (from_live on each branch), diffed, merged; a merge into the
//             branch and a rollback of it reach its open providers
import WebSocket from 'ws';
import * as h from './harness.mjs';
import { env, ok, failures, sleep, until, close } from './harness.mjs';

const ADDR = env.SB_ADDR;
const PROJECT = env.PROJECT;
const provider = (doc, token = env.ED) => h.provider(ADDR, PROJECT, doc, token);
const api = (method, path, body, token = env.ED) =>
  h.api(ADDR, method, `/projects/${PROJECT}${path}`, body, token);
const PAGE = env.PAGE;

// The status of a WebSocket upgrade to doc (101 when admitted).
function upgrade(doc, token) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${ADDR}/collab/${PROJECT}/${doc}?token=${token}`);
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    ws.on('error', () => resolve(0));
  });
}

async function allEvents() {
  const items = [];
  let after = 0;
  for (let i = 0; i < 100; i++) {
    const r = await api('GET', `/events?after=${after}&limit=200`, undefined, env.OWN);
    if (r.status !== 200 || !r.json.items.length) break;
    items.push(...r.json.items);
    after = r.json.next_cursor;
    if (after === null) break;
  }
  return items;
}

const text = (p) => p.doc.getText('content');
const pageMap = (p) => p.doc.getMap('page');

// Collaborative edits of the live documents are events of the log.
async function events() {
  const code = provider('code:src/app.js');
  const pg = provider(`page:${PAGE}`);
  ok('providers sync', await until(() => code.synced && pg.synced));
  const before = (await allEvents()).length;
  text(code).insert(text(code).length, '// typed by a provider\n');
  const want = text(code).toString();
  pageMap(pg).set('name', 'Home (typed)');
  const seen = await until(async () => {
    const ev = (await allEvents()).slice(before);
    return ev.some((e) => e.type === 'file_updated' && e.target === 'src/app.js' && e.payload.value?.content === want) &&
      ev.some((e) => e.type === 'page_updated' && e.target === PAGE && e.payload.value?.name === 'Home (typed)');
  });
  const ev = (await allEvents()).slice(before);
  ok('the provider edits are file_updated and page_updated events with the new content', seen,
    JSON.stringify(ev.map((e) => [e.type, e.target])));
  const mine = ev.filter((e) => e.type === 'file_updated' || e.type === 'page_updated');
  ok('written by Sitebase (no actor): the room materialised them', mine.length > 0 && mine.every((e) => e.actor_id === null),
    JSON.stringify(mine.map((e) => e.actor_id)));
  const head = ev[ev.length - 1].seq;
  const st = await api('GET', `/state?at=${head}`, undefined, env.OWN);
  ok('the state at that event holds the typed content',
    st.status === 200 && st.json.state.files['src/app.js'].content === want && st.json.state.pages[PAGE].name === 'Home (typed)',
    st.text.slice(0, 200));
  close(code, pg);
}

async function branches() {
  // ---- access: the branch must exist; viewers read, guests and strangers never ----
  ok('an unknown branch is 404', (await upgrade('branch/nope/code:src/app.js', env.ED)) === 404);
  ok('a stranger gets 404', (await upgrade('branch/feature/code:src/app.js', env.OUT)) === 404);
  ok('a guest to whom the page is shared gets 404 on the branch', (await upgrade(`branch/feature/page:${PAGE}`, env.GU)) === 404);
  ok('a guest still opens the shared live page', (await upgrade(`page:${PAGE}`, env.GU)) === 101);
  ok('a malformed branch name is 404', (await upgrade('branch//code:src/app.js', env.ED)) === 404);

  // ---- a branch's documents start as the branch head's files ----
  const head = (await api('GET', '/vcs/files/files/src/app.js?ref=feature')).text;
  const bCode = provider('branch/feature/code:src/app.js');
  const mCode = provider('code:src/app.js');
  const bPage = provider(`branch/feature/page:${PAGE}`);
  const mPage = provider(`page:${PAGE}`);
  const vw = provider('branch/feature/code:src/app.js', env.VW);
  ok('providers sync', await until(() => bCode.synced && mCode.synced && bPage.synced && mPage.synced && vw.synced));
  let r0 = await api('POST', '/vcs/commits', { branch: 'feature', message: 'opened only', from_live: true });
  ok('documents opened but not edited commit nothing', r0.status === 400, r0.text);
  ok('the branch code document starts as the branch head\'s file', text(bCode).toString() === head,
    JSON.stringify([text(bCode).toString(), head]));
  const comps = pageMap(bPage).get('components');
  ok('the branch page document starts as the branch head\'s page',
    pageMap(bPage).get('name') === 'Home' && comps && comps.get(0).get('id') === 'hero',
    JSON.stringify(pageMap(bPage).toJSON()));

  // ---- both sides edited by providers ----
  text(bCode).insert(text(bCode).length, 'branch line\n');
  text(mCode).insert(0, 'main line\n');
  pageMap(bPage).get('components').get(0).get('props').set('color', 'blue');
  pageMap(mPage).get('components').get(0).get('props').set('title', 'Main title');
  ok('the viewer reads the branch document',
    await until(() => text(vw).toString().endsWith('branch line\n')), JSON.stringify(text(vw).toString()));
  text(vw).insert(0, 'VIEWER ');
  await sleep(400);
  ok('the viewer\'s edit reaches nobody', !text(bCode).toString().includes('VIEWER'));
  ok('main\'s document did not get the branch edit', !text(mCode).toString().includes('branch line'));
  ok('the branch document did not get main\'s edit', !text(bCode).toString().includes('main line'));
  ok('main\'s edit is live', await until(async () => (await api('GET', '/files/src/app.js')).text.startsWith('main line\n')));
  await sleep(300);
  const live = (await api('GET', '/files/src/app.js')).text;
  ok('the branch edit never reaches the live file', !live.includes('branch line'), JSON.stringify(live));
  const livePage = (await api('GET', `/pages/${PAGE}`)).json;
  ok('nor the live page', livePage.components[0].props.color === 'red', JSON.stringify(livePage.components[0]));
  const stored = await api('GET', '/docs/branch/feature/code:src/app.js', undefined, env.VW);
  ok('the branch document is stored (GET docs)', stored.status === 200 && stored.json.content.endsWith('branch line\n'), stored.text);
  ok('a guest cannot read it', (await api('GET', '/docs/branch/feature/code:src/app.js', undefined, env.GU)).status === 404);

  // ---- commit both sides from their documents ----
  let r = await api('POST', '/vcs/commits', { branch: 'feature', message: 'feature from rooms', from_live: true }, env.VW);
  ok('a viewer may not commit a branch\'s documents', r.status === 403, r.text);
  r = await api('POST', '/vcs/commits', { branch: 'feature', message: 'feature from rooms', from_live: true });
  ok('commit the branch from its documents', r.status === 201, r.text);
  const fc = r.json?.id;
  r = await api('POST', '/vcs/commits', { branch: 'feature', message: 'again', from_live: true });
  ok('again: nothing changed', r.status === 400, r.text);
  r = await api('POST', '/vcs/commits', { message: 'main from rooms', from_live: true });
  ok('commit main from the live project', r.status === 201, r.text);
  const bFile = (await api('GET', '/vcs/files/files/src/app.js?ref=feature')).text;
  ok('the branch commit holds the branch edit only', bFile.endsWith('branch line\n') && !bFile.includes('main line'), JSON.stringify(bFile));
  const bPg = JSON.parse((await api('GET', `/vcs/files/pages/${PAGE}.json?ref=feature`)).text);
  ok('and the branch page', bPg.components[0].props.color === 'blue' && bPg.components[0].props.title === 'Hello' &&
    bPg.published === false && bPg.id === PAGE, JSON.stringify(bPg));

  // ---- diff and merge ----
  r = await api('GET', '/vcs/diff?from=main&to=feature');
  const files = Object.fromEntries((r.json?.files || []).map((f) => [f.path, f]));
  const pd = files[`pages/${PAGE}.json`];
  const hero = pd?.changes?.find((c) => c.op === 'changed' && c.component_id === 'hero');
  const props = Object.fromEntries((hero?.props || []).map((p) => [p.name, [p.old, p.new]]));
  ok('the diff names both sides\' props', props.color?.[0] === 'red' && props.color?.[1] === 'blue' &&
    props.title?.[0] === 'Main title' && props.title?.[1] === 'Hello', JSON.stringify(pd));
  ok('and the file lines', (files['files/src/app.js']?.patch || '').includes('+branch line'), JSON.stringify(files['files/src/app.js']));
  r = await api('POST', '/vcs/merge', { source: 'feature' }, env.OWN);
  ok('merge the branch into main', r.status === 200 && r.json.fast_forward === false, r.text);
  const mFile = (await api('GET', '/vcs/files/files/src/app.js?ref=main')).text;
  ok('main holds both lines', mFile.startsWith('main line\n') && mFile.endsWith('branch line\n'), JSON.stringify(mFile));
  const mPg = JSON.parse((await api('GET', `/vcs/files/pages/${PAGE}.json?ref=main`)).text);
  ok('and both props', mPg.components[0].props.color === 'blue' && mPg.components[0].props.title === 'Main title', JSON.stringify(mPg.components[0]));
  ok('main\'s provider follows the merge',
    await until(() => text(mCode).toString().endsWith('branch line\n') &&
      pageMap(mPage).get('components').get(0).get('props').get('color') === 'blue'),
    JSON.stringify(text(mCode).toString()));

  // ---- the branch's open rooms follow a merge into it and a rollback of it ----
  text(mCode).insert(0, 'second main line\n');
  ok('main edit is live', await until(async () => (await api('GET', '/files/src/app.js')).text.startsWith('second main line\n')));
  r = await api('POST', '/vcs/commits', { message: 'main 2', from_live: true });
  ok('commit main again', r.status === 201, r.text);
  r = await api('POST', '/vcs/merge', { source: 'main', target: 'feature' });
  ok('an editor merges main into the branch', r.status === 200, r.text);
  const want = (await api('GET', '/vcs/files/files/src/app.js?ref=feature')).text;
  ok('the branch provider follows the merge', await until(() => text(bCode).toString() === want),
    JSON.stringify([text(bCode).toString(), want]));
  // (its own refused edit stays in its local copy, as y-websocket keeps it)
  ok('the viewer too', await until(() => text(vw).toString().replace('VIEWER ', '') === want),
    JSON.stringify(text(vw).toString()));
  r = await api('POST', '/vcs/rollback', { branch: 'feature', to: fc });
  ok('roll the branch back to its first room commit', r.status === 201, r.text);
  ok('the branch provider follows the rollback', await until(() => text(bCode).toString() === bFile),
    JSON.stringify([text(bCode).toString(), bFile]));
  ok('main\'s provider does not', text(mCode).toString().startsWith('second main line\n'));
  text(bCode).insert(0, 'after rollback\n');
  await sleep(300);
  r = await api('POST', '/vcs/commits', { branch: 'feature', message: 'after', from_live: true });
  ok('later branch edits commit', r.status === 201, r.text);
  const after = (await api('GET', '/vcs/files/files/src/app.js?ref=feature')).text;
  ok('with the edit', after === 'after rollback\n' + bFile, JSON.stringify(after));

  // ---- a change-list commit to the branch reaches its rooms too ----
  r = await api('POST', '/vcs/commits', { branch: 'feature', message: 'by REST', changes: [{ path: 'files/src/app.js', content: 'by REST\n' }] });
  ok('a change-list commit to the branch', r.status === 201, r.text);
  ok('reaches the branch provider', await until(() => text(bCode).toString() === 'by REST\n'), JSON.stringify(text(bCode).toString()));

  // ---- a style is its code: document on a branch too ----
  const st1 = provider('branch/feature/style:site');
  const st2 = provider('branch/feature/code:styles/site.css');
  ok('style providers sync', await until(() => st1.synced && st2.synced));
  ok('the branch style starts as the branch file', text(st1).toString() === 'body { color: red; }\n', JSON.stringify(text(st1).toString()));
  text(st1).insert(0, '/* b */\n');
  ok('style:<name> and code:styles/<name>.css are one document', await until(() => text(st2).toString().startsWith('/* b */\n')));
  close(bCode, mCode, bPage, mPage, vw, st1, st2);
}

const modes = { events, branches };
const mode = modes[process.argv[2]];
if (!mode) {
  console.error(`modes: ${Object.keys(modes).join(' ')}`);
  process.exit(2);
}
await mode();
process.exit(failures() ? 1 : 0);
