#!/usr/bin/env bash
# Assets over HTTP: raw and multipart uploads whose type is sniffed from
# the bytes (the client's claim is ignored), SHA-256 deduplication across
# projects with reference counts, byte ranges (RFC 9110 §14) with If-Range
# and If-None-Match, idempotent retries, size limits, who may read and
# write, and garbage collection of blobs nothing references any more after
# asset, project and team deletes. SQLite runs the filesystem blob driver;
# PostgreSQL the database driver, as a multi-node set-up would.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

BLOBS=fs
[ "${SITEBASE_TEST_DB:-sqlite}" = postgres ] && BLOBS=store
sb_start_api --max-upload-body 256K --blob-store "$BLOBS" --blob-gc-interval 1s \
    --blob-gc-grace 1s
read -r OWN _ <<<"$(signup owner@example.com)"
read -r ED _ <<<"$(signup editor@example.com)"
read -r VW _ <<<"$(signup viewer@example.com)"
read -r OUT _ <<<"$(signup outsider@example.com)"
upload() { # token project file [curl args]: the raw body
    local t=$1 p=$2 f=$3
    shift 3
    http -X POST -H "$(as "$t")" --data-binary "@$f" "$@" "$A/projects/$p/assets"
}
refs() { sb_sql "SELECT refs FROM blobs WHERE sha256 = '$1'"; }
blob_files() { find "$SB_TMP/data/blobs" -type f -name "*${1:2}*" 2>/dev/null | wc -l; }

call "$OWN" POST /teams '{"name":"Acme"}' >/dev/null
TEAM=$(body | jget id)
call "$OWN" POST "/teams/$TEAM/members" '{"email":"editor@example.com","role":"editor"}' >/dev/null
call "$OWN" POST "/teams/$TEAM/members" '{"email":"viewer@example.com","role":"viewer"}' >/dev/null
call "$OWN" POST /projects "{\"name\":\"Site\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}" >/dev/null
P1=$(body | jget id)
call "$OWN" POST /projects '{"name":"Mine","visibility":"private"}' >/dev/null
P2=$(body | jget id)
call "$OWN" POST /projects '{"name":"Open","visibility":"public"}' >/dev/null
P3=$(body | jget id)

# ---- uploads: raw and multipart, sniffed ----
python3 - "$SB_TMP" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes((x * 7 + y) % 256 for x in range(48)) for y in range(32))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 32, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1] + "/logo.png", "wb").write(png)
open(sys.argv[1] + "/page.bin", "wb").write(b"<html><script>alert(1)</script></html>\n")
open(sys.argv[1] + "/big.bin", "wb").write(bytes(300 * 1024))
open(sys.argv[1] + "/limit.bin", "wb").write(b"\x01" * (256 * 1024 - 1))
PY
PNG="$SB_TMP/logo.png"
SHA=$(sha256sum "$PNG" | cut -d' ' -f1)
SIZE=$(stat -c %s "$PNG")
eq "an editor uploads a raw body" "$(upload "$ED" "$P1" "$PNG" -H 'Content-Type: text/html' -D "$SB_TMP/h")" 201
AS1=$(body | jget id)
eq "the type is sniffed, not the client's" "$(body | jget type)" image/png
eq "named by its SHA-256" "$(body | jget sha256)" "$SHA"
eq "with its size" "$(body | jget size)" "$SIZE"
eq "and where to fetch it" "$(body | jget url)" "/api/projects/$P1/assets/$AS1/content"
contains "Location names it" "$(grep -i '^location:' "$SB_TMP/h")" "/api/projects/$P1/assets/$AS1"
eq "a multipart upload" "$(http -X POST -H "$(as "$ED")" -F "file=@$PNG;type=text/plain;filename=brand/logo.png" "$A/projects/$P1/assets")" 201
AS2=$(body | jget id)
eq "keeps the file name's last segment" "$(body | jget filename)" logo.png
eq "also sniffed" "$(body | jget type)" image/png
eq "a raw body is named by ?filename=" "$(http -X POST -H "$(as "$ED")" --data-binary "@$PNG" "$A/projects/$P1/assets?filename=h%C3%A9ro%20banner.png")" 201
eq "decoded" "$(body | jget filename)" "héro banner.png"
eq "HTML sent as an image is not served as HTML" "$(upload "$ED" "$P1" "$SB_TMP/page.bin" -H 'Content-Type: image/png')" 201
AS_HTML=$(body | jget id)
HTML_TYPE=$(body | jget type)
check "its sniffed type is harmless" test "$HTML_TYPE" != text/html -a "$HTML_TYPE" != image/png

# ---- dedup across projects ----
eq "the same bytes in another project" "$(upload "$OWN" "$P2" "$PNG")" 201
AS_P2=$(body | jget id)
eq "have the same hash" "$(body | jget sha256)" "$SHA"
UPLOADS=$(sb_sql "SELECT count(*) FROM assets WHERE sha256 = '$SHA'")
eq "one blob, one reference per asset" "$(refs "$SHA")" "$UPLOADS"
eq "stored once" "$(sb_sql "SELECT count(*) FROM blobs WHERE sha256 = '$SHA'")" 1
if [ "$BLOBS" = fs ]; then
    eq "one file on disk" "$(blob_files "$SHA")" 1
else
    eq "one row of bytes" "$(sb_sql "SELECT count(*) FROM blob_data WHERE sha256 = '$SHA'")" 1
fi

# ---- serving, ranges, caching ----
C="/projects/$P1/assets/$AS1/content"
eq "the bytes come back" "$(call "$VW" GET "$C" "" -D "$SB_TMP/h")" 200
check "exactly" cmp "$SB_TMP/body" "$PNG"
contains "as their sniffed type" "$(grep -i '^content-type:' "$SB_TMP/h")" image/png
contains "the ETag is the hash" "$(grep -i '^etag:' "$SB_TMP/h")" "\"$SHA\""
contains "ranges are offered" "$(grep -i '^accept-ranges:' "$SB_TMP/h")" bytes
contains "nothing in it runs" "$(grep -i '^content-security-policy:' "$SB_TMP/h")" sandbox
eq "If-None-Match with the hash is 304" "$(call "$VW" GET "$C" "" -H "If-None-Match: \"$SHA\"")" 304
eq "bytes=0-9" "$(call "$VW" GET "$C" "" -H 'Range: bytes=0-9' -D "$SB_TMP/h")" 206
check "are the first ten" cmp "$SB_TMP/body" <(head -c 10 "$PNG")
contains "Content-Range says which" "$(grep -i '^content-range:' "$SB_TMP/h")" "bytes 0-9/$SIZE"
eq "a suffix range" "$(call "$VW" GET "$C" "" -H 'Range: bytes=-16')" 206
check "is the last 16 bytes" cmp "$SB_TMP/body" <(tail -c 16 "$PNG")
eq "an open range" "$(call "$VW" GET "$C" "" -H "Range: bytes=$((SIZE - 3))-")" 206
check "runs to the end" cmp "$SB_TMP/body" <(tail -c 3 "$PNG")
eq "a range past the end is 416" "$(call "$VW" GET "$C" "" -H "Range: bytes=$SIZE-" -D "$SB_TMP/h")" 416
contains "naming the size" "$(grep -i '^content-range:' "$SB_TMP/h")" "bytes */$SIZE"
eq "as problem+json" "$(body | jget code)" range_not_satisfiable
eq "several ranges get the whole file" "$(call "$VW" GET "$C" "" -H 'Range: bytes=0-1,4-5')" 200
check "all of it" cmp "$SB_TMP/body" "$PNG"
eq "a malformed range is ignored" "$(call "$VW" GET "$C" "" -H 'Range: bytes=9-2')" 200
eq "If-Range with the current tag keeps the range" "$(call "$VW" GET "$C" "" -H 'Range: bytes=0-0' -H "If-Range: \"$SHA\"")" 206
eq "If-Range with another tag gets everything" "$(call "$VW" GET "$C" "" -H 'Range: bytes=0-0' -H 'If-Range: "other"')" 200
eq "HTML-in-disguise downloads" "$(call "$VW" GET "/projects/$P1/assets/$AS_HTML/content" "" -D "$SB_TMP/h")" 200
check "not as text/html" sh -c "! grep -qi '^content-type: text/html' '$SB_TMP/h'"
eq "the metadata" "$(call "$VW" GET "/projects/$P1/assets/$AS2" "" -D "$SB_TMP/h")" 200
eq "names its file" "$(body | jget filename)" logo.png
ETAG=$(grep -i '^etag:' "$SB_TMP/h" | cut -d' ' -f2 | tr -d '\r')
eq "and is cacheable" "$(call "$VW" GET "/projects/$P1/assets/$AS2" "" -H "If-None-Match: $ETAG")" 304
eq "a page of the list" "$(call "$VW" GET "/projects/$P1/assets?limit=2")" 200
eq "holds two" "$(body | jget items | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 2
NEXT=$(body | jget next_cursor)
FIRST=$(body | jget items.0.id)
eq "oldest first" "$FIRST" "$AS1"
eq "the next page" "$(call "$VW" GET "/projects/$P1/assets?limit=2&cursor=$NEXT")" 200
check "goes on after it" test "$(body | jget items.0.id)" \> "$NEXT"
eq "a bad cursor is 400" "$(call "$VW" GET "/projects/$P1/assets?cursor=nope")" 400

# ---- who ----
eq "a viewer cannot upload" "$(upload "$VW" "$P1" "$PNG")" 403
eq "another team's member sees nothing" "$(call "$OUT" GET "$C")" 404
eq "nor the list" "$(call "$OUT" GET "/projects/$P1/assets")" 404
eq "nor may upload" "$(upload "$OUT" "$P1" "$PNG")" 404
eq "an anonymous upload is 401" "$(http -X POST --data-binary "@$PNG" "$A/projects/$P1/assets")" 401
eq "anonymous on a team project: 404" "$(http "$A$C")" 404
upload "$OWN" "$P3" "$PNG" >/dev/null
AS_PUB=$(body | jget id)
eq "a public project's assets are public" "$(http "$A/projects/$P3/assets/$AS_PUB/content")" 200
eq "a viewer cannot delete" "$(call "$VW" DELETE "/projects/$P1/assets/$AS1")" 403
eq "an asset of another project is 404" "$(call "$OWN" GET "/projects/$P2/assets/$AS1")" 404

# ---- bad input ----
eq "an empty upload is 400" "$(http -X POST -H "$(as "$ED")" --data-binary '' "$A/projects/$P1/assets")" 400
eq "over the limit is 413" "$(upload "$ED" "$P1" "$SB_TMP/big.bin")" 413
eq "just under it is fine" "$(upload "$ED" "$P1" "$SB_TMP/limit.bin")" 201
LIMIT_ID=$(body | jget id)
eq "a form without the file part" "$(http -X POST -H "$(as "$ED")" -F 'other=1' "$A/projects/$P1/assets")" 400
eq "a form with an extra field" "$(http -X POST -H "$(as "$ED")" -F "file=@$PNG" -F 'x=1' "$A/projects/$P1/assets")" 400
eq "a broken form" "$(http -X POST -H "$(as "$ED")" -H 'Content-Type: multipart/form-data; boundary=zz' --data-binary $'--zz\r\nno header\r\n' "$A/projects/$P1/assets")" 400
eq "a control character in the name" "$(http -X POST -H "$(as "$ED")" --data-binary "@$PNG" "$A/projects/$P1/assets?filename=a%01b")" 400

# ---- idempotency ----
BEFORE=$(refs "$SHA")
eq "an upload with a key" "$(upload "$ED" "$P1" "$PNG" -H 'Idempotency-Key: up-1')" 201
K1=$(body | jget id)
eq "retried" "$(upload "$ED" "$P1" "$PNG" -H 'Idempotency-Key: up-1' -D "$SB_TMP/h")" 201
eq "answers the same asset" "$(body | jget id)" "$K1"
contains "as a replay" "$(grep -i '^idempotent-replayed:' "$SB_TMP/h")" true
eq "and took one reference" "$(refs "$SHA")" "$((BEFORE + 1))"

# ---- deletes give references back; GC takes the bytes ----
eq "an editor deletes an asset" "$(call "$ED" DELETE "/projects/$P1/assets/$K1")" 200
eq "its reference goes" "$(refs "$SHA")" "$BEFORE"
eq "it is gone" "$(call "$ED" GET "/projects/$P1/assets/$K1")" 404
eq "twice is 404" "$(call "$ED" DELETE "/projects/$P1/assets/$K1")" 404
eq "an audit row for the upload" "$(sb_sql "SELECT count(*) FROM audit_log WHERE project_id = '$P1' AND action = 'asset_created' AND target = '$AS1'")" 1
PROJ_BEFORE=$(refs "$SHA")
eq "the owner deletes a project" "$(call "$OWN" DELETE "/projects/$P2")" 200
eq "its assets' references go" "$(refs "$SHA")" "$((PROJ_BEFORE - 1))"
call "$OWN" POST /teams '{"name":"Gone"}' >/dev/null
T2=$(body | jget id)
call "$OWN" POST /projects "{\"name\":\"Short\",\"team_id\":\"$T2\"}" >/dev/null
P4=$(body | jget id)
upload "$OWN" "$P4" "$PNG" >/dev/null
upload "$OWN" "$P4" "$PNG" >/dev/null
TEAM_BEFORE=$(refs "$SHA")
eq "deleting a team" "$(call "$OWN" DELETE "/teams/$T2")" 200
eq "gives back one reference per asset" "$(refs "$SHA")" "$((TEAM_BEFORE - 2))"
eq "its projects are gone" "$(sb_sql "SELECT count(*) FROM projects WHERE id = '$P4'")" 0
if [ "${SITEBASE_TEST_DB:-sqlite}" = sqlite ]; then
    eq "and out of the search index" "$(sb_sql "SELECT count(*) FROM projects_fts WHERE id = '$P4'")" 0
fi
LIMIT_SHA=$(sb_sql "SELECT sha256 FROM assets WHERE id = '$LIMIT_ID'")
eq "the only asset of some bytes is deleted" "$(call "$ED" DELETE "/projects/$P1/assets/$LIMIT_ID")" 200
eq "no one references them" "$(refs "$LIMIT_SHA")" 0
gone=""
for _ in $(seq 1 100); do # the collector runs every second, after a 1 s grace
    [ "$(sb_sql "SELECT count(*) FROM blobs WHERE sha256 = '$LIMIT_SHA'")" = 0 ] && gone=1 && break
    sleep 0.1
done
eq "the collector removes them" "$gone" 1
if [ "$BLOBS" = fs ]; then
    eq "file and all" "$(blob_files "$LIMIT_SHA")" 0
else
    eq "row of bytes and all" "$(sb_sql "SELECT count(*) FROM blob_data WHERE sha256 = '$LIMIT_SHA'")" 0
fi
eq "bytes still referenced stay" "$(call "$VW" GET "$C")" 200
check "whole" cmp "$SB_TMP/body" "$PNG"
contains "the collector said so" "$(cat "$SB_LOG")" '"msg":"unreferenced blobs removed"'

sb_stop
eq "clean shutdown" "$SB_EXIT" 0
sb_finish
