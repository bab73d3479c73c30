#!/usr/bin/env bash
# pattern_window.sh - patterns of several observations (issue 17): [A] FOLLOWEDBY [B] WITHIN,
# REPEATS n TIMES, [A] AND [B] never fired in the stream (each candidate event was evaluated
# alone). Now every candidate event of a host is kept in a bounded window per host x indicator
# and the window is evaluated when one arrives: a match gives one sighting, on the event that
# completed it, and the window starts again. (A qualifier binds to the observation expression
# before it: `[A] FOLLOWEDBY [B] WITHIN 60 SECONDS` bounds B alone, so the pair is written
# `([A] FOLLOWEDBY [B]) WITHIN 60 SECONDS`.) Zeek dns / conn / http logs written here: the
# host that did both in order within the window, and those that did one, or in the wrong
# order, or too late; REPEATS 3 fires at the third query, not before; then the real Trickbot
# capture: its DNS query of bespokeutilitysolutions.co.uk followed by the connection to the
# answer.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-window.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"

ind() { # id-suffix pattern
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--3b1d0000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","pattern_type":"stix","pattern":"%s"}' "$1" "$2"
}
{
  printf '{"type":"bundle","id":"bundle--3b1d0000-0000-4000-8000-000000000000","objects":['
  ind 1 "([domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.7']) WITHIN 60 SECONDS"; printf ','
  ind 2 "[domain-name:value = 'beacon.example'] REPEATS 3 TIMES"; printf ','
  ind 3 "[domain-name:value = 'x.example'] AND [url:value LIKE '%/gate.php']"; printf ','
  ind 4 "([domain-name:value = 'bespokeutilitysolutions.co.uk'] FOLLOWEDBY [ipv4-addr:value = '185.119.175.82']) WITHIN 60 SECONDS"
  printf ']}\n'
} >win.json
"$TIDE" --store s ingest --format stix win.json >ingest.out 2>&1
check "the bundle is ingested (4 indicators)" 'grep -q "4 stored (4 indicators)" ingest.out || { cat ingest.out; false; }'

T0=1767261600
D='#separator \x09
#path	dns
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	query
#types	time	string	addr	port	addr	port	enum	string'
C='#separator \x09
#path	conn
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto
#types	time	string	addr	port	addr	port	enum'
H='#separator \x09
#path	http
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	method	host	uri
#types	time	string	addr	port	addr	port	string	string	string'
q() { printf '%d.0\tD%s\t%s\t5300\t10.0.0.53\t53\tudp\t%s\n' $((T0 + $1)) "$1" "$2" "$3"; }
c() { printf '%d.0\tC%s\t%s\t40000\t%s\t443\ttcp\n' $((T0 + $1)) "$1" "$2" "$3"; }
{ echo "$D"
  q 0 10.0.0.1 a.example          # then 192.0.2.7 at +10: fires
  q 1 10.0.0.2 a.example          # never connects
  q 30 10.0.0.3 a.example         # connected before it asked (wrong order)
  q 0 10.0.0.4 a.example          # connects at +120: outside the window
  for t in 100 101 102 103 104; do q $t 10.0.0.6 beacon.example; done   # 5 queries: one match
  q 100 10.0.0.7 beacon.example; q 101 10.0.0.7 beacon.example           # 2: none
  q 200 10.0.0.8 x.example; q 200 10.0.0.9 y.example
} >dns.log
{ echo "$C"
  c 10 10.0.0.1 192.0.2.7; c 20 10.0.0.1 192.0.2.7   # the second: window started again
  c 5 10.0.0.3 192.0.2.7
  c 120 10.0.0.4 192.0.2.7
  c 10 10.0.0.5 192.0.2.7
} >conn.log
{ echo "$H"
  printf '%d.0\tH1\t10.0.0.8\t40001\t203.0.113.9\t80\tGET\tpanel.example\t/x/gate.php\n' $((T0 + 210))
  printf '%d.0\tH2\t10.0.0.9\t40001\t203.0.113.9\t80\tGET\tpanel.example\t/x/gate.php\n' $((T0 + 210))
} >http.log
"$TIDE" --store s match --no-store --no-history dns.log conn.log http.log >live.jsonl 2>live.err
check "FOLLOWEDBY WITHIN: only the host that did both, in order, within 60 s; once" 'python3 - live.jsonl <<PY
import json, sys
got = [(d["host"], d["file"], d["line"]) for d in map(json.loads, open(sys.argv[1])) if d["indicator_id"].endswith("01")]
print(got)
sys.exit(0 if got == [("10.0.0.1", "conn.log", 5)] else 1)
PY'
check "REPEATS 3 TIMES: fires at the third query of the host that made five, not before; none for two" 'python3 - live.jsonl <<PY
import json, sys
got = [(d["host"], d["line"]) for d in map(json.loads, open(sys.argv[1])) if d["indicator_id"].endswith("02")]
print(got)
sys.exit(0 if got == [("10.0.0.6", 11)] else 1)
PY'
check "[A] AND [B] (B a LIKE): the host that did both" 'python3 - live.jsonl <<PY
import json, sys
got = [(d["host"], d["file"]) for d in map(json.loads, open(sys.argv[1])) if d["indicator_id"].endswith("03")]
print(got)
sys.exit(0 if got == [("10.0.0.8", "http.log")] else 1)
PY'
check "the windows are reported (candidates, peak bytes, the bound, matches, evictions)" \
  'grep -q "multi-observation patterns: [0-9]* candidate event(s) held in windows (peak [0-9.]* KiB of 64 MiB, at most 64 events per host x indicator), 3 match(es), 0 evicted unmatched" live.err || { cat live.err; false; }'

# the bound: 70 candidates of one host x indicator keep the last 64 (6 evicted)
{ echo "$D"; for t in $(seq 1000 1069); do q "$t" 10.0.0.20 a.example; done; } >many.log
"$TIDE" --store s match --no-store --no-history many.log >many.jsonl 2>many.err
check "a window holds the last 64 candidate events (6 of 70 evicted, counted)" \
  'grep -q "70 candidate event(s) held in windows .* 0 match(es), 6 evicted unmatched" many.err && [ ! -s many.jsonl ]'

# real: the Trickbot host asked for bespokeutilitysolutions.co.uk, then connected to its answer
Z=$DATA/zeek/trickbot-2018-11-09
"$TIDE" --store s match --no-store --no-history "$Z/dns.log" "$Z/conn.log" >real.jsonl 2>real.err
check "real Trickbot dns.log + conn.log: the FOLLOWEDBY fires for 172.16.9.233, on its connection" 'python3 - real.jsonl <<PY
import json, sys
got = [(d["host"], d["file"].rsplit("/", 1)[-1], d["observed"]) for d in map(json.loads, open(sys.argv[1])) if d["indicator_id"].endswith("04")]
print(got)
sys.exit(0 if got and set(got) == {("172.16.9.233", "conn.log", "185.119.175.82")} else 1)
PY'

echo "pattern_window: $pass passed, $fail failed"
[ "$fail" = 0 ]
