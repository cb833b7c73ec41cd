// bench/api/seed.mjs: a realistic data set, made through Sitebase's own API
// (so both drivers, and the peer reading Sitebase's PostgreSQL tables, see
// rows exactly as Sitebase writes them):
//   - a studio team "Acme" (owner alice; bob editor, carol and frank
//     viewers, dave admin, erin guest);
//   - 300 projects by alice and 40 by bob in the team (6 in 10 visible to
//     the team, 2 private, 2 public), with SEO/performance/security
//     settings and a deployment; 20 of the private ones shared with bob;
//     80 renamed afterwards so updated_at order differs from creation;
//   - 20 personal projects of bob's, and another team (mallory's, 100
//     projects) that nobody above belongs to.
// The benchmark's caller is bob, the editor. Prints JSON: bob's access
// token, the team id, a team project's id, one private project shared with
// him and two he may not see (another team's, an unshared private one).
//
//   node seed.mjs BASE_URL          (bounded: ~600 requests, 8 at a time)
const base = process.argv[2];
const password = "correct horse battery staple";

async function call(method, path, token, body) {
  const r = await fetch(base + path, {
    method,
    headers: {
      ...(body ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

// Runs fn(i) for i in 0..n-1, at most `width` at once, in order of i.
async function each(n, width, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

const names = ["alice", "bob", "carol", "dave", "erin", "frank", "mallory"];
const users = {};
for (const n of names) {
  const r = await call("POST", "/api/auth/register", null, { email: `${n}@example.com`, password });
  users[n] = { id: r.user.id, token: r.access_token };
}
const tok = (n) => users[n].token;

const team = await call("POST", "/api/teams", tok("alice"), { name: "Acme Studio" });
for (const [n, role] of [["bob", "editor"], ["carol", "viewer"], ["dave", "admin"], ["erin", "guest"], ["frank", "viewer"]])
  await call("POST", `/api/teams/${team.id}/members`, tok("alice"), { email: `${n}@example.com`, role });
const other = await call("POST", "/api/teams", tok("mallory"), { name: "Other Agency" });

const kinds = ["Landing page", "Online shop", "Portfolio", "Blog", "Docs site", "Event page", "Restaurant menu", "Agency site"];
const words = ["fast", "modern", "minimal", "bold", "seasonal", "multilingual", "accessible", "responsive"];
function body(i, teamId) {
  const vis = i % 10 < 6 ? "team" : i % 10 < 8 ? "private" : "public";
  return {
    name: `${kinds[i % kinds.length]} ${i}`,
    description: `A ${words[i % words.length]} ${kinds[(i * 3) % kinds.length].toLowerCase()} for client ${i % 37}, built with the AI builder.`,
    ...(teamId ? { team_id: teamId, visibility: vis } : {}),
    settings: {
      seo: { title: `${kinds[i % kinds.length]} ${i}`, description: `Client ${i % 37}`, index: i % 5 !== 0 },
      performance: { lazy_images: true, cache_ttl: 300 + i },
      security: { guest_comments: i % 3 === 0 },
    },
    deployment: { provider: i % 2 ? "static" : "edge", region: i % 4 ? "eu-west" : "us-east", domain: `site${i}.example.com` },
  };
}

const alices = await each(300, 8, (i) => call("POST", "/api/projects", tok("alice"), body(i, team.id)));
const bobs = await each(40, 8, (i) => call("POST", "/api/projects", tok("bob"), body(300 + i, team.id)));
await each(20, 8, (i) => call("POST", "/api/projects", tok("bob"), body(400 + i, null)));
const others = await each(100, 8, (i) => call("POST", "/api/projects", tok("mallory"), body(500 + i, other.id)));
const privates = alices.filter((p) => p.visibility === "private").slice(0, 20);
const unshared = alices.filter((p) => p.visibility === "private")[20];
await each(privates.length, 8, (i) =>
  call("PUT", `/api/projects/${privates[i].id}/members`, tok("alice"), { user_id: users.bob.id, role: "viewer" }));
const all = [...alices, ...bobs];
await each(80, 8, (i) => {
  const p = all[(i * 97) % all.length];
  return call("PATCH", `/api/projects/${p.id}`, tok("alice"), { name: `${p.name} (v2)` });
});

const target = alices.find((p) => p.visibility === "team");
// hidden: projects bob may not read (404 from both servers).
console.log(JSON.stringify({
  token: tok("bob"), team: team.id, project: target.id, user: users.bob.id,
  hidden: [others[0].id, unshared.id], shared: privates[0].id,
}));
