#!/usr/bin/env bash
# bench/history/vcs.sh: version control latency (issue 7) on a project of
# 200 pages (20 components each) and 500 code files (~2 KiB each), against
# the real git command line doing the same on the same files, in one run.
#
# Each round, on both sides:
#   commit (changes)  a branch gets 10 pages and 10 files changed in one commit
#                     (Sitebase: POST .../vcs/commits with changes;
#                      git: write the files, `git add -A && git commit`)
#   commit (live)     10 other files change on main and main is committed
#                     (Sitebase: the files are PUT through the API, untimed,
#                      then POST .../vcs/commits {from_live}: a snapshot of
#                      all 700 items; git: `git add -A && git commit`)
#   diff              main against the branch (Sitebase: GET .../vcs/diff,
#                     structural page diffs and unified file diffs;
#                      git: `git diff main branch`, patch text)
#   merge             the branch into main, a real three-way merge
#                     (Sitebase: POST .../vcs/merge; git: `git merge --no-edit`)
# and, after the rounds, a full clone of the history:
#   clone             Sitebase: `git clone` over smart HTTP from Sitebase;
#                     git: `git clone --no-local` of the same history from a
#                     bare repository (git's own upload-pack, over a pipe);
#                     three times: "first" is the first, "again" the median
#                     of the other two (Sitebase keeps built packs:
#                     src/vcs/pack_cache.c)
# git works on a clone made from Sitebase's own repository (git clone over
# HTTP), so both sides hold byte-identical files. Sitebase is timed per HTTP
# request on a kept-alive connection, git per command (its process start is
# part of what a user of the git CLI pays). Medians over ROUNDS rounds.
# CPU: Sitebase's is the server process's (the sum of its threads'
# /proc/<pid>/task/*/schedstat run time over the request), git's that of
# the commands it ran (getrusage of the waited-for children); for the
# Sitebase clone it is the server's plus the git client's. On shared cores
# the CPU times are the ones to compare.
#
#   bench/history/vcs.sh [ROUNDS]     (default 5)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
bin=${SITEBASE_BIN:-$root/build/sitebase}
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" --log-format json \
    --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    --rate-limit-auth-account 0 --lockout-threshold 0 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 200); do
    addr=$(grep -o '"msg":"listening","addr":"[^"]*"' "$tmp/log" 2>/dev/null |
        sed 's/.*"addr":"\([^"]*\)"/\1/' | head -1 || true)
    [ -n "$addr" ] && grep -q '"msg":"ready"' "$tmp/log" && break
    sleep 0.05
done
[ -n "$addr" ] || { cat "$tmp/log"; exit 1; }

python3 - "$addr" "$tmp" "$rounds" "$pid" <<'PY'
import http.client, json, os, random, resource, statistics, subprocess, sys, time

addr, tmp, rounds, server = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=120)
token = None

def call(method, path, body=None, want=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, "/api" + path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    if want and r.status != want:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:300]))
    return json.loads(data) if data else None

def server_cpu():
    """Seconds the server's threads have run (schedstat: nanoseconds)."""
    total = 0
    task = "/proc/%d/task" % server
    for t in os.listdir(task):
        try:
            with open("%s/%s/schedstat" % (task, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9

def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

CPU = {}  # (side, operation) -> [seconds]

def timed(fn, side=None, op=None):
    s0, c0 = server_cpu(), child_cpu()
    t = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t
    if op:
        cpu = (server_cpu() - s0) + (child_cpu() - c0) if side == "sb" else child_cpu() - c0
        CPU.setdefault((side, op), []).append(cpu)
    return wall, out

d = call("POST", "/auth/register", {"email": "bench@example.com",
                                    "password": "correct horse battery staple"}, 201)
token = d["access_token"]
p = call("POST", "/projects", {"name": "Bench"}, 201)["id"]
V = "/projects/%s/vcs" % p
rng = random.Random(7)

def tree(i, salt=""):
    comps = []
    for s in range(4):
        kids = [{"id": "c%d_%d" % (s, k), "type": "Text",
                 "props": {"text": "Section %d item %d of page %d%s" % (s, k, i, salt),
                           "size": rng.choice([12, 14, 16])}} for k in range(4)]
        comps.append({"id": "s%d" % s, "type": "Section",
                      "props": {"title": "Page %d section %d" % (i, s), "color": "#333"},
                      "children": kids})
    return comps

def code(i, salt=""):
    return "".join("export function f%d_%d(x) { return x * %d; } // %s\n" % (i, k, k, salt)
                   for k in range(40))

t0 = time.perf_counter()
pages = []
for i in range(200):
    pages.append(call("POST", "/projects/%s/pages" % p,
                      {"name": "Page %d" % i, "path": "/p%d" % i, "components": tree(i)}, 201)["id"])
for i in range(500):
    call("POST", "/projects/%s/files" % p,
         {"path": "src/m%03d/file%d.js" % (i % 50, i), "content": code(i)}, 201)
call("POST", V + "/commits", {"message": "Initial", "from_live": True}, 201)
print("seeded 200 pages, 500 files and the first commit in %.1f s" % (time.perf_counter() - t0))

clone = os.path.join(tmp, "clone")
env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", HOME=tmp)
subprocess.run(["git", "clone", "-q", "http://x:%s@%s/git/%s.git" % (token, addr, p), clone],
               check=True, env=env, stderr=subprocess.DEVNULL)
def git(*args, out=subprocess.DEVNULL):
    subprocess.run(["git", "-C", clone] + list(args), check=True, env=env, stdout=out)
git("config", "user.name", "bench"); git("config", "user.email", "bench@example.com")

def page_json(pid, comps):
    return {"id": pid, "name": "x", "path": "/x", "published": False, "metadata": {},
            "components": comps}

sb = {k: [] for k in ("commit (changes)", "commit (live)", "diff", "merge")}
gt = {k: [] for k in sb}
for r in range(rounds):
    br = "b%d" % r
    chosen_pages = rng.sample(range(200), 10)
    branch_files = rng.sample(range(0, 250), 10)
    main_files = rng.sample(range(250, 500), 10)
    # the branch's change: the same bytes on both sides
    changes = []
    for i in chosen_pages:
        raw = subprocess.run(["git", "-C", clone, "show", "HEAD:pages/%s.json" % pages[i]],
                             check=True, capture_output=True).stdout
        pg = json.loads(raw)
        pg["components"][1]["props"]["title"] = "Changed in %s" % br
        changes.append({"path": "pages/%s.json" % pages[i], "page": pg})
    for i in branch_files:
        changes.append({"path": "files/src/m%03d/file%d.js" % (i % 50, i),
                        "content": code(i, br)})
    # Sitebase
    call("POST", V + "/branches", {"name": br}, 201)
    t, _ = timed(lambda: call("POST", V + "/commits",
                              {"branch": br, "message": "branch " + br, "changes": changes}, 201),
              "sb", "commit (changes)")
    sb["commit (changes)"].append(t)
    for i in main_files:
        call("PUT", "/projects/%s/files/src/m%03d/file%d.js" % (p, i % 50, i),
             {"content": code(i, "main" + br)}, 200)
    t, _ = timed(lambda: call("POST", V + "/commits", {"message": "main " + br, "from_live": True}, 201),
                 "sb", "commit (live)")
    sb["commit (live)"].append(t)
    t, d = timed(lambda: call("GET", V + "/diff?from=main&to=" + br, want=200), "sb", "diff")
    assert len(d["files"]) >= 20, len(d["files"])
    sb["diff"].append(t)
    t, m = timed(lambda: call("POST", V + "/merge", {"source": br}, 200), "sb", "merge")
    assert not m["fast_forward"] and not m["up_to_date"], m
    sb["merge"].append(t)
    # git, the same steps on the same files
    git("checkout", "-q", "-b", br)
    for ch in changes:
        path = os.path.join(clone, ch["path"])
        with open(path, "w") as f:
            if "page" in ch:
                f.write(json.dumps(ch["page"], indent=2) + "\n")
            else:
                f.write(ch["content"])
    t, _ = timed(lambda: (git("add", "-A"), git("commit", "-qm", "branch " + br)), "git", "commit (changes)")
    gt["commit (changes)"].append(t)
    git("checkout", "-q", "main")
    for i in main_files:
        with open(os.path.join(clone, "files/src/m%03d/file%d.js" % (i % 50, i)), "w") as f:
            f.write(code(i, "main" + br))
    t, _ = timed(lambda: (git("add", "-A"), git("commit", "-qm", "main " + br)), "git", "commit (live)")
    gt["commit (live)"].append(t)
    t, _ = timed(lambda: git("diff", "main", br), "git", "diff")
    gt["diff"].append(t)
    t, _ = timed(lambda: git("merge", "-q", "--no-edit", br), "git", "merge")
    gt["merge"].append(t)

# a full clone of what the rounds made, both ways
subprocess.run(["git", "clone", "-q", "--bare", clone, os.path.join(tmp, "bare.git")], check=True, env=env,
               stderr=subprocess.DEVNULL)
for n in range(3):
    dst = os.path.join(tmp, "c%d" % n)
    t, _ = timed(lambda: subprocess.run(["git", "clone", "-q", "http://x:%s@%s/git/%s.git" % (token, addr, p), dst],
                                        check=True, env=env, stderr=subprocess.DEVNULL), "sb",
                 "clone (first)" if n == 0 else "clone (again)")
    sb.setdefault("clone (first)" if n == 0 else "clone (again)", []).append(t)
    dst = os.path.join(tmp, "g%d" % n)
    t, _ = timed(lambda: subprocess.run(["git", "clone", "-q", "--no-local", os.path.join(tmp, "bare.git"), dst],
                                        check=True, env=env, stderr=subprocess.DEVNULL), "git",
                 "clone (first)" if n == 0 else "clone (again)")
    gt.setdefault("clone (first)" if n == 0 else "clone (again)", []).append(t)
print("\n| operation | sitebase ms | sitebase CPU ms | git CLI ms | git CPU ms | ratio (wall) | ratio (CPU) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for k in sb:
    a, b = statistics.median(sb[k]) * 1e3, statistics.median(gt[k]) * 1e3
    ca, cb = statistics.median(CPU[("sb", k)]) * 1e3, statistics.median(CPU[("git", k)]) * 1e3
    print("| %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |" % (k, a, ca, b, cb, a / b, ca / cb))
print("\n(ratio = Sitebase / git: below 1 is faster than git; medians of %d rounds;"
      " Sitebase's clone CPU is the server's plus the git client's)" % rounds)
PY
