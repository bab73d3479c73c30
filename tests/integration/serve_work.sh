#!/usr/bin/env bash
# serve_work.sh - the response routes of `tide serve` on real data (the case_real.sh scenario:
# maltrail's trickbot.txt, unmarked = amber, with the Trickbot Zeek capture's conn.log): the
# live stream of sightings while a match worker (`tide match`) stores them, per key ceiling,
# resumed after Last-Event-ID; a case opened from a sighting, shown (attribution, scope, tier,
# plan), listed, its hosts moved, lessons, a refused close, the share bundle; a hunt started
# and polled; the metrics; every case and hunt route refused to a key below the intel's TLP,
# or without the role; a SIGTERM with a stream open ends it and exits 0.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/zeek" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA missing (CI=true)"; exit 1; }
    echo "skipped: $DATA missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve-work.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
STREAMS=""
trap 'for p in $STREAMS; do kill $p 2>/dev/null; done; serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s; Q="'"
Z=$DATA/zeek/trickbot-2018-11-09; L=$DATA/iocs/maltrail/malware/trickbot.txt
"$TIDE" --store "$S" history import "$Z/conn.log" >/dev/null 2>&1
"$TIDE" --store "$S" ingest --format list "$L" >/dev/null 2>&1
ANALYST=$(key "$S" analyst analyst amber)
GREEN=$(key "$S" green analyst green)
READER=$(key "$S" reader reader amber)
ADMIN=$(key "$S" admin admin red)
mkdir -p "$W/tmp"
TMPDIR="$W/tmp" serve_start "$S" --grace 20

# the live stream: two clients, then a match worker stores sightings
curl -sN -H "Authorization: Bearer $ANALYST" "$BASE/api/v1/sightings/stream" >"$W/amber.sse" 2>/dev/null & STREAMS="$STREAMS $!"
curl -sN -H "Authorization: Bearer $GREEN" "$BASE/api/v1/sightings/stream" >"$W/green.sse" 2>/dev/null & STREAMS="$STREAMS $!"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/api/v1/sightings/stream")
check "stream: 401 without a key" '[ "$c" = 401 ]'
sleep 1.5
"$TIDE" --store "$S" match --no-history "$Z/conn.log" >/dev/null 2>&1
for _ in $(seq 60); do grep -q '^event: sighting' "$W/amber.sse" && break; sleep 0.25; done
sleep 2
check "stream: the amber key got the worker's sightings as events" 'grep -q "^event: sighting" "$W/amber.sse" && grep "^data: " "$W/amber.sse" | head -1 | cut -c7- | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"host\"] in (\"172.16.9.5\", \"172.16.9.233\") and d[\"tlp\"] == \"amber\""'
check "stream: both infected hosts" '[ "$(grep "^data: " "$W/amber.sse" | cut -c7- | python3 -c "import json,sys; print(sorted({json.loads(l)[\"host\"] for l in sys.stdin}))")" = "[${Q}172.16.9.233${Q}, ${Q}172.16.9.5${Q}]" ]'
check "stream: the green key got none (the intel is amber), but the stream is open" '! grep -q "^event: sighting" "$W/green.sse" && grep -q "TLP up to green" "$W/green.sse"'
# a client coming back with Last-Event-ID gets what it missed after that event, and no more;
# an id this server never gave (another run's) starts from now
grep '^id: ' "$W/amber.sse" | cut -c5- >"$W/amber.ids"
FIRST=$(head -1 "$W/amber.ids")
curl -sN --max-time 3 -H "Authorization: Bearer $ANALYST" -H "Last-Event-ID: $FIRST" "$BASE/api/v1/sightings/stream" >"$W/resume.sse" 2>/dev/null
check "stream: resumed after Last-Event-ID $FIRST, the $(($(wc -l <"$W/amber.ids") - 1)) events after it" '[ "$(wc -l <"$W/amber.ids")" -ge 2 ] && [ "$(grep "^id: " "$W/resume.sse" | cut -c5-)" = "$(tail -n +2 "$W/amber.ids")" ]'
curl -sN --max-time 2 -H "Authorization: Bearer $ANALYST" -H "Last-Event-ID: 99999999" "$BASE/api/v1/sightings/stream" >"$W/resume2.sse" 2>/dev/null
check "stream: an unknown Last-Event-ID starts from now" '! grep -q "^event: sighting" "$W/resume2.sse" && grep -q "TLP up to amber" "$W/resume2.sse"'

# cases
check "sightings: one of 172.16.9.5" '[ "$(code "$ANALYST" GET "/api/v1/sightings?host=172.16.9.5&limit=1")" = 200 ]'
SID=$(jget 'd["sightings"][0]["id"]')
check "case open: 403 for a reader" '[ "$(code "$READER" POST /api/v1/cases --data-binary "{\"sighting\": $SID}")" = 403 ]'
check "case open: bad JSON is 400 with its place" '[ "$(code "$ANALYST" POST /api/v1/cases --data-binary "{\"sighting\": ")" = 400 ] && grep -q "line 1, column" "$W/body"'
check "case open: unknown member is 400" '[ "$(code "$ANALYST" POST /api/v1/cases --data-binary "{\"sightin\": 1}")" = 400 ]'
check "case open: a green key cannot open it from amber intel (404)" '[ "$(code "$GREEN" POST /api/v1/cases --data-binary "{\"sighting\": $SID}")" = 404 ]'
c=$(code "$ANALYST" POST /api/v1/cases --data-binary "{\"sighting\": $SID}")
check "case open: from the sighting, created (the green key's attempt wrote nothing)" '[ "$c" = 201 ] && [ "$(jget "d[\"existed\"]")" = False ]'
CID=$(jget 'd["id"]')
check "case open again: the same case, existed" '[ "$(code "$ANALYST" POST /api/v1/cases --data-binary "{\"sighting\": $SID}")" = 200 ] && [ "$(jget "(d[\"id\"], d[\"existed\"])")" = "($CID, True)" ]'
check "case open: an unknown sighting is 404" '[ "$(code "$ANALYST" POST /api/v1/cases --data-binary "{\"sighting\": 99999}")" = 404 ]'
check "case show: attribution trickbot, both hosts, tier 2, a plan" '[ "$(code "$ANALYST" GET /api/v1/cases/$CID)" = 200 ] && python3 - "$W/body" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
assert d["malware"] == ["trickbot"], d["malware"]
assert sorted(h["host"] for h in d["hosts"]) == ["172.16.9.233", "172.16.9.5"]
assert d["tier"] == 2 and d["plan"]
PY'
check "case show: Markdown" '[ "$(code "$ANALYST" GET "/api/v1/cases/$CID?format=markdown")" = 200 ] && grep -q "trickbot" "$W/body"'
check "case show: 404 for a green key" '[ "$(code "$GREEN" GET /api/v1/cases/$CID)" = 404 ]'
check "case show: 404 for no case" '[ "$(code "$ANALYST" GET /api/v1/cases/9999)" = 404 ] && [ "$(code "$ANALYST" GET /api/v1/cases/abc)" = 404 ]'
check "case list: the case, amber" '[ "$(code "$READER" GET /api/v1/cases)" = 200 ] && [ "$(jget "[(c[\"id\"], c[\"tlp\"]) for c in d[\"cases\"]]")" = "[($CID, ${Q}amber${Q})]" ]'
check "case list: empty for a green key" '[ "$(code "$GREEN" GET /api/v1/cases)" = 200 ] && [ "$(jget "len(d[\"cases\"])")" = 0 ]'
check "host state: contained" '[ "$(code "$ANALYST" POST /api/v1/cases/$CID/hosts/172.16.9.5 --data-binary "{\"state\": \"contained\", \"note\": \"isolated\"}")" = 200 ] && [ "$(jget "[h[\"state\"] for h in d[\"hosts\"] if h[\"host\"] == \"172.16.9.5\"]")" = "[${Q}contained${Q}]" ]'
check "host state: an illegal step is 400 with the reason" '[ "$(code "$ANALYST" POST /api/v1/cases/$CID/hosts/172.16.9.233 --data-binary "{\"state\": \"recovered\"}")" = 400 ] && grep -q error "$W/body"'
check "host state: no state is 400" '[ "$(code "$ANALYST" POST /api/v1/cases/$CID/hosts/172.16.9.233 --data-binary "{}")" = 400 ]'
check "host state: 404 for a green key" '[ "$(code "$GREEN" POST /api/v1/cases/$CID/hosts/172.16.9.233 --data-binary "{\"state\": \"contained\"}")" = 404 ]'
printf 'indicator: 203.0.113.77\ndetection-gap: conn.log only\n' >"$W/lessons.txt"
check "lessons: recorded" '[ "$(code "$ANALYST" POST /api/v1/cases/$CID/lessons --data-binary @"$W/lessons.txt")" = 200 ]'
check "close: refused while hosts are not verified (400, says why)" '[ "$(code "$ANALYST" POST /api/v1/cases/$CID/close)" = 400 ] && grep -qi "verified\|host" "$W/body"'
check "share: a STIX bundle at amber" '[ "$(code "$ANALYST" GET "/api/v1/cases/$CID/share")" = 200 ] && [ "$(jget "d[\"type\"]")" = bundle ] && [ "$(jget "sum(o[\"type\"] == \"indicator\" for o in d[\"objects\"])")" -gt 0 ]'
check "share: at tlp_max=green, no amber indicator" '[ "$(code "$ANALYST" GET "/api/v1/cases/$CID/share?tlp_max=green")" = 200 ] && [ "$(jget "sum(o[\"type\"] == \"indicator\" for o in d[\"objects\"])")" = 0 ]'
check "share: nothing left in the server's TMPDIR (the bundle's directory and its lock file are removed)" '[ -z "$(ls -A "$W/tmp")" ]'

# hunts
check "hunt: 403 for a reader" '[ "$(code "$READER" POST /api/v1/hunts --data-binary "{\"related\": \"trickbot\"}")" = 403 ]'
check "hunt: two selectors is 400" '[ "$(code "$ANALYST" POST /api/v1/hunts --data-binary "{\"related\": \"trickbot\", \"indicator\": \"1.2.3.4\"}")" = 400 ]'
check "hunt: started (202)" '[ "$(code "$ANALYST" POST /api/v1/hunts --data-binary "{\"related\": \"trickbot\", \"store\": false}")" = 202 ]'
HID=$(jget 'd["id"]')
for _ in $(seq 120); do code "$ANALYST" GET /api/v1/hunts/$HID >/dev/null; [ "$(jget "d[\"status\"]")" = running ] || break; sleep 0.25; done
check "hunt: done, the two infected hosts" '[ "$(jget "d[\"status\"]")" = done ] && [ "$(jget "sorted({s[\"host\"] for s in d[\"sightings\"]})")" = "[${Q}172.16.9.233${Q}, ${Q}172.16.9.5${Q}]" ]'
check "hunt: a green key may not read it (404)" '[ "$(code "$GREEN" GET /api/v1/hunts/$HID)" = 404 ]'
check "hunt: a green key's own hunt finds nothing amber" '[ "$(code "$GREEN" POST /api/v1/hunts --data-binary "{\"related\": \"trickbot\", \"store\": false}")" = 202 ]'
GID=$(jget 'd["id"]')
for _ in $(seq 120); do code "$GREEN" GET /api/v1/hunts/$GID >/dev/null; [ "$(jget "d[\"status\"]")" = running ] || break; sleep 0.25; done
check "hunt: ... done, empty" '[ "$(jget "d[\"status\"]")" = done ] && [ "$(jget "len(d[\"sightings\"])")" = 0 ]'

# metrics
check "metrics: the case in the detail, server counters" '[ "$(code "$ANALYST" GET /api/v1/metrics)" = 200 ] && [ "$(jget "[c[\"case\"] for c in d[\"response\"][\"cases\"]]")" = "[$CID]" ] && [ "$(jget "d[\"server\"][\"requests\"] > 10")" = True ]'
check "metrics: no case detail for a green key" '[ "$(code "$GREEN" GET /api/v1/metrics)" = 200 ] && [ "$(jget "len(d[\"response\"][\"cases\"])")" = 0 ]'
check "metrics: 403 for a reader" '[ "$(code "$READER" GET /api/v1/metrics)" = 403 ]'
check "audit: case and hunt writes" '[ "$(code "$ADMIN" GET /api/v1/admin/audit)" = 200 ] && [ "$(jget "sorted({e[\"action\"].split(\"/\")[3] for e in d})")" = "[${Q}cases${Q}, ${Q}hunts${Q}]" ]'

t0=$(date +%s)
serve_stop
t1=$(date +%s)
check "SIGTERM with streams open: exit 0 within the grace ($((t1 - t0)) s)" '[ "$SERVE_RC" = 0 ] && [ $((t1 - t0)) -lt 15 ]'
echo "serve_work: $pass passed, $fail failed"
[ "$fail" = 0 ]
