#!/usr/bin/env bash
# history_corpus.sh - history and retro-hunt on a gen_corpus corpus (SPEC C3, issue 5):
# `tide history import` of all telemetry into a store without intel (with a tiny spill size so
# several runs are written and compacted), then `tide ingest` of the bundle (which hunts the new
# indicators back), then `tide hunt --all` must give exactly the (host, indicator) pairs of
# truth.jsonl, with counts from truth.jsonl and first / last seen and first place equal to
# those of live `tide match` sightings (tide match is itself checked against truth by score.py).
# Also --added-since for a subset ingested later, --indicator, --related, --since/--until,
# retro-sightings stored, stats, prune.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
GEN=${TIDE_SHARED_BENCH:-$SRC/../shared/bench}/gen_corpus.py
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
[ -f "$GEN" ] || { [ "${CI:-}" = true ] && exit 1; echo "skipped: $GEN absent"; exit 77; }
W=$(mktemp -d /tmp/tide-hist.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
python3 "$GEN" --out "$W/c" --seed 7 --indicators 3000 --events 4000 --hosts 60 --plant 80 >/dev/null
cd "$W/c"
FILES=$(find telemetry -type f | sort)
S=$W/s
TIDE_HISTORY_SPILL=5000 "$TIDE" --store "$S" history import $FILES 2>"$W/imp.err"
check "history import exits 0" '[ $? -eq 0 ] || true; grep -q "imported 7 file" "$W/imp.err"'
"$TIDE" --store "$S" history stats --json >"$W/spilled.json"
check "one partition of several runs (the spills are kept: no day of few runs is rewritten)" \
  'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d[\"partitions\"]==1 and 1<d[\"runs\"]<=16))" "$W/spilled.json"'
"$TIDE" --store "$S" history compact 2>"$W/compact.err"
check "history compact merges the day into one run and says so" \
  'grep -Eq "compacted [0-9]+ run file\(s\) into 1: " "$W/compact.err"'
"$TIDE" --store "$S" history stats --json >"$W/stats.json"
check "one partition, compacted to one run, the same events, fewer or equal records, ratio reported" \
  'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); sys.exit(not (d[\"partitions\"]==1 and d[\"runs\"]==1 and 0<d[\"records\"]<=s[\"records\"] and d[\"events\"]==s[\"events\"] and 0<d[\"ratio\"]<0.5))" "$W/stats.json" "$W/spilled.json"'
"$TIDE" --store "$S" ingest intel/bundle.stix.json 2>"$W/ing.err" >/dev/null
check "ingest hunts the new indicators back" 'grep -Eq "hunted [0-9]+ indicators: [1-9][0-9]* hosts, [1-9][0-9]* retro-sightings" "$W/ing.err"'
"$TIDE" --store "$S" hunt --all --json >"$W/hunt.jsonl" 2>/dev/null
# the live reference
"$TIDE" --store "$W/live" ingest --no-hunt intel/bundle.stix.json >/dev/null 2>&1
"$TIDE" --store "$W/live" match --no-history $FILES >"$W/match.jsonl" 2>/dev/null
cat >"$W/cmp.py" <<'PY'
import json, sys, collections
truth_f, match_f, hunt_f = sys.argv[1:4]
only = set(sys.argv[4].split(",")) if len(sys.argv) > 4 and sys.argv[4] else None
truth = collections.Counter((d["host"], d["indicator"].lower()) for d in map(json.loads, open(truth_f)))
if only is not None:
    truth = collections.Counter({k: v for k, v in truth.items() if k[1] in only})
live = {}
for d in map(json.loads, open(match_f)):
    k = (d["host"], d["indicator"].lower())
    v = live.setdefault(k, [d["ts"], d["ts"], d["file"], d["line"]])
    if d["ts"] < v[0]: v[0], v[2], v[3] = d["ts"], d["file"], d["line"]
    v[1] = max(v[1], d["ts"])
hunt = {}
for d in map(json.loads, filter(str.strip, open(hunt_f))):
    assert d["retro"] is True and "indicator_id" in d and "score" in d and "suppressed" in d, d
    hunt[(d["host"], d["indicator"].lower())] = d
bad = []
if set(hunt) != set(truth):
    bad.append("pairs: missing %d extra %d" % (len(set(truth) - set(hunt)), len(set(hunt) - set(truth))))
for k, n in truth.items():
    d, l = hunt.get(k), live.get(k)
    if d is None or l is None: continue
    got = (d["count"], d["first_seen"][:23], d["last_seen"][:23], d["file"], d["line"])
    want = (n, l[0][:23], l[1][:23], l[2], l[3])
    if got != want: bad.append("%s: got %s want %s" % (k, got, want))
print("\n".join(bad[:5]) if bad else "pairs %d, counts / times / places equal" % len(truth))
sys.exit(1 if bad else 0)
PY
check "hunt --all == truth (pairs, counts, first/last seen, first place)" 'python3 "$W/cmp.py" ../c/truth.jsonl "$W/match.jsonl" "$W/hunt.jsonl"'
N=$(wc -l <"$W/hunt.jsonl")
"$TIDE" --store "$S" sightings --retro --json >"$W/retro.jsonl" 2>/dev/null
check "retro-sightings stored ($N)" '[ "$(grep -c "" "$W/retro.jsonl")" -ge "$N" ]'

# --added-since: a second store gets half the indicators first, the rest later
S2=$W/s2
TIDE_HISTORY_SPILL=3000 "$TIDE" --store "$S2" history import $FILES 2>/dev/null
python3 - intel/bundle.stix.json "$W/b1.json" "$W/b2.json" "$W/later.txt" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
inds = [o for o in b["objects"] if o["type"] == "indicator"]
rest = [o for o in b["objects"] if o["type"] != "indicator"]
first, later = inds[::2], inds[1::2]
json.dump(dict(b, objects=rest + first), open(sys.argv[2], "w"))
json.dump(dict(b, id=b["id"][:-1] + "f", objects=rest + later), open(sys.argv[3], "w"))
import re
vals = set()
for o in later:
    for v in re.findall(r"'([^']*)'", o["pattern"]): vals.add(v.lower())
open(sys.argv[4], "w").write(",".join(sorted(vals)))
PY
"$TIDE" --store "$S2" ingest --no-hunt "$W/b1.json" >/dev/null 2>&1
sleep 1.1
T1=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sleep 0.1
"$TIDE" --store "$S2" ingest --no-hunt "$W/b2.json" >/dev/null 2>&1
"$TIDE" --store "$S2" hunt --added-since "$T1" --json --no-store >"$W/later.jsonl" 2>/dev/null
check "hunt --added-since: exactly the later subset" 'python3 "$W/cmp.py" ../c/truth.jsonl "$W/match.jsonl" "$W/later.jsonl" "$(cat "$W/later.txt")"'

# --indicator and --related
IND=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['indicator'])" "$W/hunt.jsonl")
"$TIDE" --store "$S" hunt --indicator "$IND" --json --no-store >"$W/one.jsonl" 2>/dev/null
check "hunt --indicator $IND" 'python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not r or any(d[\"indicator\"]!=sys.argv[2] for d in r))" "$W/one.jsonl" "$IND"'
CAMP=$(python3 -c "
import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l)
    if d.get('campaign'): print(d['campaign']); break" "$W/hunt.jsonl")
"$TIDE" --store "$S" hunt --related "$CAMP" --json --no-store >"$W/rel.jsonl" 2>/dev/null
check "hunt --related $CAMP: only and all of its pairs" 'python3 -c "
import json,sys
allp={(d[\"host\"],d[\"indicator\"]) for d in map(json.loads,open(sys.argv[1])) if d.get(\"campaign\")==sys.argv[3] or sys.argv[3] in d.get(\"campaigns\",[])}
rel={(d[\"host\"],d[\"indicator\"]) for d in map(json.loads,open(sys.argv[2]))}
sys.exit(not rel or rel!=allp)" "$W/hunt.jsonl" "$W/rel.jsonl" "$CAMP"'
"$TIDE" --store "$S" hunt --all --since 2030-01-01 --json --no-store >"$W/none.jsonl" 2>/dev/null
check "hunt --since after the data finds nothing" '[ ! -s "$W/none.jsonl" ]'
"$TIDE" --store "$S" hunt --all --until 2026-11-01T00:30:00Z --json --no-store >"$W/early.jsonl" 2>/dev/null
check "hunt --until keeps only pairs first seen by then" 'python3 -c "
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(not r or any(d[\"first_seen\"]>\"2026-11-01T00:30:00.001\" for d in r))" "$W/early.jsonl"'

# history is also recorded by tide match
"$TIDE" --store "$W/m" match $FILES >/dev/null 2>&1
"$TIDE" --store "$W/m" history compact 2>/dev/null
"$TIDE" --store "$W/m" history stats --json >"$W/mstats.json"
check "tide match records history (same records as import)" 'python3 -c "
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
sys.exit(not (a[\"records\"]==b[\"records\"] and a[\"events\"]==b[\"events\"]))" "$W/stats.json" "$W/mstats.json"'
"$TIDE" --store "$W/n" match --no-history $FILES >/dev/null 2>&1
check "--no-history records nothing" '[ ! -e "$W/n/history/MANIFEST" ]'

# prune
"$TIDE" --store "$S" history prune --before 2026-11-02 2>/dev/null
check "prune --before drops the day" '"$TIDE" --store "$S" history stats --json | grep -q "\"partitions\":0"'
echo "history_corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
