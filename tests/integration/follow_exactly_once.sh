#!/usr/bin/env bash
# follow_exactly_once.sh - `tide match --follow` on a folder rotated by rename and by
# copytruncate, with a follower killed (-9) and restarted and intel ingested mid-stream: every
# event is matched, and recorded in history and in the stored sightings exactly once (issue 17).
#
# Events are EVE dns queries numbered N (their time is 2026-11-20T10:00:00 + N s), asking for
# alpha.example (intel from the start) or bravo.example (intel ingested mid-stream); host
# 10.0.0.(N % 200 + 1). Checks, each of which failed on the tide before issue 17:
#   - lines appended to a file after it was renamed are read (were lost);
#   - a file truncated and written again to the same size within one poll is read again;
#   - a copytruncate copy is not read again (its events were matched and stored twice);
#   - a follower killed with -9 and started again resumes: the store's live counts and the
#     history's counts are those of one reading (it re-read every file from its start);
#   - intel ingested while following: each of its events is either matched live (after the
#     follower swapped the new index in) or found by the ingest's retro-hunt, never neither
#     (the events of the last minute before it were in neither) and never both.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-exactly.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
S="$W/store"; L="$W/logs"; mkdir -p "$L"
ev() { printf '{"timestamp":"2026-11-20T%02d:%02d:%02d.000000+0000","event_type":"dns","src_ip":"10.0.0.%d","dest_ip":"10.0.0.53","dns":{"type":"query","rrname":"%s","rrtype":"A","tx_id":%d}}\n' $(( 10 + $1 / 3600 )) $(( $1 / 60 % 60 )) $(( $1 % 60 )) $(( $1 % 200 + 1 )) "$2" "$1"; }
batch() { for i in $(seq "$1" "$2"); do ev "$i" alpha.example; ev $((i + 1000)) bravo.example; done; }
wait_for() { # wait_for SECONDS COMMAND...: poll until COMMAND holds, for at most SECONDS
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do eval "$@" && return 0; sleep 0.2; done
  return 1
}
# distinct alpha events printed so far (the event number is in the time)
alpha() { cat "$@" | grep '"indicator":"alpha.example"' | grep -o '"ts":"[^"]*"' | sort -u | wc -l; }
follow() { "$TIDE" --store "$S" match --follow "$L" >>"$W/out$1.jsonl" 2>>"$W/err$1.log" & PID=$!; }

printf 'type,value,campaign,confidence\ndomain,alpha.example,Op-A,80\n' >"$W/a.csv"
printf 'type,value,campaign,confidence\ndomain,bravo.example,Op-B,80\n' >"$W/b.csv"
"$TIDE" --store "$S" ingest "$W/a.csv" >/dev/null 2>&1

batch 1 50 >"$L/dns.json"
follow 1
check "batch 1 read" 'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 50 ]"'

# ---- rotation by rename: a new dns.json, and the renamed file written on for a while ----
mv "$L/dns.json" "$L/dns.json.1"
batch 61 100 >"$L/dns.json"
check "the new file after a rename is read" 'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 90 ]"'
sleep 1.5 # the follower has seen the rename and read the old file to its end by now
batch 51 60 >>"$L/dns.json.1"
check "lines written to the renamed file after the rename are read" \
  'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 100 ]"'

# ---- copytruncate: dns.json copied to dns.json.2, then truncated and written again ----
cp "$L/dns.json" "$L/dns.json.2"; : >"$L/dns.json"
batch 101 150 >>"$L/dns.json"
check "after copytruncate the new lines are read" 'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 150 ]"'
sleep 1.5 # a rescan has found dns.json.2

# ---- intel mid-stream: the ingest's retro-hunt waits for the follower's commit ----
"$TIDE" --store "$S" ingest "$W/b.csv" >/dev/null 2>"$W/ingest.err"
cat "$W/ingest.err"
check "the ingest hunted bravo back through the follower's history" 'grep -q "hunted 1 indicators" "$W/ingest.err"'
check "the follower swapped the new index in" 'wait_for 30 "grep -q \"index reloaded\" \"$W/err1.log\""'
batch 151 200 >>"$L/dns.json"
check "batch after the new intel read" 'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 200 ]"'

# ---- a file truncated and written again to the same size within one poll ----
for i in $(seq 301 310); do ev $i alpha.example; done >"$L/x.json"
check "a new file is read" 'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 210 ]"'
sleep 0.5
for i in $(seq 311 320); do ev $i alpha.example; done >"$L/x.json" # same size, new events
check "a truncate and same-size rewrite within one poll is read" \
  'wait_for 30 "[ \$(alpha $W/out1.jsonl) -ge 220 ]"'

# ---- kill -9, more data, restart ----
sleep 1
kill -9 $PID; wait $PID 2>/dev/null; PID=
batch 201 250 >>"$L/dns.json"
follow 2
check "the restarted follower reads what came while it was down" \
  'wait_for 30 "[ \$(alpha $W/out1.jsonl $W/out2.jsonl) -ge 270 ]"'
sleep 6 # a checkpoint of the restarted follower
kill -TERM $PID; wait $PID; rc=$?; PID=
check "the follower exits 0 on SIGTERM" '[ $rc = 0 ]'
cat "$W/err2.log"

# ---- every event exactly once ----
"$TIDE" --store "$S" sightings --json --indicator alpha.example >"$W/alpha.jsonl"
"$TIDE" --store "$S" sightings --json --indicator bravo.example >"$W/bravo.jsonl"
"$TIDE" --store "$S" hunt --indicator alpha.example --no-store --json >"$W/hunt-alpha.jsonl" 2>/dev/null
"$TIDE" --store "$S" history stats --json >"$W/stats.json"
python3 - "$W" <<'PY' >"$W/verdict"
import json, sys, collections
w = sys.argv[1]
rows = lambda f: [json.loads(l) for l in open(f) if l.strip()]
alpha = rows(w + "/alpha.jsonl")
print("alpha_live", sum(d["live_count"] for d in alpha))
print("alpha_history", sum(d["count"] for d in rows(w + "/hunt-alpha.jsonl")))
print("events_history", json.load(open(w + "/stats.json"))["events"])
# bravo: one event per host (events 1001..1250 -> hosts distinct within 200, twice for 50 of
# them): live (after the swap) + retro (before it, found by the ingest's hunt) = events
want = collections.Counter("10.0.0.%d" % (n % 200 + 1) for n in range(1001, 1251))
bad = 0
for d in rows(w + "/bravo.jsonl"):
    have = d["live_count"] + d["retro_count"]
    if have != want.get(d["host"], 0):
        bad += 1
hosts = {d["host"] for d in rows(w + "/bravo.jsonl")}
print("bravo_bad", bad + len(set(want) - hosts))
printed = collections.Counter()
for f in ("out1.jsonl", "out2.jsonl"):
    for d in rows(w + "/" + f):
        printed[(d["indicator"], d["ts"])] += 1
print("alpha_printed", sum(1 for k in printed if k[0] == "alpha.example"))
PY
cat "$W/verdict"
check "every alpha event printed" 'grep -q "^alpha_printed 270$" "$W/verdict"'
check "stored live counts: every alpha event once (270)" 'grep -q "^alpha_live 270$" "$W/verdict"'
check "history: every alpha event once (270)" 'grep -q "^alpha_history 270$" "$W/verdict"'
check "history: 520 events, each recorded once" 'grep -q "^events_history 520$" "$W/verdict"'
check "bravo: every event live or retro, exactly once" 'grep -q "^bravo_bad 0$" "$W/verdict"'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
