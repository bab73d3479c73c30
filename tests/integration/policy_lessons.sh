#!/usr/bin/env bash
# policy_lessons.sh - prevention lessons written as rules become policy exports when the case
# closes (issue 16, SPEC C5 / C6), through the commands, on real data: maltrail's latrodectus
# list and the Stamus SSLoad EVE (host 10.4.17.101), a case opened from its sighting and taken
# through recovery, an asset inventory where that host runs Java 1.6, and the seed's two
# examples as rules: "deny internet egress to hosts running an end-of-life Java runtime"
# (software java < 1.7 -> deny-egress, as nft and as ipset) and "the proxy blocks domains in no
# known category" (proxy deny-uncategorized categories FILE).
#  - a bad rule is refused by `case lessons` with its line and reason, nothing stored;
#  - `case close` declares each as an export target, writes it at once and says so; the case
#    names them; `tide export --status` lists them;
#  - the nft / ipset file denies the Java 1.6 host's egress (nft -c accepts it), not the others';
#    the Squid config allows the categorised domains and denies the rest (squid -k parse);
#  - a new asset inventory rewrites the policy export by itself (the policy follows the assets).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
EVE=$DATA/suricata/stamus-suricata-analytics/mta-2024-04-17-ssload.eve.json
M=$DATA/iocs/maltrail/malware
if [ ! -f "$EVE" ] || [ ! -f "$M/latrodectus.txt" ]; then
  [ "${CI:-}" = true ] && { echo "FAIL shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-policy-lessons.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { [ "${CI:-}" = true ] && { echo "FAIL $c missing (CI=true)"; fail=$((fail+1)); }; echo "skip: no $c"; return 1; }; done; }
cd "$W"
S="--store $W/s"

# ---- a case on real data, taken through recovery
"$TIDE" $S ingest --format list "$M/latrodectus.txt" >/dev/null 2>&1
"$TIDE" $S match "$EVE" >/dev/null 2>&1
sid=$("$TIDE" $S sightings --host 10.4.17.101 --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
CID=$("$TIDE" $S case open --sighting "$sid" --now 2024-04-18T00:00:00Z 2>/dev/null)
check "setup: a case is open on 10.4.17.101" '[ -n "$CID" ] && "$TIDE" $S case show "$CID" --json | grep -q 10.4.17.101'
for st in contained eradicated recovered; do
    "$TIDE" $S case host "$CID" 10.4.17.101 --state $st --now 2024-04-19T00:00:00Z >/dev/null 2>&1
done
"$TIDE" $S case refresh "$CID" --now 2024-06-01T00:00:00Z >/dev/null 2>&1

# the inventory: the infected host runs Java 1.6, another 1.8, a server OpenJDK 1.6 (not "java")
cat >assets.csv <<'CSV'
host,ips,hostname,owner,criticality,software
10.4.17.101,10.4.17.101,desktop-ssload.corp,alice,low,"java 1.6.0_45;firefox 115.0"
10.4.17.102,10.4.17.102,desktop-2.corp,bob,low,java 1.8.0_392
10.4.20.5,10.4.20.5,srv-01.corp,ops,critical,openjdk 1.6.0
CSV
"$TIDE" $S assets import assets.csv >/dev/null 2>&1
printf 'domain,category\nexample.com,business\nwww.example.com,business\nnews-tide-test.org,news\nwindowsupdate.com,software-updates\n' >cats.csv

# ---- bad rules are refused at lessons time, with line and reason
printf '# lessons\nindicator: krd6[.]com\npolicy: software java ~ 1.7 -> deny-egress\n' >bad1.txt
"$TIDE" $S case lessons "$CID" --file bad1.txt >bad1.out 2>bad1.err
check "bad rule: refused (exit 2) with file:line and the reason" '[ $? = 2 ] && grep -q "bad1.txt:3:" bad1.err && grep -q "operator" bad1.err'
printf 'prevention: proxy deny-uncategorized\n' >bad2.txt
"$TIDE" $S case lessons "$CID" --file bad2.txt >/dev/null 2>bad2.err
check "bad rule: proxy rule without its categories refused at line 1" '[ $? = 2 ] && grep -q "bad2.txt:1:" bad2.err && grep -q "categories FILE" bad2.err'
printf 'policy: proxy deny-uncategorized categories %s/none.csv\n' "$W" >bad3.txt
"$TIDE" $S case lessons "$CID" --file bad3.txt >/dev/null 2>bad3.err
check "bad rule: a category file that does not exist is refused" '[ $? = 2 ] && grep -q "bad3.txt:1:.*none.csv" bad3.err'
printf 'policy: software java < 1.7 -> deny-egress as pf\n' >bad4.txt
"$TIDE" $S case lessons "$CID" --file bad4.txt >/dev/null 2>bad4.err
check "bad rule: an unknown format is refused" '[ $? = 2 ] && grep -q "bad4.txt:1:.*nft or ipset" bad4.err'
check "bad rules: nothing stored" '"$TIDE" $S case show "$CID" --json | python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)[\"lessons\"] is None else 1)"'

# ---- the lessons: the seed's two examples, as rules
cat >lessons.txt <<'EOF'
# lessons learned of the SSLoad case
indicator: krd6[.]com
prevention: deny internet egress to hosts running an end-of-life Java runtime
prevention: software java < 1.7 -> deny-egress
policy: software java < 1.7 -> deny-egress as ipset
prevention: proxy blocks domains that are not in any known category
policy: proxy deny-uncategorized categories cats.csv
detection-gap: the proxy logs were not matched
response-gap: no owner on record for the server
EOF
"$TIDE" $S case lessons "$CID" --file lessons.txt >/dev/null 2>&1
check "lessons with rules: accepted" '[ $? = 0 ]'
"$TIDE" $S case close "$CID" --now 2024-06-01T00:00:00Z >close.out 2>close.err
check "close: succeeds and reports the three policy exports" '[ $? = 0 ] && [ "$(grep -c "^policy export case-$CID-policy-" close.out)" = 3 ]'
NFT=$W/s/policies/case-$CID-policy-1.nft IPSET=$W/s/policies/case-$CID-policy-2.ipset SQ=$W/s/policies/case-$CID-policy-3
check "close: the outputs are named (STATE/policies/...)" 'grep -q "$NFT" close.out && grep -q "$IPSET" close.out && grep -q "$SQ" close.out'
check "nft: the Java 1.6 host's egress is denied, not the others'" 'grep -q "elements = { 10.4.17.101 }" "$NFT" && ! grep -q "10.4.17.102\|10.4.20.5" "$NFT" && grep -q "ip saddr @deny_egress_v4 ip daddr != @internal_v4 counter drop" "$NFT"'
if need nft unshare && unshare -n true 2>/dev/null; then
  check "nft -c accepts the policy export" 'unshare -n nft -c -f "$NFT"'
fi
check "ipset: the Java 1.6 host only" 'grep -qx "add tide_deny_egress_v4 10.4.17.101" "$IPSET" && ! grep -q "10.4.17.102\|10.4.20.5" "$IPSET"'
check "squid: categorised domains allowed, everything else denied" 'grep -qx ".example.com" "$SQ/tide-allowed.acl" && grep -qx ".windowsupdate.com" "$SQ/tide-allowed.acl" && grep -q "http_access allow tide_allowed_categories" "$SQ/tide-categories.conf" && tail -1 "$SQ/tide-categories.conf" | grep -qx "http_access deny all"'
if need squid; then
  printf 'http_port 127.0.0.1:3999\ninclude %s\n' "$SQ/tide-categories.conf" >sq.conf
  squid -k parse -f sq.conf >sq.log 2>&1
  check "squid -k parse accepts the category policy" '[ $? = 0 ] && ! grep -qiE "fatal|error" sq.log'
fi
"$TIDE" $S case show "$CID" --json >case.json 2>/dev/null
check "the case names its policy exports" "py case.json 'sorted(p[\"name\"] for p in d[\"policy_exports\"]) == [\"case-$CID-policy-%d\" % k for k in (1, 2, 3)] and d[\"policy_exports\"][0][\"rule\"] == \"software java < 1.7 -> deny-egress\" and d[\"policy_exports\"][0][\"entries\"] == 1'"
check "the case report (Markdown) lists them" '"$TIDE" $S case show "$CID" | grep -q "case-$CID-policy-3 (squid"'
"$TIDE" $S export --status --json >status.json 2>/dev/null
check "tide export --status lists them as targets, with their rules" "py status.json 'sum(1 for t in d if t[\"name\"].startswith(\"case-$CID-policy-\")) == 3 and any(t.get(\"policy\") == \"software java < 1.7 -> deny-egress\" and t[\"format\"] == \"ipset\" for t in d) and any(t.get(\"categories\", \"\").endswith(\"/cats.csv\") for t in d)'"
check "the lessons' indicator was promoted too" 'grep -q "1 indicator" close.out'

# ---- the policy follows the assets: a new inventory rewrites it, nothing else run
cat >assets2.csv <<'CSV'
host,ips,hostname,owner,criticality,software
10.4.17.102,10.4.17.102,desktop-2.corp,bob,low,java 1.5.0_22
CSV
"$TIDE" $S assets import assets2.csv >assets2.out 2>assets2.err
check "assets import: the policy targets are rewritten (reported)" 'grep -q "case-$CID-policy-1" assets2.err'
check "nft: the newly vulnerable host is denied too" 'grep -q "elements = { 10.4.17.101, 10.4.17.102 }" "$NFT"'
check "ipset: likewise" 'grep -qx "add tide_deny_egress_v4 10.4.17.102" "$IPSET"'
M1=$(stat -c %Y.%s "$NFT" 2>/dev/null); sleep 1
"$TIDE" $S assets import assets2.csv >/dev/null 2>&1
check "the same inventory again rewrites nothing" '[ -n "$M1" ] && [ "$(stat -c %Y.%s "$NFT")" = "$M1" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
