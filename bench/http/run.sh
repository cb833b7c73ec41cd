#!/usr/bin/env bash
# bench/http: Sitebase's JSON route (through the router and all middleware)
# against nginx answering the same bytes with `return 200`, both with 2
# worker threads on loopback, driven by wrk (2 threads, 64 connections),
# alternating rounds so both see the same machine state. Prints each run,
# the medians and the ratios.
#
#   bench/http/run.sh [ROUNDS] [SECONDS]      (defaults 3 and 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
secs=${2:-10}
conns=${CONNS:-64}
bin=${SITEBASE_BIN:-$root/build/sitebase}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in wrk nginx; do
    command -v "$cmd" >/dev/null || { echo "bench/http: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
[ -x "$bin" ] || { echo "bench/http: build first ($bin)"; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Sitebase: access log off, like nginx's below; everything else as shipped.
sb_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$sb_port" --data "$tmp/data" --threads 2 \
    --access-log false --log-format json 2>"$tmp/sitebase.log" &
pids+=($!)

ng_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$ng_port reuseport;
        location = /healthz {
            default_type "application/json; charset=utf-8";
            return 200 '{"status":"ok"}';
        }
    }
}
NGINX
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" &
pids+=($!)

for url in "http://127.0.0.1:$sb_port/healthz" "http://127.0.0.1:$ng_port/healthz"; do
    for _ in $(seq 1 100); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
    curl -fs "$url" >/dev/null || { echo "bench/http: $url does not answer"; exit 1; }
done
echo "sitebase body: $(curl -s "http://127.0.0.1:$sb_port/healthz")"
echo "nginx body:    $(curl -s "http://127.0.0.1:$ng_port/healthz")"

# Prints "requests_per_second p99_ms" for one wrk run.
run_wrk() {
    local out
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$1")
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
    echo "$rps $p99"
}

sb_rps=() sb_p99=() ng_rps=() ng_p99=()
for r in $(seq 1 "$rounds"); do
    read -r a b < <(run_wrk "http://127.0.0.1:$sb_port/healthz")
    sb_rps+=("$a"); sb_p99+=("$b")
    read -r c d < <(run_wrk "http://127.0.0.1:$ng_port/healthz")
    ng_rps+=("$c"); ng_p99+=("$d")
    printf 'round %d: sitebase %10.0f req/s p99 %7.3f ms | nginx %10.0f req/s p99 %7.3f ms\n' \
        "$r" "$a" "$b" "$c" "$d"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
srps=$(median "${sb_rps[@]}"); sp99=$(median "${sb_p99[@]}")
nrps=$(median "${ng_rps[@]}"); np99=$(median "${ng_p99[@]}")
printf 'median:  sitebase %10.0f req/s p99 %7.3f ms | nginx %10.0f req/s p99 %7.3f ms\n' \
    "$srps" "$sp99" "$nrps" "$np99"
awk -v s="$srps" -v n="$nrps" -v sp="$sp99" -v np="$np99" 'BEGIN {
    printf "ratio:   throughput %.2fx nginx (target >= 0.80), p99 %.2fx nginx (target <= 1.00)\n", s/n, sp/np }'
