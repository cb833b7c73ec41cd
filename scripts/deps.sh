#!/usr/bin/env bash
# Installs what Sitebase needs to build, run, test and benchmark on Debian 12.
# Idempotent: it asks dpkg what is present and installs only what is missing,
# so a second run costs a fraction of a second. Uses sudo when not root.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
    # build
    build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
    # libraries
    libh2o-evloop-dev libwslay-dev libssl-dev zlib1g-dev libjansson-dev
    libsqlite3-dev libpq-dev libcmocka-dev libargon2-dev libcurl4-openssl-dev libmagic-dev
    libpcre2-dev libgit2-dev liblz4-dev libhiredis-dev
    # real servers and clients the tests start
    postgresql curl openssl python3 python3-aiosmtpd python3-jsonschema prometheus
    # InfluxDB 1.6 and its `influx` CLI: the analytics driver's peer and reference
    influxdb influxdb-client
    # Redis: the message bus between nodes
    redis-server
    # benchmarks
    wrk nginx-light
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

# Node may come from Debian (nodejs + npm) or from a vendor package that bundles
# npm and conflicts with Debian's: ask for the commands, not the packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "deps: installing ${missing[*]}"
    $sudo apt-get update -qq
    # nginx, prometheus, influxdb and redis-server ship services; we start our own on loopback, so
    # keep the packages from starting theirs (policy-rc.d exit 101 = deny).
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
    [ $made_policy -eq 0 ] || $sudo rm -f "$policy"
fi

# node packages the integration tests drive the server with (ws, ...).
if [ -f "$here/tests/package.json" ]; then
    if [ ! -d "$here/tests/node_modules" ] ||
       [ "$here/tests/package.json" -nt "$here/tests/node_modules/.stamp" ]; then
        (cd "$here/tests" && npm install --no-audit --no-fund --loglevel=error)
        touch "$here/tests/node_modules/.stamp"
    fi
fi
