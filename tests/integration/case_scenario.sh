#!/usr/bin/env bash
# case_scenario.sh - response and recovery (issue 6, SPEC C4, C5) on a scenario this test writes
# itself: a campaign whose hash alerts on one host while its C2 domain sits silently in the
# history of three others (tier 2, four hosts, three silent); a lone commodity infection (tier
# 1, remove and watch); an intrusion-set domain (tier 3); a commodity hash on a critical asset
# (tier 3). Then the recovery loop: illegal transitions, watch-period verification, a relapse
# that brings re-imaging into the plan, a host that joins on refresh, malformed and good
# lessons, close with promotion of the lessons' indicator into exports, TLP-filtered sharing,
# metrics, and bad input (unknown case, malformed policy).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-case.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
python3 - <<'PY'
import json, os
T = "2026-10-01T00:00:00.000Z"
H1, K1, K2 = "a1" * 32, "b2" * 32, "c3" * 32
D1, R1, I1 = "harbor-c2.example.net", "bear-drop.example.org", "185.220.1.77"
AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
n = [0]
def sid(t):
    n[0] += 1
    return "%s--00000000-0000-4000-8000-%012d" % (t, n[0])
objs = [{"type": "campaign", "id": sid("campaign"), "name": "Operation Test Harbor"},
        {"type": "malware", "id": sid("malware"), "name": "TestLoader", "is_family": True},
        {"type": "malware", "id": sid("malware"), "name": "AdWidget", "is_family": True},
        {"type": "campaign", "id": sid("campaign"), "name": "Operation Bear Drop"},
        {"type": "intrusion-set", "id": sid("intrusion-set"), "name": "Test Bear"},
        {"type": "malware", "id": sid("malware"), "name": "PopStub", "is_family": True}]
camp, mal, com, aptc, apts, com2 = [o["id"] for o in objs]
def ind(p, extra=None):
    i = sid("indicator")
    o = {"type": "indicator", "id": i, "pattern": p, "pattern_type": "stix", "valid_from": T,
         "confidence": 80}
    o.update(extra or {})
    objs.append(o)
    return i
def rel(s, t, k, conf=None):
    o = {"type": "relationship", "id": sid("relationship"), "relationship_type": k,
         "source_ref": s, "target_ref": t}
    if conf is not None:
        o["confidence"] = conf
    objs.append(o)
rel(ind("[file:hashes.'SHA-256' = '%s']" % H1), mal, "indicates", 90)
rel(ind("[domain-name:value = '%s']" % D1), camp, "indicates")
rel(ind("[ipv4-addr:value = '%s']" % I1, {"object_marking_refs": [AMBER]}), camp, "indicates")
rel(camp, mal, "uses")
rel(ind("[file:hashes.'SHA-256' = '%s']" % K1), com, "indicates")
rel(ind("[file:hashes.'SHA-256' = '%s']" % K2), com2, "indicates")
rel(ind("[domain-name:value = '%s']" % R1), aptc, "indicates")
rel(aptc, apts, "attributed-to")
for o in objs:
    o.update({"spec_version": "2.1", "created": T, "modified": T})
json.dump({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
           "objects": objs}, open("intel.json", "w"), indent=1)
base = 1790812800  # 2026-10-01
def zeek(path, kind, rows):
    with open(path, "w") as f:
        f.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
        if kind == "dns":
            f.write("#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\n")
            f.write("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n")
            for i, (ts, h, q) in enumerate(sorted(rows)):
                f.write("%.6f\tC%d\t%s\t5000%d\t10.9.0.2\t53\tudp\t%s\n" % (ts, i, h, i % 10, q))
        else:
            f.write("#path\tfiles\n#fields\tts\tfuid\ttx_hosts\trx_hosts\tsource\tsha256\n")
            f.write("#types\ttime\tstring\tset[addr]\tset[addr]\tstring\tstring\n")
            for i, (ts, h, s) in enumerate(sorted(rows)):
                f.write("%.6f\tF%d\t198.51.100.9\t%s\tHTTP\t%s\n" % (ts, i, h, s))
os.makedirs("old"); os.makedirs("new"); os.makedirs("later")
noise = [(base + 3 * 86400 + i * 600, "10.9.1.%d" % (i % 50 + 1), "site%d.example.com" % i)
         for i in range(300)]
zeek("old/dns.log", "dns", noise + [(base + 3 * 86400 + 100, "10.9.2.1", "api." + D1),
                                     (base + 4 * 86400 + 100, "10.9.2.2", D1),
                                     (base + 5 * 86400 + 100, "10.9.2.3", "cdn." + D1)])
zeek("new/dns.log", "dns", [(base + 9 * 86400 + 40010, "10.9.3.1", D1),
                            (base + 9 * 86400 + 60000, "10.9.3.3", R1),
                            (base + 9 * 86400 + 100, "10.9.1.7", "quiet.example.com")])
zeek("new/files.log", "files", [(base + 9 * 86400 + 40000, "10.9.3.1", H1),
                                (base + 9 * 86400 + 50000, "10.9.3.2", K1),
                                (base + 9 * 86400 + 55000, "10.9.3.4", K2),
                                (base + 9 * 86400 + 200, "10.9.1.8", "d4" * 32)])
# day 12: the recovered campaign host resolves the C2 again (relapse), a new host joins
zeek("later/dns.log", "dns", [(base + 12 * 86400 + 100, "10.9.3.1", "x." + D1),
                              (base + 12 * 86400 + 200, "10.9.4.9", D1)])
json.dump([{"host": "10.9.3.4", "ips": ["10.9.3.4"], "hostname": "dc01", "owner": "it-ops",
            "criticality": "critical", "software": []}], open("assets.json", "w"))
PY
S="--store $W/s"
"$TIDE" $S history import old/dns.log >/dev/null 2>&1
"$TIDE" $S ingest --format stix --tlp green intel.json >/dev/null 2>&1
"$TIDE" $S assets import assets.json >/dev/null 2>&1
"$TIDE" $S match new/dns.log new/files.log >/dev/null 2>&1
H1=$(printf 'a1%.0s' $(seq 32)); K1=$(printf 'b2%.0s' $(seq 32)); K2=$(printf 'c3%.0s' $(seq 32))
open_case() { "$TIDE" $S case open --json --host "$1" --indicator "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
C1=$(open_case 10.9.3.1 "$H1"); C2=$(open_case 10.9.3.2 "$K1"); C3=$(open_case 10.9.3.3 bear-drop.example.org)
C4=$(open_case 10.9.3.4 "$K2")
"$TIDE" $S case show "$C1" --json >c1.json; "$TIDE" $S case show "$C2" --json >c2.json
"$TIDE" $S case show "$C3" --json >c3.json; "$TIDE" $S case show "$C4" --json >c4.json
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }
check "campaign case: tier 2, campaign-linked" 'py c1.json "d[\"tier\"] == 2 and \"campaign\" in d[\"rule\"]"'
check "campaign case: four hosts, three silent, the alerting one alerted" 'py c1.json "{h[\"host\"]: h[\"status\"] for h in d[\"hosts\"]} == {\"10.9.3.1\": \"alerted\", \"10.9.2.1\": \"silent\", \"10.9.2.2\": \"silent\", \"10.9.2.3\": \"silent\"}"'
check "campaign case: attribution malware (hop confidence 90) and campaign via uses" 'py c1.json "[(a[\"type\"], a[\"name\"]) for a in d[\"attribution\"]] == [(\"malware\", \"TestLoader\"), (\"campaign\", \"Operation Test Harbor\")] and d[\"attribution\"][0][\"path\"][0][\"confidence\"] == 90 and d[\"attribution\"][1][\"path\"][1][\"relationship\"] == \"uses\""'
check "campaign case: every host action cites file:line evidence of that host" 'py c1.json "all(a[\"evidence\"] and all(\":\" in e for e in a[\"evidence\"]) for a in d[\"plan\"] if a[\"action\"] in (\"isolate\", \"remove-components\"))"'
check "campaign case: silent hosts cite old/dns.log" 'py c1.json "all(any(e.startswith(\"old/dns.log:\") for e in a[\"evidence\"]) for a in d[\"plan\"] if a[\"action\"] == \"isolate\" and a[\"host\"] != \"10.9.3.1\")"'
check "campaign case: isolate, block via tide export --related, 30-day watch; no credential reset (the Zeek logs name no user)" 'py c1.json "{\"isolate\", \"block-indicators\", \"watch\"} <= {a[\"action\"] for a in d[\"plan\"]} and \"reset-credentials\" not in {a[\"action\"] for a in d[\"plan\"]} and any(\"--related\" in (a.get(\"command\") or \"\") for a in d[\"plan\"]) and d[\"watch_days\"] == 30"'
check "campaign case: vector on the first host is the earliest evidence" 'py c1.json "d[\"infection_vector\"][\"host\"] == \"10.9.2.1\" and d[\"infection_vector\"][\"evidence\"].startswith(\"old/dns.log:\")"'
check "commodity case: tier 1, one host, remove and 14-day watch, no isolate" 'py c2.json "d[\"tier\"] == 1 and [h[\"host\"] for h in d[\"hosts\"]] == [\"10.9.3.2\"] and {\"remove-components\", \"watch\"} <= {a[\"action\"] for a in d[\"plan\"]} and \"isolate\" not in {a[\"action\"] for a in d[\"plan\"]} and d[\"watch_days\"] == 14"'
check "intrusion-set case: tier 3 with escalate, preserve evidence, notify peers" 'py c3.json "d[\"tier\"] == 3 and \"Test Bear\" in d[\"rule\"] and {\"escalate\", \"preserve-evidence\", \"notify-peers\"} <= {a[\"action\"] for a in d[\"plan\"]} and d[\"plan\"][0][\"action\"] == \"escalate\""'
check "critical asset case: tier 3 by the asset rule" 'py c4.json "d[\"tier\"] == 3 and \"critical asset\" in d[\"rule\"]"'
check "no case proposes re-imaging by default" 'for f in c1 c2 c3 c4; do py $f.json "all(a[\"action\"] != \"re-image\" for a in d[\"plan\"])" || exit 1; done'
check "open again returns the covering case" '[ "$(open_case 10.9.2.2 harbor-c2.example.net)" = "$C1" ]'
check "open by sighting id" '"$TIDE" $S case open --sighting "$("$TIDE" $S sightings --host 10.9.3.2 --json | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())[\"id\"])")" | grep -qx "$C2"'
check "markdown plan" '"$TIDE" $S case plan "$C1" --markdown | grep -q "^1\. \*\*isolate\*\*"'
check "case list" '[ "$("$TIDE" $S case list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 4 ]'
# bad input
check "unknown case: exit 2, clear error" '"$TIDE" $S case show 99 2>err.txt; [ $? = 2 ] && grep -q "no case 99" err.txt'
check "unknown host in a case" '! "$TIDE" $S case host "$C2" 10.1.1.1 --state contained 2>err.txt && grep -q "not in case" err.txt'
check "illegal transition rejected, nothing changed" '! "$TIDE" $S case host "$C2" 10.9.3.2 --state recovered 2>err.txt && grep -q "illegal transition affected -> recovered" err.txt && "$TIDE" $S case show "$C2" --json | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"hosts\"][0][\"state\"] != \"affected\")"'
check "verified cannot be set by hand" '! "$TIDE" $S case host "$C2" 10.9.3.2 --state verified 2>/dev/null'
printf '{"tier2_min_hosts": 2,\n "tier3_min_hosts": "x"}\n' >bad-policy.json
check "malformed policy: error names the key" '! "$TIDE" $S case show "$C2" --policy bad-policy.json 2>err.txt && grep -q "bad-policy.json: tier3_min_hosts" err.txt'
printf '{"tier2_min_hosts": 1}\n' >p1.json
check "policy file changes the tier" '"$TIDE" $S case show "$C2" --json --policy p1.json | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"tier\"] != 2)"'
# recovery of the commodity case (tier 2 now, after the policy above raised it: 30-day watch)
N0=2026-10-11T00:00:00Z
"$TIDE" $S case host "$C2" 10.9.3.2 --state contained --by alice --note "EDR isolation" --now $N0 >/dev/null
"$TIDE" $S case host "$C2" 10.9.3.2 --state eradicated --by alice --now 2026-10-11T06:00:00Z >/dev/null
"$TIDE" $S case host "$C2" 10.9.3.2 --state recovered --by bob --now 2026-10-12T00:00:00Z >/dev/null
check "tier raise recorded in the timeline" '"$TIDE" $S case show "$C2" --json --now 2026-10-12T01:00:00Z | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(not any(e[\"kind\"] == \"tier-raised\" for e in d[\"timeline\"]))"'
check "close refused before the watch ends" '! "$TIDE" $S case close "$C2" --now 2026-10-20T00:00:00Z 2>err.txt && grep -q "not verified" err.txt'
"$TIDE" $S case refresh "$C2" --now 2026-11-12T00:00:00Z >/dev/null
check "verified after a clean 30-day watch" '"$TIDE" $S case show "$C2" --json --now 2026-11-12T00:00:00Z | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"hosts\"][0][\"state\"] != \"verified\")"'
check "close refused without lessons" '! "$TIDE" $S case close "$C2" --now 2026-11-12T00:00:00Z 2>err.txt && grep -q "no lessons" err.txt'
printf 'indicator: evil-update.example.com\nprevention deny egress\n' >bad-lessons.txt
check "malformed lessons: line and reason, nothing stored" '! "$TIDE" $S case lessons "$C2" --file bad-lessons.txt 2>err.txt && grep -q "bad-lessons.txt:2:" err.txt && "$TIDE" $S case show "$C2" --json | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"lessons\"] is not None)"'
printf '# lessons\nindicator: evil-update[.]example.com\nprevention: deny internet egress to hosts running an end-of-life Java runtime\ndetection-gap: files.log hashes were not matched for 2 days\nresponse-gap: no owner for the kiosk fleet\n' >lessons.txt
check "lessons recorded" '"$TIDE" $S case lessons "$C2" --file lessons.txt >/dev/null'
check "close promotes the lessons indicator" '"$TIDE" $S case close "$C2" --now 2026-11-12T00:00:00Z | grep -q "1 indicator"'
check "promoted indicator is internal and in the rpz export" '"$TIDE" $S export --format rpz 2>/dev/null | grep -q "^evil-update.example.com" && "$TIDE" $S search --source internal --type indicator --json | grep -q indicator--'
check "closed case stays closed" '"$TIDE" $S case show "$C2" --json | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"status\"] != \"closed\")"'
# relapse and a host joining the campaign case
"$TIDE" $S case host "$C1" 10.9.3.1 --state contained --now 2026-10-10T12:00:00Z >/dev/null
"$TIDE" $S case host "$C1" 10.9.3.1 --state eradicated --now 2026-10-10T13:00:00Z >/dev/null
"$TIDE" $S case host "$C1" 10.9.3.1 --state recovered --now 2026-10-10T14:00:00Z >/dev/null
"$TIDE" $S match later/dns.log >/dev/null 2>&1
"$TIDE" $S case show "$C1" --json --now 2026-10-14T00:00:00Z >c1b.json
check "relapse: a sighting during the watch sends the host back to affected" 'py c1b.json "[h for h in d[\"hosts\"] if h[\"host\"] == \"10.9.3.1\"][0][\"state\"] == \"affected\" and any(e[\"kind\"] == \"state:affected\" for e in d[\"timeline\"])"'
check "relapse: re-image proposed for that host only" 'py c1b.json "[a[\"host\"] for a in d[\"plan\"] if a[\"action\"] == \"re-image\"] == [\"10.9.3.1\"]"'
check "refresh: a new host joins the scope, recorded" 'py c1b.json "\"10.9.4.9\" in [h[\"host\"] for h in d[\"hosts\"]] and any(e[\"kind\"] == \"host-joined\" and e[\"host\"] == \"10.9.4.9\" for e in d[\"timeline\"])"'
# sharing
"$TIDE" $S case share "$C1" --tlp-max green --output g.json >/dev/null
"$TIDE" $S case share "$C1" --tlp-max amber --output a.json >/dev/null
check "share green: report, indicators, malware, course-of-action, sightings; no amber object" 'py g.json "{\"report\", \"indicator\", \"malware\", \"course-of-action\", \"sighting\"} <= {o[\"type\"] for o in d[\"objects\"]} and not any(\"185.220.1.77\" in o.get(\"pattern\", \"\") for o in d[\"objects\"]) and all(\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\" not in o.get(\"object_marking_refs\", []) for o in d[\"objects\"])"'
check "share amber includes the amber indicator" 'py a.json "any(\"185.220.1.77\" in o.get(\"pattern\", \"\") for o in d[\"objects\"])"'
check "shared sightings carry no host" '! grep -q "10\.9\.[0-9]*\.[0-9]*" g.json'
check "share: bad TLP rejected" '! "$TIDE" $S case share "$C1" --tlp-max purple --output x.json 2>/dev/null'
# metrics
"$TIDE" $S metrics --json --now 2026-11-12T00:00:00Z >m.json
check "metrics: counts by tier, intel internal vs external" 'py m.json "d[\"overall\"][\"cases\"] == 4 and d[\"overall\"][\"by_tier\"] == {\"1\": 0, \"2\": 2, \"3\": 2} and d[\"overall\"][\"intel\"][\"internal\"] == 1 and d[\"overall\"][\"intel\"][\"external\"] == 6"'
check "metrics: commodity case time to contain and recover from the first sighting" 'py m.json "[(c[\"time_to_contain_s\"], c[\"time_to_recover_s\"], c[\"time_to_detect_s\"]) for c in d[\"cases\"] if c[\"case\"] == $C2] == [(1790812800 + 10*86400 - (1790812800 + 9*86400 + 50000), 1790812800 + 11*86400 - (1790812800 + 9*86400 + 50000), 0)]"'
check "metrics: campaign case detect time from the first silent evidence" 'py m.json "[c[\"time_to_detect_s\"] for c in d[\"cases\"] if c[\"case\"] == $C1] == [9*86400 + 40000 - (3*86400 + 100)]"'
# opening by rule on a fresh store: one case per campaign, later sightings join it
A="--store $W/a"
"$TIDE" $A history import old/dns.log >/dev/null 2>&1
"$TIDE" $A ingest --format stix intel.json >/dev/null 2>&1
"$TIDE" $A match new/dns.log new/files.log >/dev/null 2>&1
# the rule's score decays (tide/score.h), so it runs at the scenario's time: the day after the
# sightings (scores about 60)
"$TIDE" $A case auto --json --now 2026-10-11T00:00:00Z >auto.json
check "case auto: four cases opened, the campaign C2 sighting joins the hash's case" 'py auto.json "sum(c[\"opened\"] for c in d) == 4 and len(d) == 5 and len({c[\"case\"] for c in d if c[\"host\"] == \"10.9.3.1\"}) == 1"'
check "case auto: a higher score threshold opens nothing new" '"$TIDE" $A case auto --min-score 95 --now 2026-10-11T00:00:00Z --json | python3 -c "import json,sys; sys.exit(len(json.load(sys.stdin)) != 0)"'
# seven weeks on, the domains (90-day life) score below 50, the hashes (365 days) still above
"$TIDE" $A case auto --json --now 2026-12-01T00:00:00Z >auto-late.json
check "case auto: decayed domains drop below the threshold, hashes stay" 'py auto-late.json "d and all(len(c[\"indicator\"]) == 64 and 50 <= c[\"score\"] < 60 for c in d)"'
check "case auto: bad threshold rejected" '! "$TIDE" $A case auto --min-score high 2>/dev/null'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
