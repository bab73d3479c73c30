#!/usr/bin/env bash
# loop_closed.sh - the recovery loop through the public commands (SPEC C4, C5): a campaign's C2
# seen in proxy logs (Squid, with the ident user) on one host, a case opened, the host taken
# through recovery, lessons with a new indicator and prevention rules, close, share.
#  - the share bundle of the closed case carries the internal indicator its lessons produced,
#    with the TLP it was promoted with (and not above the ceiling);
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-loop.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
cd "$W"
S="--store $W/s"
T=2026-10-01T00:00:00.000Z
GREEN=marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da   # TLP 1.0 green; 2.0: bab4a63c
cat >intel.json <<EOF
{"type":"bundle","id":"bundle--d1000000-0000-4000-8000-0000000000ff","objects":[
{"type":"campaign","spec_version":"2.1","id":"campaign--d1000000-0000-4000-8000-0000000000c1","created":"$T","modified":"$T","name":"Operation Test Harbor"},
{"type":"malware","spec_version":"2.1","id":"malware--d1000000-0000-4000-8000-0000000000a1","created":"$T","modified":"$T","name":"HarborLoader","is_family":true},
{"type":"indicator","spec_version":"2.1","id":"indicator--d1000000-0000-4000-8000-000000000001","created":"$T","modified":"$T","valid_from":"$T","pattern_type":"stix","pattern":"[domain-name:value = 'harbor-c2.example.net']","confidence":85,"object_marking_refs":["$GREEN"]},
{"type":"relationship","spec_version":"2.1","id":"relationship--d1000000-0000-4000-8000-000000000001","created":"$T","modified":"$T","relationship_type":"indicates","source_ref":"indicator--d1000000-0000-4000-8000-000000000001","target_ref":"campaign--d1000000-0000-4000-8000-0000000000c1"},
{"type":"relationship","spec_version":"2.1","id":"relationship--d1000000-0000-4000-8000-000000000002","created":"$T","modified":"$T","relationship_type":"uses","source_ref":"campaign--d1000000-0000-4000-8000-0000000000c1","target_ref":"malware--d1000000-0000-4000-8000-0000000000a1"}]}
EOF
E=$(date -u -d 2026-10-02T10:00:00Z +%s)
cat >access.log <<EOF
$E.100    120 10.0.0.21 TCP_MISS/200 512 GET http://harbor-c2.example.net/gate.php alice DIRECT/192.0.2.10 text/html
$((E+60)).100    120 10.0.0.21 TCP_MISS/200 512 GET http://harbor-c2.example.net/cfg.bin alice DIRECT/192.0.2.10 application/octet-stream
EOF
"$TIDE" $S ingest intel.json >/dev/null 2>&1
"$TIDE" $S match access.log >/dev/null 2>&1
CID=$("$TIDE" $S case open --host 10.0.0.21 --indicator harbor-c2.example.net --json --now 2026-10-02T12:00:00Z 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "setup: a case is open" '[ -n "$CID" ]'
"$TIDE" $S case show "$CID" --json --now 2026-10-02T12:00:00Z >case.json 2>/dev/null
for st in contained eradicated recovered; do
    "$TIDE" $S case host "$CID" 10.0.0.21 --state $st --now 2026-10-03T00:00:00Z >/dev/null 2>&1
done
"$TIDE" $S case refresh "$CID" --now 2026-12-01T00:00:00Z >/dev/null 2>&1
cat >lessons.txt <<'EOF'
# lessons learned
indicator: harbor-update[.]example.com
prevention: deny internet egress to hosts running an end-of-life Java runtime
prevention: software java < 1.8 -> deny-egress
prevention: proxy blocks domains that are not in any known category
detection-gap: proxy logs were not matched for two days
response-gap: no owner for the kiosk fleet
EOF
"$TIDE" $S case lessons "$CID" --file lessons.txt >/dev/null 2>&1
"$TIDE" $S case close "$CID" --tlp green --now 2026-12-01T00:00:00Z >close.out 2>close.err
check "setup: the case closes" 'grep -q "1 indicator" close.out'
"$TIDE" $S case share "$CID" --tlp-max green --output share-green.json >/dev/null 2>&1
check "share: the lessons' internal indicator, with its TLP (green)" 'py share-green.json "any(o[\"type\"] == \"indicator\" and \"harbor-update.example.com\" in o.get(\"pattern\", \"\") and set(o.get(\"object_marking_refs\", [])) & {\"$GREEN\", \"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"} for o in d[\"objects\"])"'
check "share: the report refers to it" 'py share-green.json "[i for i in [o[\"id\"] for o in d[\"objects\"] if \"harbor-update\" in o.get(\"pattern\", \"\")] if any(i in r.get(\"object_refs\", []) for r in d[\"objects\"] if r[\"type\"] == \"report\")]"'
"$TIDE" $S case share "$CID" --tlp-max clear --output share-clear.json >/dev/null 2>&1
check "share under clear: the green internal indicator is left out" '! grep -q "harbor-update" share-clear.json'
echo "loop_closed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
