// bench/collab/load.mjs: the load generator. Opens clients (client.mjs) on
// one or many documents of one server and prints one JSON line per phase.
//
//   node load.mjs --server NAME --url TEMPLATE --proto yws|hocus --pid PID
//                 --mode latency|ramp|idle [--clients N] [--docs D]
//                 [--rate K] [--seconds T] [--rates 1,2,5,...] [--p99-limit MS]
//                 [--token TOKEN] [--apply] [--clk-tck HZ] [--transport raw|ws]
//
// TEMPLATE is the WebSocket URL with {doc} where the document name goes
// (Hocuspocus: the URL has none; the name travels in each message).
// --url2 TEMPLATE2 puts every other client of each document on a second
// node (--pid then lists both nodes' pids, comma-separated).
// Clients are spread round-robin over D documents named d0..d(D-1).
// --transport: raw (default, wsraw.mjs: the lighter client) or ws (the
// `ws` package).
//
// latency  each client makes K edits/s (evenly spaced, random phase) for
//          T seconds after 1 s of warm-up; then 1 s to drain. p50/p99/max of
//          edit -> arrival at every other client on the document.
// ramp     latency phases with K from --rates on the same connections,
//          until p99 > --p99-limit (20 ms) or more than 1% of deliveries
//          are missing (a failing phase is run once more: both must fail), or more than 1% of edit timers ran 50 ms late (the
//          generator, not the server, would then set the pace: reported as
//          generator_bound).
// idle     RSS of the server before and after N clients connect and sync
//          (then 2 s of rest): bytes per idle connection.
// loss: deliveries owed (each edit x the other clients on its document)
// that had not arrived 1 s after the phase ended (late or lost alike).
// Server CPU is utime+stime from /proc/PID/stat over the phase, as a
// fraction of one core; RSS is VmRSS at the end of the phase. All bounded:
// phases end by time, connection attempts by a 30 s deadline.
import { readFileSync } from 'node:fs'
import { Client, Ledger } from './client.mjs'

const args = { url2: '', clients: 100, docs: 1, rate: 5, seconds: 10, p99Limit: 20, clkTck: 100,
  rates: '1,2,5,10,20,50,100,200', mode: 'latency', proto: 'yws', token: '', apply: false,
  transport: 'raw' }
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]
  if (!a.startsWith('--')) throw new Error(`unexpected ${a}`)
  const k = a.slice(2).replace(/-(.)/g, (_, c) => c.toUpperCase())
  if (k === 'apply') { args.apply = true; continue }
  const v = process.argv[++i]
  if (v === undefined) throw new Error(`${a} needs a value`)
  args[k] = typeof args[k] === 'number' ? Number(v) : v
}
for (const k of ['server', 'url', 'pid']) if (!args[k]) throw new Error(`--${k} is required`)
if (!['raw', 'ws'].includes(args.transport)) throw new Error('--transport is raw or ws')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// CPU seconds and RSS of the server, summed over its processes (--pid
// takes a comma-separated list: the nodes of a two-node run).
function procStats (pids) {
  let cpuS = 0
  let rss = 0
  for (const pid of String(pids).split(',')) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    cpuS += (Number(f[11]) + Number(f[12])) / args.clkTck // utime, stime (fields 14, 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    rss += Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024
  }
  return { cpuS, rss }
}

function pct (sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))]
}

const round = x => x === null ? null : Math.round(x * 1000) / 1000

async function connect (n, docs, ledger) {
  const clients = []
  const deadline = Date.now() + 30000
  const batch = 50 // connection bursts the listen backlog takes
  for (let i = 0; i < n; i += batch) {
    const opened = []
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const docName = `d${j % docs}`
      // With --url2 (a second node), the clients of each document alternate
      // between the nodes, so every edit crosses the bus to half its readers.
      const node = args.url2 && Math.floor(j / docs) % 2 === 1 ? args.url2 : args.url
      const c = new Client({ url: node.replaceAll('{doc}', docName), proto: args.proto,
        docName, ledger, apply: args.apply, token: args.token, transport: args.transport })
      c.docName = docName
      clients.push(c)
      opened.push(c.open())
    }
    const left = deadline - Date.now()
    await Promise.race([Promise.all(opened),
      sleep(Math.max(0, left)).then(() => { throw new Error(`clients not synced within 30 s (${i} of ${n})`) })])
  }
  const perDoc = new Map()
  for (const c of clients) perDoc.set(c.docName, (perDoc.get(c.docName) || 0) + 1)
  for (const c of clients) c.peers = perDoc.get(c.docName)
  return clients
}

// One timed phase at `rate` edits/s per client; returns the result line.
async function phase (clients, ledger, rate, seconds) {
  const period = 1000 / rate
  const warm = 1000
  // Every edit the phase can send, made before its clock starts (client.mjs).
  const ticks = Math.ceil(rate * (warm + seconds * 1000) / 1000) + 2
  for (const c of clients) c.prepare(ticks)
  // Preparing made this process's garbage (and its documents' growth):
  // collected now, it is not collected in pauses during the phase, where
  // they would count in the latencies of whichever server is measured.
  if (globalThis.gc) globalThis.gc()
  let late = 0
  let stop = false
  const t0 = performance.now()
  for (const c of clients) {
    let next = t0 + Math.random() * period
    const tick = () => {
      if (stop || c.closed) return
      const now = performance.now()
      if (now - next > 50) late++
      c.edit()
      next += period
      setTimeout(tick, Math.max(0, next - performance.now()))
    }
    setTimeout(tick, next - t0)
  }
  await sleep(warm)
  ledger.clearLatencies()
  ledger.received = 0
  ledger.from = performance.now()
  ledger.to = Infinity
  const s0 = procStats(args.pid)
  const c0 = process.cpuUsage()
  const e0 = ledger.editsSent
  const x0 = ledger.expected
  await sleep(seconds * 1000)
  ledger.to = performance.now()
  stop = true
  const s1 = procStats(args.pid)
  const c1 = process.cpuUsage(c0)
  const edits = ledger.editsSent - e0
  const expected = ledger.expected - x0
  await sleep(1000) // what is in flight arrives (and counts) now
  const received = ledger.received
  const lat = ledger.sortedLatencies()
  ledger.clearSent()
  const open = clients.filter(c => !c.closed).length
  return {
    server: args.server, mode: args.mode, nodes: args.url2 ? 2 : 1, clients: clients.length,
    docs: Number(args.docs), rate, seconds, edits, edits_per_s: round(edits / seconds), expected, received,
    loss: expected ? round(1 - received / expected) : 0,
    p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)), max_ms: round(pct(lat, 100)),
    late_ticks: late, generator_late: late > edits / 100, unmatched: ledger.unmatched, open,
    server_cpu: round((s1.cpuS - s0.cpuS) / seconds), server_rss_mb: round(s1.rss / 1048576),
    client_cpu: round((c1.user + c1.system) / 1e6 / seconds)
  }
}

async function main () {
  const ledger = new Ledger()
  if (args.mode === 'idle') {
    await sleep(500)
    const before = procStats(args.pid).rss
    const clients = await connect(args.clients, args.docs, ledger)
    await sleep(2000)
    const after = procStats(args.pid).rss
    console.log(JSON.stringify({ server: args.server, mode: 'idle', clients: clients.length,
      docs: Number(args.docs), rss_before_mb: round(before / 1048576),
      rss_after_mb: round(after / 1048576),
      bytes_per_conn: Math.round((after - before) / clients.length),
      open: clients.filter(c => !c.closed).length }))
    for (const c of clients) c.close()
    return
  }
  const clients = await connect(args.clients, args.docs, ledger)
  if (args.mode === 'latency') {
    console.log(JSON.stringify(await phase(clients, ledger, args.rate, args.seconds)))
  } else if (args.mode === 'ramp') {
    let best = null
    const passes = r => r.p99_ms !== null && r.p99_ms <= args.p99Limit && r.loss <= 0.01 &&
      r.open === clients.length
    for (const rate of String(args.rates).split(',').map(Number)) {
      let r = await phase(clients, ledger, rate, args.seconds)
      if (!passes(r)) { // one noisy phase (a shared machine) gets a second try
        r.verdict = 'over-retrying'
        console.log(JSON.stringify(r))
        r = await phase(clients, ledger, rate, args.seconds)
      }
      const ok = passes(r)
      r.verdict = ok ? (r.generator_late ? 'ok-generator-late' : 'ok') : 'over'
      console.log(JSON.stringify(r))
      if (!ok) break
      best = r
      if (r.generator_late) break // the generator cannot go faster: stop, and say so
    }
    console.log(JSON.stringify({ server: args.server, mode: 'ramp-result', clients: clients.length,
      docs: Number(args.docs), p99_limit_ms: args.p99Limit,
      sustained_rate: best ? best.rate : 0, sustained_edits_per_s: best ? best.edits_per_s : 0,
      p99_ms: best ? best.p99_ms : null, generator_bound: best ? best.generator_late : false }))
  } else {
    throw new Error(`unknown mode ${args.mode}`)
  }
  for (const c of clients) c.close()
}

main().then(() => setTimeout(() => process.exit(0), 200), err => {
  console.error(`load.mjs (${args.server}): ${err.message}`)
  process.exit(1)
})
