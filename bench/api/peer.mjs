// bench/api/peer.mjs: the peer of bench/api, the two project routes written
// the way a Node team would: Fastify (one process, no cluster), node-postgres
// with a pool (default size, 10) and named prepared statements, and
// @fastify/jwt (fast-jwt) verifying Sitebase's own EdDSA access tokens with
// the public half of Sitebase's signing key. Every request does a real
// signature verify (fast-jwt's cache is off, its default), the same session
// check Sitebase does (session open, account active), and the authorization
// query (the caller's team and project roles, the team's rules) against the
// SAME PostgreSQL tables Sitebase created; the policy for "read a project"
// (docs/projects.md) is applied in JS, including the team's IP ranges. The
// JSON is API.md's `project`, and the list's keyset cursors are Sitebase's,
// so run.sh can check both servers answer the same before timing.
//
//   PEER_MASTER_KEY=<64 hex digits> node peer.mjs PORT PG_URL
//
// Sitebase has no JWKS endpoint; a Node team would be handed the public
// key. Here it is derived at start-up from the crypto_keys table with the
// bench's throwaway master key (src/crypto/seal.h: AES-256-GCM, the 5-byte
// header authenticated with the caller's associated data). Only the public
// key leaves this function.
import crypto from "node:crypto";
import net from "node:net";
import Fastify from "fastify";
import fastifyJwt from "@fastify/jwt";
import pg from "pg";

const [port, pgUrl, masterHex] = [Number(process.argv[2]), process.argv[3], process.env.PEER_MASTER_KEY];

// bigint columns (version, times in microseconds) as numbers: they fit.
pg.types.setTypeParser(20, (v) => parseInt(v, 10));
const pool = new pg.Pool({ connectionString: pgUrl });

function unseal(key, sealed, aad) {
  const head = sealed.subarray(0, 5), nonce = sealed.subarray(5, 17);
  const tag = sealed.subarray(sealed.length - 16), ct = sealed.subarray(17, sealed.length - 16);
  const d = crypto.createDecipheriv("aes-256-gcm", key, nonce);
  d.setAAD(Buffer.concat([head, Buffer.from(aad)]));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

async function signingPublicKey() {
  const kek = Buffer.from(masterHex, "hex");
  const { rows } = await pool.query(
    "SELECT id, purpose, kid, wrapped FROM crypto_keys WHERE retired_at IS NULL ORDER BY id");
  const dataKeys = new Map();
  for (const r of rows.filter((r) => r.purpose === "data"))
    dataKeys.set(r.id, unseal(kek, r.wrapped, `sitebase-key:${r.id}`));
  const jwt = rows.filter((r) => r.purpose === "jwt");
  if (jwt.length !== 1) throw new Error(`expected one JWT key, found ${jwt.length}`);
  const sealed = jwt[0].wrapped;
  const seed = unseal(dataKeys.get(sealed.readUInt32BE(1)), sealed, `jwt:${jwt[0].kid}`);
  // PKCS#8 for an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const priv = crypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  seed.fill(0);
  return crypto.createPublicKey(priv).export({ type: "spki", format: "pem" });
}

// ---- the policy for reading a project (docs/projects.md, src/authz) ----

const ROLES = { guest: 1, viewer: 2, editor: 3, admin: 4, owner: 5 };

function ipAllowed(teamSettings, ip) {
  const list = teamSettings?.ip_allowlist;
  if (!list || list.length === 0) return true;
  const bl = new net.BlockList();
  for (const cidr of list) {
    const [addr, bits] = cidr.split("/");
    const type = net.isIPv6(addr) ? "ipv6" : "ipv4";
    bl.addSubnet(addr, Number(bits ?? (type === "ipv6" ? 128 : 32)), type);
  }
  const plain = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return bl.check(plain, net.isIPv6(plain) ? "ipv6" : "ipv4");
}

// true when the caller may read the project row (with team_role,
// project_role and team_settings joined in).
function mayRead(row, userId, ip) {
  let role = ROLES[row.project_role] ?? 0;
  if (row.owner_id === userId) role = ROLES.owner;
  const teamRole = ROLES[row.team_role] ?? 0;
  if (teamRole >= ROLES.admin || row.visibility !== "private") role = Math.max(role, teamRole);
  if (role > 0 && row.team_id && !ipAllowed(JSON.parse(row.team_settings), ip)) return false;
  return role > 0 || row.visibility === "public"; // guests may read the project itself
}

// ---- API.md's `project` ----

// Unix microseconds as RFC 3339 with six fraction digits, as Sitebase writes.
function time(us) {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + String(us - ms * 1000).padStart(3, "0") + "Z";
}

function project(r) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    owner_id: r.owner_id,
    team_id: r.team_id,
    visibility: r.visibility,
    template: r.template ? JSON.parse(r.template) : null,
    settings: JSON.parse(r.settings || "{}"),
    deployment: JSON.parse(r.deployment || "{}"),
    version: r.version,
    created_at: time(r.created_at),
    updated_at: time(r.updated_at),
  };
}

const COLS =
  "p.id, p.name, p.description, p.owner_id, p.team_id, p.visibility, p.template, p.settings, " +
  "p.deployment, p.version, p.created_at, p.updated_at, tm.role AS team_role, " +
  "pm.role AS project_role, t.settings AS team_settings";
const JOINS =
  "FROM projects p LEFT JOIN teams t ON t.id = p.team_id " +
  "LEFT JOIN team_members tm ON tm.team_id = p.team_id AND tm.user_id = $1 " +
  "LEFT JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = $1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function problem(reply, status, code, detail) {
  return reply.code(status).type("application/problem+json").send({ type: "about:blank", title: code, status, code, detail });
}

const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  secret: { public: await signingPublicKey() },
  verify: { algorithms: ["EdDSA"], allowedIss: "sitebase", requiredClaims: ["sub", "sid", "exp"], clockTolerance: 5 },
});

// Authentication: the token's signature and claims, then the session
// (revocation takes effect at once) and the account.
app.addHook("onRequest", async (req, reply) => {
  try {
    await req.jwtVerify();
  } catch {
    return problem(reply, 401, "token_invalid", "The access token is not valid.");
  }
  const { rows } = await pool.query({
    name: "session",
    text: "SELECT s.revoked_at, s.expires_at, u.status FROM user_sessions s " +
      "JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2",
    values: [req.user.sid, req.user.sub],
  });
  const s = rows[0];
  if (!s || s.revoked_at !== null || s.expires_at <= Date.now() * 1000)
    return problem(reply, 401, "token_invalid", "The session is over.");
  if (s.status !== "active") return problem(reply, 403, "account_disabled", "The account is disabled.");
});

app.get("/api/projects/:id", async (req, reply) => {
  if (!UUID.test(req.params.id)) return problem(reply, 404, "not_found", "Not found.");
  const { rows } = await pool.query({
    name: "project_get",
    text: `SELECT ${COLS} ${JOINS} WHERE p.id = $2`,
    values: [req.user.sub, req.params.id],
  });
  if (!rows[0] || !mayRead(rows[0], req.user.sub, req.ip)) return problem(reply, 404, "not_found", "Not found.");
  return project(rows[0]);
});

const SORTS = { created_at: ["p.id", "id"], updated_at: ["p.updated_at", "updated_at"], name: ["p.name", "name"] };

function listSql(sort, desc, team, vis, q, cursor) {
  const [col] = SORTS[sort];
  const op = desc ? "<" : ">", dir = desc ? "DESC" : "ASC";
  const where = ["(p.owner_id = $1 OR pm.role IS NOT NULL OR (tm.role IS NOT NULL AND " +
    "(p.visibility <> 'private' OR tm.role IN ('owner', 'admin'))))"];
  let n = 1;
  if (team) where.push(`p.team_id = $${++n}`);
  if (vis) where.push(`p.visibility = $${++n}`);
  if (q) where.push(`p.search @@ plainto_tsquery('simple', $${++n})`);
  if (cursor) {
    where.push(`(${col} ${op} $${n + 1} OR (${col} = $${n + 1} AND p.id ${op} $${n + 2}))`);
    n += 2;
  }
  return `SELECT ${COLS} ${JOINS} WHERE ${where.join(" AND ")} ORDER BY ${col} ${dir}, p.id ${dir} LIMIT $${n + 1}`;
}

app.get("/api/projects", async (req, reply) => {
  const { team = "", visibility = "", q = "", sort: sortParam = "created_at", cursor = "" } = req.query;
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) return problem(reply, 400, "invalid", "limit must be 1..200");
  const desc = sortParam.startsWith("-");
  const sort = desc ? sortParam.slice(1) : sortParam;
  if (!SORTS[sort]) return problem(reply, 400, "invalid", "sort must be name, created_at or updated_at");
  if (visibility && !["private", "team", "public"].includes(visibility)) return problem(reply, 400, "invalid", "bad visibility");
  if (team && !UUID.test(team)) return problem(reply, 400, "invalid", "team must be a team id");
  const tag = `${desc ? "-" : ""}${sort}`;
  let after = null; // [key, id] of the last row seen
  if (cursor) {
    const parts = Buffer.from(cursor, "base64url").toString().split("\n");
    if (parts.length !== 3 || parts[0] !== tag || !UUID.test(parts[2])) return problem(reply, 400, "invalid", "bad cursor");
    after = [sort === "updated_at" ? Number(parts[1]) : parts[1], parts[2]];
  }
  const text = listSql(sort, desc, team, visibility, q, true);
  const name = `list_${tag}_${+!!team}${+!!visibility}${+!!q}`;
  const firstText = listSql(sort, desc, team, visibility, q, false);
  const items = [];
  let more = false, last = null;
  // Rows the policy refuses (the team's IP ranges) are skipped; read on in
  // batches until the page is full or the rows run out.
  for (let round = 0; round < 8 && !more; round++) {
    const values = [req.user.sub];
    if (team) values.push(team);
    if (visibility) values.push(visibility);
    if (q) values.push(q);
    if (after) values.push(after[0], after[1]);
    values.push(limit + 1);
    const { rows } = await pool.query({ name: after ? name + "_c" : name, text: after ? text : firstText, values });
    for (const r of rows) {
      after = [r[SORTS[sort][1]], r.id];
      if (!mayRead(r, req.user.sub, req.ip)) continue;
      if (items.length === limit) { more = true; break; }
      items.push(project(r));
      last = after;
    }
    if (rows.length < limit + 1) break;
    if (!more && round === 7) { more = true; last = after; }
  }
  const next = more ? Buffer.from(`${tag}\n${last[0]}\n${last[1]}`).toString("base64url") : null;
  return { items, next_cursor: next };
});

await app.listen({ port, host: "127.0.0.1" });
