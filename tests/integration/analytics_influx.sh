#!/usr/bin/env bash
# Analytics on the influx driver against a real influxd (Debian's 1.6):
# /write (plain, gzip, partial writes with InfluxDB's messages, precisions,
# the decompressed-size limit), /query (the shapes InfluxDB answers, q from
# a form body, epoch), /ping, who may do what (no token 401, viewer write
# 403, strangers and the public 404, SHOW DATABASES lists only readable
# projects), the influx CLI pointed at Sitebase, /api/collect (CORS
# preflight, validation, rate limit), /api/projects/:id/analytics, the
# recorded events (sign-ins, AI records, 5xx answers), and what clients see
# when influxd is down (503).
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start_influxd
sb_start_api --tsdb "influx://127.0.0.1:$SB_INFLUX_PORT/sbt_" --rate-limit-collect 5 \
    --max-write-body 64K
PORT=${SB_ADDR##*:}
read -r OWN OWN_ID <<<"$(signup owner@example.com)"
read -r ED ED_ID <<<"$(signup editor@example.com)"
read -r VW VW_ID <<<"$(signup viewer@example.com)"
read -r OUT OUT_ID <<<"$(signup outsider@example.com)"
call "$OWN" POST /teams '{"name":"Acme"}' >/dev/null
T=$(body | jget id)
for m in "editor@example.com editor" "viewer@example.com viewer"; do
    read -r email role <<<"$m"
    call "$OWN" POST "/teams/$T/members" "{\"email\":\"$email\",\"role\":\"$role\"}" >/dev/null
done
# The site: a public team project (its analytics are still the team's only).
call "$OWN" POST /projects "{\"name\":\"Site\",\"team_id\":\"$T\",\"visibility\":\"public\"}" >/dev/null
P=$(body | jget id)
call "$OWN" POST /projects '{"name":"Public","visibility":"public"}' >/dev/null
PUB=$(body | jget id)
call "$OUT" POST /projects '{"name":"Theirs"}' >/dev/null
OTHER=$(body | jget id)

write() { # TOKEN DB BODY [curl args...]
    local t=$1 db=$2 data=$3
    shift 3
    http -X POST -H "Authorization: Token $t" --data-binary "$data" "$@" "$SB_URL/write?db=$db"
}
query() { # TOKEN QUERYSTRING
    http -G -H "Authorization: Token $t" "$SB_URL/query" --data-urlencode "q=$2" ${3:+--data-urlencode "db=$3"} ${4:+--data-urlencode "epoch=$4"}
}
iq() { # the same query straight to influxd, database prefixed
    curl -sS -G "$SB_INFLUX_URL/query" --data-urlencode "q=$1" --data-urlencode "db=sbt_$2" \
        ${3:+--data-urlencode "epoch=$3"}
}

# ---- /ping ----
eq "ping answers 204" "$(http -D "$SB_TMP/h" "$SB_URL/ping")" 204
contains "with the version header" "$(tr -d '\r' <"$SB_TMP/h" | tr 'A-Z' 'a-z')" "x-influxdb-version: 1.6.7-sitebase"
eq "HEAD /ping too" "$(http -I "$SB_URL/ping")" 204

# ---- /write ----
eq "no token: 401" "$(http -X POST --data-binary 'm v=1' "$SB_URL/write?db=$P")" 401
eq "in InfluxDB's words" "$(body | jget error)" "unable to parse authentication credentials"
eq "a bad token: 401" "$(write not-a-token "$P" 'm v=1')" 401
eq "no database: 400" "$(write "$ED" "" 'm v=1')" 400
eq "database is required" "$(body | jget error)" "database is required"
eq "an editor writes: 204" "$(write "$ED" "$P" $'cpu,host=a v=1.5,n=3i 1000000000\ncpu,host=b v=2.5,n=4i 2000000000')" 204
eq "the owner writes" "$(write "$OWN" "$P" 'cpu,host=c v=3 3000000000')" 204
eq "a viewer may not write: 403" "$(write "$VW" "$P" 'cpu,host=d v=1 4000000000')" 403
contains "says why" "$(body | jget error)" "not authorized to write"
eq "a stranger: database not found (404)" "$(write "$OUT" "$P" 'cpu v=1')" 404
eq "with its name" "$(body | jget error)" "database not found: \"$P\""
eq "the public of a public project: 404" "$(write "$OUT" "$PUB" 'cpu v=1')" 404
eq "not a project id: 404" "$(write "$OWN" "_internal" 'cpu v=1')" 404
eq "Basic auth with the token as password" "$(write "$ED" "$P" 'cpu,host=e v=5 5000000000' -u "x:$ED")" 204
eq "u/p parameters" "$(http -X POST --data-binary 'cpu,host=f v=6 6000000000' "$SB_URL/write?db=$P&u=x&p=$ED")" 204
eq "Bearer" "$(http -X POST -H "Authorization: Bearer $ED" --data-binary 'cpu,host=g v=7 7000000000' "$SB_URL/write?db=$P")" 204

# Precisions: the same instant four ways.
eq "precision s" "$(write "$ED" "$P&precision=s" 'prec,p=s v=1 100')" 204
eq "precision ms" "$(write "$ED" "$P&precision=ms" 'prec,p=ms v=1 100000')" 204
eq "precision u" "$(write "$ED" "$P&precision=u" 'prec,p=u v=1 100000000')" 204
eq "precision n" "$(write "$ED" "$P&precision=n" 'prec,p=n v=1 100000000000')" 204
eq "a bad precision: 400" "$(write "$ED" "$P&precision=fortnights" 'prec v=1 1')" 400
query_p() { http -G -H "Authorization: Token $OWN" "$SB_URL/query" --data-urlencode "q=$1" --data-urlencode "db=$P" ${2:+--data-urlencode "epoch=$2"}; }
query_p 'SELECT count(v) FROM prec WHERE time = 100s' >/dev/null
eq "all four at 100 s" "$(body | jget results.0.series.0.values.0.1)" 4

# gzip, and its limit after decompression (64 KiB here).
printf 'gz,k=a v=1 8000000000\ngz,k=b v=2 9000000000\n' | gzip >"$SB_TMP/w.gz"
eq "a gzip body: 204" "$(write "$ED" "$P" "@$SB_TMP/w.gz" -H 'Content-Encoding: gzip')" 204
query_p 'SELECT sum(v) FROM gz' >/dev/null
eq "its points are there" "$(body | jget results.0.series.0.values.0.1)" 3
python3 -c 'import sys; sys.stdout.write("big v=1 1\n" * 20000)' | gzip >"$SB_TMP/big.gz"
eq "more than the limit once inflated: 413" "$(write "$ED" "$P" "@$SB_TMP/big.gz" -H 'Content-Encoding: gzip')" 413
contains "in InfluxDB's shape" "$(body | jget error)" "request entity too large"
printf 'not gzip at all' >"$SB_TMP/bad.gz"
eq "a broken gzip body: 400" "$(write "$ED" "$P" "@$SB_TMP/bad.gz" -H 'Content-Encoding: gzip')" 400

# Partial writes: InfluxDB writes the good lines and names the bad ones.
st=$(write "$ED" "$P" $'part v=1 1000000000\nthis is bad\npart v=2 2000000000\npart v="x 3\npart v=3 3000000000')
eq "a body with bad lines: 400" "$st" 400
ERR=$(body | jget error)
curl -sS -X POST "$SB_INFLUX_URL/query?q=CREATE+DATABASE+ref" >/dev/null
iq_err=$(curl -sS -X POST --data-binary $'part v=1 1000000000\nthis is bad\npart v=2 2000000000\npart v="x 3\npart v=3 3000000000' "$SB_INFLUX_URL/write?db=ref" | jget error)
eq "the same message as influxd's" "$ERR" "$iq_err"
contains "names the bad line" "$ERR" "unable to parse 'this is bad'"
query_p 'SELECT count(v) FROM part' >/dev/null
# (the open quote of line 4 runs to the end of the body, as in InfluxDB)
eq "the good lines were written" "$(body | jget results.0.series.0.values.0.1)" 2
eq "a field type conflict: 400" "$(write "$ED" "$P" 'cpu,host=a v="text" 10000000000')" 400
contains "partial write" "$(body | jget error)" "partial write"

# ---- /query ----
query_p 'SELECT * FROM cpu WHERE host = '"'a'" >/dev/null
eq "a raw select, InfluxDB's shape" "$(body)" '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","host","n","v"],"values":[["1970-01-01T00:00:01Z","a",3,1.5]]}]}]}'
query_p 'SELECT mean(v) FROM cpu GROUP BY host' ms >/dev/null
eq "the same answer as influxd's" "$(body)" "$(iq 'SELECT mean(v) FROM cpu GROUP BY host' "$P" ms)"
eq "q from a form body (POST)" "$(http -X POST -H "Authorization: Token $VW" --data-urlencode "q=SELECT count(v) FROM cpu" --data-urlencode "db=$P" "$SB_URL/query")" 200
eq "a viewer reads" "$(body | jget results.0.series.0.values.0.1)" 6
eq "no q: 400" "$(http -H "Authorization: Token $OWN" "$SB_URL/query?db=$P")" 400
eq "missing q, InfluxDB's message" "$(body | jget error)" 'missing required parameter "q"'
eq "a query that does not parse: 400" "$(query_p 'SELEC v FROM cpu')" 400
contains "error parsing query" "$(body | jget error)" "error parsing query: found SELEC"
eq "a bad epoch: 400" "$(query_p 'SELECT v FROM cpu' weeks)" 400
eq "several statements" "$(query_p 'SELECT count(v) FROM cpu; SELECT count(v) FROM gz')" 200
eq "two results" "$(body | jget results.1.statement_id)" 1
eq "a stranger's query: 404" "$(http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=SELECT * FROM cpu" --data-urlencode "db=$P")" 404
query_p "SELECT count(v) FROM \"$P\".\"autogen\".\"cpu\"" >/dev/null
eq "a database named in FROM is the project's (prefixed in InfluxDB)" "$(body | jget results.0.series.0.values.0.1)" 6
eq "naming another database in FROM: 404" "$(http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=SELECT * FROM \"$P\".\"autogen\".\"cpu\"" --data-urlencode "db=$OTHER")" 404
eq "SHOW ... ON another database: 404" "$(http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=SHOW MEASUREMENTS ON \"$P\"")" 404
eq "SHOW MEASUREMENTS" "$(query_p 'SHOW MEASUREMENTS' && body | jget results.0.series.0.values)" "200[[\"cpu\"], [\"gz\"], [\"part\"], [\"prec\"]]"
eq "SHOW TAG VALUES as influxd" "$(query_p 'SHOW TAG VALUES FROM cpu WITH KEY = host' >/dev/null; body)" "$(iq 'SHOW TAG VALUES FROM cpu WITH KEY = host' "$P")"
http -G -H "Authorization: Token $ED" "$SB_URL/query" --data-urlencode "q=SHOW DATABASES" >/dev/null
eq "SHOW DATABASES: the editor's readable projects" "$(body | jget results.0.series.0.values)" "[[\"$P\"]]"
http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=SHOW DATABASES" >/dev/null
eq "and the stranger's own" "$(body | jget results.0.series.0.values)" "[[\"$OTHER\"]]"
eq "CREATE DATABASE for a project one may write" "$(http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=CREATE DATABASE \"$OTHER\"")" 200
eq "answers as InfluxDB" "$(body)" '{"results":[{"statement_id":0}]}'
eq "exists in influxd" "$(curl -sS "$SB_INFLUX_URL/query?q=SHOW+DATABASES" | grep -c "sbt_$OTHER")" 1
eq "CREATE DATABASE for someone else's: 404" "$(http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=CREATE DATABASE \"$P\"")" 404
http -G -H "Authorization: Token $OWN" "$SB_URL/query" --data-urlencode "q=DROP DATABASE \"$P\"" >/dev/null
contains "DROP DATABASE is refused" "$(body | jget results.0.error)" "not allowed"
eq "mixing SHOW DATABASES with others: 400" "$(query_p 'SHOW DATABASES; SELECT * FROM cpu')" 400

# ---- what Grafana's InfluxDB data source and Telegraf send ----
graf() { http -G "$SB_URL/query" --data-urlencode "u=grafana" --data-urlencode "p=$VW" --data-urlencode "db=$P" --data-urlencode "epoch=ms" --data-urlencode "q=$1"; }
eq "Grafana's test query (SHOW RETENTION POLICIES ON)" "$(graf "SHOW RETENTION POLICIES on \"$P\"")" 200
eq "autogen" "$(body | jget results.0.series.0.values.0.0)" autogen
eq "a panel query with a time filter in ms" "$(graf 'SELECT mean("v") FROM "cpu" WHERE time >= 0ms and time <= 9000ms GROUP BY time(1s), "host" fill(null)')" 200
eq "answered per host, times in ms" "$(body | jget results.0.series.0.values.1)" "[1000, 1.5]"
eq "the tag keys for the query editor" "$(graf 'SHOW TAG KEYS FROM "cpu"' && body | jget results.0.series.0.values)" '200[["host"]]'
eq "Telegraf's CREATE DATABASE (form body)" "$(http -X POST -u "telegraf:$ED" --data-urlencode "q=CREATE DATABASE \"$P\"" "$SB_URL/query")" 200
printf 'tg,host=x v=1i 11000000000\n' | gzip >"$SB_TMP/tg.gz"
eq "and its gzipped batch" "$(http -X POST -u "telegraf:$ED" -H 'Content-Encoding: gzip' --data-binary "@$SB_TMP/tg.gz" "$SB_URL/write?db=$P&precision=ns&rp=autogen")" 204

# ---- the influx CLI against Sitebase ----
cli() { influx -host 127.0.0.1 -port "$PORT" -username x -password "$1" "${@:2}" 2>&1; }
eq "influx -execute 'SHOW DATABASES'" "$(cli "$ED" -execute 'SHOW DATABASES' | tail -1)" "$P"
eq "a query with -database" "$(cli "$VW" -database "$P" -format csv -execute "SELECT v FROM cpu WHERE host = 'b'")" $'name,time,v\ncpu,2000000000,2.5'
printf 'cli,from=import v=42 1000000000\n' >"$SB_TMP/import.txt"
printf '# DML\n# CONTEXT-DATABASE: %s\ncli,from=import v=42 1000000000\n' "$P" >"$SB_TMP/import.txt"
check "influx -import writes through /write" cli "$ED" -import -path "$SB_TMP/import.txt"
eq "its point is there" "$(cli "$VW" -database "$P" -format csv -execute 'SELECT v FROM cli' | tail -1)" "cli,1000000000,42"
contains "a bad token is refused" "$(cli nope -execute 'SHOW DATABASES')" "authorization failed"

# ---- /api/collect ----
C="$SB_URL/api/collect"
beacon='{"site":"'$P'","events":[{"type":"pageview","path":"/pricing","referrer":"https://news.example/item?id=1"},{"type":"vital","path":"/pricing","name":"LCP","value":1234.5},{"type":"event","path":"/","name":"signup_click","props":{"plan":"pro","seats":3,"annual":true}}]}'
eq "a preflight from any origin: 204" "$(http -X OPTIONS -H 'Origin: https://site.example' -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' -D "$SB_TMP/h" "$C")" 204
H=$(tr -d '\r' <"$SB_TMP/h" | tr 'A-Z' 'a-z')
contains "allows every origin" "$H" "access-control-allow-origin: *"
contains "allows POST" "$H" "access-control-allow-methods: post"
contains "allows Content-Type" "$H" "access-control-allow-headers: content-type"
eq "a beacon: 202" "$(post_json "$C" "$beacon" -H 'Origin: https://site.example' -D "$SB_TMP/h")" 202
eq "counts its events" "$(body)" '{"accepted":3}'
H=$(tr -d '\r' <"$SB_TMP/h" | tr 'A-Z' 'a-z')
contains "the answer is readable cross-origin" "$H" "access-control-allow-origin: *"
case "$H" in *set-cookie*) fail "sets no cookie" ;; *) pass "sets no cookie" ;; esac
eq "not JSON: 400" "$(post_json "$C" '{"site":')" 400
eq "an unknown field: 400" "$(post_json "$C" '{"site":"'$P'","events":[{"type":"pageview","path":"/","x":1}]}')" 400
eq "says which" "$(body | jget errors.0.field)" "events[0].x"
eq "a path must start with /: 400" "$(post_json "$C" '{"site":"'$P'","events":[{"type":"pageview","path":"pricing"}]}')" 400
eq "an unknown vital: 400" "$(post_json "$C" '{"site":"'$P'","events":[{"type":"vital","path":"/","name":"FID","value":1}]}')" 400
eq "a vital out of range: 400" "$(post_json "$C" '{"site":"'$P'","events":[{"type":"vital","path":"/","name":"CLS","value":-1}]}')" 400
eq "a number as a string: 400" "$(post_json "$C" '{"site":"'$P'","events":[{"type":"vital","path":"/","name":"LCP","value":"12"}]}')" 400
eq "invalid UTF-8: 400" "$(printf '{"site":"%s","events":[{"type":"pageview","path":"/\xff"}]}' "$P" | http -X POST --data-binary @- "$C")" 400
eq "a project that is not public has no site: 404" "$(post_json "$C" '{"site":"'$OTHER'","events":[{"type":"pageview","path":"/"}]}')" 404
eq "an unknown site: 404" "$(post_json "$C" '{"site":"01900000-0000-7000-8000-000000000000","events":[{"type":"pageview","path":"/"}]}')" 404
python3 -c 'print("{\"site\":\"x\",\"events\":[" + ",".join(["{\"type\":\"pageview\",\"path\":\"/\"}"] * 600) + "]}")' >"$SB_TMP/huge.json"
eq "over 16 KiB: 413" "$(http -X POST --data-binary "@$SB_TMP/huge.json" "$C")" 413
# 5 a minute per site and IP here; one was taken above (the 400s are
# refused before the bucket, the 404 is another site's bucket).
for i in 1 2 3 4; do
    post_json "$C" "$beacon" >/dev/null
done
eq "over the rate limit: 429" "$(post_json "$C" "$beacon" -D "$SB_TMP/h")" 429
contains "with Retry-After" "$(tr -d '\r' <"$SB_TMP/h" | tr 'A-Z' 'a-z')" "retry-after:"
sleep 1.5 # the recorder flushes every second
query_p 'SELECT sum("count") FROM page_views GROUP BY path, referrer' >/dev/null
eq "page views reached the project's database" "$(body | jget results.0.series.0.tags)" '{"path": "/pricing", "referrer": "news.example"}'
query_p 'SELECT value FROM web_vitals WHERE metric = '"'LCP'" >/dev/null
eq "web vitals too" "$(body | jget results.0.series.0.values.0.1)" 1234.5
query_p 'SELECT plan, seats, annual FROM events' >/dev/null
eq "custom events with their props" "$(body | jget results.0.series.0.values.0)" '["'"$(body | jget results.0.series.0.values.0.0)"'", "pro", 3, true]'

# ---- /api/projects/:id/analytics ----
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FROM=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
eq "page views by path" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views&from=$FROM&to=$TO&interval=2h&group_by=path")" 200
eq "our JSON" "$(body | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["metric"], d["interval"], d["group_by"], d["series"][0]["group"], sum(p["value"] for p in d["series"][0]["points"]))')" "page_views 2h path {'path': '/pricing'} 5.0"
eq "mean LCP" "$(call "$VW" GET "/projects/$P/analytics?metric=lcp&from=$FROM&to=$TO&interval=2h")" 200
eq "its value" "$(body | jget series.0.points.0.value)" 1234.5
eq "an unknown metric: 400" "$(call "$VW" GET "/projects/$P/analytics?metric=cpu")" 400
eq "names the field" "$(body | jget errors.0.field)" metric
eq "a group_by not on the list: 400" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views&group_by=host%22%20OR%201=1")" 400
eq "a bad time: 400" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views&from=yesterday")" 400
eq "a bad interval: 400" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views&interval=1y")" 400
eq "too many buckets: 400" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views&from=2020-01-01T00:00:00Z&to=$NOW&interval=1s")" 400
eq "a project with no data yet: empty series" "$(call "$OUT" GET "/projects/$OTHER/analytics?metric=events")" 200
eq "no series" "$(body | jget series)" "[]"
eq "a stranger: 404" "$(call "$OUT" GET "/projects/$P/analytics?metric=page_views")" 404
eq "anonymous: 401" "$(http "$A/projects/$P/analytics?metric=page_views")" 401
eq "the public of a public project: 404" "$(call "$OUT" GET "/projects/$PUB/analytics?metric=page_views")" 404

# ---- Sitebase's own events ----
call "$ED" POST "/projects/$P/ai-content" '{"type":"copy","prompt":"Write a tagline","result":{"text":"Hi","model":"gpt-4o","usage":{"total_tokens":321},"response_ms":850,"satisfaction":4}}' >/dev/null
post_json "$A/auth/login" '{"email":"viewer@example.com","password":"'"$PW"'"}' >/dev/null
sleep 1.5
query_p 'SELECT model, tokens, response_ms, satisfaction FROM ai_interactions' >/dev/null
eq "an AI interaction, as series" "$(body | jget results.0.series.0.values.0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[1:])')" "['gpt-4o', 321, 850, 4]"
curl -sS -G "$SB_INFLUX_URL/query" --data-urlencode 'q=SELECT count("count") FROM user_activity GROUP BY action' --data-urlencode "db=sbt_sitebase" >"$SB_TMP/ua"
eq "sign-ups and sign-ins in the system database" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]["series"]; print({s["tags"]["action"]: s["values"][0][1] for s in r})' "$SB_TMP/ua")" "{'login': 1, 'signup': 4}"
http "$SB_URL/metrics" >/dev/null
contains "/metrics counts the events written" "$(body)" 'sitebase_analytics_events_dropped_total{reason="store"} 0'

# ---- revocation reaches /query at once ----
# /query remembers a session check for up to a second per thread
# (identity/verified.c); a logout, a revoked session and a removed member
# must still be refused by the very next request. Each token queries a few
# times first, so that every loop has it remembered.
qs() { http -G -H "Authorization: Token $1" "$SB_URL/query" --data-urlencode "q=SHOW MEASUREMENTS" --data-urlencode "db=$P"; }
login_vw() { post_json "$A/auth/login" '{"email":"viewer@example.com","password":"'"$PW"'"}' >/dev/null && body | jget access_token; }
S1=$(login_vw)
S2=$(login_vw)
for _ in 1 2 3 4; do qs "$S1" >/dev/null; qs "$S2" >/dev/null; done
eq "a viewer's session queries" "$(qs "$S1")" 200
eq "logs out" "$(http -X POST -H "Authorization: Bearer $S1" "$A/auth/logout")" 200
eq "its next /query: 401" "$(qs "$S1")" 401
eq "the other session still queries" "$(qs "$S2")" 200
http -H "Authorization: Bearer $S2" "$A/auth/sessions" >/dev/null
sid2=$(body | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin)["items"] if s["current"]][0])')
eq "revoked from another session" "$(http -X DELETE -H "Authorization: Bearer $VW" "$A/auth/sessions/$sid2")" 200
eq "the revoked session's next /query: 401" "$(qs "$S2")" 401
read -r LV LV_ID <<<"$(signup leaver@example.com)"
call "$OWN" POST "/teams/$T/members" '{"email":"leaver@example.com","role":"viewer"}' >/dev/null
for _ in 1 2 3 4; do qs "$LV" >/dev/null; done
eq "a new team viewer queries" "$(qs "$LV")" 200
eq "is removed" "$(call "$OWN" DELETE "/teams/$T/members/$LV_ID")" 200
eq "and sees the database no more: 404" "$(qs "$LV")" 404

# ---- access changes reach /query and /write at once ----
# The analytics routes remember a project's access record (roles, owner,
# team policy) for up to a second per thread (projects/access_memo.c); a
# role changed, a project role taken away or a project deleted must be
# seen by the very next request. Each is remembered on every loop first.
wr() { write "$ED" "$P" 'memo v=1 1000000000'; }
for _ in 1 2 3 4; do wr >/dev/null; done
eq "an editor writes" "$(wr)" 204
eq "is made a viewer" "$(call "$OWN" PATCH "/teams/$T/members/$ED_ID" '{"role":"viewer"}')" 200
eq "and may write no more: 403" "$(wr)" 403
eq "is made an editor again" "$(call "$OWN" PATCH "/teams/$T/members/$ED_ID" '{"role":"editor"}')" 200
eq "and writes again" "$(wr)" 204
qp() { http -G -H "Authorization: Token $OUT" "$SB_URL/query" --data-urlencode "q=SHOW MEASUREMENTS" --data-urlencode "db=$PUB"; }
eq "an outsider is given a project role" "$(call "$OWN" PUT "/projects/$PUB/members" "{\"user_id\":\"$OUT_ID\",\"role\":\"viewer\"}")" 200
for _ in 1 2 3 4; do qp >/dev/null; done
eq "and queries that project" "$(qp)" 200
eq "the role is taken away" "$(call "$OWN" PUT "/projects/$PUB/members" "{\"user_id\":\"$OUT_ID\",\"role\":\"none\"}")" 200
eq "and the next /query: 404" "$(qp)" 404
call "$OWN" POST /projects "{\"name\":\"Gone\",\"team_id\":\"$T\",\"visibility\":\"public\"}" >/dev/null
G=$(body | jget id)
qg() { http -G -H "Authorization: Token $VW" "$SB_URL/query" --data-urlencode "q=SHOW MEASUREMENTS" --data-urlencode "db=$G"; }
for _ in 1 2 3 4; do qg >/dev/null; done
eq "a viewer queries a team project" "$(qg)" 200
eq "which is deleted" "$(call "$OWN" DELETE "/projects/$G")" 200
eq "and is not found at once: 404" "$(qg)" 404

# ---- influxd down ----
sb_stop_influxd
eq "the dashboard: 503" "$(call "$VW" GET "/projects/$P/analytics?metric=page_views" "" -D "$SB_TMP/h")" 503
eq "problem+json" "$(body | jget code)" tsdb_unavailable
contains "with Retry-After" "$(tr -d '\r' <"$SB_TMP/h" | tr 'A-Z' 'a-z')" "retry-after:"
eq "/write: 503" "$(write "$ED" "$P" 'cpu v=1')" 503
contains "in InfluxDB's shape" "$(body | jget error)" "not available"
eq "/query: 503" "$(query_p 'SELECT * FROM cpu')" 503
post_json "$C" "$beacon" -H 'X-Forwarded-For: 1' >/dev/null
call "$ED" POST "/projects/$P/ai-content" '{"type":"copy","prompt":"x","result":"y"}' >/dev/null
sleep 2.5 # one flush and its retry fail
http "$SB_URL/metrics" >/dev/null
eq "lost events are counted, not silent" "$(body | grep -c 'sitebase_analytics_events_dropped_total{reason="store"} [1-9]')" 1
sb_stop
eq "a clean exit (the recorder's last flush fails fast)" "$SB_EXIT" 0
sb_finish
