#!/usr/bin/env bash
# bad_input.sh - one bad record costs one record: every fault of the trust campaign's "bad
# input" list fed through `tide ingest` as a user would, checking that the good records beside
# it are stored, the bad one is named (file, line, reason), and nothing already stored is lost.
# The readers' own fuzz corpora (fuzz/corpora/*) keep the byte-level reproducers.
set -u
TIDE=$(realpath "$1"); SRC=$2
W=$(mktemp -d /tmp/tide-bad-input.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
indicators() { "$TIDE" --store "$1" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['indicators'])"; }
shows() { "$TIDE" --store "$1" show "$2" 2>/dev/null | grep -q '^indicator--'; }
cd "$W" || exit 1

# 1. a non-UTF-8 CSV value rejects its row, not the feed (it used to abort as "out of memory")
printf 'indicator,type\n1.2.3.4,ipv4\n5.6.7.\xff8,ipv4\n9.9.9.9,ipv4\n' >a.csv
"$TIDE" --store s1 ingest --format csv a.csv 2>e1; rc=$?
check "non-UTF-8 CSV value: exit 1 (some rejected), not 3 (rc=$rc)" '[ $rc = 1 ]'
check "non-UTF-8 CSV value: named with line and byte" 'grep -q "a.csv:3 (byte [0-9]*): .*not valid UTF-8" e1'
check "non-UTF-8 CSV value: the good rows stored" '[ "$(indicators s1)" = 2 ] && shows s1 9.9.9.9'

# 2. a file name that is not UTF-8 still names its input, and the feed is read
cp a.csv "$(printf 'f\xffx.csv')"
"$TIDE" --store s2 ingest --format csv "$(printf 'f\xffx.csv')" 2>e2; rc=$?
check "non-UTF-8 file name: read (rc=$rc)" '[ $rc = 1 ] && [ "$(indicators s2)" = 2 ]'

# 3. --source / --family that are not UTF-8 are usage errors (exit 2), the store untouched
"$TIDE" --store s1 ingest --source "$(printf 'bad\xff')" a.csv 2>e3; rc=$?
check "non-UTF-8 --source: usage error (rc=$rc)" '[ $rc = 2 ] && grep -q "source is not valid UTF-8" e3'
"$TIDE" --store s1 ingest --family "$(printf 'bad\xff')" a.csv 2>e3; rc=$?
check "non-UTF-8 --family: usage error (rc=$rc)" '[ $rc = 2 ] && grep -q "family is not valid UTF-8" e3'
check "usage errors leave the store as it was" '[ "$(indicators s1)" = 2 ]'

# 4. an unterminated CSV quote ends with its line: the 1000 rows after it are read
{ printf 'indicator,type\n"1.2.3.4,ipv4\n'; for i in $(seq 0 999); do echo "10.0.$((i / 256)).$((i % 256)),ipv4"; done; } >q.csv
"$TIDE" --store s3 ingest --format csv q.csv 2>e4
check "unterminated quote: one rejected record with its line" 'grep -q "q.csv:2 (byte [0-9]*): unterminated quote" e4 && grep -q "1 rejected" e4'
check "unterminated quote: the next 1000 rows stored" '[ "$(indicators s3)" = 1000 ]'

# 5. STIX: a control byte before the bundle, and bad fields, each cost their record only
ind() { printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"%s","valid_from":"2024-01-01T00:00:00Z"%s}' "$1" "$2" "$3"; }
{ printf '\001{"type":"bundle","id":"bundle--11111111-1111-4111-8111-111111111111","objects":[\n'
  ind 1 "[ipv4-addr:value = '1.1.1.1']" ''; printf ',\n'
  ind 2 "[ipv4-addr:value = '999.2.3.4']" ''; printf ',\n'
  ind 3 "[domain-name:value = 'a\\\\nb.example']" ''; printf ',\n'
  ind 4 "[ipv4-addr:value = '2.2.2.2']" ',"valid_until":"2023-01-01T00:00:00Z"'; printf ',\n'
  ind 5 "[ipv4-addr:value = '3.3.3.3']" ',"confidence":1e30'; printf ',\n'
  ind 6 "[ipv4-addr:value = '4.4.4.4']" ',"created":"-0001-01-01T00:00:00Z"'; printf ',\n'
  ind 7 "[ipv4-addr:value = '5.5.5.5']" ',"x_y":1,"valid_from":"2024-13-01T00:00:00Z"'; printf ',\n'
  ind 8 "[ipv4-addr:value = '5.5.5.6']" ',"modified":"99999-01-01T00:00:00Z"'; printf ',\n'
  ind 9 "[domain-name:value = 'good.example']" ''
  printf '\n]}\n'; } >b.json
sed -i "s/a\\\\\\\\nb/a\\\\nb/" b.json # the domain holds a real newline (JSON \n)
"$TIDE" --store s4 ingest b.json 2>e5; rc=$?
check "control byte before a bundle: auto-detected as STIX, byte named" 'grep -q "b.json:1 (byte 0): 1 control byte" e5'
check "999.2.3.4 rejected" 'grep -q "b.json:3 .*999.2.3.4.* not a valid ipv4" e5'
check "a domain with a newline rejected" 'grep -q "b.json:4 .*not a valid domain" e5'
check "valid_until before valid_from rejected" 'grep -q "b.json:5 .*valid_until .* is not after valid_from" e5'
check "confidence 1e30 rejected" 'grep -q "b.json:6 .*confidence .* is not an integer 0-100" e5'
check "year -1 rejected" 'grep -q "b.json:7 .*created .* is not a valid timestamp" e5'
check "month 13 rejected" 'grep -q "b.json:8 .*valid_from .* is not a valid timestamp" e5'
check "year 99999 rejected" 'grep -q "b.json:9 .*modified .* is not a valid timestamp" e5'
check "the two good indicators stored (rc=$rc)" '[ $rc = 1 ] && [ "$(indicators s4)" = 2 ] && shows s4 1.1.1.1 && shows s4 good.example'

# 6. MISP: a timestamp past 9.2e15 (signed overflow before) rejects its event with the reason;
# the next event in the folder is read
mkdir misp
echo '{"Event":{"uuid":"5e0f0f0f-0000-4000-8000-000000000001","info":"x","date":"2024-01-01","timestamp":"9300000000000000","Attribute":[{"type":"ip-dst","value":"7.7.7.7","to_ids":true,"uuid":"5e0f0f0f-0000-4000-8000-000000000002"}]}}' >misp/1.json
echo '{"Event":{"uuid":"5e0f0f0f-0000-4000-8000-000000000011","info":"y","date":"2024-01-01","timestamp":"1700000000","Attribute":[{"type":"ip-dst","value":"7.7.7.8","to_ids":true,"timestamp":"99999999999999999","uuid":"5e0f0f0f-0000-4000-8000-000000000012"},{"type":"ip-dst","value":"7.7.7.9","to_ids":true,"uuid":"5e0f0f0f-0000-4000-8000-000000000013"}]}}' >misp/2.json
"$TIDE" --store s5 ingest --format misp misp 2>e6
check "MISP event timestamp out of range: the event rejected with the reason" 'grep -q "1.json:1 .*timestamp 9300000000000000 is out of range" e6'
check "MISP attribute timestamp out of range: the attribute rejected, its sibling kept" 'grep -q "2.json:.*out of range" e6 && shows s5 7.7.7.9 && ! shows s5 7.7.7.8'

# 7. URL normalisation is idempotent: a value normalised once is its own normal form
printf 'http://x.example/p%%6%%66x\n' >u.txt
"$TIDE" --store s6 ingest --format list u.txt 2>/dev/null
stored=$("$TIDE" --store s6 export --format txt --tlp-max red --min-score 0 2>/dev/null | grep x.example)
# "%6" starts no escape, so "%66" next to it stays an escape: decoding it would make "%6f",
# which a second normalisation would turn into "o"
check "URL normal form stored ($stored)" '[ "$stored" = "http://x.example/p%6%66x" ]'
check "the stored form matches itself, not a further decoding" 'shows s6 "$stored" && ! shows s6 http://x.example/pox'

# 8. bad input never loses what is stored: a feed of only bad rows leaves the store as it was
before=$("$TIDE" --store s4 stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['objects'])")
printf 'indicator,type\n"oops,ipv4\n\xff\xfe,ipv4\n' >bad.csv
"$TIDE" --store s4 ingest --format csv bad.csv 2>/dev/null
after=$("$TIDE" --store s4 stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['objects'])")
check "a bad feed loses nothing stored ($before -> $after)" '[ -n "$before" ] && [ "$before" = "$after" ]'

# 9. memory per MISP event is bounded: the reader holds a few times the event's bytes, not the
# whole parsed tree (a 14 MB event of 100 000 attributes took 13x its size beyond what the same
# indicators cost as a list; now about 6x). Peak RSS is meaningless under ASan: skipped there.
if ldd "$TIDE" 2>/dev/null | grep -q asan || [ ! -x /usr/bin/time ]; then
  echo "skip memory bound (sanitized build or no /usr/bin/time)"
else
  python3 - <<'EOF'
import json, uuid
N = 100000
vals = ["10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(N)]
attrs = [{"type": "ip-dst", "value": v, "to_ids": True, "category": "Network activity",
          "uuid": str(uuid.UUID(int=i + 1, version=4))} for i, v in enumerate(vals)]
json.dump({"Event": {"uuid": "5e0f0f0f-0000-4000-8000-00000000abcd", "info": "big", "date": "2024-01-01",
                     "timestamp": "1700000000", "Attribute": attrs}}, open("big.json", "w"))
open("big.txt", "w").write("".join(v + "\n" for v in vals))
EOF
  /usr/bin/time -f %M -o rss_misp "$TIDE" --store m1 ingest big.json 2>/dev/null
  /usr/bin/time -f %M -o rss_list "$TIDE" --store m2 ingest --format list big.txt 2>/dev/null
  bytes=$(stat -c %s big.json); misp=$(tail -1 rss_misp); list=$(tail -1 rss_list)
  extra=$(( (misp - list) * 1024 ))
  echo "MISP event $bytes B: peak $misp KB, same indicators as a list $list KB: $((extra / bytes))x the event"
  check "MISP event memory beyond a list's under 9x its bytes" '[ "$list" -gt 10000 ] && [ $extra -lt $((9 * bytes)) ]'
  check "MISP event read whole" '[ "$(indicators m1)" = 100000 ]'
fi

echo "bad_input: $pass passed, $fail failed"
[ $fail = 0 ]
