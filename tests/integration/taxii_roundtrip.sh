#!/usr/bin/env bash
# taxii_roundtrip.sh - tide to tide over TAXII 2.1 on real data (SPEC C7). Store A: the Trickbot
# Zeek capture in history, maltrail's trickbot.txt ingested (TLP:GREEN, retro-hunted: the
# infected hosts come back), a case opened from a sighting, its hosts moved to recovered, a
# clean watch, lessons naming one more address the capture shows (a C2 not in the list),
# closed: the lesson's indicator is promoted as source "internal". The case's share bundle's
# indicators are in A's intel collection. Store B, another organisation with the same capture in
# its history, subscribes with tide's own client (`tide feeds add ... --limit 300`, HTTP Basic
# with a peer key) and pulls: every object of the collection arrives in pages of 300 (no
# object lost or repeated), B's exports hold A's shared indicators (the lesson's too), and a
# hunt on B finds them in its history.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
Z=$DATA/zeek/trickbot-2018-11-09/conn.log
TB=$DATA/iocs/maltrail/malware/trickbot.txt
if [ ! -f "$Z" ] || [ ! -f "$TB" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA missing (CI=true)"; exit 1; }
    echo "skipped: $DATA missing"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-taxii-rt.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
trap 'serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
A="--store $W/a"; B="--store $W/b"
TT='application/taxii+json;version=2.1'
INTEL=4542607a-5d28-45f7-9884-7fe54b667bbf

# ---- A: history, intel, a case closed with lessons ----
"$TIDE" $A history import "$Z" >/dev/null 2>&1
"$TIDE" $A ingest "$TB" --format list --family trickbot --source maltrail --tlp green >/dev/null 2>&1
sid=$("$TIDE" $A sightings --host 172.16.9.5 --limit 1 --json 2>/dev/null | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['id'])")
check "A: the ingest's retro-hunt sighted 172.16.9.5" '[ -n "$sid" ]'
cid=$("$TIDE" $A case open --sighting "$sid" 2>/dev/null)
check "A: a case opened from the sighting ($cid)" '[ -n "$cid" ]'
# a C2 address 172.16.9.5 talked to that maltrail's list does not hold: the lesson
LESSON=$(python3 - "$Z" "$TB" <<'PY'
import collections, sys
listed = set(l.split(":")[0].strip() for l in open(sys.argv[2]) if l[:1].isdigit())
cols = None; c = collections.Counter()
for l in open(sys.argv[1]):
    if l.startswith("#fields"): cols = l.rstrip("\n").split("\t")[1:]; continue
    if l.startswith("#") or cols is None: continue
    f = dict(zip(cols, l.rstrip("\n").split("\t")))
    d = f["id.resp_h"]
    if f["id.orig_h"] == "172.16.9.5" and not d.startswith(("172.16.", "10.", "192.168.", "224.", "255.")) and ":" not in d and d not in listed:
        c[d] += 1
print(c.most_common(1)[0][0])
PY
)
hosts=$("$TIDE" $A case show "$cid" --json 2>/dev/null | python3 -c "import json,sys; print(' '.join(h['host'] for h in json.load(sys.stdin)['hosts']))")
for h in $hosts; do
    "$TIDE" $A case host "$cid" "$h" --state contained --now 2026-10-01T00:00:00Z >/dev/null 2>&1
    "$TIDE" $A case host "$cid" "$h" --state eradicated --now 2026-10-01T06:00:00Z >/dev/null 2>&1
    "$TIDE" $A case host "$cid" "$h" --state recovered --now 2026-10-02T00:00:00Z >/dev/null 2>&1
done
"$TIDE" $A case refresh "$cid" --now 2026-11-15T00:00:00Z >/dev/null 2>&1
printf 'indicator: %s\ndetection-gap: the C2 was not in any feed\n' "$LESSON" >"$W/lessons.txt"
"$TIDE" $A case lessons "$cid" --file "$W/lessons.txt" >/dev/null 2>&1
"$TIDE" $A case close "$cid" --tlp green --now 2026-11-15T00:00:00Z >"$W/close.out" 2>&1
check "A: the case closed ($hosts), its lesson $LESSON promoted as internal" '"$TIDE" $A case show "$cid" --json 2>/dev/null | grep -q "\"status\": *\"closed\"" &&
  "$TIDE" $A search --source internal --type indicator --json 2>/dev/null | grep -q indicator--'
"$TIDE" $A case share "$cid" --tlp-max green --output "$W/share.json" >/dev/null 2>&1
SHARED=$(python3 -c "import json; print(' '.join(o['id'] for o in json.load(open('$W/share.json'))['objects'] if o['type'] == 'indicator'))")
check "A: the share bundle holds indicators ($(echo $SHARED | wc -w))" '[ -n "$SHARED" ]'

# ---- A serves; B subscribes with tide's own client ----
PEERKEY=$(key "$W/a" partner-b peer green)
serve_start "$W/a"
# the collection as the peer sees it: the manifest, page by page
total=0; next=""
: >"$W/ids.txt"
while :; do
    q="limit=1000"; [ -n "$next" ] && q="$q&next=$next"
    curl -s -o "$W/man.json" -u "partner-b:$PEERKEY" -H "Accept: $TT" "$BASE/taxii2/tide/collections/$INTEL/manifest/?$q"
    python3 -c "import json; [print(m['id']) for m in json.load(open('$W/man.json')).get('objects', [])]" >>"$W/ids.txt"
    next=$(python3 -c "import json; d=json.load(open('$W/man.json')); print(d.get('next', '') if d['more'] else '')")
    [ -n "$next" ] || break
done
N=$(sort -u "$W/ids.txt" | wc -l)
check "A: the peer's view of the collection: $N objects, none twice" '[ "$N" -gt 2000 ] && [ "$N" = "$(wc -l <"$W/ids.txt")" ]'
missing=$(python3 -c "import json; ids = set(open('$W/ids.txt').read().split()); print(' '.join(sorted(o['id'] for o in json.load(open('$W/share.json'))['objects'] if o['type'] == 'indicator' and o['id'] not in ids)[:3]))")
check "A: every indicator of the case's share bundle is in A's intel collection, for a green peer key $missing" '[ -z "$missing" ]'
LID=$("$TIDE" $A search --source internal --type indicator --json 2>/dev/null | grep -o "indicator--[0-9a-f-]*" | head -1)
check "A: the lesson's indicator, one object route: TLP:GREEN travels as its marking" '[ "$(curl -s -o "$W/o.json" -w "%{http_code}" -u "partner-b:$PEERKEY" -H "Accept: $TT" "$BASE/taxii2/tide/collections/$INTEL/objects/$LID/")" = 200 ] &&
  grep -q "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" "$W/o.json"'

SIGHT=5ad54334-7eec-4e44-8813-080cd2445c38
curl -s -o "$W/s1.json" -u "partner-b:$PEERKEY" -H "Accept: $TT" "$BASE/taxii2/tide/collections/$SIGHT/objects/"
curl -s -o "$W/s2.json" -u "partner-b:$PEERKEY" -H "Accept: $TT" "$BASE/taxii2/tide/collections/$SIGHT/objects/?limit=1"
check "A: the sightings collection: STIX sightings of the green indicators, anonymised (no 172.16. address, one identity), counts" 'python3 - "$W/s1.json" <<PY
import json, sys
t = open(sys.argv[1]).read(); d = json.loads(t)
ss = d["objects"]
assert len(ss) >= 2 and all(s["type"] == "sighting" and s["sighting_of_ref"].startswith("indicator--") for s in ss), ss[:1]
assert "172.16." not in t and "10.0." not in t, "a host in a shared sighting"
assert len(set(tuple(s["where_sighted_refs"]) for s in ss)) == 1
assert sum(s["count"] for s in ss) >= 2196 + 1029, sum(s["count"] for s in ss)
assert all(s["first_seen"] <= s["last_seen"] for s in ss)
PY'
check "A: sightings: a re-pull gives the same ids; pages of 1 with next" 'python3 - "$W/s1.json" "$W/s2.json" <<PY
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["more"] and b["next"] and len(b["objects"]) == 1
assert b["objects"][0]["id"] == a["objects"][0]["id"]
PY'
"$TIDE" $B history import "$Z" >/dev/null 2>&1
"$TIDE" $B feeds add peerA "$BASE/taxii2/tide/" --collection $INTEL --user partner-b --password "$PEERKEY" --limit 300 >/dev/null 2>"$W/add.err"
check "B: feeds add" '[ $? -eq 0 ]'
"$TIDE" $B feeds pull peerA --json >"$W/pull.json" 2>"$W/pull.err"; rc=$?
check "B: feeds pull: exit 0" '[ $rc -eq 0 ] || { cat "$W/pull.err"; false; }'
pages=$(python3 -c "import json; print(json.load(open('$W/pull.json'))['pages'])" 2>/dev/null)
stored=$(python3 -c "import json; print(json.load(open('$W/pull.json'))['stored'])" 2>/dev/null)
check "B: the pull paged with limit 300: $pages pages, $stored objects stored = the $N of the collection" '[ "$pages" = $(( (N + 299) / 300 )) ] && [ "$stored" = "$N" ]'
check "B: the objects keep A's TLP:GREEN" '"$TIDE" $B stats --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(set(d[\"by_tlp\"]) != {\"green\"})"'
"$TIDE" $B export --format txt >"$W/b.txt" 2>/dev/null
check "B: its export holds A's lesson ($LESSON) and A's trickbot indicators" 'grep -qx "$LESSON" "$W/b.txt" && [ "$(grep -c . "$W/b.txt")" -gt 1000 ]'
"$TIDE" $B hunt --all --no-store --json >"$W/hunt.jsonl" 2>/dev/null
check "B: a hunt over B's history finds 172.16.9.5 with the lesson's C2 and with A's trickbot indicators" 'python3 - "$W/hunt.jsonl" "$LESSON" <<PY
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mine = [r for r in rows if r["host"] == "172.16.9.5"]
assert any(sys.argv[2] in json.dumps(r) for r in mine), "the lesson not found"
assert len(set(r["indicator_id"] for r in mine)) >= 2, "fewer than 2 indicators"
PY'
serve_stop
check "A stops cleanly" '[ "$SERVE_RC" = 0 ]'
echo "taxii_roundtrip: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
