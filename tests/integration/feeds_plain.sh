#!/usr/bin/env bash
# feeds_plain.sh - tide feeds on plain HTTP(S) feeds, served by tests/taxii_replay.py from the
# real feeds of ../shared/data/iocs (with ETag and Last-Modified) and a MISP feed of a real
# PyMISP event (../shared/data/misp):
#  - a maltrail list pulled by URL gives the same objects as `tide ingest` of the file (its
#    family from the .../malware/ path), with the feed's name as source;
#  - a second pull sends If-None-Match / If-Modified-Since, gets 304 and changes nothing;
#  - a MISP feed: manifest.json, then the event; again: 304;
#  - ThreatFox and FireHOL lists, --kind list / auto;
#  - a 404, a body over --max-bytes and a body in the wrong format exit non-zero naming the
#    feed, the URL and the reason, and keep what was stored; the validators of a failed pull
#    are not stored.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA/iocs" ] || [ ! -d "$DATA/taxii21" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
W=$(mktemp -d /tmp/tide-feeds-plain.XXXXXX)
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
cd "$W"
EVENT=$DATA/misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json
python3 "$SRC/tests/taxii_replay.py" --data "$DATA/taxii21/medallion/default_data.json" \
  --port-file port --log log.jsonl --files "$DATA/iocs" --misp-event "$EVENT" 2>server.err &
SRV=$!
for _ in $(seq 300); do [ -s port ] && break; sleep 0.1; done
B=http://127.0.0.1:$(cat port)
S="--store $W/s"
ids() { python3 -c "
import sqlite3,sys; q='select id from objects where is_current order by 1'
print(sqlite3.connect(sys.argv[1]+'/tide.db').execute(q).fetchall()==sqlite3.connect(sys.argv[2]+'/tide.db').execute(q).fetchall())" "$1" "$2"; }

# 1. a maltrail family list by URL: as tide ingest of the same file (the same ids: derived
# objects carry the time they were made)
"$TIDE" $S feeds add emotet $B/files/maltrail/malware/emotet.txt >/dev/null 2>&1
"$TIDE" $S feeds pull emotet --json >p1.json 2>p1.err; rc=$?
check "list: pull exit 0, every record stored or unchanged, none rejected" \
  '[ $rc -eq 0 ] && [ "$(jq_ "d[\"rejected\"], d[\"records\"] == d[\"stored\"] + d[\"unchanged\"], d[\"stored\"] > 20000" <p1.json)" = "(0, True, True)" ]'
mkdir -p ref/malware && cp "$DATA/iocs/maltrail/malware/emotet.txt" ref/malware/
"$TIDE" --store "$W/r" ingest --no-hunt --source emotet ref/malware/emotet.txt >/dev/null 2>&1
check "list: the same objects as tide ingest --source emotet of malware/emotet.txt" '[ "$(ids "$W/s" "$W/r")" = True ]'
check "list: its family emotet from the URL's malware/ path" \
  '"$TIDE" $S search --type malware --json | grep -q "\"name\": *\"emotet\""'
check "list: the source is the feed's name" \
  '[ "$("$TIDE" $S stats --json | jq_ "list(d[\"by_source\"])")" = "['"'"'emotet'"'"']" ]'
N=$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")
: >log.jsonl
"$TIDE" $S feeds pull emotet --json >p2.json 2>p2.err; rc=$?
check "list again: 304, nothing to do" \
  '[ $rc -eq 0 ] && [ "$(jq_ "d[\"not_modified\"], d[\"records\"]" <p2.json)" = "(True, 0)" ] && grep -q "not modified" p2.err'
check "list again: asked with If-None-Match and If-Modified-Since, answered 304" \
  'grep -q "\"if_none_match\": \"\\\\\"[0-9a-f]*\\\\\"\", \"if_modified_since\": \"[A-Z][a-z][a-z], .* GMT\".*\"status\": 304" log.jsonl'
check "list again: the store unchanged" '[ "$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")" = "$N" ]'

# 2. a MISP feed: manifest, then the events; again: 304
"$TIDE" $S feeds add xorist $B/misp/ --kind misp-feed --tlp amber >/dev/null 2>&1
: >log.jsonl
"$TIDE" $S feeds pull xorist --json >m1.json 2>/dev/null; rc=$?
check "MISP feed: manifest.json then the event" \
  '[ $rc -eq 0 ] && [ "$(python3 -c "import json; print(\" \".join(json.loads(l)[\"path\"] for l in open(\"log.jsonl\")))")" = "/misp/manifest.json /misp/57c4445b-c548-4654-af0b-4be3950d210f.json" ]'
check "MISP feed: the event's report and indicators, source xorist" \
  '"$TIDE" $S show report--57c4445b-c548-4654-af0b-4be3950d210f >/dev/null 2>&1 && [ "$("$TIDE" $S stats --json | jq_ "d[\"by_source\"][\"xorist\"] == d[\"objects\"] - $N")" = True ] && [ "$(jq_ "d[\"indicators\"] > 0" <m1.json)" = True ]'
"$TIDE" --store "$W/rm" ingest --no-hunt --source xorist --tlp amber "$EVENT" >/dev/null 2>&1
check "MISP feed: the objects tide ingest makes of the event" \
  '[ "$(python3 -c "
import sqlite3,sys
q=\"select id, modified from objects where is_current and source = '"'"'xorist'"'"' order by 1\"
print(sqlite3.connect(\"s/tide.db\").execute(q).fetchall()==sqlite3.connect(\"rm/tide.db\").execute(q).fetchall())")" = True ]'
check "MISP feed: resumes after the event's timestamp" \
  '[ "$("$TIDE" $S feeds list --json | jq_ "[f[\"cursor\"] for f in d if f[\"name\"] == \"xorist\"][0]")" = 1472541011 ]'
"$TIDE" $S feeds pull xorist --json >m2.json 2>/dev/null
check "MISP feed again: not modified" '[ "$(jq_ "d[\"not_modified\"], d[\"requests\"]" <m2.json)" = "(True, 1)" ]'

# 3. more real lists, auto-detected or said
"$TIDE" $S feeds add threatfox $B/files/threatfox/threatfox_ips.txt --kind list --tlp clear >/dev/null 2>&1
"$TIDE" $S feeds add feodo $B/files/firehol/feodo.ipset >/dev/null 2>&1
"$TIDE" $S feeds pull --json >all.json 2>all.err; rc=$?
check "pull every feed: exit 0, the lists stored, emotet and xorist not modified" \
  '[ $rc -eq 0 ] && [ "$(python3 -c "
import json; r={d[\"feed\"]: d for d in map(json.loads, open(\"all.json\"))}
print(r[\"threatfox\"][\"stored\"] > 1000, r[\"feodo\"][\"indicators\"] > 0, r[\"emotet\"][\"not_modified\"], r[\"xorist\"][\"not_modified\"])")" = "True True True True" ]'
check "ThreatFox: TLP clear, source threatfox" \
  '[ "$("$TIDE" $S show 1.14.104.208 --json | jq_ "[(i[\"source\"], i[\"tlp\"]) for i in d[\"indicators\"] if i[\"source\"] == \"threatfox\"]")" = "[('"'"'threatfox'"'"', '"'"'clear'"'"')]" ]'
N=$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")

# 4. failures keep what is stored
"$TIDE" $S feeds add missing $B/files/maltrail/malware/no-such-family.txt >/dev/null 2>&1
"$TIDE" $S feeds pull missing 2>err; rc=$?
check "404: exit 3, the feed, the URL, HTTP 404" \
  '[ $rc -eq 3 ] && grep -q "feed missing: $B/files/maltrail/malware/no-such-family.txt: HTTP 404 Not Found" err'
"$TIDE" $S feeds add ipsum $B/files/ipsum/ipsum.txt >/dev/null 2>&1
"$TIDE" $S feeds pull ipsum --max-bytes 65536 2>err; rc=$?
check "a body over --max-bytes: exit 2, nothing of it ingested" \
  '[ $rc -eq 2 ] && grep -q "feed ipsum: $B/files/ipsum/ipsum.txt: the response is larger than 65536 bytes" err && [ "$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")" = "$N" ]'
"$TIDE" $S feeds add wrong $B/files/maltrail/malware/trickbot.txt --kind stix >/dev/null 2>&1
"$TIDE" $S feeds pull wrong 2>err; rc=$?
check "a list pulled as STIX: exit 2, the URL, the place and the reason" \
  '[ $rc -eq 2 ] && grep -q "feed wrong: $B/files/maltrail/malware/trickbot.txt: not JSON: line 1" err'
check "failures: the store as it was" '[ "$("$TIDE" $S stats --json | jq_ "d[\"objects\"]")" = "$N" ]'
check "failures: no validators stored for them (the next pull asks again)" \
  '[ "$("$TIDE" $S feeds list --json | jq_ "[f[\"etag\"] for f in d if f[\"name\"] in (\"ipsum\", \"wrong\", \"missing\")]")" = "[None, None, None]" ]'
"$TIDE" $S feeds pull ipsum --json >ip.json 2>/dev/null; rc=$?
check "the same feed under the default cap: stored" '[ $rc -eq 0 ] && [ "$(jq_ "d[\"stored\"] > 100000" <ip.json)" = True ]'

echo "feeds_plain: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
