#!/usr/bin/env bash
# url_path.sh - url-path indicators (issue 17): maltrail's bare-path trails ("/worming.png"),
# written `[url:value LIKE '%/path']`, reach the match index at ingest (before, they had no
# observable and were silently never matched: `tide index info` counted fewer indicators than
# the store held), match live every URL ending with the path at a '/' (Zeek http.log, Suricata
# EVE http, Squid) and a web server's request line (no host), and are hunted back through the
# history. Real data: maltrail's trickbot.txt lists /worming.png, which the Trickbot capture's
# http.log fetched 3 times (172.16.9.233 twice, 172.16.9.5 once).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-urlpath.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
Z=$DATA/zeek/trickbot-2018-11-09; L=$DATA/iocs/maltrail/malware/trickbot.txt

# every stored indicator of the list is in the index (url-paths included)
"$TIDE" --store "$W/s" ingest --format list --source maltrail "$L" >/dev/null 2>&1
"$TIDE" --store "$W/s" index build >/dev/null 2>&1
stored=$("$TIDE" --store "$W/s" stats --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['indicators'])")
indexed=$("$TIDE" --store "$W/s" index info --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['indicators'])")
paths=$(grep -c '^/' "$L")
check "index holds every stored indicator ($indexed of $stored; the list has $paths paths)" \
  '[ -n "$stored" ] && [ "$stored" = "$indexed" ] && [ "$paths" -gt 100 ]'

# live: the three fetches of /worming.png in the real http.log
"$TIDE" --store "$W/s" match --no-store --no-history "$Z/http.log" >"$W/live.jsonl" 2>/dev/null
check "live: /worming.png fetched by 172.16.9.233 (2) and 172.16.9.5 (1)" 'python3 - "$W/live.jsonl" <<PY
import json, sys, collections
c = collections.Counter(d["host"] for d in map(json.loads, open(sys.argv[1]))
                        if d["type"] == "url-path" and d["indicator"] == "/worming.png"
                        and d["observed"].endswith("/worming.png"))
print(dict(c))
sys.exit(c != {"172.16.9.233": 2, "172.16.9.5": 1})
PY'

# retro: history first, then the list; the ingest's hunt and tide hunt find the same
"$TIDE" --store "$W/h" history import "$Z/http.log" >/dev/null 2>&1
"$TIDE" --store "$W/h" ingest --format list --source maltrail "$L" >/dev/null 2>&1
"$TIDE" --store "$W/h" hunt --all --json --no-store >"$W/hunt.jsonl" 2>/dev/null
check "hunt: /worming.png retro-sightings for both hosts, counts as live" 'python3 - "$W/hunt.jsonl" <<PY
import json, sys
c = {d["host"]: d["count"] for d in map(json.loads, open(sys.argv[1])) if d["indicator"] == "/worming.png"}
print(c)
sys.exit(c != {"172.16.9.233": 2, "172.16.9.5": 1})
PY'
"$TIDE" --store "$W/h" sightings --retro --json >"$W/retro.jsonl" 2>/dev/null
check "the ingest's retro-hunt stored them" 'grep -q "/worming.png" "$W/retro.jsonl"'

# any host, this path: Squid, Suricata EVE http and an Apache request line (no host)
printf '/share/Desktop.ini\n' >"$W/paths.txt"
printf '1735725600.100    120 10.1.2.3 TCP_MISS/200 431 GET http://any.host/share/Desktop.ini - HIER_DIRECT/51.68.170.59 text/plain\n1735725601.100    120 10.1.2.4 TCP_MISS/200 431 GET http://any.host/xshare/Desktop.ini - HIER_DIRECT/51.68.170.59 text/plain\n1735725602.100    120 10.1.2.5 TCP_MISS/200 431 GET http://any.host/share/Desktop.ini.bak - HIER_DIRECT/51.68.170.59 text/plain\n' >"$W/access.log"
cat >"$W/eve.json" <<'J'
{"timestamp":"2025-01-01T10:00:00.000000+0000","event_type":"http","src_ip":"10.4.17.101","src_port":50000,"dest_ip":"93.184.216.34","dest_port":80,"proto":"TCP","http":{"hostname":"files.example.org","url":"/a/share/Desktop.ini","http_method":"GET","status":200}}
J
echo '10.9.8.7 - - [01/Jan/2025:10:00:02 +0000] "GET /share/Desktop.ini HTTP/1.1" 200 12 "-" "curl/8"' >"$W/apache.log"
"$TIDE" --store "$W/p" ingest --format list --source t "$W/paths.txt" >/dev/null 2>&1
"$TIDE" --store "$W/p" match --no-store --no-history "$W/access.log" "$W/eve.json" "$W/apache.log" >"$W/p.jsonl" 2>/dev/null
check "live: squid, EVE and apache hit /share/Desktop.ini; /xshare/ and .bak do not" 'python3 - "$W/p.jsonl" <<PY
import json, sys
h = sorted(d["host"] for d in map(json.loads, open(sys.argv[1])) if d["indicator"] == "/share/Desktop.ini")
print(h)
sys.exit(h != ["10.1.2.3", "10.4.17.101", "10.9.8.7"])
PY'
"$TIDE" --store "$W/q" history import "$W/access.log" "$W/eve.json" "$W/apache.log" >/dev/null 2>&1
"$TIDE" --store "$W/q" ingest --format list --source t "$W/paths.txt" >/dev/null 2>&1
"$TIDE" --store "$W/q" hunt --all --json --no-store >"$W/q.jsonl" 2>/dev/null
check "hunt: the same three hosts, retroactively" 'python3 - "$W/q.jsonl" <<PY
import json, sys
h = sorted(d["host"] for d in map(json.loads, open(sys.argv[1])) if d["indicator"] == "/share/Desktop.ini")
print(h)
sys.exit(h != ["10.1.2.3", "10.4.17.101", "10.9.8.7"])
PY'

# a STIX indicator of the same shape (as a MISP uri attribute is written) matches the same way
cat >"$W/b.json" <<'J'
{"type":"bundle","id":"bundle--6f1f2b52-0d8e-4d0e-9c1c-3d2f5a1b7e01","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","valid_from":"2025-01-01T00:00:00.000Z","pattern_type":"stix","pattern":"[url:value LIKE '%/share/Desktop.ini']"}]}
J
"$TIDE" --store "$W/x" ingest "$W/b.json" >/dev/null 2>&1
"$TIDE" --store "$W/x" match --no-store --no-history "$W/access.log" >"$W/x.jsonl" 2>/dev/null
check "STIX [url:value LIKE '%/share/Desktop.ini'] matches only the exact path" \
  '[ "$(grep -c "indicator--0b1c2d3e" "$W/x.jsonl")" = 1 ] && grep -q "10.1.2.3" "$W/x.jsonl"'
echo "url_path: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
