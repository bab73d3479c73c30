#!/usr/bin/env bash
# related_chain.sh - `--related NAME` is one rule (tide_indicator_related) in search, hunt,
# export and cases, through every chain of relationships: the real OASIS example of campaigns
# attributed to an intrusion set and a threat actor, plus indicators of one campaign, of a
# malware another campaign uses, and of a second intrusion set that uses the same malware.
# An indicator of a campaign attributed to APT BPP, and one of the malware an APT BPP campaign
# uses, are related to APT BPP and to its threat actor; the other group's indicator is not
# (the walk goes up the chain of attribution, never down to a sibling). A name the store does
# not know makes `tide hunt --related` fail (exit 1).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
EX=$DATA/stix21/cti-documentation/examples/example_json/defining-campaigns-threat-actors-intrusion-sets.json
if [ ! -f "$EX" ]; then
    [ "${CI:-}" = true ] && { echo "FAIL $EX missing (CI=true)"; exit 1; }
    echo "skipped: $EX missing"; exit 77
fi
W=$(mktemp -d /tmp/tide-related.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
S="--store $W/s"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); EPOCH=$(date -u +%s)
I=indicator--a1000000-0000-4000-8000-00000000000
python3 - "$NOW" >intel.json <<'PY'
import json, sys
now = sys.argv[1]
t = {"spec_version": "2.1", "created": now, "modified": now}
def ind(n, name, pat):
    return dict(t, type="indicator", id="indicator--a1000000-0000-4000-8000-00000000000%d" % n,
                name=name, pattern_type="stix", pattern=pat, valid_from=now, confidence=80)
def rel(n, kind, a, b):
    return dict(t, type="relationship", id="relationship--a1000000-0000-4000-8000-00000000010%d" % n,
                relationship_type=kind, source_ref=a, target_ref=b)
mal, other = "malware--a1000000-0000-4000-8000-0000000000aa", "intrusion-set--a1000000-0000-4000-8000-0000000000bb"
flakes, raisin = "campaign--e5268b6e-4931-42f1-b379-87f48eb41b1e", "campaign--1d8897a7-fdc2-4e59-afc9-becbe04df727"
objs = [ind(1, "bran flakes c2", "[domain-name:value = 'flakes.example.net']"),
        ind(2, "raisin loader", "[ipv4-addr:value = '45.133.1.77']"),
        ind(3, "other group c2", "[ipv4-addr:value = '45.133.1.99']"),
        dict(t, type="malware", id=mal, name="BranLoader", is_family=True),
        dict(t, type="intrusion-set", id=other, name="Other Group"),
        rel(1, "indicates", "indicator--a1000000-0000-4000-8000-000000000001", flakes),
        rel(2, "indicates", "indicator--a1000000-0000-4000-8000-000000000002", mal),
        rel(3, "uses", raisin, mal), rel(4, "uses", other, mal),
        rel(5, "indicates", "indicator--a1000000-0000-4000-8000-000000000003", other)]
print(json.dumps({"type": "bundle", "id": "bundle--a1000000-0000-4000-8000-0000000000ff", "objects": objs}))
PY
# proxy logs of three hosts, one per indicator, into history
cat >access.log <<EOF
$((EPOCH-7200)).100    120 10.0.0.11 TCP_MISS/200 512 GET http://flakes.example.net/gate.php alice DIRECT/192.0.2.10 text/html
$((EPOCH-7100)).100    120 10.0.0.12 TCP_MISS/200 512 GET http://45.133.1.77/load.bin bob DIRECT/45.133.1.77 application/octet-stream
$((EPOCH-7000)).100    120 10.0.0.13 TCP_MISS/200 512 GET http://45.133.1.99/x carol DIRECT/45.133.1.99 text/html
EOF
"$TIDE" $S history import access.log >/dev/null 2>&1
"$TIDE" $S ingest --no-hunt "$EX" intel.json >/dev/null 2>&1
check "setup: 3 indicators stored" '"$TIDE" $S search --type indicator | grep -c "^indicator" | grep -qx 3'

ids() { sort -u | tr '\n' ' '; }
for NAME in "APT BPP" "Fake BPP (Branistan Peoples Party)" "apt bpp"; do
    s=$("$TIDE" $S search --related "$NAME" --type indicator --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' | ids)
    e=$("$TIDE" $S export --format csv --related "$NAME" 2>/dev/null | python3 -c 'import csv,sys; [print(r["indicator_id"]) for r in csv.DictReader(sys.stdin)]' | ids)
    h=$("$TIDE" $S hunt --related "$NAME" --json --no-store 2>/dev/null | python3 -c 'import json,sys; [print(json.loads(l)["indicator_id"]) for l in sys.stdin]' | ids)
    want="${I}1 ${I}2 "
    check "search --related '$NAME': the campaign's and the campaign's malware's indicators" '[ "$s" = "$want" ]'
    check "export --related '$NAME': the same indicators" '[ "$e" = "$want" ]'
    check "hunt --related '$NAME': the same indicators, found in history" '[ "$h" = "$want" ]'
done
s=$("$TIDE" $S search --related BranLoader --type indicator --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' | ids)
check "search --related BranLoader: its indicator and its other user's" '[ "$s" = "${I}2 ${I}3 " ]'
s=$("$TIDE" $S search --related "Other Group" --type indicator --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' | ids)
check "search --related 'Other Group': its own and its malware's indicators, never APT BPP's campaign's" '[ "$s" = "${I}2 ${I}3 " ]'

# a case on the malware's indicator: its scope is what --related selects for its names
"$TIDE" $S case open --host 10.0.0.12 --indicator 45.133.1.77 --json >open.json 2>/dev/null
CID=$(python3 -c 'import json; print(json.load(open("open.json"))["id"])' 2>/dev/null)
"$TIDE" $S case show "$CID" --json >case.json 2>/dev/null
check "case: attributed up the chain to APT BPP and its threat actor" 'python3 - <<PY
import json; d = json.load(open("case.json"))
names = {a["name"] for a in d["attribution"]}
print(sorted(names))
assert {"Operation Raisin Bran", "APT BPP", "Fake BPP (Branistan Peoples Party)", "BranLoader"} <= names
PY'
u=""
for n in $(python3 -c 'import json; print("\n".join(n.replace(" ", "\\x20") for n in (lambda d: d["campaigns"] + d["malware"])(json.load(open("case.json")))))'); do
    n=$(printf "$n")
    u="$u$("$TIDE" $S search --related "$n" --type indicator --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]')"$'\n'
done
nu=$(printf '%s' "$u" | sed '/^$/d' | sort -u | wc -l)
check "case: its indicators are those --related selects for its scope names ($nu)" 'python3 -c "import json,sys; sys.exit(json.load(open(\"case.json\"))[\"indicator_count\"] != $nu)"'

# an unknown name is an error, a known one without indicators is not
"$TIDE" $S hunt --related "No Such Group" >/dev/null 2>unknown.err; rc=$?
check "hunt --related unknown name: exit 1" '[ $rc -eq 1 ]'
check "hunt --related unknown name: says so" 'grep -q "No Such Group" unknown.err && grep -qi "no campaign" unknown.err'
"$TIDE" $S hunt --related "Branistan Peoples Party" >/dev/null 2>known.err; rc=$?
check "hunt --related a known name without indicators: exit 0 with a note" '[ $rc -eq 0 ] && grep -q "no current indicator" known.err'
echo "related_chain: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
