// bench/auth/peer.mjs: the peer for GET /api/auth/me: node's http server
// (one process per core via cluster) verifying an EdDSA (Ed25519) JWT with
// node's built-in crypto and answering a small user JSON. It does less than
// Sitebase (no session or user read from a database): the ratio shows what
// our whole route costs against bare token verification in node.
//
//   node peer.mjs PORT WORKERS TOKEN_FILE   (writes the token it accepts)
import cluster from "node:cluster";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";

const [port, workers, tokenFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const b64u = (b) => Buffer.from(b).toString("base64url");

if (cluster.isPrimary) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const now = Math.floor(Date.now() / 1000);
  const head = b64u(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid: "k1" }));
  const body = b64u(JSON.stringify({ sub: "u1", sid: "s1", iat: now, exp: now + 3600 }));
  const sig = crypto.sign(null, Buffer.from(`${head}.${body}`), privateKey);
  fs.writeFileSync(tokenFile, `${head}.${body}.${b64u(sig)}`);
  const pem = publicKey.export({ type: "spki", format: "pem" });
  for (let i = 0; i < workers; i++) cluster.fork({ PEER_KEY: pem });
} else {
  const key = crypto.createPublicKey(process.env.PEER_KEY);
  http
    .createServer((req, res) => {
      const auth = req.headers.authorization || "";
      const parts = auth.startsWith("Bearer ") ? auth.slice(7).split(".") : [];
      let ok = false, claims;
      if (parts.length === 3) {
        try {
          const h = JSON.parse(Buffer.from(parts[0], "base64url"));
          ok = h.alg === "EdDSA" &&
            crypto.verify(null, Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], "base64url"));
          claims = ok && JSON.parse(Buffer.from(parts[1], "base64url"));
          ok = ok && claims.exp > Date.now() / 1000;
        } catch { ok = false; }
      }
      if (!ok) {
        res.writeHead(401, { "content-type": "application/problem+json" });
        return res.end('{"status":401}');
      }
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ id: claims.sub, email: "bench@example.com", status: "active" }));
    })
    .listen(port, "127.0.0.1");
}
