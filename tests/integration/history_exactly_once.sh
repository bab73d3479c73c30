#!/usr/bin/env bash
# history_exactly_once.sh - reading the same logs again records nothing twice, imports say what
# retention dropped and why and can keep a period, and `history import` and `history stats`
# count the same events (issue 17), on the real Trickbot Zeek logs and an OTRF Sysmon log.
# Each check failed on the tide before issue 17.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$2/../shared/data
Z=$DATA/zeek/trickbot-2018-11-09
SY=$DATA/sysmon/otrf-security-datasets/aptsimulator_cobaltstrike_2021-06-11T21081492.json
if [ ! -f "$Z/conn.log" ] || [ ! -f "$SY" ]; then
  [ "${CI:-}" = true ] && exit 1; echo "skipped: no shared data"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-hexact.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
stat() { "$TIDE" --store "$2" history stats --json 2>/dev/null |
  python3 -c "import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))" "$1"; }
# counts STORE: the history's counts, each day's runs merged first (a commit leaves a day of few
# runs as they are; a record in two of them counts in each)
counts() { "$TIDE" --store "$1" history compact 2>/dev/null; "$TIDE" --store "$1" history stats --json 2>/dev/null |
  python3 -c "import json,sys; d=json.load(sys.stdin); print(d['records'], d['events'], d.get('observations'), d['partitions'])"; }
live() { "$TIDE" --store "$1" sightings --json 2>/dev/null |
  python3 -c "import json,sys; print(sum(json.loads(l)['live_count'] for l in sys.stdin if l.strip()))"; }

# intel: 30 responder addresses of conn.log
{ echo 'type,value,campaign,confidence'
  awk -F'\t' '!/^#/ {print "ip," $5 ",Trickbot-test,80"}' "$Z/conn.log" | sort -u | head -30; } >ips.csv

# ---- 1. tide match twice on the same logs ----
"$TIDE" --store s1 ingest ips.csv >/dev/null 2>&1
"$TIDE" --store s1 match "$Z/conn.log" "$Z/dns.log" >m1.jsonl 2>m1.err
c1=$(counts s1); l1=$(live s1)
"$TIDE" --store s1 match "$Z/conn.log" "$Z/dns.log" >m2.jsonl 2>m2.err
cat m2.err
check "a second tide match of the same logs stores no sighting twice (live $l1)" '[ "$(live s1)" = "$l1" ] && [ "$l1" -gt 0 ]'
check "... and records nothing twice in history ($c1)" '[ "$(counts s1)" = "$c1" ]'
check "... still shows its sightings" '[ "$(wc -l <m2.jsonl)" = "$(wc -l <m1.jsonl)" ] && [ -s m2.jsonl ]'
check "... and says why nothing was recorded" 'grep -q "already recorded in history" m2.err && grep -q "not counted again" m2.err'
# a copy of a log is the log: nothing twice either
cp "$Z/conn.log" copy.log
"$TIDE" --store s1 match copy.log >/dev/null 2>/dev/null
check "a byte-for-byte copy of a log read before records nothing twice" '[ "$(live s1)" = "$l1" ] && [ "$(counts s1)" = "$c1" ]'
# a log read before that grew: only its new part is recorded
head -800 "$Z/dns.log" >grow.log
"$TIDE" --store s2 history import grow.log 2>/dev/null
e1=$(stat events s2)
tail -n +801 "$Z/dns.log" >>grow.log
"$TIDE" --store s2 history import grow.log 2>/dev/null
"$TIDE" --store ref2 history import "$Z/dns.log" 2>/dev/null
check "a log that grew: its new events recorded once ($e1, then $(stat events s2))" \
  '[ "$(counts s2)" = "$(counts ref2)" ] && [ "$e1" -lt "$(stat events s2)" ]'

# ---- 2. history import twice, and the count it reports is the one stats shows ----
"$TIDE" --store s3 history import "$Z/conn.log" "$Z/dns.log" "$Z/http.log" 2>imp1.err
n=$(sed -n 's/.*imported [0-9]* file(s), \([0-9]*\) events.*/\1/p' imp1.err)
check "history import and history stats count the same events ($n)" '[ -n "$n" ] && [ "$n" = "$(stat events s3)" ]'
c3=$(counts s3)
"$TIDE" --store s3 history import "$Z/conn.log" "$Z/dns.log" "$Z/http.log" 2>imp2.err
check "importing the same logs again records nothing ($c3)" '[ "$(counts s3)" = "$c3" ]'
check "... and says so" 'grep -q "imported 3 file(s), 0 events recorded" imp2.err && grep -q "were recorded before" imp2.err'

# ---- 3. logs of different ages: what retention drops is said, with why; --keep keeps ----
"$TIDE" --store s4 history import "$Z/conn.log" "$Z/dns.log" 2>/dev/null
"$TIDE" --store s4 history import "$SY" 2>ret.err
cat ret.err
check "importing a 2021 log after 2018 logs says which days retention removed and why" \
  'grep -q "retention removed 8 day(s) before 2021-03-15" ret.err && grep -q "retention of 90 days counts back from the newest day in history, 2021-06-12" ret.err && grep -q -- "--keep" ret.err'
"$TIDE" --store s5 history import "$SY" 2>/dev/null
"$TIDE" --store s5 history import "$Z/conn.log" 2>old.err
check "importing logs older than the window says they were dropped at once" \
  'grep -q "recorded by this run and dropped at once" old.err && [ "$(stat first_day s5)" = 2021-06-11 ]'
"$TIDE" --store s6 history import --keep "$Z/conn.log" "$Z/dns.log" 2>keep.err
"$TIDE" --store s6 history import "$SY" 2>keep2.err
check "--keep: the 2018 period stays when a 2021 log is imported" \
  '[ "$(stat first_day s6)" = 2018-11-02 ] && [ "$(stat kept_days s6)" = 8 ] && ! grep -q "retention removed" keep2.err'
"$TIDE" --store s6 history stats >stats6.txt
check "history stats shows the kept period" 'grep -q "kept: *2018-11-02 .. 2018-11-09" stats6.txt'
"$TIDE" --store s6 history prune --before 2019-01-01 2>prune6.err
check "an explicit prune by date removes a kept period" \
  '[ "$(stat first_day s6)" = 2021-06-11 ] && [ "$(stat kept_days s6)" = 0 ] && grep -q "pruned 8 day(s)" prune6.err'

echo "$pass passed, $fail failed"
[ $fail = 0 ]
