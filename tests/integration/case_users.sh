#!/usr/bin/env bash
# case_users.sh - plans name the users seen on a host when the telemetry carries them (issue 16):
#  - the real Squid access.log (ident users badeyek, adeolaegbedokun, nazsoau and "-") plus a CEF
#    line with suser: `tide sightings --json` keeps the users per host x indicator, and a
#    campaign case's plan resets the credentials of exactly the users seen on each host, with
#    the sighting that carried each one as evidence; the host whose log lines carry "-" gets no
#    credential action;
#  - the real Sysmon log of the APT simulator: the hash seen run by WORKSTATION5\APT-Simulator and
#    by NT AUTHORITY\SYSTEM: the account is reset, the built-in one is named as not reset;
#  - the plan's words match its scope: the block action counts each kind and exports every
#    attributed name with a format that carries it, the watch names the case's tier, and the
#    shared courses of action say on how many of the case's hosts they apply (no user names).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
if [ ! -d "$DATA" ]; then
  [ "${CI:-}" = true ] && { echo "shared data missing at $DATA (CI=true)"; exit 1; }
  echo "skipped: shared data absent at $DATA"; exit 77
fi
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-case-users.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
cd "$W"
T=2006-09-01T00:00:00.000Z
bundle() {  # bundle FILE CAMPAIGN MALWARE PATTERN...: a campaign using a malware, indicators of it
  python3 - "$@" <<'PY'
import json, sys
out, camp, mal, pats = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
T = "2006-09-01T00:00:00.000Z"
n = [0]
def sid(t):
    n[0] += 1
    return "%s--0c000000-0000-4000-8000-%012d" % (t, n[0])
c, m = sid("campaign"), sid("malware")
objs = [{"type": "campaign", "id": c, "name": camp}, {"type": "malware", "id": m, "name": mal, "is_family": True},
        {"type": "relationship", "id": sid("relationship"), "relationship_type": "uses", "source_ref": c, "target_ref": m}]
for p in pats:
    i = sid("indicator")
    objs += [{"type": "indicator", "id": i, "pattern": p, "pattern_type": "stix", "valid_from": T, "confidence": 85},
             {"type": "relationship", "id": sid("relationship"), "relationship_type": "indicates", "source_ref": i, "target_ref": c}]
for o in objs:
    o.update({"spec_version": "2.1", "created": T, "modified": T})
json.dump({"type": "bundle", "id": "bundle--0c000000-0000-4000-8000-000000000000", "objects": objs}, open(out, "w"))
PY
}

# ---- Squid (real) + CEF (suser) ----
S="--store $W/sq"
bundle sq.json "Operation Goal Line" "GoalKit" "[domain-name:value = 'www.goonernews.com']" \
  "[domain-name:value = 'radio.launch.yahoo.com']" "[domain-name:value = 'hi5.com']" \
  "[domain-name:value = 'natrocket.kmip.net']" "[url:value = 'http://images.hi5.com/x.gif']" \
  "[ipv4-addr:value = '175.16.199.61']"
cat >proxy.cef <<'EOF'
Sep 08 05:00:00 proxy01 CEF:0|Zscaler|NSSWeb|6.1|Allowed|URL Category|3|src=10.20.0.7 suser=jdoe@corp.example dhost=www.goonernews.com request=http://www.goonernews.com/ act=Allowed
EOF
"$TIDE" $S ingest sq.json >/dev/null 2>&1
"$TIDE" $S match "$DATA/logs/squid/squid_native_access.log" proxy.cef >/dev/null 2>&1
"$TIDE" $S sightings --json >sightings.jsonl
users_of() { python3 -c "
import json, sys
u = set()
for l in open('sightings.jsonl'):
    d = json.loads(l)
    if d['host'] == sys.argv[1]: u |= set(d.get('users', []))
print(' '.join(sorted(u)))" "$1"; }
check "sightings: Squid ident badeyek on 10.105.21.199" '[ "$(users_of 10.105.21.199)" = badeyek ]'
check "sightings: Squid ident nazsoau on 10.105.47.218, not its '-' lines" '[ "$(users_of 10.105.47.218)" = nazsoau ]'
check "sightings: no user on 10.105.37.65 (its lines carry '-')" '[ -z "$(users_of 10.105.37.65)" ] && grep -q "\"host\":\"10.105.37.65\"" sightings.jsonl'
check "sightings: CEF suser jdoe@corp.example on 10.20.0.7" '[ "$(users_of 10.20.0.7)" = jdoe@corp.example ]'
CID=$("$TIDE" $S case open --host 10.105.21.199 --indicator www.goonernews.com --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$TIDE" $S case plan "$CID" --json >plan.json 2>/dev/null
"$TIDE" $S case show "$CID" --json >case.json 2>/dev/null
reset() { python3 -c "
import json, sys
d = json.load(open('plan.json'))
print(' '.join(sorted(a['host'] for a in d['actions'] if a['action'] == 'reset-credentials')))"; }
check "plan: tier 2 (campaign), five hosts" 'py case.json "d[\"tier\"] == 2 and d[\"host_count\"] == 5"'
check "plan: credentials reset on the four hosts with users, not on 10.105.37.65" '[ "$(reset)" = "10.105.21.199 10.105.33.214 10.105.47.218 10.20.0.7" ]'
check "plan: each reset names the host's users, and only them" 'py plan.json "all((a[\"host\"], a[\"justification\"].split(\" seen on \")[1].split(\":\")[1].split(\", and end\")[0].strip()) in {(\"10.105.21.199\", \"badeyek\"), (\"10.105.33.214\", \"adeolaegbedokun\"), (\"10.105.47.218\", \"nazsoau\"), (\"10.20.0.7\", \"jdoe@corp.example\")} for a in d[\"actions\"] if a[\"action\"] == \"reset-credentials\")"'
check "plan: the reset cites the sighting that carried the user (file:line)" 'py plan.json "any(e.startswith(\"user nazsoau: \") and \"squid_native_access.log:\" in e and \"hi5.com\" in e for a in d[\"actions\"] if a[\"action\"] == \"reset-credentials\" for e in a[\"evidence\"])"'
check "plan: no text says the telemetry carries no user names" '! grep -q "carries no user names" plan.json'
check "plan: block counts each kind it blocks (4 domain, 1 url, 1 ipv4) and exports the URL to the proxy" 'py plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"block-indicators\" and \"(6: \" in a[\"justification\"] and \"4 domain\" in a[\"justification\"] and \"1 url\" in a[\"justification\"] and \"1 ipv4\" in a[\"justification\"] and \"--format squid\" in a[\"command\"] and \"--format rpz\" in a[\"command\"] and \"--format nft\" in a[\"command\"]]"'
check "plan: block covers every attributed name (campaign and malware)" 'py plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"block-indicators\" and \"--related '"'"'Operation Goal Line'"'"'\" in a[\"command\"] and \"--related '"'"'GoalKit'"'"'\" in a[\"command\"]]"'
check "plan: the watch names the case's tier" 'py plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"watch\" and a[\"justification\"].startswith(\"tier 2: \")]"'
"$TIDE" $S case plan "$CID" --markdown >plan.md 2>/dev/null
check "plan --markdown: the reset of 10.105.33.214 names adeolaegbedokun" 'grep -q "reset-credentials\*\* (identity) on 10.105.33.214 .*adeolaegbedokun" plan.md'
"$TIDE" $S case share "$CID" --tlp-max red --output share.json >/dev/null 2>&1
check "share: the reset course of action counts 4 of 5 hosts and 4 accounts, names none" 'py share.json "[o for o in d[\"objects\"] if o[\"type\"] == \"course-of-action\" and o[\"name\"] == \"identity/reset-credentials\" and \"reset-credentials (identity) on 4 of the case\" in o[\"description\"] and \"4 user account(s)\" in o[\"description\"]]" && ! grep -q "badeyek\|nazsoau\|jdoe" share.json'
check "share: isolation applies to each of the 5 hosts" 'py share.json "[o for o in d[\"objects\"] if o[\"type\"] == \"course-of-action\" and o[\"name\"] == \"network/isolate\" and \"isolate (network) on each of 5 of the case\" in o[\"description\"]]"'

# ---- Sysmon (real): an account and a built-in one ran the same file ----
S="--store $W/sy"
bundle sy.json "Operation Pipe Dream" "PipeKit" \
  "[file:hashes.'SHA-256' = '5ddc0abc2c0da8195b7832ea1c27e0ebe6f2cc4eb379fefeebfbfd93df12a181']"
"$TIDE" $S ingest sy.json >/dev/null 2>&1
"$TIDE" $S match "$DATA/sysmon/otrf-security-datasets/aptsimulator_cobaltstrike_2021-06-11T21081492.json" >/dev/null 2>&1
CID=$("$TIDE" $S case open --host WORKSTATION5 --indicator 5ddc0abc2c0da8195b7832ea1c27e0ebe6f2cc4eb379fefeebfbfd93df12a181 --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$TIDE" $S case plan "$CID" --json >sy-plan.json 2>/dev/null
check "sysmon: the plan resets WORKSTATION5\\APT-Simulator on WORKSTATION5" 'py sy-plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"reset-credentials\" and a[\"host\"] == \"WORKSTATION5\" and \"the 1 user(s) seen on WORKSTATION5: WORKSTATION5\\\\APT-Simulator,\" in a[\"justification\"]]"'
check "sysmon: NT AUTHORITY\\SYSTEM is named as built-in, not reset" 'py sy-plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"reset-credentials\" and \"built-in accounts also seen, not reset: NT AUTHORITY\\\\SYSTEM\" in a[\"justification\"] and not any(\"SYSTEM\" in e for e in a[\"evidence\"])]"'
check "sysmon: the hash is blocked by YARA with its count" 'py sy-plan.json "[a for a in d[\"actions\"] if a[\"action\"] == \"block-hashes\" and \"(1: 1 sha256)\" in a[\"justification\"] and \"--format yara\" in a[\"command\"]]"'
echo "case_users: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
