#!/usr/bin/env bash
# serve_intel.sh - the intel, sightings, exports and stats routes of `tide serve` on real data:
# the Trickbot Zeek capture's conn.log goes into history with no intel; an analyst POSTs
# maltrail's trickbot.txt (family trickbot) through the API, which ingests it with its
# retro-hunt: the two infected hosts of hunt_trickbot.sh (172.16.9.5: 2,196 and 172.16.9.233:
# 1,029 connections) come back as counts and as stored sightings, filtered by host, indicator
# and campaign, under each key's ceiling (the list is unmarked: amber). Then search, object with
# versions and relationships, exports with ETag / If-None-Match, stats under a ceiling, a reader
# refused a write, a body over the cap, and the audit log of the write.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/zeek" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA missing (CI=true)"; exit 1; }
    echo "skipped: $DATA missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve-intel.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s; Q="'"
Z=$DATA/zeek/trickbot-2018-11-09; L=$DATA/iocs/maltrail/malware/trickbot.txt
"$TIDE" --store "$S" history import "$Z/conn.log" >/dev/null 2>&1
ANALYST=$(key "$S" analyst analyst amber)
GREEN=$(key "$S" green reader green)
READER=$(key "$S" reader reader amber)
serve_start "$S" --max-body 2000000

# a write through the API: ingest + retro-hunt, the counts returned
c=$(code "$READER" POST "/api/v1/intel?format=list&family=trickbot&source=maltrail" --data-binary @"$L")
check "POST intel: 403 for a reader" '[ "$c" = 403 ]'
c=$(code "$ANALYST" POST "/api/v1/intel?format=list&family=trickbot&source=maltrail" --data-binary @"$L" -H 'Content-Type: text/plain')
cp "$W/body" "$W/post.json"
want=$(grep -vc '^#\|^[[:space:]]*$' "$L")
check "POST intel: 200, every trail stored ($(jget "d[\"stored\"]") indicators)" '[ "$c" = 200 ] && [ "$(jget "d[\"indicators\"]")" -gt 900 ]'
check "POST intel: retro-hunted, 2 (host, ip:port) pairs or more" '[ "$(jget "d[\"hunted\"]")" = True ] && [ "$(jget "d[\"retro_sightings\"]")" -ge 2 ]'
c=$(code "$ANALYST" POST "/api/v1/intel?format=list&family=trickbot&source=maltrail" --data-binary @"$L")
check "POST intel again: nothing stored, all unchanged" '[ "$c" = 200 ] && [ "$(jget "d[\"stored\"]")" = 0 ] && [ "$(jget "d[\"unchanged\"]")" -gt 900 ]'
printf '{"type":"bundle","objects":[{"type":"indicator","id":"indicator--x"}]}' >"$W/bad.json"
c=$(code "$ANALYST" POST "/api/v1/intel?format=stix" --data-binary @"$W/bad.json")
check "POST intel: a bad record is rejected with its place and reason" '[ "$c" = 200 ] && [ "$(jget "d[\"rejected\"]")" = 1 ] && [ -n "$(jget "d[\"rejects\"][0][\"reason\"]")" ]'
check "POST intel: bad format is 400" '[ "$(code "$ANALYST" POST "/api/v1/intel?format=pdf" --data-binary x)" = 400 ]'
check "POST intel: bad tlp is 400" '[ "$(code "$ANALYST" POST "/api/v1/intel?tlp=purple" --data-binary 1.2.3.4)" = 400 ]'
check "POST intel: no body is 400" '[ "$(code "$ANALYST" POST "/api/v1/intel" -H "Content-Length: 0")" = 400 ]'
head -c 3000000 /dev/zero | tr '\0' '1' >"$W/big.txt"
c=$(code "$ANALYST" POST "/api/v1/intel?format=list" --data-binary @"$W/big.txt")
check "POST intel: a body over --max-body is 413 ($c)" '[ "$c" = 413 ]'
c=$(code "$ANALYST" POST "/api/v1/intel?format=list" -H "Transfer-Encoding: chunked" --data-binary @"$W/big.txt")
check "POST intel: a chunked body over the cap is 413 ($c)" '[ "$c" = 413 ]'

# sightings: filters, ceiling
c=$(code "$ANALYST" GET "/api/v1/sightings?retro=true")
check "sightings: the two infected hosts, retro counts 2196 and 1029" '[ "$c" = 200 ] && python3 - "$W/body" <<PY
import json, sys, collections
c = collections.Counter()
for s in json.load(open(sys.argv[1]))["sightings"]:
    c[s["host"]] += s["retro_count"]
    assert s["tlp"] == "amber", s
sys.exit(c != {"172.16.9.5": 2196, "172.16.9.233": 1029})
PY'
check "sightings: by host" '[ "$(code "$ANALYST" GET "/api/v1/sightings?host=172.16.9.233")" = 200 ] && [ "$(jget "sorted({s[\"host\"] for s in d[\"sightings\"]})")" = "[${Q}172.16.9.233${Q}]" ]'
IND=$(python3 -c "import json; print(json.load(open('$W/body'))['sightings'][0]['indicator'])")
check "sightings: by indicator value ($IND)" '[ "$(code "$ANALYST" GET "/api/v1/sightings?indicator=$IND")" = 200 ] && [ "$(jget "len(d[\"sightings\"])")" -ge 1 ] && [ "$(jget "all(s[\"indicator\"] == \"$IND\" for s in d[\"sightings\"])")" = True ]'
check "sightings: by campaign / family trickbot" '[ "$(code "$ANALYST" GET "/api/v1/sightings?campaign=TrickBot")" = 200 ] && [ "$(jget "len(d[\"sightings\"])")" -ge 2 ]'
check "sightings: another family gives none" '[ "$(code "$ANALYST" GET "/api/v1/sightings?campaign=emotet")" = 200 ] && [ "$(jget "len(d[\"sightings\"])")" = 0 ]'
check "sightings: a green key sees none of the amber intel" '[ "$(code "$GREEN" GET "/api/v1/sightings?retro=true")" = 200 ] && [ "$(jget "len(d[\"sightings\"])")" = 0 ]'
check "sightings: limit" '[ "$(code "$ANALYST" GET "/api/v1/sightings?limit=1")" = 200 ] && [ "$(jget "len(d[\"sightings\"])")" = 1 ]'
check "sightings: bad since is 400" '[ "$(code "$ANALYST" GET "/api/v1/sightings?since=yesterday-ish")" = 400 ]'
check "sightings: bad limit is 400" '[ "$(code "$ANALYST" GET "/api/v1/sightings?limit=0")" = 400 ]'

# search and objects
check "search: the malware family" '[ "$(code "$ANALYST" GET "/api/v1/intel/search?type=malware")" = 200 ] && [ "$(jget "[o[\"name\"] for o in d[\"objects\"]]")" = "[${Q}trickbot${Q}]" ]'
MAL=$(jget 'd["objects"][0]["id"]')
check "search: hidden from a green key" '[ "$(code "$GREEN" GET "/api/v1/intel/search?type=malware")" = 200 ] && [ "$(jget "len(d[\"objects\"])")" = 0 ]'
check "search: by value" '[ "$(code "$ANALYST" GET "/api/v1/intel/search?value=$IND")" = 200 ] && [ "$(jget "len(d[\"objects\"])")" -ge 1 ]'
check "search: related" '[ "$(code "$ANALYST" GET "/api/v1/intel/search?related=trickbot&limit=5")" = 200 ] && [ "$(jget "len(d[\"objects\"])")" = 5 ]'
check "object: the malware with its versions and relationships" '[ "$(code "$ANALYST" GET "/api/v1/intel/objects/$MAL")" = 200 ] && [ "$(jget "d[\"object\"][\"name\"]")" = trickbot ] && [ "$(jget "len(d[\"versions\"])")" = 1 ] && [ "$(jget "len(d[\"relationships\"])")" -gt 900 ]'
check "object: 404 for a green key, as if absent" '[ "$(code "$GREEN" GET "/api/v1/intel/objects/$MAL")" = 404 ] && [ "$(cat "$W/body")" = "{\"error\":\"not found\"}" ]'
check "object: 404 when absent" '[ "$(code "$ANALYST" GET "/api/v1/intel/objects/malware--00000000-0000-4000-8000-000000000000")" = 404 ]'

# exports with ETag / If-None-Match
c=$(curl -s -D "$W/h1" -o "$W/e1.txt" -w '%{http_code}' -H "Authorization: Bearer $ANALYST" "$BASE/api/v1/exports/txt")
TAG=$(grep -i '^etag:' "$W/h1" | sed 's/^[Ee][Tt][Aa][Gg]: *//; s/\r$//')
check "export txt: 200 with an ETag, the trails' values" '[ "$c" = 200 ] && [ -n "$TAG" ] && grep -qx "$IND" "$W/e1.txt"'
c=$(curl -s -o "$W/e2.txt" -w '%{http_code}' -H "Authorization: Bearer $ANALYST" -H "If-None-Match: $TAG" "$BASE/api/v1/exports/txt")
check "export txt: If-None-Match with the tag: 304, no body" '[ "$c" = 304 ] && [ ! -s "$W/e2.txt" ]'
c=$(curl -s -o "$W/e3.txt" -w '%{http_code}' -H "Authorization: Bearer $ANALYST" -H "If-None-Match: $TAG" "$BASE/api/v1/exports/txt?types=ip")
check "export txt: other options, another tag: 200" '[ "$c" = 200 ] && [ -s "$W/e3.txt" ]'
c=$(curl -s -o "$W/e4.txt" -w '%{http_code}' -H "Authorization: Bearer $GREEN" -H "If-None-Match: $TAG" "$BASE/api/v1/exports/txt")
check "export txt: a green key gets none of the amber trails (and not the amber tag)" '[ "$c" = 200 ] && ! grep -qx "$IND" "$W/e4.txt"'
printf '1.2.3.4\n' >"$W/one.txt"
check "lookup: 1.2.3.4 unknown (and the answer cached)" '[ "$(code "$ANALYST" GET "/api/v1/intel/lookup?value=1.2.3.4")" = 200 ] && [ "$(jget "len(d[\"indicators\"])")" = 0 ] && [ "$(code "$ANALYST" GET "/api/v1/intel/lookup?value=1.2.3.4")" = 200 ]'
code "$ANALYST" POST "/api/v1/intel?format=list&source=later&tlp=green" --data-binary @"$W/one.txt" >/dev/null
for _ in $(seq 100); do code "$ANALYST" GET "/api/v1/intel/lookup?value=1.2.3.4" >/dev/null; [ "$(jget "len(d[\"indicators\"])")" = 1 ] && break; sleep 0.1; done
check "lookup: new intel is answered, not the cached answer" '[ "$(jget "len(d[\"indicators\"])")" = 1 ]'
c=$(curl -s -o "$W/e5.txt" -w '%{http_code}' -H "Authorization: Bearer $ANALYST" -H "If-None-Match: $TAG" "$BASE/api/v1/exports/txt")
check "export txt: new intel, the old tag gets 200 and the new value" '[ "$c" = 200 ] && grep -qx 1.2.3.4 "$W/e5.txt"'
check "export rpz: a zone" '[ "$(code "$ANALYST" GET /api/v1/exports/rpz)" = 200 ] && grep -q SOA "$W/body"'
check "export: unknown format 404" '[ "$(code "$ANALYST" GET /api/v1/exports/pdf)" = 404 ]'
check "export: a folder format is 400" '[ "$(code "$ANALYST" GET /api/v1/exports/squid)" = 400 ]'
check "export targets: a list" '[ "$(code "$ANALYST" GET /api/v1/exports/targets)" = 200 ] && [ "$(jget "type(d).__name__")" = list ]'

# stats under a ceiling
check "stats: everything for an amber key? no: by TLP up to amber" '[ "$(code "$ANALYST" GET /api/v1/stats)" = 200 ] && [ "$(jget "sorted(d[\"by_tlp\"])")" = "[${Q}amber${Q}, ${Q}clear${Q}, ${Q}green${Q}]" ] && [ "$(jget "d[\"by_tlp\"][\"amber\"]")" -gt 900 ]'
ADMIN=$(key "$S" admin admin red)
check "stats: a red key gets the store's counts" '[ "$(code "$ADMIN" GET /api/v1/stats)" = 200 ] && [ "$(jget "d[\"by_type\"][\"indicator\"]")" -gt 900 ]'

# the audit log
check "audit: the analyst's writes (who, what, when)" '[ "$(code "$ADMIN" GET "/api/v1/admin/audit?limit=10")" = 200 ] && [ "$(jget "sum(1 for e in d if e[\"actor\"] == \"analyst\" and e[\"action\"].startswith(\"POST /api/v1/intel\") and e[\"target\"] == \"maltrail\")")" = 2 ]'

# SIGTERM while an upload is in flight: it is finished and answered, then the server exits
grep -v '^#' "$DATA/iocs/firehol/firehol_level1.netset" | head -3000 >"$W/late.txt"
curl -s -o "$W/late.json" -w '%{http_code}' --limit-rate 20k -X POST -H "Authorization: Bearer $ANALYST" \
    --data-binary @"$W/late.txt" "$BASE/api/v1/intel?format=list&source=late" >"$W/late.code" &
cpid=$!
sleep 1
serve_stop
wait $cpid
check "SIGTERM during an upload: the request finished (200, stored), exit 0" '[ "$SERVE_RC" = 0 ] && [ "$(cat "$W/late.code")" = 200 ] && python3 -c "import json; d=json.load(open(\"$W/late.json\")); assert d[\"stored\"] > 2000"'
check "... and the store holds it" '"$TIDE" --store "$S" search --source late --limit 5 | grep -q indicator'
check "the server log says it finished the request in flight" 'grep -q "finishing 1 request" "$W/serve.log"'
echo "serve_intel: $pass passed, $fail failed"
[ "$fail" = 0 ]
