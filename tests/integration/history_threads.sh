#!/usr/bin/env bash
# history_threads.sh - the history's parallel paths held to its serial ones (issue 18): a
# spill's records are encoded and compressed by two threads in chunks written in order, a
# merged run file is compressed by two threads, a spill's sort runs on two threads,
# and the recorder's pager faults the aggregator's memory in ahead of it; none of this may
# change a byte. `tide match` and `tide history import` of a gen_corpus corpus (600 000 records:
# a sort big enough to be split, a 13 MB run of hundreds of blocks, the aggregator's table and
# arrays grown several times) are run as users run them and with TIDE_HISTORY_THREADS=1 (one
# compressing thread, one sorting thread, no pager), without and with spills forced in the
# middle of inputs; the run files must be identical byte for byte, and so must the hunt (also
# over a day of several runs, which two threads hunt).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
GEN=${TIDE_SHARED_BENCH:-$SRC/../shared/bench}/gen_corpus.py
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
[ -f "$GEN" ] || { [ "${CI:-}" = true ] && exit 1; echo "skipped: $GEN absent"; exit 77; }
W=$(mktemp -d /tmp/tide-hthreads.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
python3 "$GEN" --out "$W/c" --seed 11 --indicators 3000 --events 30000 --hosts 300 --plant 80 >/dev/null
cd "$W/c"
FILES=$(find telemetry -type f | sort)
# the run files of a store's history, by name, and their bytes
runs() { (cd "$1/history" && for f in $(ls | grep '\.hst$' | sort); do echo "$f $(md5sum <"$f" | cut -c1-32)"; done); }

# tide match as a user runs it, with intel (sightings stored, history recorded)
"$TIDE" --store "$W/intel" ingest --no-hunt intel/bundle.stix.json >/dev/null 2>&1
for mode in par ser; do
    cp -a "$W/intel" "$W/m-$mode"
    if [ $mode = ser ]; then export TIDE_HISTORY_THREADS=1; else unset TIDE_HISTORY_THREADS; fi
    "$TIDE" --store "$W/m-$mode" match --quiet $FILES >"$W/m-$mode.out" 2>"$W/m-$mode.err"
    echo $? >"$W/m-$mode.rc"
    "$TIDE" --store "$W/m-$mode" hunt --all --json --no-store >"$W/m-$mode.hunt" 2>/dev/null
    runs "$W/m-$mode" >"$W/m-$mode.runs"
done
unset TIDE_HISTORY_THREADS
check "tide match exits 0 both ways" '[ "$(cat "$W/m-par.rc")$(cat "$W/m-ser.rc")" = 00 ]'
"$TIDE" --store "$W/m-par" history stats --json >"$W/m.stats"
check "one run of 600 000 records, over 8 MB (hundreds of blocks)" 'python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(not (d[\"runs\"]==1 and d[\"records\"]>600000 and d[\"bytes\"]>8<<20))" "$W/m.stats"'
check "tide match: run files identical to the serial paths" '[ -s "$W/m-par.runs" ] && cmp -s "$W/m-par.runs" "$W/m-ser.runs"'
# the hunts without their scores: an indicator's score decays with the clock (it may cross a
# rounding step between the two hunts), the history's records do not
unscored() { python3 -c "
import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); d.pop('score',None); print(json.dumps(d,sort_keys=True))" "$1"; }
unscored "$W/m-par.hunt" >"$W/m-par.hunt.u"; unscored "$W/m-ser.hunt" >"$W/m-ser.hunt.u"
check "tide match: hunt --all identical, and finds the planted pairs" '[ "$(wc -l <"$W/m-par.hunt.u")" -ge 80 ] && cmp -s "$W/m-par.hunt.u" "$W/m-ser.hunt.u"'

# history import with spills in the middle of inputs (staged runs, the aggregator emptied and
# grown again; the runs left as they are by the commit, then merged by `history compact`, whose
# merge in parts writes through the same writer)
for mode in par ser; do
    if [ $mode = ser ]; then export TIDE_HISTORY_THREADS=1; else unset TIDE_HISTORY_THREADS; fi
    TIDE_HISTORY_SPILL=70000 "$TIDE" --store "$W/i-$mode" history import $FILES >/dev/null 2>"$W/i-$mode.err"
    echo $? >"$W/i-$mode.rc"
    runs "$W/i-$mode" >"$W/i-$mode.runs"
done
check "history import with spills exits 0 both ways" '[ "$(cat "$W/i-par.rc")$(cat "$W/i-ser.rc")" = 00 ]'
check "history import with spills: run files identical to the serial paths" '[ -s "$W/i-par.runs" ] && cmp -s "$W/i-par.runs" "$W/i-ser.runs"'
check "the spills are left as runs of their own (no day of few runs rewritten)" '[ "$(wc -l <"$W/i-par.runs")" -gt 2 ]'
# a hunt over the day's several runs (two threads take the runs; one with
# TIDE_HISTORY_THREADS=1) finds what the hunt over the match's single run finds
cp -a "$W/i-par" "$W/i-hunt"
"$TIDE" --store "$W/i-hunt" ingest --no-hunt intel/bundle.stix.json >/dev/null 2>&1
"$TIDE" --store "$W/i-hunt" hunt --all --json --no-store >"$W/i-hunt.hunt" 2>/dev/null
TIDE_HISTORY_THREADS=1 "$TIDE" --store "$W/i-hunt" hunt --all --json --no-store >"$W/i-hunt1.hunt" 2>/dev/null
unscored "$W/i-hunt.hunt" >"$W/i-hunt.hunt.u"; unscored "$W/i-hunt1.hunt" >"$W/i-hunt1.hunt.u"
check "hunt --all over the spilled runs == over one run, on two threads and on one" '[ "$(wc -l <"$W/i-hunt.hunt.u")" -ge 80 ] && cmp -s "$W/i-hunt.hunt.u" "$W/m-par.hunt.u" && cmp -s "$W/i-hunt1.hunt.u" "$W/m-par.hunt.u"'
for mode in par ser; do
    if [ $mode = ser ]; then export TIDE_HISTORY_THREADS=1; else unset TIDE_HISTORY_THREADS; fi
    "$TIDE" --store "$W/i-$mode" history compact 2>"$W/c-$mode.err"
    echo $? >"$W/c-$mode.rc"
    runs "$W/i-$mode" >"$W/c-$mode.runs"
done
unset TIDE_HISTORY_THREADS
check "history compact exits 0 both ways" '[ "$(cat "$W/c-par.rc")$(cat "$W/c-ser.rc")" = 00 ]'
check "history compact: the merged run identical to the serial paths" '[ "$(wc -l <"$W/c-par.runs")" = 1 ] && cmp -s "$W/c-par.runs" "$W/c-ser.runs"'
"$TIDE" --store "$W/i-par" history stats --json >"$W/i.stats"
check "spilled and compacted: the same records as one run" 'python3 -c "
import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
sys.exit(not (a[\"records\"]==b[\"records\"] and a[\"events\"]==b[\"events\"] and a[\"runs\"]==1))" "$W/i.stats" "$W/m.stats"'

# a tie across runs: the same observation at the same instant in three imports (three runs of
# one day, which two threads hunt): the place reported is the oldest run's, as a merge keeps it
mkdir "$W/tie" && cd "$W/tie"
# both times inside one UTC day whatever the hour the test runs (yesterday noon; minutes after
# midnight "now - 15 min" was the day before, and each import then spilled two days' runs)
EP=$(( $(date +%s) / 86400 * 86400 - 43200 ))
for f in first second third; do
  { echo "$((EP-900)).100    120 10.0.0.11 TCP_MISS/200 512 GET http://$f.example/ alice DIRECT/192.0.2.7 text/html"
    echo "$((EP-600)).100    120 10.0.0.11 TCP_MISS/200 512 GET http://45.133.1.50/gate.php alice DIRECT/45.133.1.50 text/html"; } >$f.log
  "$TIDE" --store "$W/tie/s" history import $f.log 2>/dev/null
done
echo 45.133.1.50 >ioc.txt
"$TIDE" --store "$W/tie/s" ingest --no-hunt --format list --source tie ioc.txt >/dev/null 2>&1
"$TIDE" --store "$W/tie/s" hunt --indicator 45.133.1.50 --json --no-store >par.hunt 2>/dev/null
TIDE_HISTORY_THREADS=1 "$TIDE" --store "$W/tie/s" hunt --indicator 45.133.1.50 --json --no-store >ser.hunt 2>/dev/null
runs_tie=$("$TIDE" --store "$W/tie/s" history stats --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['runs'])")
first_place() { python3 -c "
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
print(len(r), r[0]['count'] if r else 0, r[0]['file'] if r else '', r[0]['line'] if r else 0)" "$1"; }
check "a tie of first times over $runs_tie runs: the oldest run's place, on two threads and on one" \
  '[ "$runs_tie" = 3 ] && [ "$(first_place par.hunt)" = "1 3 first.log 2" ] && [ "$(first_place ser.hunt)" = "1 3 first.log 2" ]'
echo "history_threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
