#!/usr/bin/env bash
# match_real.sh - `tide match` on real captures against real IOC lists, with the hosts and hit
# counts of ../shared/data/iocs/README.md: maltrail trickbot ip:port trails against the Trickbot
# Zeek conn.log (3,225 conns: 172.16.9.5 2,196 and 172.16.9.233 1,029), maltrail's ipinfo
# list against its dns / http / ssl logs (485 / 1,085 / 659 events), lummac2 and latrodectus
# against the Stamus EVE files (51 and 284 events for 85.239.53.219; 48 latrodectus events
# from 10.4.17.101: http 12, dns 10, fileinfo 10, tls 8, alert 8), and FireHOL level1 (which
# lists 10/8 and the other private ranges) giving only suppressed sightings for internal hosts.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-match-real.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
M=$DATA/iocs/maltrail; Z=$DATA/zeek/trickbot-2018-11-09; E=$DATA/suricata/stamus-suricata-analytics
# count EXPR over the sightings of a file: python3 count.py FILE 'expr over d' -> distinct events
count() { python3 - "$@" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))
PY
}

S=$W/store
"$TIDE" --store "$S" ingest "$M/malware/trickbot.txt" "$M/suspicious/ipinfo.txt" \
  "$M/malware/lummac2.txt" "$M/malware/latrodectus.txt" >/dev/null 2>&1
"$TIDE" --store "$S" match "$Z/conn.log" >"$W/conn.jsonl" 2>/dev/null
got=$(count "$W/conn.jsonl" 'len({d["line"] for d in rows if d["source"] == "trickbot" and d["type"] == "ip-port"})')
check "trickbot ip:port: 3225 conns (got $got)" '[ "$got" = 3225 ]'
got=$(count "$W/conn.jsonl" 'sorted(collections.Counter(d["host"] for d in rows if d["source"] == "trickbot").items())')
check "trickbot hosts 172.16.9.233 x1029, 172.16.9.5 x2196 ($got)" \
  '[ "$got" = "[('"'"'172.16.9.233'"'"', 1029), ('"'"'172.16.9.5'"'"', 2196)]" ]'
for f in dns:485 http:1085 ssl:659; do
  "$TIDE" --store "$S" match "$Z/${f%%:*}.log" >"$W/f.jsonl" 2>/dev/null
  got=$(count "$W/f.jsonl" 'len({d["line"] for d in rows if d["source"] == "ipinfo"})')
  check "ipinfo in ${f%%:*}.log: ${f#*:} events (got $got)" '[ "$got" = "${f#*:}" ]'
done
"$TIDE" --store "$S" match "$E/mta-2024-04-17-ssload.eve.json" >"$W/e1.jsonl" 2>/dev/null
"$TIDE" --store "$S" match "$E/mta-2024-04-18.eve.json" >"$W/e2.jsonl" 2>/dev/null
got=$(count "$W/e1.jsonl" 'len({d["line"] for d in rows if d["indicator"] == "85.239.53.219"})')
check "lummac2 85.239.53.219 in ssload: 51 events (got $got)" '[ "$got" = 51 ]'
got=$(count "$W/e2.jsonl" 'len({d["line"] for d in rows if d["indicator"] == "85.239.53.219"})')
check "lummac2 85.239.53.219 in 04-18: 284 events (got $got)" '[ "$got" = 284 ]'
got=$(count "$W/e1.jsonl" 'sorted(collections.Counter(e for (l, e) in {(d["line"], d["event"]) for d in rows if d["source"] == "latrodectus"}).items())')
check "latrodectus: 48 events by kind ($got)" \
  '[ "$got" = "[('"'"'alert'"'"', 8), ('"'"'dns'"'"', 10), ('"'"'fileinfo'"'"', 10), ('"'"'http'"'"', 12), ('"'"'tls'"'"', 8)]" ]'
got=$(count "$W/e1.jsonl" '{d["host"] for d in rows if d["source"] == "latrodectus"}')
check "latrodectus from 10.4.17.101 only ($got)" '[ "$got" = "{'"'"'10.4.17.101'"'"'}" ]'
got=$(count "$W/e1.jsonl" '{d.get("malware") for d in rows if d["source"] == "latrodectus"}')
check "latrodectus sightings name the malware ($got)" '[ "$got" = "{'"'"'latrodectus'"'"'}" ]'
T=$W/trickbot
"$TIDE" --store "$T" ingest "$M/malware/trickbot.txt" >/dev/null 2>&1
"$TIDE" --store "$T" match "$Z/conn.log" >/dev/null 2>&1
got=$("$TIDE" --store "$T" sightings --json --host 172.16.9.5 | python3 -c "
import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), sum(x['live_count'] for x in r))")
check "stored: 172.16.9.5 has 15 trickbot ip:port sightings counting 2196 conns (got $got)" '[ "$got" = "15 2196" ]'

# FireHOL level1 lists 10/8, 172.16/12, 192.168/16: internal hosts only give suppressed sightings
F=$W/firehol
"$TIDE" --store "$F" ingest --format list "$DATA/iocs/firehol/firehol_level1.netset" >/dev/null 2>&1
"$TIDE" --store "$F" match "$Z/conn.log" >"$W/fh.jsonl" 2>"$W/fh.err"
got=$(count "$W/fh.jsonl" 'sum(1 for d in rows if not d["suppressed"] and d["observed"].startswith(("10.", "172.16.", "192.168.")))')
check "firehol: no unsuppressed sighting of a private address (got $got)" '[ "$got" = 0 ]'
got=$(count "$W/fh.jsonl" 'sum(1 for d in rows if d["suppressed"] and d["observed"].startswith("172.16."))')
check "firehol: private hits are reported as suppressed ($got)" '[ "$got" -gt 0 ]'
"$TIDE" --store "$F" match --hide-suppressed "$Z/conn.log" >"$W/fh2.jsonl" 2>/dev/null
got=$(count "$W/fh2.jsonl" 'sum(1 for d in rows if d["suppressed"])')
check "--hide-suppressed drops them ($got)" '[ "$got" = 0 ]'
got=$("$TIDE" --store "$F" sightings --json | wc -l)
check "suppressed sightings are not listed by default ($got)" '[ "$got" = 0 ]'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
