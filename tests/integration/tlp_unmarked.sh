#!/usr/bin/env bash
# tlp_unmarked.sh - one TLP rule for unmarked intel (include/tide/tlp.h: it counts as amber
# under every ceiling), checked through the commands that apply a ceiling: a real list
# ingested without --tlp (maltrail's TrickBot trails) and one with --tlp clear (Feodo
# Tracker's bad IPs, given the same family); `tide export --tlp-max green` keeps only the clear
# one, `--tlp-max amber` both, and a case share at --tlp-max green keeps exactly the indicators
# the export keeps.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
if [ ! -d "$DATA/iocs" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $DATA/iocs missing (CI=true)"; exit 1; }
    echo "skipped: $DATA/iocs missing"; exit 77
fi
W=$(mktemp -d /tmp/tide-tlp.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
S="--store $W/s"
TRAILS=$DATA/iocs/maltrail/malware/trickbot.txt
FEODO=$DATA/iocs/firehol/feodo_badips.ipset
"$TIDE" $S ingest "$TRAILS" >/dev/null 2>&1
"$TIDE" $S ingest --tlp clear --family trickbot "$FEODO" >/dev/null 2>&1
grep -v '^#' "$FEODO" | sed '/^$/d' | sort >feodo.txt
check "setup: the clear list has entries" '[ -s feodo.txt ]'

# exports under a ceiling
"$TIDE" $S export --format txt --tlp-max green >green.txt 2>green.err
check "export --tlp-max green: exactly the --tlp clear list" 'sort green.txt | cmp -s - feodo.txt'
check "export --tlp-max green: unmarked left out as tlp above max" 'grep -q "[0-9] tlp above max" green.err'
"$TIDE" $S export --format txt --tlp-max amber >amber.txt 2>/dev/null
V=$(grep -v '^#' "$TRAILS" | grep -E '^[a-z0-9-]+(\.[a-z0-9-]+)+$' | head -1)
check "export --tlp-max amber: unmarked trails exported too" 'grep -qx "$V" amber.txt && [ $(wc -l <amber.txt) -gt $(wc -l <green.txt) ]'
"$TIDE" $S export --format txt --tlp-max clear >clear.txt 2>/dev/null
check "export --tlp-max clear: the clear list" 'sort clear.txt | cmp -s - feodo.txt'
"$TIDE" $S export --format txt >all.txt 2>/dev/null
check "export without a ceiling: everything" 'cmp -s all.txt amber.txt'

# a case on a TrickBot domain: its indicators are the family's, both lists
C=$("$TIDE" $S case open --json --host 10.7.7.7 --indicator "$V" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$TIDE" $S case share "$C" --tlp-max green --output share-green.json >/dev/null
"$TIDE" $S export --format stix --related trickbot --tlp-max green >export-green.json 2>/dev/null
ids() { python3 -c "import json,sys; print('\n'.join(sorted(o['id'] for o in json.load(open(sys.argv[1]))['objects'] if o['type'] == 'indicator')))" "$1"; }
ids share-green.json >share-ids.txt; ids export-green.json >export-ids.txt
check "share --tlp-max green: the same indicators as export --tlp-max green" '[ -s share-ids.txt ] && cmp -s share-ids.txt export-ids.txt'
check "share --tlp-max green: the clear list's indicators only" '[ $(wc -l <share-ids.txt) = $(wc -l <feodo.txt) ]'
check "share --tlp-max green: the case itself (amber, its seed unmarked) not shared" 'python3 -c "import json,sys; d=json.load(open(\"share-green.json\")); sys.exit(any(o[\"type\"] in (\"report\", \"course-of-action\") for o in d[\"objects\"]))"'
"$TIDE" $S case share "$C" --tlp-max amber --output share-amber.json >/dev/null
check "share --tlp-max amber: unmarked indicators shared too" '[ $(ids share-amber.json | wc -l) -gt $(wc -l <share-ids.txt) ]'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
