#!/usr/bin/env bash
# taxii_server.sh - the TAXII 2.1 server of `tide serve` (docs/taxii.md) through curl, on real
# data: medallion's recorded collection (three versions of indicator--6770298f, two of a
# malware, a relationship, a marking-definition) POSTed to the inbox, then maltrail's
# trickbot.txt. Every route with and without its trailing slash; 401 (with WWW-Authenticate
# Basic), 403, 404, 406, 413, 415, each a TAXII error message resource; Basic and Bearer;
# the POST's status resource and its retro-hunt; pages of limit N with next while objects are
# added between pages (no (id, version) lost or given twice); added_after; each match[] filter;
# version selection; manifest; versions.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
MED=$DATA/taxii21/derived/envelope_objects_91a7b528-80eb-42ed-a74d-c6fbd5a26116_all-versions.json
TB=$DATA/iocs/maltrail/malware/trickbot.txt
if [ ! -f "$MED" ] || [ ! -f "$TB" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA missing (CI=true)"; exit 1; }
    echo "skipped: $DATA missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-taxii-server.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
S=$W/s; Q="'"
TT='application/taxii+json;version=2.1'
INTEL=4542607a-5d28-45f7-9884-7fe54b667bbf
SIGHT=5ad54334-7eec-4e44-8813-080cd2445c38
INBOX=04e5a863-b0dc-46e8-b876-1426f6d596a3
IND=indicator--6770298f-0fd8-471a-ab8c-1c658a46574e
MAL=malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec

# history with a host that fetched one of the collection's URLs: the POST's retro-hunt finds it
E=$(date -u -d 2026-10-02T10:00:00Z +%s)
echo "$E.100    120 10.0.0.5 TCP_MISS/200 512 GET http://x4z9arb.cn/4712 bob DIRECT/192.0.2.10 text/html" >"$W/access.log"
"$TIDE" --store "$S" history import "$W/access.log" >/dev/null 2>&1
ADMIN=$(key "$S" admin admin red)
PEER=$(key "$S" peer peer amber)
READER=$(key "$S" reader reader amber)
serve_start "$S" --max-body 20000

# tx CREDS METHOD PATH [curl args]: the status; body in $W/body, headers in $W/hdr.
# CREDS: "NAME:KEY" (Basic), "bearer:KEY", or "" (none)
tx() {
    local c=$1 m=$2 p=$3; shift 3
    local a=()
    case "$c" in
        "") ;;
        bearer:*) a=(-H "Authorization: Bearer ${c#bearer:}") ;;
        *) a=(-u "$c") ;;
    esac
    curl -s -o "$W/body" -D "$W/hdr" -w "%{http_code}" -X "$m" -H "Accept: ${ACCEPT-$TT}" "${a[@]}" "$@" "$BASE$p"
}
jt() { python3 -c "import json,sys; d=json.load(open('$W/body')); print(($1))" 2>/dev/null; }
ctype() { grep -i '^content-type:' "$W/hdr" | tr -d '\r' | sed 's/^[^:]*: *//'; }
is_err() { [ "$(ctype)" = "$TT" ] && [ "$(jt "d[\"http_status\"]")" = "$1" ] && [ -n "$(jt "d[\"title\"]")" ]; }
A=admin:$ADMIN; P=peer:$PEER; R=reader:$READER
C=/taxii2/tide/collections

# ---- discovery, API root, collections ----
check "discovery: 200 taxii+json, default and api_roots name /taxii2/tide/" '[ "$(tx "$A" GET /taxii2/)" = 200 ] && [ "$(ctype)" = "$TT" ] &&
  [ "$(jt "d[\"default\"]")" = "$BASE/taxii2/tide/" ] && [ "$(jt "d[\"api_roots\"]")" = "[${Q}$BASE/taxii2/tide/$Q]" ] && [ "$(jt "d[\"title\"]")" = tide ]'
check "discovery without the trailing slash: the same" '[ "$(tx "$A" GET /taxii2)" = 200 ] && [ "$(jt "d[\"default\"]")" = "$BASE/taxii2/tide/" ]'
check "API root: versions 2.1, max_content_length = the server's body cap" '[ "$(tx "$R" GET /taxii2/tide/)" = 200 ] &&
  [ "$(jt "d[\"versions\"], d[\"max_content_length\"]")" = "([${Q}application/taxii+json;version=2.1${Q}], 20000)" ]'
check "API root without the slash" '[ "$(tx "$R" GET /taxii2/tide)" = 200 ]'
check "collections: intel, sightings, inbox; a reader can read intel, not write; nor read the inbox" '[ "$(tx "$R" GET $C/)" = 200 ] &&
  [ "$(jt "[(c[\"title\"], c[\"can_read\"], c[\"can_write\"]) for c in d[\"collections\"]]")" = "[(${Q}intel${Q}, True, False), (${Q}sightings${Q}, True, False), (${Q}inbox${Q}, False, False)]" ]'
check "collections for a peer: the inbox is writable" '[ "$(tx "$P" GET $C)" = 200 ] && [ "$(jt "[c[\"can_write\"] for c in d[\"collections\"]]")" = "[False, False, True]" ]'
check "collection: id, title, media_types" '[ "$(tx "$R" GET $C/$INTEL/)" = 200 ] && [ "$(jt "d[\"id\"], d[\"media_types\"]")" = "(${Q}$INTEL${Q}, [${Q}application/stix+json;version=2.1${Q}])" ]'

# ---- auth, media types, errors ----
check "401 without credentials, WWW-Authenticate Basic, an error resource" '[ "$(tx "" GET /taxii2/)" = 401 ] && grep -qi "^WWW-Authenticate: Basic realm=\"tide\"" "$W/hdr" && is_err 401'
check "401 with a wrong password" '[ "$(tx "admin:tide_wrong" GET /taxii2/)" = 401 ] && is_err 401'
check "401 with another key's name as user" '[ "$(tx "reader:$ADMIN" GET /taxii2/)" = 401 ] && is_err 401'
check "Bearer works too" '[ "$(tx "bearer:$READER" GET /taxii2/tide/)" = 200 ]'
check "406 to Accept: application/json" '[ "$(ACCEPT=application/json tx "$A" GET /taxii2/)" = 406 ] && is_err 406'
check "406 to application/taxii+json without a version" '[ "$(ACCEPT=application/taxii+json tx "$A" GET /taxii2/)" = 406 ] && is_err 406'
check "406 to version=2.0" '[ "$(ACCEPT="application/taxii+json;version=2.0" tx "$A" GET /taxii2/)" = 406 ] && is_err 406'
check "406 without an Accept (as medallion)" '[ "$(curl -s -o "$W/body" -D "$W/hdr" -w "%{http_code}" -u "$A" -H "Accept:" "$BASE/taxii2/")" = 406 ] && is_err 406'
check "Accept with several types, the TAXII one among them: 200" '[ "$(ACCEPT="application/json, application/taxii+json; version=2.1" tx "$A" GET /taxii2/)" = 200 ]'
check "404: an unknown root, collection, object, status, path" '[ "$(tx "$A" GET /taxii2/nope/)" = 404 ] && is_err 404 &&
  [ "$(tx "$A" GET $C/11111111-2222-3333-4444-555555555555/)" = 404 ] && is_err 404 &&
  [ "$(tx "$A" GET $C/$INTEL/objects/$IND/)" = 404 ] && is_err 404 &&
  [ "$(tx "$A" GET /taxii2/tide/status/11111111-2222-3333-4444-555555555555/)" = 404 ] && is_err 404 &&
  [ "$(tx "$A" GET $C/$INTEL/objects/$IND/nope/)" = 404 ] && is_err 404'
check "403: a reader reads the inbox, a reader and an admin's write to intel" '[ "$(tx "$R" GET $C/$INBOX/objects/)" = 403 ] && is_err 403 &&
  [ "$(tx "$R" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary @"$MED")" = 403 ] && is_err 403 &&
  [ "$(tx "$A" POST $C/$INTEL/objects/ -H "Content-Type: $TT" --data-binary @"$MED")" = 403 ] && is_err 403'
check "405 with Allow: POST to a collection resource" '[ "$(tx "$A" POST $C/$INTEL/ --data-binary x)" = 405 ] && grep -qi "^Allow: GET" "$W/hdr" && is_err 405'
check "415: a POST as application/json" '[ "$(tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: application/json" --data-binary @"$MED")" = 415 ] && is_err 415'
python3 - "$MED" >"$W/big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["objects"] = d["objects"] * 12  # about 30 KB, over --max-body 20000
print(json.dumps(d))
PY
check "413: an envelope over max_content_length" '[ "$(tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary @"$W/big.json")" = 413 ] && is_err 413'
check "400: a body that is not an envelope, with its place" '[ "$(tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary "{\"objects\": [")" = 400 ] && is_err 400 && grep -q "line 1" "$W/body"'

# ---- POST: status, the objects readable, retro-hunted ----
c=$(tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary @"$MED")
cp "$W/body" "$W/status.json"
check "POST: 202, a status resource: complete, 8 objects, 8 successes" '[ "$c" = 202 ] && [ "$(ctype)" = "$TT" ] &&
  [ "$(jt "d[\"status\"], d[\"total_count\"], d[\"success_count\"], d[\"failure_count\"], d[\"pending_count\"], len(d[\"successes\"])")" = "(${Q}complete${Q}, 8, 8, 0, 0, 8)" ]'
SID=$(python3 -c "import json; print(json.load(open('$W/status.json'))['id'])")
check "GET status: the same resource" '[ "$(tx "$P" GET /taxii2/tide/status/$SID/)" = 200 ] && cmp -s "$W/body" "$W/status.json"'
check "GET status: another (non-admin) key does not see it (404)" '[ "$(tx "$R" GET /taxii2/tide/status/$SID/)" = 404 ]'
check "POST: retro-hunted, the retro-sighting of 10.0.0.5 stored" '"$TIDE" --store "$S" sightings --retro --json 2>/dev/null | grep -q "\"host\":\"10.0.0.5\".*$IND"'
check "POST: recorded in the audit log by the peer" '"$TIDE" --store "$S" keys audit 2>/dev/null | grep "peer" | grep -q "POST /taxii2/tide/collections/$INBOX/objects/"'
c=$(tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary '{"objects": [{"type": "indicator", "id": "indicator--0"}]}')
check "POST: an object the ingest rejects is a failure" '[ "$c" = 202 ] && [ "$(jt "d[\"success_count\"], d[\"failure_count\"]")" = "(0, 1)" ]'

# ---- objects, object, versions, manifest ----
check "objects: the current version of each (6: 2 indicators, malware, relationship, marking, ...)" '[ "$(tx "$R" GET $C/$INTEL/objects/)" = 200 ] && [ "$(ctype)" = "$TT" ] &&
  [ "$(jt "sorted(set(o[\"id\"] for o in d[\"objects\"])) == sorted(o[\"id\"] for o in d[\"objects\"]), d[\"more\"]")" = "(True, False)" ] &&
  [ "$(jt "[o[\"modified\"] for o in d[\"objects\"] if o[\"id\"] == \"$IND\"]")" = "[${Q}2017-01-27T13:49:53.935Z${Q}]" ] &&
  grep -qi "^X-TAXII-Date-Added-First: 20" "$W/hdr" && grep -qi "^X-TAXII-Date-Added-Last: 20" "$W/hdr"'
check "objects without the slash" '[ "$(tx "$R" GET $C/$INTEL/objects)" = 200 ]'
check "object: its last version in an envelope" '[ "$(tx "$R" GET $C/$INTEL/objects/$IND/)" = 200 ] && [ "$(jt "[o[\"modified\"] for o in d[\"objects\"]], d[\"more\"]")" = "([${Q}2017-01-27T13:49:53.935Z${Q}], False)" ]'
check "object: match[version]=all gives 3, first the first, a timestamp that one" '[ "$(tx "$R" GET "$C/$INTEL/objects/$IND/?match%5Bversion%5D=all")" = 200 ] && [ "$(jt "len(d[\"objects\"])")" = 3 ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$IND/?match%5Bversion%5D=first")" = 200 ] && [ "$(jt "[o[\"modified\"] for o in d[\"objects\"]]")" = "[${Q}2016-11-03T12:30:59.000Z${Q}]" ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$IND/?match%5Bversion%5D=2016-12-25T12:30:59.444Z")" = 200 ] && [ "$(jt "[o[\"pattern\"] for o in d[\"objects\"]] == [\"[url:value = ${Q}http://x4z9arb.cn/4712${Q}]\"]")" = True ]'
check "object: match[version]=first,last gives 2" '[ "$(tx "$R" GET "$C/$INTEL/objects/$IND?match%5Bversion%5D=first,last")" = 200 ] && [ "$(jt "len(d[\"objects\"])")" = 2 ]'
check "object: match[version]=foo is 400" '[ "$(tx "$R" GET "$C/$INTEL/objects/$IND/?match%5Bversion%5D=foo")" = 400 ] && is_err 400'
check "object: an unknown one is 404" '[ "$(tx "$R" GET $C/$INTEL/objects/indicator--00000000-0000-4000-8000-000000000000/)" = 404 ] && is_err 404'
check "versions: the 3 of the indicator, oldest first" '[ "$(tx "$R" GET $C/$INTEL/objects/$IND/versions/)" = 200 ] &&
  [ "$(jt "d[\"versions\"], d[\"more\"]")" = "([${Q}2016-11-03T12:30:59.000Z${Q}, ${Q}2016-12-25T12:30:59.444Z${Q}, ${Q}2017-01-27T13:49:53.935Z${Q}], False)" ]'
check "versions without the slash; of the malware: 2" '[ "$(tx "$R" GET $C/$INTEL/objects/$MAL/versions)" = 200 ] && [ "$(jt "len(d[\"versions\"])")" = 2 ]'
check "manifest: one record per object (id, date_added, version, media_type)" '[ "$(tx "$R" GET $C/$INTEL/manifest/)" = 200 ] &&
  [ "$(jt "sorted(d[\"objects\"][0].keys())")" = "[${Q}date_added${Q}, ${Q}id${Q}, ${Q}media_type${Q}, ${Q}version${Q}]" ] &&
  [ "$(jt "[m[\"version\"] for m in d[\"objects\"] if m[\"id\"] == \"$MAL\"]")" = "[${Q}2018-02-23T18:30:00.000Z${Q}]" ]'
check "manifest: match[version]=all lists the 3 versions of the indicator" '[ "$(tx "$R" GET "$C/$INTEL/manifest?match%5Bversion%5D=all&match%5Bid%5D=$IND")" = 200 ] && [ "$(jt "len(d[\"objects\"])")" = 3 ]'
check "match[type]=malware: only the malware" '[ "$(tx "$R" GET "$C/$INTEL/objects/?match%5Btype%5D=malware")" = 200 ] && [ "$(jt "[o[\"id\"] for o in d[\"objects\"]]")" = "[${Q}$MAL${Q}]" ]'
check "match[type]=malware,relationship: two" '[ "$(tx "$R" GET "$C/$INTEL/objects/?match%5Btype%5D=malware,relationship")" = 200 ] && [ "$(jt "sorted(o[\"type\"] for o in d[\"objects\"])")" = "[${Q}malware${Q}, ${Q}relationship${Q}]" ]'
check "match[id]: that object" '[ "$(tx "$R" GET "$C/$INTEL/objects/?match%5Bid%5D=$MAL")" = 200 ] && [ "$(jt "[o[\"id\"] for o in d[\"objects\"]]")" = "[${Q}$MAL${Q}]" ]'
check "match[spec_version]=2.0: none of these 2.1 objects; 2.1: the indicator" '[ "$(tx "$R" GET "$C/$INTEL/objects/?match%5Bspec_version%5D=2.0")" = 200 ] && [ "$(jt "len(d.get(\"objects\", []))")" = 0 ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/?match%5Bspec_version%5D=2.1&match%5Bid%5D=$IND")" = 200 ] && [ "$(jt "len(d[\"objects\"])")" = 1 ]'
check "a bad next token or limit is 400" '[ "$(tx "$R" GET "$C/$INTEL/objects/?next=abc")" = 400 ] && is_err 400 && [ "$(tx "$R" GET "$C/$INTEL/objects/?limit=0")" = 400 ]'
check "a TLP ceiling: a green key sees none of the unmarked (amber) objects, only the TLP:GREEN marking-definition" '[ "$(tx "$A" GET "$C/$INTEL/objects/?limit=1")" = 200 ] &&
  G=$(key "$S" green reader green) && [ "$(tx "green:$G" GET "$C/$INTEL/objects/")" = 200 ] && [ "$(jt "[o[\"type\"] for o in d.get(\"objects\", [])], d[\"more\"]")" = "([${Q}marking-definition${Q}], False)" ] &&
  [ "$(tx "green:$G" GET "$C/$INTEL/objects/$IND/")" = 404 ] && [ "$(tx "green:$G" GET "$C/$INTEL/objects/$IND/versions/")" = 404 ]'

# ---- added_after, pages while objects are added ----
MARK=$(tx "$R" GET "$C/$INTEL/manifest/" >/dev/null; jget "d[\"objects\"][-1][\"date_added\"]")
sleep 0.01
"$TIDE" --store "$S" ingest "$TB" --format list --source maltrail --family trickbot >/dev/null 2>&1
check "added_after the last date added before the ingest: only the new objects (maltrail)" '[ "$(tx "$R" GET "$C/$INTEL/manifest/?added_after=$MARK")" = 200 ] &&
  [ "$(jt "len(d[\"objects\"]) == 1000 and not any(m[\"id\"] in (\"$IND\", \"$MAL\") for m in d[\"objects\"])")" = True ]'
check "a limit over the page size is capped silently (1000), more with next" '[ "$(tx "$R" GET "$C/$INTEL/manifest/?limit=5000")" = 200 ] && [ "$(jt "len(d[\"objects\"]), d[\"more\"], bool(d[\"next\"])")" = "(1000, True, True)" ]'
# page through with limit 500; after page 1 another feed arrives and a new version of an
# object of page 1 (the malware) is posted; after page 3 another list
python3 - "$MED" "$MAL" >"$W/newver.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = [o for o in d["objects"] if o["id"] == sys.argv[2] and o["modified"].startswith("2018")][0]
m["modified"] = "2019-01-01T00:00:00.000Z"
m["description"] = "a later version"
print(json.dumps({"objects": [m]}))
PY
: >"$W/pages.jsonl"
next=""; n=0
while :; do
    q="limit=500"; [ -n "$next" ] && q="$q&next=$next"
    c=$(tx "$R" GET "$C/$INTEL/objects/?$q")
    [ "$c" = 200 ] || { echo "page $n: $c"; cat "$W/body"; break; }
    cp "$W/body" "$W/page.json"
    python3 -c "import json; d=json.load(open('$W/page.json')); print(json.dumps([[o['id'], o.get('modified', '')] for o in d.get('objects', [])]))" >>"$W/pages.jsonl"
    n=$((n+1))
    if [ $n = 1 ]; then
        "$TIDE" --store "$S" ingest "$DATA/iocs/maltrail/malware/cobalt.txt" --format list --source maltrail2 >/dev/null 2>&1
        tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary @"$W/newver.json" >/dev/null
    fi
    [ $n = 3 ] && "$TIDE" --store "$S" ingest "$DATA/iocs/maltrail/malware/conti.txt" --format list --source maltrail3 >/dev/null 2>&1
    cp "$W/page.json" "$W/body"
    [ "$(jt "d[\"more\"]")" = True ] || break
    next=$(jt "d[\"next\"]")
    [ -n "$next" ] || { echo "more without next"; break; }
    [ $n -lt 200 ] || break
done
"$TIDE" --store "$S" search --json --limit 1000000 >"$W/all.json" 2>/dev/null
check "paging with limit 500 while three changes land: every current object exactly once, no (id, version) twice, the old malware version given before the new one ($n pages)" 'python3 - "$W/pages.jsonl" "$W/all.json" "$MAL" <<PY
import json, sys
pairs = [tuple(p) for l in open(sys.argv[1]) for p in json.loads(l)]
pages = [json.loads(l) for l in open(sys.argv[1])]
assert all(len(p) <= 500 for p in pages), "a page over the limit"
assert len(pairs) == len(set(pairs)), "an (id, version) given twice"
raw = open(sys.argv[2]).read()
try:
    cur = json.loads(raw)
    cur = cur["objects"] if isinstance(cur, dict) else cur
except ValueError:
    cur = [json.loads(l) for l in raw.splitlines() if l.strip()]
ids = set(o["id"] for o in cur)
got = set(i for i, v in pairs)
assert ids - got == set(), ("lost", list(ids - got)[:5])
mal = [v for i, v in pairs if i == sys.argv[3]]
assert mal == ["2018-02-23T18:30:00.000Z", "2019-01-01T00:00:00.000Z"], mal
print(len(pairs), "objects,", len(ids), "current")
PY'

# ---- sightings collection readable; DELETE ----
check "sightings collection: 200, an envelope" '[ "$(tx "$R" GET $C/$SIGHT/objects/)" = 200 ] && [ "$(jt "d[\"more\"]")" = False ]'
check "DELETE: 403 for a peer (admin only)" '[ "$(tx "$P" DELETE $C/$INBOX/objects/$IND/)" = 403 ] && is_err 403'
check "DELETE: 403 for a reader, 403 from the read-only intel collection" '[ "$(tx "$R" DELETE $C/$INBOX/objects/$IND/)" = 403 ] && is_err 403 &&
  [ "$(tx "$A" DELETE $C/$INTEL/objects/$IND/)" = 403 ] && is_err 403'
check "DELETE: match[version]=foo is 400 and deletes nothing" '[ "$(tx "$A" DELETE "$C/$INBOX/objects/$IND/?match%5Bversion%5D=foo")" = 400 ] && is_err 400 &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$IND/versions/")" = 200 ] && [ "$(jt "len(d[\"versions\"])")" = 3 ]'
check "DELETE: an object not stored is 404" '[ "$(tx "$A" DELETE $C/$INBOX/objects/indicator--00000000-0000-4000-8000-000000000000/)" = 404 ] && is_err 404'
nmatch() { "$TIDE" --store "$S" match --no-store --no-history "$W/access.log" 2>/dev/null | grep -c "$IND"; }
check "before: the Squid line of x4z9arb.cn matches the indicator" '[ "$(nmatch)" = 1 ]'
# the current version deleted: the version before is current again, with what derives from it
check "DELETE match[version]=last: 200, no body; 2 versions left, the 2016-12-25 one current" '[ "$(tx "$A" DELETE "$C/$INBOX/objects/$IND/?match%5Bversion%5D=last")" = 200 ] && [ ! -s "$W/body" ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$IND/versions/")" = 200 ] && [ "$(jt "d[\"versions\"]")" = "[${Q}2016-11-03T12:30:59.000Z${Q}, ${Q}2016-12-25T12:30:59.444Z${Q}]" ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$IND/")" = 200 ] && [ "$(jt "d[\"objects\"][0][\"modified\"]")" = 2016-12-25T12:30:59.444Z ]'
check "DELETE of the current version again: the first version current, its URL found by lookup, the later URL not" '[ "$(tx "$A" DELETE "$C/$INBOX/objects/$IND/?match%5Bversion%5D=last")" = 200 ] && sleep 1.2 &&
  [ "$(code "$READER" GET "/api/v1/intel/lookup?value=http://z4z10farb.cn/4712")" = 200 ] && [ "$(jget "[i[\"id\"] for i in d[\"indicators\"]]")" = "[${Q}$IND${Q}]" ] &&
  [ "$(code "$READER" GET "/api/v1/intel/lookup?value=http://x4z9arb.cn/4712")" = 200 ] && [ "$(jget "d[\"indicators\"]")" = "[]" ]'
check "after: the match index follows, x4z9arb.cn matches nothing" '[ "$(nmatch)" = 0 ]'
check "DELETE recorded in the audit log (who, what, how many versions)" '"$TIDE" --store "$S" keys audit 2>/dev/null | grep "DELETE /taxii2/tide/collections/$INBOX/objects/$IND/" | grep -q "1 version"'
check "DELETE of every version (no match[version]) of the malware: 200, then 404 for it and its versions" '[ "$(tx "$A" DELETE $C/$INBOX/objects/$MAL)" = 200 ] &&
  [ "$(tx "$R" GET "$C/$INTEL/objects/$MAL/")" = 404 ] && [ "$(tx "$R" GET "$C/$INTEL/objects/$MAL/versions/")" = 404 ] &&
  [ "$(tx "$A" DELETE $C/$INBOX/objects/$MAL/)" = 404 ] && is_err 404'
# the highest rows deleted: the next objects must still come after a "next" token already given
env() { printf '{"objects": [{"type": "indicator", "spec_version": "2.1", "id": "indicator--%s", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "pattern": "[domain-name:value = %s]", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]}' "$1" "'$2'"; }
X1=11111111-0000-4000-8000-000000000001; X2=11111111-0000-4000-8000-000000000002; Y=11111111-0000-4000-8000-000000000003
MARK2=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ); sleep 0.01
tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary "$(env $X1 x1.example.org)" >/dev/null
tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary "$(env $X2 x2.example.org)" >/dev/null
tx "$R" GET "$C/$INTEL/manifest/?added_after=$MARK2&limit=1" >/dev/null; NEXT=$(jget "d.get(\"next\", \"\")")
tx "$A" DELETE $C/$INBOX/objects/indicator--$X1/ >/dev/null; tx "$A" DELETE $C/$INBOX/objects/indicator--$X2/ >/dev/null
tx "$P" POST $C/$INBOX/objects/ -H "Content-Type: $TT" --data-binary "$(env $Y y.example.org)" >/dev/null
check "the two newest objects deleted after a page: an object added then is on the next page" '[ -n "$NEXT" ] &&
  [ "$(tx "$R" GET "$C/$INTEL/manifest/?added_after=$MARK2&limit=1&next=$NEXT")" = 200 ] && [ "$(jt "[o[\"id\"] for o in d[\"objects\"]]")" = "[${Q}indicator--$Y${Q}]" ] &&
  [ "$(tx "$R" GET "$C/$INTEL/manifest/?added_after=$MARK2")" = 200 ] && [ "$(jt "[o[\"id\"] for o in d[\"objects\"]]")" = "[${Q}indicator--$Y${Q}]" ]'
# a deleted indicator leaves the declared blocklists at once
"$TIDE" --store "$S" export --target add tb --format txt --types domain --output "$W/tb.txt" >/dev/null 2>&1
TBID=$(code "$READER" GET "/api/v1/intel/lookup?value=excel-office.com" >/dev/null; jget "d[\"indicators\"][0][\"id\"]")
check "DELETE of a maltrail indicator: it leaves the declared export target" 'grep -qx "excel-office.com" "$W/tb.txt" && [ -n "$TBID" ] &&
  [ "$(tx "$A" DELETE "$C/$INBOX/objects/$TBID/")" = 200 ] && ! grep -q "excel-office.com" "$W/tb.txt" && grep -qx "3gihg5esw7lxg2wh.onion" "$W/tb.txt"'
# the collection's TLP ceiling holds for DELETE too: a red object is not in the (amber) inbox
printf 'red.example.org\n' >"$W/red.txt"
"$TIDE" --store "$S" ingest "$W/red.txt" --format list --source secret --tlp red >/dev/null 2>&1
REDID=$(code "$ADMIN" GET "/api/v1/intel/lookup?value=red.example.org" >/dev/null; jget "d[\"indicators\"][0][\"id\"]")
check "DELETE: an object above the collection's tlp_max is 404 for a red admin key, and stays" '[ -n "$REDID" ] && [ "$(tx "$A" DELETE "$C/$INBOX/objects/$REDID/")" = 404 ] &&
  [ "$(code "$ADMIN" GET "/api/v1/intel/lookup?value=red.example.org")" = 200 ] && [ "$(jget "d[\"indicators\"][0][\"id\"]")" = "$REDID" ]'

serve_stop
check "the server stops cleanly (exit 0)" '[ "$SERVE_RC" = 0 ]'
echo "taxii_server: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
