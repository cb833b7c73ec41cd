#!/usr/bin/python3
"""Runs each query of a file against Sitebase and a reference influxd and
compares the JSON answers (tests/integration/tsdb_diff.sh).

compare.py QUERIES SITEBASE_URL TOKEN DB REFERENCE_URL REF_DB

Answers are asked with epoch=ns, so times compare as integers. Equal means:
the same JSON, except that two numbers are equal when their relative
difference is at most 1e-9 (floats summed in another order), and the
values of percentile() when within TSDB_DIFF_PERCENTILE_TOL (relative;
default 0: exact, until the executor documents its bound). The order of
the series of a result is not compared: InfluxDB 1.6 itself answers some
functions (integral() GROUP BY a tag) in an order that changes from one
server to another, and splits a series in two there (the last window of
each group comes after all the others: the parts are joined here); nor
the order of rows with equal times (points of
several series at one instant: InfluxDB merges series with a heap). A
mode() value may differ when it is as frequent in its bucket as the
reference's value (checked by counting both on the reference): among
equally frequent values InfluxDB 1.6's pick depends on Go's unstable sort
of the bucket's points, so it is not a defined answer. On a mismatch it
prints the query and both answers; exit 1 when any query differed.
"""
import json
import os
import re
import sys
import urllib.parse
import urllib.request

queries_path, sb_url, token, db, ref_url, ref_db = sys.argv[1:7]
REL = 1e-9
PCT_TOL = float(os.environ.get("TSDB_DIFF_PERCENTILE_TOL", "0"))


def ask(base, params, headers):
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(base + "/query", data=data, headers=headers)
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, body.decode("utf-8", "replace")


def close(a, b, tol):
    if a == b:
        return True
    return abs(a - b) <= tol * max(abs(a), abs(b))


def same(a, b, tol):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return close(float(a), float(b), tol)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b))
    return a == b


def ties_sorted(values):
    """Rows with equal times (points of several series at one instant, in a
    raw select) in a fixed order: InfluxDB merges series with a heap, so
    the order of such rows is not defined there."""
    out, i = [], 0
    while i < len(values):
        j = i
        while j < len(values) and isinstance(values[j], list) and values[j] and \
                isinstance(values[i], list) and values[i] and values[j][0] == values[i][0]:
            j += 1
        j = max(j, i + 1)
        out.extend(sorted(values[i:j], key=lambda v: json.dumps(v)))
        i = j
    return out


def canonical(body):
    """The series of each result sorted by name and tags, rows of equal
    times sorted."""
    if isinstance(body, dict):
        for r in body.get("results", []) or []:
            if isinstance(r, dict) and isinstance(r.get("series"), list):
                r["series"].sort(key=lambda s: (s.get("name", ""),
                                                json.dumps(s.get("tags"), sort_keys=True)))
                joined = []
                for s in r["series"]:
                    prev = joined[-1] if joined else None
                    if prev is not None and all(prev.get(k) == s.get(k)
                                                for k in ("name", "tags", "columns")) \
                            and isinstance(prev.get("values"), list) \
                            and isinstance(s.get("values"), list):
                        prev["values"] = sorted(prev["values"] + s["values"],
                                                key=lambda v: v[0] if v else 0)
                    else:
                        joined.append(s)
                r["series"] = joined
                for s in r["series"]:
                    if isinstance(s.get("values"), list):
                        s["values"] = ties_sorted(s["values"])
    return body


MODE_QUERY = re.compile(r"^SELECT mode\((\w+)\)(?:, [^ ]+)* FROM (\w+)(?: WHERE (.*?))?"
                        r"(?: GROUP BY (.*?))?(?: fill\([^)]*\))?$", re.I)
UNITS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def literal(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "'%s'" % v.replace("\\", "\\\\").replace("'", "\\'")
    return repr(v)


def mode_ties_ok(q, s_body, r_body):
    """Whether the answers differ only in mode() values that are exactly as
    frequent in their buckets as the reference's (see the file comment)."""
    m = MODE_QUERY.match(q)
    if not m or not isinstance(s_body, dict) or not isinstance(r_body, dict):
        return False
    field, meas, where, group = m.groups()
    interval = None
    for d in (group or "").split(","):
        t = re.match(r"\s*time\((\d+)([smh])\)\s*$", d)
        if t:
            interval = int(t.group(1)) * UNITS[t.group(2)]
    sr, rr = s_body.get("results"), r_body.get("results")
    if not (isinstance(sr, list) and isinstance(rr, list) and len(sr) == len(rr) == 1):
        return False
    ss, rs = sr[0].get("series"), rr[0].get("series")
    if not (isinstance(ss, list) and isinstance(rs, list) and len(ss) == len(rs)):
        return False
    for a, b in zip(ss, rs):
        if {k: v for k, v in a.items() if k != "values"} != \
                {k: v for k, v in b.items() if k != "values"}:
            return False
        col = a["columns"].index("mode")
        if len(a["values"]) != len(b["values"]):
            return False
        for x, y in zip(a["values"], b["values"]):
            rest_x = [v for i, v in enumerate(x) if i != col]
            rest_y = [v for i, v in enumerate(y) if i != col]
            if not same(rest_x, rest_y, REL):
                return False
            if same(x[col], y[col], REL):
                continue
            if x[col] is None or y[col] is None:
                return False
            conds = ["(%s)" % where] if where else []
            conds += ['"%s" = %s' % (k, literal(v)) for k, v in sorted((a.get("tags") or {}).items())]
            if interval:
                conds.append("time >= %d AND time < %d" % (x[0], x[0] + interval))
            counts = []
            for v in (x[col], y[col]):
                cq = "SELECT count(%s) FROM %s WHERE %s" % (
                    field, meas, " AND ".join(conds + ["%s = %s" % (field, literal(v))]))
                _, body = ask(ref_url, {"q": cq, "db": ref_db, "epoch": "ns"}, {})
                try:
                    counts.append(body["results"][0]["series"][0]["values"][0][1])
                except (KeyError, IndexError, TypeError):
                    return False
            if counts[0] != counts[1]:
                return False
    return True


failed = ties = 0
queries = [q for q in open(queries_path).read().splitlines() if q.strip()]
for q in queries:
    s_status, s_body = ask(sb_url, {"q": q, "db": db, "epoch": "ns"},
                           {"Authorization": "Token " + token})
    r_status, r_body = ask(ref_url, {"q": q, "db": ref_db, "epoch": "ns"}, {})
    s_body, r_body = canonical(s_body), canonical(r_body)
    tol = max(REL, PCT_TOL) if "percentile(" in q.lower() else REL
    if s_status == r_status and same(s_body, r_body, tol):
        print("ok   %s" % q)
        continue
    if s_status == r_status == 200 and "mode(" in q.lower() and mode_ties_ok(q, s_body, r_body):
        print("ok   %s (a mode() as frequent as the reference's)" % q)
        ties += 1
        continue
    failed += 1
    print("DIFF %s" % q)
    print("  sitebase  (%d): %s" % (s_status, json.dumps(s_body)[:4000]))
    print("  reference (%d): %s" % (r_status, json.dumps(r_body)[:4000]))
print("%d queries, %d differ, %d answered another mode() of equal frequency"
      % (len(queries), failed, ties))
sys.exit(1 if failed else 0)
