// bench/auth/logins.mjs: N concurrent sign-in loops against URL for SECONDS
// (bounded: each loop stops at the deadline or after 10,000 requests).
// Prints "logins=<ok> errors=<n>".
const [url, n, seconds, email, password] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0, errors = 0;
async function loop() {
  for (let i = 0; i < 10000 && Date.now() < deadline; i++) {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    }).catch(() => null);
    if (r && r.status === 200) ok++; else errors++;
    if (r) await r.arrayBuffer();
  }
}
await Promise.all(Array.from({ length: Number(n) }, loop));
console.log(`logins=${ok} errors=${errors}`);
