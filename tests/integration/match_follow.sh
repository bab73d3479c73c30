#!/usr/bin/env bash
# match_follow.sh - `tide match --follow` on a folder that grows and rotates while the intel
# changes: every event is matched exactly once, against the intel valid when it was read
# (before the new index is swapped in: old intel only; after: the new intel too), rotated
# files are not read twice, and sightings are stored while following.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-follow.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
S="$W/store"; L="$W/logs"; mkdir -p "$L"

# EVE dns events asking for NAME from host 10.0.0.N, tagged by a sequence number in tx_id
# (the event time encodes the sequence number: 10:MM:SS with MM*60+SS = N)
ev() { printf '{"timestamp":"2026-11-20T10:%02d:%02d.000000+0000","event_type":"dns","src_ip":"10.0.0.%d","dest_ip":"10.0.0.53","dns":{"type":"query","rrname":"%s","rrtype":"A","tx_id":%d}}\n' $(( $1 / 60 )) $(( $1 % 60 )) $(( $1 % 200 + 1 )) "$2" "$1"; }
wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do eval "$@" && return 0; sleep 0.1; done
  return 1
}

printf 'type,value,campaign,confidence\ndomain,alpha.example,Op-A,80\n' >"$W/a.csv"
printf 'type,value,campaign,confidence\ndomain,bravo.example,Op-B,80\n' >"$W/b.csv"
"$TIDE" --store "$S" ingest "$W/a.csv" >/dev/null 2>&1

# batch 1 (before tide starts): both names, only alpha is intel
for i in $(seq 1 50); do ev $i alpha.example; ev $((i+1000)) bravo.example; done >"$L/dns.json"
"$TIDE" --store "$S" match --follow "$L" >"$W/out.jsonl" 2>"$W/err.log" &
PID=$!
check "batch 1 read (50 alpha sightings)" 'wait_for 20 "[ \$(grep -c alpha.example \"$W/out.jsonl\") -ge 50 ]"'
# batch 2, appended while following, in two halves split mid-line
for i in $(seq 51 100); do ev $i alpha.example; ev $((i+1000)) bravo.example; done >"$W/b2"
head -c 3000 "$W/b2" >>"$L/dns.json"; sleep 0.3; tail -c +3001 "$W/b2" >>"$L/dns.json"
check "batch 2 read (100 alpha sightings)" 'wait_for 20 "[ \$(grep -c alpha.example \"$W/out.jsonl\") -ge 100 ]"'

# new intel: bravo; the matcher swaps in a new index without stopping
"$TIDE" --store "$S" ingest "$W/b.csv" >/dev/null 2>&1
check "index reloaded after ingest" 'wait_for 30 "grep -q \"index reloaded\" \"$W/err.log\""'
# batch 3 after the swap; then rotation: dns.json -> dns.json.1, a new dns.json gets batch 4
for i in $(seq 101 150); do ev $i alpha.example; ev $((i+1000)) bravo.example; done >>"$L/dns.json"
check "batch 3 read (150 alpha)" 'wait_for 20 "[ \$(grep -c alpha.example \"$W/out.jsonl\") -ge 150 ]"'
mv "$L/dns.json" "$L/dns.json.1"
for i in $(seq 151 200); do ev $i alpha.example; ev $((i+1000)) bravo.example; done >"$L/dns.json"
# a new file appearing in the folder
for i in $(seq 201 210); do ev $((i+1000)) bravo.example; done >"$L/late.json"
check "batch 4 and the new file read (210 bravo... 100 + 10)" 'wait_for 20 "[ \$(grep -c bravo.example \"$W/out.jsonl\") -ge 110 ]"'
sleep 2.5 # a sightings flush happens every 2 s while following
check "sightings stored while following" '[ "$("$TIDE" --store "$S" sightings --json --indicator alpha.example | wc -l)" -ge 1 ]'
kill -TERM $PID; wait $PID; rc=$?; PID=
check "exits 0 on SIGTERM" '[ $rc = 0 ]'

python3 - "$W/out.jsonl" >"$W/verdict" <<'PY'
import json, sys, collections
seen = collections.Counter()
names = collections.defaultdict(set)
for line in open(sys.argv[1]):
    d = json.loads(line)
    hh, mm, ss = d["ts"][11:19].split(":")
    n = int(mm) * 60 + int(ss)          # the event's sequence number
    seen[(n, d["indicator"])] += 1
    names[d["indicator"]].add(n)
print("dups", sum(1 for v in seen.values() if v > 1))
print("alpha", len(names["alpha.example"]))
# bravo events are numbered 1000 + i: batches 1-2 are i <= 100 (before the swap)
print("bravo_before_swap", sum(1 for n in names["bravo.example"] if 1000 < n <= 1100))
print("bravo", len(names["bravo.example"]))
PY
cat "$W/verdict"
check "no event matched twice" 'grep -q "^dups 0$" "$W/verdict"'
check "alpha matched in all 200 events once" 'grep -q "^alpha 200$" "$W/verdict"'
# bravo events before the swap (batches 1, 2) are not matched; batch 3 (50) + batch 4 (50) + late (10)
check "bravo never matched before the swap" 'grep -q "^bravo_before_swap 0$" "$W/verdict"'
check "bravo matched after the swap: 50 + 50 + 10" 'grep -q "^bravo 110$" "$W/verdict"'
# ---- history across a checkpoint after a spill ----
# A follower's first file is bigger than its history's memory (TIDE_HISTORY_SPILL: 2 000
# records), so it spills in the middle of it, before anything was kept; the checkpoint then
# commits the few records after the spill; the same names are asked again, newest first. Each
# name's record must count both queries: a follower once counted the second ones into the
# committed records' places (the table's slots of the few records were left after the
# checkpoint) and lost them.
S2="$W/store2"; L2="$W/logs2"; mkdir -p "$L2"
q() { printf '{"timestamp":"2026-11-21T10:%02d:%02d.000000+0000","event_type":"dns","src_ip":"10.0.1.1","dest_ip":"10.0.1.53","dns":{"type":"query","rrname":"n%d.example","rrtype":"A","tx_id":%d}}\n' $(( $2 / 60 % 60 )) $(( $2 % 60 )) "$1" "$2"; }
for i in $(seq 1 2100); do q $i $i; done >"$L2/dns.json"
printf 'type,value,campaign,confidence\n' >"$W/n.csv"
for i in $(seq 2001 2100); do echo "domain,n$i.example,Op-N,80"; done >>"$W/n.csv"
"$TIDE" --store "$S2" ingest "$W/a.csv" >/dev/null 2>&1
records() { "$TIDE" --store "$S2" history stats --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['records'])" 2>/dev/null || echo 0; }
TIDE_HISTORY_SPILL=2000 "$TIDE" --store "$S2" match --follow "$L2" >"$W/f2.jsonl" 2>"$W/f2.err" & PID=$!
check "the follower's first file spilled and was checkpointed" 'wait_for 30 "[ \$(records) -ge 2102 ]"'
for i in $(seq 2100 -1 2001); do q $i $((i + 2000)); done >>"$L2/dns.json"
sleep 7 # a checkpoint (every 5 s) after the second queries were read
kill $PID; wait $PID; PID=
"$TIDE" --store "$S2" ingest --no-hunt "$W/n.csv" >/dev/null 2>&1
"$TIDE" --store "$S2" hunt --all --json --no-store >"$W/f2.hunt" 2>/dev/null
check "every name asked twice counts 2 in history (100 of 100)" '[ "$(python3 -c "
import json,sys
c=[json.loads(l)[\"count\"] for l in open(sys.argv[1]) if \"n2\" in l]
print(sum(1 for x in c if x == 2))" "$W/f2.hunt")" = 100 ]'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
