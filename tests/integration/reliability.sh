#!/usr/bin/env bash
# reliability.sh - the store under crashes, a full disk and concurrent use (issue 22; the figures
# of docs/reliability.md). Three loops, bounded in time (rounds scaled down under the
# sanitizers, which slow every process):
#  1. kill -9 of `tide ingest` (a first load; batch mode into a non-empty store) and of
#     `tide history import` at random moments: the store always opens, PRAGMA integrity_check
#     is ok, it holds nothing of the load or whole batches of it, and ingesting again gives the
#     reference counts; the history opens and hunts give the old or the new results.
#  2. a full disk (a small tmpfs, root only) during a first load, a batch-mode ingest, a
#     history import and an export: exit non-zero with the cause (no space left), never
#     "cannot rollback - no transaction is active"; the state before is intact.
#  3. concurrency: ingests started together into a new store, stats opening a new store
#     together, a writer that waits for another's lock (and one that gives up, saying so),
#     100 reads during a first load, two `tide match` runs at once, exports while ingesting.
# TIDE_RELIABILITY_SEED fixes the random kill moments (printed).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$2
GEN=${TIDE_SHARED_BENCH:-$SRC/../shared/bench}/gen_corpus.py
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
[ -f "$GEN" ] || { [ "${CI:-}" = true ] && exit 1; echo "skipped: $GEN absent"; exit 77; }
W=$(mktemp -d /tmp/tide-rel.XXXXXX)
MNT=$W/mnt
cleanup() { mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"; rm -rf "$W"; }
trap cleanup EXIT
pass=0; fail=0; skipped=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1 [$((SECONDS - t0)) s]"; else fail=$((fail+1)); echo "FAIL $1 [$((SECONDS - t0)) s]"; fi; }
t0=$SECONDS

# sanitized builds run each process several times slower: fewer rounds
SAN=0
if [ -n "${TIDE_SANITIZED:-}" ] || ldd "$TIDE" 2>/dev/null | grep -q 'libasan\|libubsan'; then SAN=1; fi
if [ "$SAN" = 1 ]; then ROUNDS=2; NIND=5000; NREADS=40; else ROUNDS=4; NIND=10000; NREADS=100; fi
SEED=${TIDE_RELIABILITY_SEED:-$$}
RANDOM=$SEED
echo "seed $SEED, $ROUNDS rounds per kill loop, $NIND indicators, sanitized $SAN"

python3 "$GEN" --out "$W/a" --seed 11 --indicators "$NIND" --events 8000 --hosts 50 --plant 100 >/dev/null
python3 "$GEN" --out "$W/b" --seed 12 --indicators 2000 --events 100 --hosts 5 --plant 5 >/dev/null
A=$W/a/intel/bundle.stix.json
B=$W/b/intel/bundle.stix.json
printf 'base-one.example\nbase-two.example\n198.51.100.7\n' >"$W/base.txt"

objects() { "$TIDE" --store "$1" stats --json 2>"$W/stats.err" | sed -n 's/^  "objects": \([0-9]*\),*$/\1/p'; }
integrity() {
    python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$1/tide.db" 2>&1
}
ms() { date +%s%3N; }
# a random delay in seconds, between 0.02 s and $1 ms
delay() { local span=$(($1 > 20 ? $1 - 20 : 1)); local d=$((20 + (RANDOM * 32768 + RANDOM) % span)); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }

# references: a first load of A; the base list, then A in batches
start=$(ms)
"$TIDE" --store "$W/ref" ingest --no-hunt "$A" >/dev/null 2>&1
LOAD_MS=$(($(ms) - start))
"$TIDE" --store "$W/ref" stats --json >"$W/ref.json"
REF_N=$(objects "$W/ref")
"$TIDE" --store "$W/base" ingest --no-hunt --format list "$W/base.txt" >/dev/null 2>&1
BASE_N=$(objects "$W/base")
cp -r "$W/base" "$W/refb"
start=$(ms)
"$TIDE" --store "$W/refb" ingest --no-hunt --batch 1000 "$A" >/dev/null 2>&1
BATCH_MS=$(($(ms) - start))
"$TIDE" --store "$W/refb" stats --json >"$W/refb.json"
REFB_N=$(objects "$W/refb")
echo "reference: first load of $REF_N objects in $LOAD_MS ms; base $BASE_N + batches of 1000 in $BATCH_MS ms"
check "references loaded" '[ "${REF_N:-0}" -gt "$NIND" ]'

# ---- 1. kill -9 --------------------------------------------------------------------------
kills=0; opens_bad=0; corrupt=0; torn=0; again_bad=0; seen_none=0; seen_part=0; seen_all=0
for r in $(seq 1 "$ROUNDS"); do
    for mode in first batch; do
        S=$W/k
        rm -rf "$S"
        if [ $mode = first ]; then
            d=$(delay $((LOAD_MS * 9 / 10)))
            "$TIDE" --store "$S" ingest --no-hunt "$A" >/dev/null 2>&1 &
        else
            cp -r "$W/base" "$S"
            d=$(delay $((BATCH_MS * 9 / 10)))
            "$TIDE" --store "$S" ingest --no-hunt --batch 1000 "$A" >/dev/null 2>&1 &
        fi
        pid=$!
        sleep "$d"
        kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        wait "$pid" 2>/dev/null
        n=$(objects "$S")
        if [ -z "$n" ]; then
            opens_bad=$((opens_bad + 1)); echo "round $r $mode, kill at $d s: the store does not open"; cat "$W/stats.err"
            continue
        fi
        ic=$(integrity "$S")
        [ "$ic" = ok ] || { corrupt=$((corrupt + 1)); echo "round $r $mode: integrity_check: $ic"; }
        if [ $mode = first ]; then
            full=$REF_N; whole=$([ "$n" -eq 0 ] || [ "$n" -eq "$REF_N" ] && echo 1)
        else
            full=$REFB_N; k=$((n - BASE_N))
            whole=$([ "$n" -eq "$REFB_N" ] || { [ "$k" -ge 0 ] && [ $((k % 1000)) -eq 0 ]; } && echo 1)
        fi
        if [ "$whole" != 1 ]; then torn=$((torn + 1)); echo "round $r $mode, kill at $d s: $n objects, not whole batches"; fi
        if [ "$n" -eq "$full" ]; then seen_all=$((seen_all + 1));
        elif [ "$n" -le "$BASE_N" ]; then seen_none=$((seen_none + 1)); else seen_part=$((seen_part + 1)); fi
        # ingesting again completes the store: the reference counts
        if [ $mode = first ]; then ref=$W/ref.json; a="$A"; else ref=$W/refb.json; a="--batch 1000 $A"; fi
        "$TIDE" --store "$S" ingest --no-hunt $a >/dev/null 2>&1
        "$TIDE" --store "$S" stats --json >"$W/now.json" 2>&1
        cmp -s "$W/now.json" "$ref" || { again_bad=$((again_bad + 1)); echo "round $r $mode: ingesting again gives other counts"; diff "$W/now.json" "$ref" | head -5; }
    done
done
echo "kill -9 of ingest: $kills kills in $((ROUNDS * 2)) rounds (first load and batch mode); left nothing $seen_none, whole batches $seen_part, everything $seen_all; failed opens $opens_bad, corruptions $corrupt, torn loads $torn, wrong counts after ingesting again $again_bad"
check "kill -9 of ingest: every store opens, integrity ok, none or whole batches, ingesting again completes it" \
    '[ "$kills" -ge "$ROUNDS" ] && [ $((opens_bad + corrupt + torn + again_bad)) -eq 0 ]'

# history import: the old or the new history, never an error
cp -r "$W/ref" "$W/h0"
( cd "$W/a" && "$TIDE" --store "$W/h0" history import telemetry/eve.json >/dev/null 2>&1 )
REST=$(cd "$W/a" && find telemetry -type f ! -name eve.json | sort)
hunt() { "$TIDE" --store "$1" hunt --all --json --no-store 2>"$W/hunt.err" | sort; }
hunt "$W/h0" >"$W/h.old"
cp -r "$W/h0" "$W/h1"
start=$(ms)
( cd "$W/a" && "$TIDE" --store "$W/h1" history import $REST >/dev/null 2>&1 )
HIST_MS=$(($(ms) - start))
hunt "$W/h1" >"$W/h.new"
check "history: old and new hunts differ (the loop means something)" '[ -s "$W/h.old" ] && ! cmp -s "$W/h.old" "$W/h.new"'
hkills=0; hbad=0; hold=0; hnew=0
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$W/h"; cp -r "$W/h0" "$W/h"
    d=$(delay $((HIST_MS * 9 / 10)))
    ( cd "$W/a" && exec "$TIDE" --store "$W/h" history import $REST >/dev/null 2>&1 ) &
    pid=$!
    sleep "$d"
    kill -9 "$pid" 2>/dev/null && hkills=$((hkills + 1))
    wait "$pid" 2>/dev/null
    if ! "$TIDE" --store "$W/h" history stats >/dev/null 2>"$W/err"; then hbad=$((hbad + 1)); cat "$W/err"; fi
    hunt "$W/h" >"$W/h.now"
    if cmp -s "$W/h.now" "$W/h.old"; then hold=$((hold + 1));
    elif cmp -s "$W/h.now" "$W/h.new"; then hnew=$((hnew + 1));
    else hbad=$((hbad + 1)); echo "history kill at $d s: neither the old nor the new hunt"; fi
    ic=$(integrity "$W/h")
    [ "$ic" = ok ] || { hbad=$((hbad + 1)); echo "history kill: store integrity_check: $ic"; }
done
echo "kill -9 of history import: $hkills kills in $ROUNDS rounds: old $hold, new $hnew, bad $hbad"
check "kill -9 of history import: the history opens, hunts give the old or the new results" '[ "$hkills" -ge 1 ] && [ "$hbad" -eq 0 ]'

# ---- 2. full disk ------------------------------------------------------------------------
full_cases=0
full_disk() {
    mkdir -p "$MNT"
    mount -t tmpfs -o "size=$1" tmpfs "$MNT" 2>"$W/mount.err"
}
clear_cause() { grep -q 'disk is full\|[Nn]o space left' "$1" && ! grep -q 'cannot rollback' "$1"; }
if [ "$(id -u)" != 0 ]; then
    echo "skipped: the full-disk cases need root (a tmpfs)"; skipped=1
elif ! full_disk 2M; then
    cat "$W/mount.err"
    if [ "${CI:-}" = true ]; then fail=$((fail + 1)); echo "FAIL mount a tmpfs"; else echo "skipped: cannot mount a tmpfs"; skipped=1; fi
else
    umount "$MNT"
    for size in 2M 4M; do
        full_disk $size
        "$TIDE" --store "$MNT/s" ingest --no-hunt "$A" >/dev/null 2>"$W/err"; rc=$?
        n=$(objects "$MNT/s"); ic=$(integrity "$MNT/s")
        check "full disk ($size) during a first load: exit 3, the cause, nothing half-written ($n objects, $ic)" \
            '[ "$rc" -eq 3 ] && clear_cause "$W/err" && [ "$n" = 0 ] && [ "$ic" = ok ]'
        cat "$W/err"
        umount "$MNT"; full_cases=$((full_cases + 1))
    done
    full_disk 4M
    cp -r "$W/base" "$MNT/s"
    "$TIDE" --store "$MNT/s" ingest --no-hunt --batch 1000 "$A" >/dev/null 2>"$W/err"; rc=$?
    n=$(objects "$MNT/s"); ic=$(integrity "$MNT/s"); k=$((${n:-1} - BASE_N))
    check "full disk during a batch-mode ingest: exit 3, the cause, whole batches kept ($n objects, $ic)" \
        '[ "$rc" -eq 3 ] && clear_cause "$W/err" && [ "$k" -ge 0 ] && [ $((k % 1000)) -eq 0 ] && [ "$ic" = ok ]'
    cat "$W/err"
    umount "$MNT"; full_cases=$((full_cases + 1))
    # history import: the store fits, the history does not
    full_disk 4M
    cp -r "$W/base" "$MNT/s"
    ( cd "$W/a" && "$TIDE" --store "$MNT/s" history import telemetry/eve.json >/dev/null 2>&1 )
    hunt "$MNT/s" >"$W/hf.old"
    avail=$(df -k --output=avail "$MNT" | tail -1)
    head -c $(((avail - 200) * 1024)) /dev/zero >"$MNT/filler" 2>/dev/null
    ( cd "$W/a" && "$TIDE" --store "$MNT/s" history import $REST >/dev/null 2>"$W/err" ); rc=$?
    "$TIDE" --store "$MNT/s" history stats >/dev/null 2>&1; hs=$?
    hunt "$MNT/s" >"$W/hf.now"
    check "full disk during a history import: exit non-zero, the cause, the history as before" \
        '[ "$rc" -ne 0 ] && clear_cause "$W/err" && [ "$hs" -eq 0 ] && cmp -s "$W/hf.now" "$W/hf.old"'
    cat "$W/err"
    umount "$MNT"; full_cases=$((full_cases + 1))
    # export: the file written before stays whole
    full_disk 1M
    echo "previous export" >"$MNT/out.csv"
    avail=$(df -k --output=avail "$MNT" | tail -1)
    head -c $(((avail - 8) * 1024)) /dev/zero >"$MNT/filler" 2>/dev/null
    "$TIDE" --store "$W/ref" export --format csv --output "$MNT/out.csv" >/dev/null 2>"$W/err"; rc=$?
    check "full disk during an export: exit non-zero, the cause, the previous file intact" \
        '[ "$rc" -ne 0 ] && clear_cause "$W/err" && [ "$(cat "$MNT/out.csv")" = "previous export" ]'
    grep -v '^left out\|^ ' "$W/err"
    umount "$MNT"; full_cases=$((full_cases + 1))
    echo "full disk: $full_cases cases"
fi

# ---- 3. concurrency ----------------------------------------------------------------------
"$TIDE" --store "$W/refc" ingest --no-hunt "$B" >/dev/null 2>&1
"$TIDE" --store "$W/refc" stats --json >"$W/refc.json"
cfail=0; cbad=0; crounds=0
for r in $(seq 1 "$ROUNDS"); do
    S=$W/c$r
    pids=""
    for i in 1 2 3 4; do
        "$TIDE" --store "$S" ingest --no-hunt "$B" >/dev/null 2>"$W/cerr$i" &
        pids="$pids $!"
    done
    for i in 1 2 3 4; do "$TIDE" --store "$S" stats >/dev/null 2>"$W/serr$i" & pids="$pids $!"; done
    for p in $pids; do wait "$p" || cfail=$((cfail + 1)); done
    "$TIDE" --store "$S" stats --json >"$W/now.json" 2>&1
    cmp -s "$W/now.json" "$W/refc.json" || cbad=$((cbad + 1))
    crounds=$((crounds + 1))
    rm -rf "$S"
done
[ "$cfail" -eq 0 ] || cat "$W"/cerr* "$W"/serr*
echo "4 ingests and 4 stats started together into a new store: $crounds rounds, $cfail failed, $cbad with other counts than one ingest"
check "ingests and readers started together into a new store all succeed, each object stored once" '[ "$cfail" -eq 0 ] && [ "$cbad" -eq 0 ]'

# a writer waits for another's lock, or says who holds it
cp -r "$W/base" "$W/q"
printf 'queued-one.example\nqueued-two.example\n' >"$W/q.txt"
hold() {
    python3 -c 'import sqlite3, sys, time, pathlib
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
pathlib.Path(sys.argv[2]).touch(); time.sleep(float(sys.argv[3])); c.execute("ROLLBACK")' "$W/q/tide.db" "$W/locked" "$1" &
    while [ ! -f "$W/locked" ]; do sleep 0.02; done
}
hold 3
TIDE_STORE_WAIT=1 "$TIDE" --store "$W/q" ingest --no-hunt --format list "$W/q.txt" >/dev/null 2>"$W/err"; rc=$?
wait; rm -f "$W/locked"
check "a writer that gives up says another tide process holds the store and how long it waited (exit $rc)" \
    '[ "$rc" -eq 3 ] && grep -q "being written by another tide process (waited 1.0 s" "$W/err"'
cat "$W/err"
hold 2
start=$(ms)
TIDE_STORE_WAIT=30 "$TIDE" --store "$W/q" ingest --no-hunt --format list "$W/q.txt" >/dev/null 2>"$W/err"; rc=$?
waited=$(($(ms) - start))
wait; rm -f "$W/locked"
check "a writer waits for the lock and proceeds (exit $rc after $waited ms)" '[ "$rc" -eq 0 ] && [ "$waited" -ge 1500 ] && [ "$(objects "$W/q")" -eq $((BASE_N + 2)) ]'

# 100 reads (40 sanitized) during a first load: each exits 0 and sees the store before or after the load
ID=$(grep -o '"id": *"indicator--[^"]*"' "$A" | tail -1 | sed 's/.*"\(indicator--[^"]*\)"/\1/')
R=$W/r
"$TIDE" --store "$R" init >/dev/null
"$TIDE" --store "$R" ingest --no-hunt "$A" >/dev/null 2>"$W/ing.err" &
lpid=$!
reader() {  # reader K: NREADS / 2 reads, alternately show and stats
    local i ok=0 bad=0 pre=0 post=0 during=0 rc n
    for i in $(seq 1 $((NREADS / 2))); do
        if [ $((i % 2)) = 0 ]; then
            n=$(objects "$R"); rc=$?
            if [ -z "$n" ]; then bad=$((bad + 1)); head -2 "$W/stats.err";
            elif [ "$n" = 0 ]; then pre=$((pre + 1)); elif [ "$n" = "$REF_N" ]; then post=$((post + 1));
            else bad=$((bad + 1)); echo "stats: $n objects"; fi
        else
            "$TIDE" --store "$R" show "$ID" >/dev/null 2>"$W/show$1.err"; rc=$?
            if [ $rc = 0 ]; then post=$((post + 1));
            elif [ $rc = 1 ] && grep -q "no object" "$W/show$1.err"; then pre=$((pre + 1));
            else bad=$((bad + 1)); echo "show exit $rc: $(head -1 "$W/show$1.err")"; fi
        fi
        kill -0 "$lpid" 2>/dev/null && during=$((during + 1))
    done
    echo "$bad $pre $post $during" >"$W/reader$1"
}
reader 1 & r1=$!
reader 2 & r2=$!
wait "$r1" "$r2"
wait "$lpid"; lrc=$?
read -r bad1 pre1 post1 dur1 <"$W/reader1"; read -r bad2 pre2 post2 dur2 <"$W/reader2"
rbad=$((bad1 + bad2)); rpre=$((pre1 + pre2)); rpost=$((post1 + post2)); rdur=$((dur1 + dur2))
echo "$NREADS reads during a first load of $REF_N objects: $rdur ended while it ran; before $rpre, after $rpost, failed $rbad"
check "$NREADS show / stats during a first load all succeed, before or after it (load exit $lrc)" \
    '[ "$lrc" -eq 0 ] && [ "$rbad" -eq 0 ] && [ $((rpre + rpost)) -eq "$NREADS" ] && [ "$rdur" -ge 1 ]'

# two tide match at once: both succeed, each with the sightings of a run alone, and the store
# holds those of one run (the second found the first's read positions: issue 17, each event
# stored once) or, when they read the files at the same time (neither had committed), of two
TEL=$W/a/telemetry
sightings() { "$TIDE" --store "$1" sightings 2>/dev/null | awk '{ $1 = ""; print }' | sort; }
cp -r "$W/ref" "$W/m0"
"$TIDE" --store "$W/m0" match --no-history "$TEL" 2>/dev/null | sort >"$W/m.ref"
"$TIDE" --store "$W/m0" match --no-history "$TEL" >/dev/null 2>&1
sightings "$W/m0" >"$W/s.ref"
cp -r "$W/ref" "$W/m"
"$TIDE" --store "$W/m" match --no-history "$TEL" 2>"$W/m1.err" | sort >"$W/m1" &
p1=$!
"$TIDE" --store "$W/m" match --no-history "$TEL" 2>"$W/m2.err" | sort >"$W/m2" &
p2=$!
wait "$p1"; m1=$?; wait "$p2"; m2=$?
sightings "$W/m" >"$W/s.now"
# the same files read twice store once (issue 17): s.ref is one run's; two runs' doubles counts
norm() { awk '{ $1 = $1; print }' "$1" | sort; }
awk '$2 == "indicator" { print; next } { $3 = $3 * 2; print }' "$W/s.ref" >"$W/s.ref2"
norm "$W/s.now" >"$W/s.nown"; norm "$W/s.ref" >"$W/s.refn"; norm "$W/s.ref2" >"$W/s.ref2n"
check "two tide match at once: both exit 0 with the sightings of a run alone ($(wc -l <"$W/m.ref") lines), stored as by one run or two, never in part" \
    '[ "$m1" -eq 0 ] && [ "$m2" -eq 0 ] && [ -s "$W/m.ref" ] && cmp -s "$W/m1" "$W/m.ref" && cmp -s "$W/m2" "$W/m.ref" && [ -s "$W/s.ref" ] && { cmp -s "$W/s.nown" "$W/s.refn" || cmp -s "$W/s.nown" "$W/s.ref2n"; }'
[ "$m1" -eq 0 ] && [ "$m2" -eq 0 ] || cat "$W/m1.err" "$W/m2.err"

# exports while a batch-mode ingest writes: every export succeeds
cp -r "$W/base" "$W/e"
"$TIDE" --store "$W/e" ingest --no-hunt --batch 1000 "$A" >/dev/null 2>&1 &
ipid=$!
exports=0; ebad=0
while kill -0 "$ipid" 2>/dev/null || [ "$exports" -lt 3 ]; do
    "$TIDE" --store "$W/e" export --format csv >/dev/null 2>"$W/err" || { ebad=$((ebad + 1)); head -2 "$W/err"; }
    exports=$((exports + 1))
done
wait "$ipid"; irc=$?
echo "exports during an ingest: $exports, failed $ebad"
check "exports while ingesting all succeed (ingest exit $irc)" '[ "$irc" -eq 0 ] && [ "$ebad" -eq 0 ]'

echo "figures: kill -9 rounds $((ROUNDS * 3)) ($kills ingest kills, $hkills history kills), corruptions $corrupt, torn loads $torn, failed opens $((opens_bad + hbad)); full-disk cases $full_cases; concurrent rounds $crounds, failed reads $rbad of $NREADS ($rdur during the load), failed exports $ebad of $exports; $((SECONDS - t0)) s"
echo "reliability: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
exit 0
