#!/usr/bin/env bash
# history_trust.sh - nothing leaves the history without a word (issue 22), on the real Trickbot
# Zeek logs of ../shared/data with lines changed as needed:
#   - an event dated 2100 (or before 1970) is not recorded, is reported with its file, line and
#     time, and does not move the retention window (it used to erase the whole history);
#     retention counts back from the newest day that is not in the future;
#   - every prune says what it removed (days, records, before which day), also the retention
#     an import applies;
#   - a truncated .gz / .zst input leaves nothing in history (and says so): importing the
#     repaired file afterwards gives exactly the counts of one import of the good file, through
#     `tide history import` and `tide match`;
#   - writers share the history: a `tide match` next to a `tide match --follow`, concurrent
#     imports (in loops), a writer killed with SIGKILL while others write; a writer that finds
#     the commit lock held waits (saying so) and gives up loudly after its bounded wait.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-htrust.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
wait_for() { # wait_for SECONDS COMMAND...
  local t=$1; shift
  for _ in $(seq $((t * 10))); do eval "$@" && return 0; sleep 0.1; done
  return 1
}
# stat KEY STORE: one field of `tide history stats --json`
stat() { "$TIDE" --store "$2" history stats --json 2>/dev/null |
  python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
# counts STORE: what the history holds (records, events, days), each day's runs merged first
# (a commit leaves a day of few runs as they are; a record in two of them counts in each)
counts() { "$TIDE" --store "$1" history compact 2>/dev/null; "$TIDE" --store "$1" history stats --json 2>/dev/null |
  python3 -c "import json,sys; d=json.load(sys.stdin); print(d['records'], d['events'], d['partitions'], d['first_day'], d['last_day'])"; }
Z=$DATA/zeek/trickbot-2018-11-09
cd "$W"
# shift DAYS FILE: the Zeek log with every ts moved by DAYS days
shift_days() { awk -F'\t' -v d="$1" 'BEGIN{OFS="\t"} /^#/ {print; next} {$1 = sprintf("%.6f", $1 + d*86400); print}' "$2"; }
# at EPOCH FILE: the Zeek log with every ts set to EPOCH + its offset from the first record
at_time() { awk -F'\t' -v t="$1" 'BEGIN{OFS="\t"} /^#/ {print; next} {if (!b) b = $1; $1 = sprintf("%.6f", t + ($1 - b)); print}' "$2"; }

# ---- 1. future and absurd event times ----
# dns.log with its first record dated 2100-01-01 (line 9 of the file)
awk -F'\t' 'BEGIN{OFS="\t"} /^#/ {print; next} !done {x = $0; $1 = "4102444800.000000"; print; done = 1; print x; next} {print}' \
  "$Z/dns.log" >dns-future.log
"$TIDE" --store ref1 history import "$Z/conn.log" "$Z/dns.log" 2>/dev/null
"$TIDE" --store s1 history import "$Z/conn.log" 2>/dev/null
"$TIDE" --store s1 history import dns-future.log 2>imp1.err; rc=$?
cat imp1.err
check "import with an event dated 2100 exits 0" '[ $rc -eq 0 ]'
check "the event is reported with file, line and time" 'grep -q "dns-future.log:9: .*2100-01-01" imp1.err'
check "the summary counts it" 'grep -q "1 event(s) not recorded in history" imp1.err'
check "history is the one of the good logs: 8 days up to 2018-11-09, nothing erased" \
  '[ "$(counts s1)" = "$(counts ref1)" ] && [ "$(stat last_day s1)" = 2018-11-09 ]'
# (a store of its own: s1 recorded dns-future.log already, and a match of it records nothing twice)
"$TIDE" --store m1 match --no-store dns-future.log >/dev/null 2>match1.err
check "tide match says the same of history" 'grep -q "dns-future.log:9: .*2100-01-01" match1.err'

# a history of the last weeks (real records re-dated to now - 20 days .. now), then a log from a
# sensor whose clock runs 400 days ahead: the weeks stay, the future events are reported
NOW=$(date +%s)
at_time $((NOW - 20 * 86400)) "$Z/conn.log" | head -3000 >weeks.log
at_time $((NOW - 8 * 86400)) "$Z/dns.log" >recent.log
at_time $((NOW + 400 * 86400)) "$Z/http.log" >skewed.log
"$TIDE" --store s2 history import --retention 30d weeks.log recent.log 2>/dev/null
before=$(counts s2)
"$TIDE" --store s2 history import skewed.log 2>imp2.err
check "a clock 400 days ahead erases nothing (was: everything before it)" '[ "$(counts s2)" = "$before" ]'
check "... and every one of its events is reported" 'grep -Eq "[0-9]+ event\(s\) not recorded in history" imp2.err && ! grep -q "retention removed" imp2.err'

# ---- 2. every prune says what it removed ----
shift_days 45 "$Z/dns.log" >dns-later.log   # 2018-12-17 .. 2018-12-24
"$TIDE" --store s3 history import --retention 30d "$Z/conn.log" 2>/dev/null
conn_records=$(stat records s3); conn_events=$(stat observations s3)
"$TIDE" --store s3 history import dns-later.log 2>imp3.err
cat imp3.err
check "an import that triggers retention says what it removed" \
  'grep -q "retention removed 8 day(s) before 2018-11-25 ($conn_records records of $conn_events observations" imp3.err'
check "... and it is gone" '[ "$(stat first_day s3)" = 2018-12-17 ] && [ "$(stat partitions s3)" = 8 ]'
r0=$(stat records s3)
"$TIDE" --store s3 history prune --before 2018-12-20 2>prune.err; rc=$?
cat prune.err
r1=$(stat records s3)
check "prune --before says days, records and the day" \
  '[ $rc -eq 0 ] && grep -q "pruned 3 day(s) before 2018-12-20 ($((r0 - r1)) records" prune.err && [ $r1 -lt $r0 ]'
"$TIDE" --store s3 history prune 2>prune2.err
check "a prune that removes nothing says so" 'grep -q "pruned 0 day(s)" prune2.err'

# ---- 3. truncated compressed inputs ----
gzip -c "$Z/conn.log" >good.gz
zstd -q -c "$Z/conn.log" >good.zst
mkdir -p t
"$TIDE" --store refgz history import good.gz 2>/dev/null
for kind in gz zst; do
  head -c 150000 good.$kind >t/conn.log.$kind
  "$TIDE" --store t$kind history import t/conn.log.$kind 2>t$kind.err; rc=$?
  cat t$kind.err
  check "$kind: truncated input fails and says its events are not recorded" \
    '[ $rc -ne 0 ] && grep -q "truncated" t$kind.err && grep -q "not recorded in history" t$kind.err'
  check "$kind: nothing of it is in history" '[ "$(stat records t$kind)" = 0 ]'
  cp good.$kind t/conn.log.$kind
  "$TIDE" --store t$kind history import t/conn.log.$kind 2>/dev/null
  check "$kind: the repaired file imported after it counts once" '[ "$(counts t$kind)" = "$(counts refgz)" ]'
  # the same through tide match (history of a match run)
  head -c 150000 good.$kind >t/conn.log.$kind
  "$TIDE" --store m$kind match --no-store t/conn.log.$kind >/dev/null 2>m$kind.err
  check "$kind: tide match on it says history did not record it" 'grep -q "not recorded in history" m$kind.err'
  cp good.$kind t/conn.log.$kind
  "$TIDE" --store m$kind match --no-store t/conn.log.$kind >/dev/null 2>&1
  check "$kind: tide match of the repaired file counts once" '[ "$(counts m$kind)" = "$(counts refgz)" ]'
done
# a good file imported together with a truncated one keeps the good one
head -c 150000 good.gz >t/trunc.gz
"$TIDE" --store mix history import good.gz t/trunc.gz 2>/dev/null
check "the good input of the same import is kept" '[ "$(counts mix)" = "$(counts refgz)" ]'

# ---- 4. several writers ----
"$TIDE" --store ref4 history import "$Z/dns.log" "$Z/conn.log" "$Z/http.log" "$Z/ssl.log" 2>/dev/null
mkdir -p live; cp "$Z/conn.log" live/
"$TIDE" --store s4 history import "$Z/dns.log" 2>/dev/null
"$TIDE" --store s4 match --follow live >/dev/null 2>follow.err &
FPID=$!; PIDS="$PIDS $FPID"
check "the follower started" 'wait_for 120 "grep -q \"index\" follow.err"'
sleep 0.5
"$TIDE" --store s4 match --no-store "$Z/http.log" >/dev/null 2>m4.err; rc=$?
cat m4.err
check "tide match next to a follower: exit 0, history recorded (no warning)" '[ $rc -eq 0 ] && ! grep -qi "not recorded" m4.err'
"$TIDE" --store s4 history import "$Z/ssl.log" 2>i4.err; rc=$?
check "history import next to a follower: exit 0" '[ $rc -eq 0 ]'
kill -TERM $FPID; wait $FPID; frc=$?
check "the follower commits at its end (exit $frc)" '[ $frc -eq 0 ]'
check "history holds every writer's events exactly once" '[ "$(counts s4)" = "$(counts ref4)" ]'

# concurrent imports, three at a time, in a loop (the store itself is made first: concurrent
# first opens of a new store are the store's business)
split_ok=0
for round in 1 2 3; do
  rm -rf s5; "$TIDE" --store s5 history stats >/dev/null 2>&1
  "$TIDE" --store s5 history import "$Z/dns.log" 2>/dev/null &
  a=$!
  TIDE_HISTORY_SPILL=200 "$TIDE" --store s5 history import "$Z/conn.log" 2>/dev/null &
  b=$!
  "$TIDE" --store s5 history import "$Z/http.log" "$Z/ssl.log" 2>/dev/null &
  c=$!
  wait $a; ra=$?; wait $b; rb=$?; wait $c; rc=$?
  [ $ra -eq 0 ] && [ $rb -eq 0 ] && [ $rc -eq 0 ] && [ "$(counts s5)" = "$(counts ref4)" ] && split_ok=$((split_ok + 1))
done
check "3 rounds of 3 concurrent imports: each exit 0, history == sequential imports ($split_ok/3)" '[ $split_ok -eq 3 ]'
# a writer that has spilled runs (it reads a pipe that stays open) is killed with SIGKILL while
# two others import: their records are all there, nothing of the killed one, and what it left
# is swept by the next writer (not before: its runs are safe while it lives)
rm -rf s6
"$TIDE" --store s6 history import "$Z/dns.log" 2>/dev/null
mkfifo pipe.log
# the pipe stays open until the test releases it (never on a timer: a slow machine must not
# let the writer finish before it is killed)
(cat "$Z/ssl.log"; while [ ! -e release6 ]; do sleep 0.1; done) >pipe.log 2>/dev/null &
F=$!; PIDS="$PIDS $F"
TIDE_HISTORY_SPILL=100 "$TIDE" --store s6 history import pipe.log 2>/dev/null &
k=$!; PIDS="$PIDS $k"
check "the piped writer spilled runs of its own" 'wait_for 120 "ls s6/history | grep -q \"^w-.*\\.hst\$\""'
"$TIDE" --store s6 history import "$Z/conn.log" 2>/dev/null &
a=$!
"$TIDE" --store s6 history import "$Z/http.log" 2>/dev/null &
b=$!
wait $a; ra=$?; wait $b; rb=$?
check "its runs survive other writers while it lives" 'ls s6/history | grep -q "^w-.*\.hst$"'
kill -9 $k; wait $k 2>/dev/null; touch release6; wait $F 2>/dev/null
"$TIDE" --store s6 history import "$Z/ssl.log" 2>/dev/null; rs=$?
check "imports next to a writer killed with SIGKILL: exit 0 and exactly their records" \
  '[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ $rs -eq 0 ] && [ "$(counts s6)" = "$(counts ref4)" ]'
check "the killed writer's leftovers are swept by the next writer" '[ -z "$(ls s6/history | grep -v -e "^MANIFEST$" -e "^LOCK$" -e "^20..-..-..\.[0-9]*\.hst$")" ]'

# a writer that finds the commit lock held: it waits, saying so, then commits. The lock is
# held until the test releases it (never on a timer, so a slow machine cannot make the writer
# arrive after the holder left)
hold() { # hold FLAG: hold the commit lock of s7 until FLAG exists
  flock s7/history/LOCK sh -c "while [ ! -e $1 ]; do sleep 0.05; done" &
  L=$!; PIDS="$PIDS $L"
  wait_for 60 "[ -e s7/history/LOCK ] && ! flock -n s7/history/LOCK true"
}
rm -rf s7; "$TIDE" --store s7 history import "$Z/dns.log" 2>/dev/null
hold release7
t0=$(date +%s.%N)
"$TIDE" --store s7 history import "$Z/conn.log" 2>wait.err &
W7=$!; PIDS="$PIDS $W7"
wait_for 300 "grep -q \"waiting for .*history\" wait.err"
sleep 2; touch release7; wait $L
wait $W7; rc=$?
t1=$(date +%s.%N)
cat wait.err
check "a held lock: the writer waits, says so, and commits after it (exit $rc)" \
  '[ $rc -eq 0 ] && grep -q "waiting for .*history" wait.err && python3 -c "import sys; sys.exit(not $t1 - $t0 > 2)"'
hold release8
TIDE_HISTORY_LOCK_WAIT=1 "$TIDE" --store s7 history import "$Z/http.log" 2>giveup.err; rc=$?
cat giveup.err
check "past its bounded wait it fails loudly" '[ $rc -ne 0 ] && grep -q "gave up after 1 s" giveup.err'
TIDE_HISTORY_LOCK_WAIT=1 "$TIDE" --store s7 match --no-store "$Z/http.log" >/dev/null 2>giveup2.err; rc=$?
check "... tide match too (exit $rc, history not recorded is an error)" '[ $rc -ne 0 ] && grep -q "gave up after 1 s" giveup2.err'
touch release8; wait $L

echo "history_trust: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
