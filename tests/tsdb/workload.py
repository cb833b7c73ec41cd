#!/usr/bin/python3
"""A deterministic line-protocol workload and the InfluxQL queries that check
it, for the differential test (tests/integration/tsdb_diff.sh).

workload.py OUT_DIR [SEED [POINTS]]

Writes OUT_DIR/batch_NNN.lp with OUT_DIR/batch_NNN.precision (n, u, ms or
s: each batch's timestamps are in its own precision), OUT_DIR/queries.txt
(one query a line) and OUT_DIR/range.txt (the time range, ns). The same
seed gives the same bytes: Python's random.Random is specified to be
reproducible across versions for a given seed (random()/randrange).

What the workload holds, so that the queries cover what the engine must get
right: three measurements with several tags; float, integer, boolean and
string fields; points written out of order within and across batches;
duplicate timestamps of a series (the last write wins); four precisions;
empty buckets in time ranges (for fill); escaped names.
"""
import os
import random
import sys

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 8
npoints = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
rnd = random.Random(seed)
os.makedirs(out, exist_ok=True)

BASE_S = 1767225600  # 2026-01-01T00:00:00Z
SPAN_S = 2 * 3600
NS = 1000000000

HOSTS = ["h%d" % i for i in range(6)]
REGIONS = ["eu-west", "us-east", "ap south"]  # a space: escaped in tags
ROUTES = ["/", "/pricing", "/blog/a,b", "/api/x=y"]  # a comma and an equals sign
SENSORS = ["s0", "s1", "s2"]


def esc_tag(s):
    return s.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def fmt_float(x):
    return repr(float(x))


def point(t_ns):
    kind = rnd.random()
    if kind < 0.45:
        h = rnd.choice(HOSTS)
        region = REGIONS[HOSTS.index(h) % len(REGIONS)]
        usage = round(rnd.uniform(0, 100), 2)
        fields = "usage=%s,idle=%s,procs=%di" % (fmt_float(usage), fmt_float(round(100 - usage, 3)),
                                                   rnd.randrange(50, 400))
        return "cpu,host=%s,region=%s %s" % (h, esc_tag(region), fields), t_ns
    if kind < 0.85:
        route = rnd.choice(ROUTES)
        status = rnd.choice(["200"] * 8 + ["404", "500"])
        method = rnd.choice(["GET", "GET", "POST"])
        fields = "latency=%s,bytes=%di,ok=%s,msg=\"%s\"" % (
            fmt_float(round(rnd.lognormvariate(3, 0.8), 3)), rnd.randrange(0, 100000),
            "true" if status == "200" else "false",
            rnd.choice(["fine", "slow \\\"db\\\"", "a, b = c"]))
        return "http,method=%s,route=%s,status=%s %s" % (method, esc_tag(route), status, fields), t_ns
    s = rnd.choice(SENSORS)
    fields = "value=%s,state=\"%s\"" % (fmt_float(round(rnd.gauss(20, 5), 1)),
                                        rnd.choice(["ok", "warn"]))
    return "temp,sensor=%s %s" % (s, fields), t_ns


# Timestamps: seconds, with a sub-second part only where the batch's
# precision can carry it; some series get a gap (empty buckets).
points = []
for i in range(npoints):
    t = rnd.randrange(0, SPAN_S)
    if 2400 <= t < 3000 and rnd.random() < 0.9:  # a quiet stretch: fill() has work
        t = rnd.randrange(3000, SPAN_S)
    points.append((t, rnd.randrange(0, 1000)))  # seconds, milliseconds
# Duplicates: the same series and timestamp again, later, with new values.
dups = rnd.sample(range(npoints), npoints // 50)

PRECISIONS = [("s", 1), ("ms", 1000), ("u", 1000000), ("n", NS)]
lines = []
for t, ms in points:
    lines.append((t, ms))
rnd.shuffle(lines)  # out of order across the whole workload

batches = []
BATCH = 1000
for b in range(0, len(lines), BATCH):
    prec, per_s = PRECISIONS[(b // BATCH) % len(PRECISIONS)]
    body = []
    for t, ms in lines[b:b + BATCH]:
        frac = 0 if per_s == 1 else ms * per_s // 1000
        ts = (BASE_S + t) * per_s + frac
        line, _ = point(ts)
        body.append("%s %d" % (line, ts))
    batches.append((prec, body))
# The duplicates: rewrite some lines of earlier batches in a last batch of
# the same precision, with their field values changed (same keys and types).
last_prec, last_body = batches[0][0], []
first = batches[0][1]
for k in range(min(len(first), len(dups))):
    line = first[k]
    key, fields, ts = line.rsplit(" ", 2)
    # Same series, same timestamp, new values: regenerate until same key.
    for _ in range(50):
        cand, _ = point(0)
        ck, cf = cand.split(" ", 1)
        if ck == key:
            last_body.append("%s %s %s" % (key, cf, ts))
            break
batches.append((last_prec, last_body))

for i, (prec, body) in enumerate(batches):
    with open(os.path.join(out, "batch_%03d.lp" % i), "w") as f:
        f.write("\n".join(body) + "\n")
    with open(os.path.join(out, "batch_%03d.precision" % i), "w") as f:
        f.write(prec + "\n")

T0, T1 = BASE_S * NS, (BASE_S + SPAN_S) * NS
with open(os.path.join(out, "range.txt"), "w") as f:
    f.write("%d %d\n" % (T0, T1))
R = "time >= %d AND time < %d" % (T0, T1)
queries = []
# Every aggregate and selector, on a float and an integer field.
for fn in ["count", "sum", "mean", "median", "mode", "spread", "stddev", "min", "max", "first",
           "last"]:
    queries.append("SELECT %s(usage) FROM cpu" % fn)
    queries.append("SELECT %s(procs) FROM cpu WHERE %s GROUP BY time(10m)" % (fn, R))
queries += [
    "SELECT count(ok), count(msg) FROM http",
    "SELECT first(msg), last(msg) FROM http GROUP BY route",
    "SELECT integral(usage, 1s) FROM cpu GROUP BY host",
    # mode(), distinct(), integral() by tags and time, on int and float fields.
    "SELECT mode(bytes) FROM http GROUP BY status",
    "SELECT mode(value) FROM temp WHERE %s GROUP BY time(15m), sensor" % R,
    "SELECT mode(procs), mean(procs) FROM cpu WHERE %s GROUP BY time(30m) fill(0)" % R,
    "SELECT distinct(value) FROM temp WHERE sensor = 's0' AND %s GROUP BY time(20m)" % R,
    "SELECT distinct(procs) FROM cpu WHERE host = 'h2' AND %s GROUP BY time(30m)" % R,
    "SELECT DISTINCT value FROM temp WHERE sensor = 's2' AND value > 28",
    "SELECT count(distinct(procs)) FROM cpu GROUP BY region",
    # ... and on string and boolean fields.
    "SELECT mode(msg) FROM http GROUP BY route",
    "SELECT mode(ok), count(ok) FROM http WHERE %s GROUP BY time(20m), method" % R,
    "SELECT mode(*) FROM temp",
    "SELECT distinct(state) FROM temp GROUP BY sensor",
    "SELECT distinct(msg) FROM http WHERE %s GROUP BY time(30m)" % R,
    "SELECT distinct(ok) FROM http WHERE route = '/' AND %s GROUP BY time(1h)" % R,
    "SELECT count(distinct(msg)) FROM http GROUP BY method",
    "SELECT count(distinct(value)), count(value) FROM temp WHERE %s GROUP BY time(10m) fill(none)" % R,
    "SELECT integral(procs) FROM cpu WHERE host = 'h4'",
    "SELECT integral(usage, 1m) FROM cpu WHERE %s GROUP BY time(10m), host" % R,
    "SELECT integral(procs, 1h) FROM cpu WHERE host = 'h1' AND %s GROUP BY time(7m)" % R,
    "SELECT integral(value, 10s) FROM temp WHERE sensor = 's1' AND %s GROUP BY time(5m) fill(-1)" % R,
    "SELECT integral(value) FROM temp WHERE sensor = 's0' AND %s GROUP BY time(1m) fill(0)" % R,
    "SELECT integral(value), max(value) FROM temp WHERE sensor = 's2' AND %s GROUP BY time(1m) fill(previous)" % R,
    # fill() without GROUP BY: taken, and ignored but for fill(none).
    "SELECT mean(value) FROM temp fill(0)",
    "SELECT value FROM temp WHERE sensor = 's0' fill(previous) LIMIT 3",
    "SELECT value FROM temp fill(none)",
    "SELECT top(latency, 5) FROM http",
    "SELECT bottom(latency, 3) FROM http",
    "SELECT top(latency, route, 2) FROM http",
    "SELECT max(latency), min(latency) FROM http GROUP BY status",
    "SELECT percentile(latency, 95) FROM http",
    "SELECT percentile(latency, 50) FROM http GROUP BY route",
    "SELECT percentile(usage, 99) FROM cpu WHERE %s GROUP BY time(15m), host" % R,
    # Fill modes over the quiet stretch.
    "SELECT mean(value) FROM temp WHERE %s GROUP BY time(5m) fill(null)" % R,
    "SELECT mean(value) FROM temp WHERE %s GROUP BY time(5m) fill(none)" % R,
    "SELECT mean(value) FROM temp WHERE %s GROUP BY time(5m) fill(previous)" % R,
    "SELECT mean(value) FROM temp WHERE %s GROUP BY time(5m) fill(linear)" % R,
    "SELECT mean(value) FROM temp WHERE %s GROUP BY time(5m) fill(0)" % R,
    "SELECT count(value) FROM temp WHERE %s GROUP BY time(5m), sensor fill(-1)" % R,
    # Group by tags and time, offsets, ordering, limits.
    "SELECT mean(usage) FROM cpu WHERE %s GROUP BY time(20m), host, region" % R,
    "SELECT mean(usage) FROM cpu WHERE %s GROUP BY time(20m, 5m)" % R,
    "SELECT sum(bytes) FROM http WHERE %s GROUP BY *" % R,
    "SELECT mean(latency) FROM http WHERE %s GROUP BY time(30m) ORDER BY time DESC" % R,
    "SELECT mean(usage) FROM cpu WHERE %s GROUP BY time(10m), host LIMIT 3 SLIMIT 2" % R,
    # Tag filters.
    "SELECT count(usage) FROM cpu WHERE host = 'h1'",
    "SELECT count(usage) FROM cpu WHERE host != 'h1' GROUP BY host",
    "SELECT count(usage) FROM cpu WHERE host =~ /h[0-2]/ GROUP BY host",
    "SELECT count(usage) FROM cpu WHERE region !~ /^eu/ GROUP BY region",
    "SELECT count(latency) FROM http WHERE route = '/blog/a,b' AND status = '200'",
    "SELECT count(latency) FROM http WHERE (method = 'POST' OR status = '500') AND latency > 20",
    # Field filters and arithmetic.
    "SELECT usage, idle, usage + idle FROM cpu WHERE host = 'h2' AND usage > 90",
    "SELECT count(value) FROM temp WHERE state = 'warn'",
    # Raw selects.
    "SELECT * FROM cpu WHERE host = 'h3' LIMIT 20",
    "SELECT * FROM temp WHERE sensor = 's1' ORDER BY time DESC LIMIT 10",
    "SELECT latency, msg FROM http WHERE route = '/api/x=y' LIMIT 10 OFFSET 5",
    "SELECT value FROM temp WHERE time >= %d AND time < %d" % (T0 + 600 * NS, T0 + 700 * NS),
    "SELECT usage FROM cpu WHERE time > '2026-01-01T01:00:00Z' AND time < '2026-01-01T01:01:00Z'",
    # SHOW statements.
    "SHOW MEASUREMENTS",
    "SHOW TAG KEYS",
    "SHOW TAG KEYS FROM http",
    "SHOW TAG VALUES WITH KEY = host",
    "SHOW TAG VALUES FROM http WITH KEY IN (route, status)",
    "SHOW FIELD KEYS",
    "SHOW FIELD KEYS FROM http",
    "SHOW SERIES FROM temp",
    "SHOW SERIES WHERE region = 'eu-west'",
    "SHOW RETENTION POLICIES",
]
with open(os.path.join(out, "queries.txt"), "w") as f:
    f.write("\n".join(queries) + "\n")
print("%d batches, %d points, %d queries" % (len(batches), sum(len(b) for _, b in batches),
                                            len(queries)))
