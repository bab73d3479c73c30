#!/usr/bin/env bash
# case_real.sh - cases on real data (issue 6): maltrail trickbot.txt with the Trickbot Zeek
# conn.log: a case opened from one sighting of 172.16.9.5 attributes trickbot and scopes
# 172.16.9.5 and 172.16.9.233; maltrail lummac2 + latrodectus with the Stamus SSLoad EVE: a case
# opened from a latrodectus sighting attributes latrodectus on 10.4.17.101. Both get a plan.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-case-real.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
M=$DATA/iocs/maltrail/malware
first_id() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])'; }
S="--store $W/tb"
"$TIDE" $S history import "$DATA/zeek/trickbot-2018-11-09/conn.log" >/dev/null 2>&1
"$TIDE" $S ingest --format list "$M/trickbot.txt" >/dev/null 2>&1
"$TIDE" $S match --no-history "$DATA/zeek/trickbot-2018-11-09/conn.log" >/dev/null 2>&1
sid=$("$TIDE" $S sightings --host 172.16.9.5 --limit 1 --json | first_id)
id=$("$TIDE" $S case open --sighting "$sid")
"$TIDE" $S case show "$id" --json >"$W/tb.json"
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
check "trickbot: attribution" 'py "$W/tb.json" "d[\"malware\"] == [\"trickbot\"]"'
check "trickbot: scope 172.16.9.5 and 172.16.9.233" 'py "$W/tb.json" "sorted(h[\"host\"] for h in d[\"hosts\"]) == [\"172.16.9.233\", \"172.16.9.5\"]"'
check "trickbot: tier 2 (two hosts) with a plan citing conn.log" 'py "$W/tb.json" "d[\"tier\"] == 2 and any(\"conn.log:\" in e for a in d[\"plan\"] for e in a[\"evidence\"])"'
check "trickbot: conn.log names no user, so no credential reset" 'py "$W/tb.json" "not [a for a in d[\"plan\"] if a[\"action\"] == \"reset-credentials\"]"'
S="--store $W/ss"
"$TIDE" $S ingest --format list "$M/lummac2.txt" "$M/latrodectus.txt" >/dev/null 2>&1
"$TIDE" $S match "$DATA/suricata/stamus-suricata-analytics/mta-2024-04-17-ssload.eve.json" >/dev/null 2>&1
sid=$("$TIDE" $S sightings --host 10.4.17.101 --indicator krd6.com --json | first_id)
id=$("$TIDE" $S case open --sighting "$sid")
"$TIDE" $S case show "$id" --json >"$W/ss.json"
check "ssload: attribution latrodectus" 'py "$W/ss.json" "d[\"malware\"] == [\"latrodectus\"]"'
check "ssload: host 10.4.17.101, alerted" 'py "$W/ss.json" "[(h[\"host\"], h[\"status\"]) for h in d[\"hosts\"]] == [(\"10.4.17.101\", \"alerted\")]"'
check "ssload: infection vector cites the EVE line" 'py "$W/ss.json" "\"ssload.eve.json:\" in d[\"infection_vector\"][\"evidence\"]"'
check "ssload: plan has remove, block, watch" 'py "$W/ss.json" "{\"remove-components\", \"block-indicator\", \"watch\"} <= {a[\"action\"] for a in d[\"plan\"]}"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
