#!/usr/bin/env bash
# pattern_like.sh - STIX patterns made only of LIKE / MATCHES comparisons (issue 17): they have
# no observable, so the store scan dropped them and they never fired. Now the index holds the
# literal fragments their values must contain, the matcher looks for them in the observed
# values of the kinds they apply to and confirms each candidate with the whole pattern; what
# gives nothing to look for is listed by `tide index info --left-out` with the reason.
# Logs written here (Zeek http / dns TSV, Suricata EVE, Sysmon), with near misses, and real
# ones: the Trickbot capture's http.log (/worming.png, 3 fetches by 2 hosts), the OTRF Sysmon
# DNS queries of raw.githubusercontent.com, and STIX examples whose MATCHES name objects no
# telemetry carries (e-mail messages): listed as left out.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-like.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"

ind() { # id-suffix pattern-json [pattern_type]
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--7a1c0000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","valid_from":"2026-01-01T00:00:00Z","name":"like-%s","pattern_type":"%s","pattern":"%s"}' "$1" "$1" "${3:-stix}" "$2"
}
{
  printf '{"type":"bundle","id":"bundle--7a1c0000-0000-4000-8000-000000000000","objects":['
  ind 1 "[url:value MATCHES '^https?://[^/]+/wp-admin/[a-z0-9]{8}\\\\\\\\.php\$']"; printf ','
  ind 2 "[domain-name:value LIKE '%.duckdns.org']"; printf ','
  ind 3 "[domain-name:value MATCHES '^[a-z]{12}\\\\\\\\.(com|net)\$']"; printf ','
  ind 4 "[file:name MATCHES '^invoice_[0-9]+\\\\\\\\.pdf\\\\\\\\.exe\$']"; printf ','
  ind 5 "title: x\\\\ndetection: y" sigma; printf ','
  ind 6 "[url:value MATCHES '/worming\\\\\\\\.png\$']"; printf ','
  ind 7 "[domain-name:value LIKE '%.githubusercontent.com'] OR [domain-name:value = 'never.example']"; printf ','
  ind 8 "[domain-name:value = 'plain.example' OR domain-name:value MATCHES 'tracker[0-9]+\\\\\\\\.example\$']"
  printf ']}\n'
} >like.json
"$TIDE" --store s ingest --format stix like.json >ingest.out 2>&1
check "the bundle is ingested (8 indicators)" 'grep -q "8 stored (8 indicators)" ingest.out || { cat ingest.out; false; }'
"$TIDE" --store s index build --json --left-out >info.json 2>info.err
check "index: 5 indicators by fragments, 3 left out, each listed with its reason" 'python3 - info.json <<PY
import json, sys
d = json.load(open(sys.argv[1]))
left = {x["id"][-2:]: (x["reason"], x.get("detail", "")) for x in d["left_out_list"]}
print(d["indicators"], d["pattern_only"], d["left_out"], d["left_out_by"], left)
ok = (d["indicators"] == 5 and d["pattern_only"] == 5 and d["left_out"] == 3
      and d["left_out_by"] == {"nothing-to-look-for": 2, "pattern-type": 1}
      and left["03"][0] == "nothing-to-look-for" and "no literal run of 3" in left["03"][1]
      and left["04"][0] == "nothing-to-look-for" and "file:name" in left["04"][1]
      and left["05"] == ("pattern-type", "sigma"))
sys.exit(0 if ok else 1)
PY'
"$TIDE" --store s index info --left-out >info.txt 2>&1
check "index info --left-out (text): id, reason, detail per line" \
  'grep -q "left out   3 (2 nothing-to-look-for, 1 pattern-type)" info.txt && [ "$(grep -c "^indicator--7a1c" info.txt)" = 3 ]'

# Zeek http and dns (TSV), the matches and their near misses
H='#separator \x09
#path	http
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	method	host	uri
#types	time	string	addr	port	addr	port	string	string	string'
{ echo "$H"
  printf '1767261600.0\tC1\t10.1.0.1\t40001\t203.0.113.10\t80\tGET\tblog.example.org\t/wp-admin/abcd1234.php\n'
  printf '1767261601.0\tC2\t10.1.0.2\t40002\t203.0.113.10\t80\tGET\tblog.example.org\t/wp-admin/abcd12345.php\n'
  printf '1767261602.0\tC3\t10.1.0.3\t40003\t203.0.113.10\t80\tGET\tblog.example.org\t/wp-admin/ABCD1234.php\n'
  printf '1767261603.0\tC4\t10.1.0.4\t40004\t203.0.113.10\t80\tGET\tblog.example.org\t/x/wp-admin/abcd1234.php\n'
  printf '1767261604.0\tC5\t10.1.0.5\t40005\t203.0.113.10\t80\tGET\tblog.example.org\t/wp-admin/abcd1234.phpx\n'
} >http.log
D='#separator \x09
#path	dns
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	query
#types	time	string	addr	port	addr	port	enum	string'
{ echo "$D"
  printf '1767261600.0\tD1\t10.2.0.1\t5301\t10.0.0.53\t53\tudp\tx.duckdns.org\n'
  printf '1767261601.0\tD2\t10.2.0.2\t5302\t10.0.0.53\t53\tudp\tduckdns.org\n'
  printf '1767261602.0\tD3\t10.2.0.3\t5303\t10.0.0.53\t53\tudp\tx.duckdns.org.evil.example\n'
  printf '1767261603.0\tD4\t10.2.0.4\t5304\t10.0.0.53\t53\tudp\tX.DuckDNS.org\n'
  printf '1767261604.0\tD5\t10.2.0.5\t5305\t10.0.0.53\t53\tudp\ttracker42.example\n'
  printf '1767261605.0\tD6\t10.2.0.6\t5306\t10.0.0.53\t53\tudp\ttracker.example\n'
} >dns.log
cat >eve.json <<'J'
{"timestamp":"2026-01-01T10:00:00.000000+0000","event_type":"http","src_ip":"10.3.0.1","src_port":50000,"dest_ip":"203.0.113.11","dest_port":80,"proto":"TCP","http":{"hostname":"shop.example.net","url":"/wp-admin/zz99yy88.php","http_method":"GET","status":200}}
{"timestamp":"2026-01-01T10:00:01.000000+0000","event_type":"http","src_ip":"10.3.0.2","src_port":50001,"dest_ip":"203.0.113.11","dest_port":80,"proto":"TCP","http":{"hostname":"shop.example.net","url":"/wp-admin/zz99yy8.php","http_method":"GET","status":200}}
{"timestamp":"2026-01-01T10:00:02.000000+0000","event_type":"dns","src_ip":"10.3.0.3","src_port":5353,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"a.b.duckdns.org","rrtype":"A","tx_id":1}}
{"timestamp":"2026-01-01T10:00:03.000000+0000","event_type":"dns","src_ip":"10.3.0.4","src_port":5353,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"a.b.duckdns.org.example","rrtype":"A","tx_id":2}}
J
cat >sysmon.json <<'J'
{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":22,"Hostname":"PC-LIKE-1","TimeCreated":"2026-01-01T10:00:00.000Z","@timestamp":"2026-01-01T10:00:00.000Z","QueryName":"c2.duckdns.org","QueryResults":"::ffff:198.51.100.7;"}
{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":22,"Hostname":"PC-LIKE-2","TimeCreated":"2026-01-01T10:00:01.000Z","@timestamp":"2026-01-01T10:00:01.000Z","QueryName":"duckdns.org.cdn.example","QueryResults":"::ffff:198.51.100.8;"}
J
"$TIDE" --store s match --no-store --no-history http.log dns.log eve.json sysmon.json >live.jsonl 2>live.err
check "live: each pattern fires on its matches only (Zeek http/dns, EVE http/dns, Sysmon)" 'python3 - live.jsonl <<PY
import json, sys
got = sorted((d["host"], d["indicator_id"][-2:], d["observed"]) for d in map(json.loads, open(sys.argv[1])))
want = sorted([("10.1.0.1", "01", "http://blog.example.org/wp-admin/abcd1234.php"),
        ("10.2.0.1", "02", "x.duckdns.org"), ("10.2.0.4", "02", "X.DuckDNS.org"),
        ("10.2.0.5", "08", "tracker42.example"),
        ("10.3.0.1", "01", "http://shop.example.net/wp-admin/zz99yy88.php"),
        ("10.3.0.3", "02", "a.b.duckdns.org"), ("PC-LIKE-1", "02", "c2.duckdns.org")])
for g in got: print(g)
sys.exit(0 if got == want else 1)
PY'
want_ind='"indicator":"[domain-name:value LIKE '"'"'%.duckdns.org'"'"']","indicator_id"'
check "a LIKE sighting names the pattern as its indicator" 'grep -qF "$want_ind" live.jsonl'

# real logs: the Trickbot capture fetched /worming.png 3 times (2 hosts); OTRF's Sysmon DNS
# queries of raw.githubusercontent.com (WORKSTATION5, twice)
Z=$DATA/zeek/trickbot-2018-11-09; SY=$DATA/sysmon/otrf-security-datasets
"$TIDE" --store s match --no-store --no-history "$Z/http.log" "$SY/cmd_bitsadmin_download_psh_script_2020-10-2302365189.json" \
  "$SY/psh_mshta_html_application_execution_2020-10-2203521411.json" >real.jsonl 2>real.err
check "real: MATCHES '/worming\\.png\$' on the Trickbot http.log, LIKE '%.githubusercontent.com' on Sysmon" 'python3 - real.jsonl <<PY
import json, sys, collections
c = collections.Counter((d["indicator_id"][-2:], d["host"]) for d in map(json.loads, open(sys.argv[1])))
print(dict(c))
sys.exit(0 if c == {("06", "172.16.9.233"): 2, ("06", "172.16.9.5"): 1, ("07", "WORKSTATION5"): 2} else 1)
PY'

# real STIX examples: e-mail MATCHES patterns name objects no telemetry observation carries
"$TIDE" --store e ingest --format stix "$DATA/stix21/cti-documentation/examples/example_json/using-granular-markings.json" \
  "$DATA/stix21/cti-stix2-json-schemas/examples/malicious-email-indicator-with-attachment.json" >/dev/null 2>&1
"$TIDE" --store e index build --json --left-out >e.json 2>/dev/null
stored=$("$TIDE" --store e stats --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['indicators'])")
check "real STIX examples: every stored indicator indexed or listed as left out, with its reason" 'python3 - e.json "$stored" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
print(sys.argv[2], d["indicators"], d["left_out"], [(x["reason"], x.get("detail")) for x in d["left_out_list"]])
ok = (int(sys.argv[2]) == d["indicators"] + d["left_out"] and d["left_out"] >= 2
      and all("email-message" in x.get("detail", "") for x in d["left_out_list"]))
sys.exit(0 if ok else 1)
PY'

echo "pattern_like: $pass passed, $fail failed"
[ "$fail" = 0 ]
