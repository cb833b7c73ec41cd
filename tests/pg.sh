#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL 15 server for the tests (a ctest fixture).
#
#   tests/pg.sh start DIR   new cluster in DIR, listening on 127.0.0.1 only at
#                           a free port, database "sitebase", user "sitebase",
#                           trust auth; its URL goes to DIR/url
#   tests/pg.sh stop DIR    stops it and removes DIR
#
# Speed over safety: fsync is off, which is fine for data thrown away after
# the run and never fine anywhere else. initdb refuses to run as root, so as
# root the server runs as the `postgres` OS user, which then owns DIR.
# `start` on a DIR whose server is running stops that one first.
set -euo pipefail

PGBIN=${SITEBASE_PGBIN:-/usr/lib/postgresql/15/bin}

die() {
    echo "pg.sh: $*" >&2
    exit 1
}

[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
cmd=$1
dir=$(realpath -m -- "$2")
case "$dir" in
/ | "") die "refusing to use $dir" ;;
esac

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_server() {
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            echo "pg.sh: warning: pg_ctl stop failed (see $dir/log)" >&2
    fi
}

# Prints a loopback TCP port that nothing listens on right now.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free loopback port found"
}

start() {
    [ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 not found in $PGBIN (apt-get install postgresql-15)"
    stop_server
    rm -rf -- "$dir"
    mkdir -p -- "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user"
        chown postgres: "$dir"
        as_owner test -w "$dir" ||
            die "user postgres cannot reach $dir (a parent folder is not traversable)"
    fi

    if ! as_owner "$PGBIN/initdb" -D "$dir/data" -U sitebase --auth=trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    fi

    # A port can be taken between our probe and the server's bind: retry.
    local port ok=
    for _ in 1 2 3; do
        port=$(free_port)
        if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            ok=1
            break
        fi
    done
    if [ -z "$ok" ]; then
        [ -f "$dir/log" ] && tail -n 20 "$dir/log" >&2
        die "the server did not start (log: $dir/log)"
    fi

    for _ in $(seq 1 100); do
        if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            break
        fi
        sleep 0.1
    done
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" || die "server not ready on port $port"
    "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U sitebase sitebase ||
        die "createdb sitebase failed"
    echo "postgres://sitebase@127.0.0.1:$port/sitebase" >"$dir/url"
    echo "pg.sh: PostgreSQL running at $(cat "$dir/url") (data in $dir)"
}

case "$cmd" in
start) start ;;
stop)
    stop_server
    rm -rf -- "$dir"
    ;;
*) die "unknown command $cmd (want start or stop)" ;;
esac
