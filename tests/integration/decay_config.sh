#!/usr/bin/env bash
# decay_config.sh - decay is configurable per observable type (SPEC C1): STATE/decay.json and
# --decay TYPE=DAYS[:SPEED] on the verbs that score (export, index, match, case, show), and a
# sighting refreshes a decayed indicator's score everywhere it is used: an old C2 seen again
# today goes back into the blocklists, and the next `tide match` reports its refreshed score
# (the cached index that scored it 0 is not reused).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-decay.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
S="--store $W/s"
OLD=$(date -u -d '-40 days' +%Y-%m-%dT%H:%M:%S.000Z); EP=$(date -u +%s)
# an IP 40 days old (default lifetime 30 d: decayed), a domain 40 days old (90 d: still scores)
cat >intel.json <<EOF
{"type":"bundle","id":"bundle--c1000000-0000-4000-8000-0000000000ff","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--c1000000-0000-4000-8000-000000000001","created":"$OLD","modified":"$OLD","valid_from":"$OLD","name":"old c2","pattern_type":"stix","pattern":"[ipv4-addr:value = '45.133.1.50']","confidence":90},
{"type":"indicator","spec_version":"2.1","id":"indicator--c1000000-0000-4000-8000-000000000002","created":"$OLD","modified":"$OLD","valid_from":"$OLD","name":"old domain","pattern_type":"stix","pattern":"[domain-name:value = 'old-c2.example.org']","confidence":90}]}
EOF
"$TIDE" $S ingest intel.json >/dev/null 2>&1
score() { python3 -c 'import csv,sys; d={r["value"]: float(r["score"]) for r in csv.DictReader(open(sys.argv[1]))}; print(d.get(sys.argv[2], "absent"))' "$@"; }
"$TIDE" $S export --format csv >def.csv 2>def.err
check "defaults: the 40-day-old IP is decayed out, the domain scores" '[ "$(score def.csv 45.133.1.50)" = absent ] && grep -q "1 decayed" def.err && [ "$(score def.csv old-c2.example.org)" != absent ]'
# base 90 x 0.75 (reliability C) = 67.5; 40 of 60 days linear: 22.5; speed 0.5: 67.5 (1 - (2/3)^2) = 37.5
"$TIDE" $S export --format csv --decay ip=60 >flag.csv 2>/dev/null
check "--decay ip=60: exported with 67.5 x (1 - 40/60) = 22.5" '[ "$(score flag.csv 45.133.1.50)" = 22.5 ]'
"$TIDE" $S export --format csv --decay=ipv4=60d:0.5 --decay domain=40 >flag2.csv 2>/dev/null
check "--decay ipv4=60d:0.5 --decay domain=40: speed applies, the domain's lifetime is over" '[ "$(score flag2.csv 45.133.1.50)" = 37.5 ] && [ "$(score flag2.csv old-c2.example.org)" = absent ]'
"$TIDE" $S export --format csv --decay nonsense=3 >/dev/null 2>bad.err; rc=$?
check "--decay with an unknown type: usage error naming it" '[ $rc -eq 2 ] && grep -q "nonsense" bad.err'
"$TIDE" $S search --decay ip=3 >/dev/null 2>&1; rc=$?
check "--decay is refused by verbs that do not score" '[ $rc -eq 2 ]'

# the workspace's configuration file
echo '{"ip": {"lifetime_days": 60, "speed": 0.5}, "domain": 40}' >"$W/s/decay.json"
"$TIDE" $S export --format csv >file.csv 2>/dev/null
check "STATE/decay.json: the same scores as the flags" '[ "$(score file.csv 45.133.1.50)" = 37.5 ] && [ "$(score file.csv old-c2.example.org)" = absent ]'
"$TIDE" $S export --format csv --decay ip=60 >over.csv 2>/dev/null
check "--decay overrides the file for its type" '[ "$(score over.csv 45.133.1.50)" = 22.5 ]'
"$TIDE" $S show 45.133.1.50 --json >show.json 2>/dev/null
check "tide show scores with the file" 'python3 -c "import json,sys; d=json.load(open(\"show.json\")); sys.exit(d[\"indicators\"][0][\"score\"] not in (37, 38))"'
echo "$((EP-600)).100    120 10.0.0.11 TCP_MISS/200 512 GET http://45.133.1.50/gate.php alice DIRECT/45.133.1.50 text/html" >a.log
"$TIDE" $S match --no-store --no-history a.log >m1.jsonl 2>/dev/null
check "tide match scores with the file (index built with it)" 'grep -Eq "\"score\":3[78]," m1.jsonl'
echo '{"ip": {"lifetime": 60}}' >"$W/s/decay.json"
"$TIDE" $S export --format csv >/dev/null 2>badfile.err; rc=$?
check "a bad decay.json is an error naming the file and the key" '[ $rc -ne 0 ] && grep -q "decay.json" badfile.err && grep -q "lifetime" badfile.err'
rm "$W/s/decay.json"

# a sighting older than the lifetime refreshes nothing: the cached index is kept (rebuilding it
# after every run of an old capture cost each run the index build, and scored it 0 again)
echo "$((EP-35*86400)).100    120 10.0.0.11 TCP_MISS/200 512 GET http://45.133.1.50/gate.php alice DIRECT/45.133.1.50 text/html" >old.log
"$TIDE" $S match --no-history old.log >m0.jsonl 2>/dev/null
"$TIDE" $S match --no-history old.log >m0b.jsonl 2>m0b.err
check "an old sighting of a decayed indicator keeps the cached index (score still 0)" 'grep -q "\"score\":0" m0.jsonl && grep -q "index loaded" m0b.err && [ -f "$W/s/match.idx" ]'
"$TIDE" $S export --format csv >old.csv 2>/dev/null
check "an old sighting leaves the indicator decayed out" '[ "$(score old.csv 45.133.1.50)" = absent ]'

# a sighting refreshes the score: the decayed IP is seen again today
"$TIDE" $S match a.log >m2.jsonl 2>/dev/null
check "setup: the decayed IP is sighted (score 0 in its index)" 'grep -q "\"score\":0" m2.jsonl'
"$TIDE" $S export --format csv >after.csv 2>/dev/null
check "sighted today: back in the blocklist at about its base score" 'python3 -c "import sys; s=float(\"$(score after.csv 45.133.1.50)\" if \"$(score after.csv 45.133.1.50)\" != \"absent\" else 0); sys.exit(not 66 < s <= 67.5)"'
"$TIDE" $S match --no-store --no-history a.log >m3.jsonl 2>/dev/null
check "the next tide match reports the refreshed score, not the cached 0" 'grep -q "\"score\":6[67]" m3.jsonl'
"$TIDE" $S case auto --min-score 50 --json >auto.json 2>/dev/null
check "case auto: the refreshed score opens a case" 'python3 -c "import json,sys; d=json.load(open(\"auto.json\")); sys.exit(not any(c[\"indicator\"] == \"45.133.1.50\" and c[\"opened\"] for c in d))"'
echo "decay_config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
