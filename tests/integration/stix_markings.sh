#!/usr/bin/env bash
# stix_markings.sh - every STIX bundle tide writes is self-contained (issue 16): `tide export
# --format stix` and `tide case share` carry the marking-definition of every id their objects
# refer to (object_marking_refs, granular_markings), TLP 2.0 ones exactly as OASIS publishes
# them (../shared/data/stix21/cti-stix-common-objects), TLP 1.0 ones as STIX 2.1 defines them,
# custom statements as stored; the TLP tide keeps for an object (ingest --tlp) travels with it
# as a TLP 2.0 marking; and under a ceiling nothing marked above it leaves, definitions included.
# Real data: the STIX 2.1 examples using-marking-definitions.json (TLP 1.0 amber + a copyright
# statement) and using-granular-markings.json (TLP 1.0 red / amber / green granular markings), a
# PyMISP event tagged tlp:white, and the official TLP 2.0 objects (dates moved to yesterday so
# the indicators are current).
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
DATA=${TIDE_SHARED_DATA:-$SRC/../shared/data}
EX=$DATA/stix21/cti-documentation/examples/example_json
OFF=$DATA/stix21/cti-stix-common-objects/objects/marking-definition
MISP=$DATA/misp/pymisp/tests/57c4445b-c548-4654-af0b-4be3950d210f.json
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
for f in "$EX/using-marking-definitions.json" "$EX/using-granular-markings.json" "$MISP" \
         "$OFF/marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb.json"; do
    if [ ! -f "$f" ]; then
        [ "${CI:-}" = true ] && { echo "FAIL $f missing (CI=true)"; exit 1; }
        echo "skipped: $f missing"; exit 77
    fi
done
W=$(mktemp -d /tmp/tide-stixmark.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
S="--store $W/s"

# the inputs: the real examples with current dates, plus a few objects around them
python3 - "$EX" "$MISP" <<'EOF'
import json, sys, time, uuid
ex, misp = sys.argv[1], sys.argv[2]
now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 86400))
R2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
AS = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
G2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
def u(t): return "%s--%s" % (t, uuid.uuid4())
def fresh(o):
    for k in ("created", "modified", "valid_from"):
        if k in o and o["type"] != "marking-definition": o[k] = now
    return o
def ind(value, **kw):
    o = {"type": "indicator", "spec_version": "2.1", "id": u("indicator"), "created": now,
         "modified": now, "pattern": "[domain-name:value = '%s']" % value, "pattern_type": "stix",
         "valid_from": now, "name": value}
    o.update(kw)
    return o
def bundle(name, objs):
    json.dump({"type": "bundle", "id": u("bundle"), "objects": objs}, open(name, "w"), indent=1)
# 1. TLP 1.0 amber + a stored statement (a domain for 10.0.0.0: private space is never exported)
d = json.load(open(ex + "/using-marking-definitions.json"))
for o in d["objects"]:
    fresh(o)
    if o["type"] == "indicator": o["pattern"] = "[domain-name:value = 'stark-c2.example']"
bundle("marking-defs.json", d["objects"])
# 2. granular TLP 1.0 markings
d = json.load(open(ex + "/using-granular-markings.json"))
for o in d["objects"]:
    fresh(o)
    if o["type"] == "indicator": o["pattern"] = "[domain-name:value = 'g0thamnatl.example']"
bundle("granular.json", d["objects"])
# 3. unmarked STIX, ingested with --tlp green
bundle("plain.json", [ind("plain-green.example")])
# 4. TLP 2.0 red and amber+strict; a statement that is itself red, on a green indicator
stmt = {"type": "marking-definition", "spec_version": "2.1", "id": u("marking-definition"),
        "created": now, "definition_type": "statement",
        "definition": {"statement": "redtok statement"}, "object_marking_refs": [R2]}
bundle("tlp2.json", [ind("red2.example", object_marking_refs=[R2]),
                     ind("strict2.example", object_marking_refs=[AS]),
                     ind("stmt-green.example", object_marking_refs=[G2, stmt["id"]]), stmt])
open("stmt.id", "w").write(stmt["id"])
# 5. the MISP event tagged tlp:white
e = json.load(open(misp))
e["Event"]["timestamp"] = str(int(time.time()) - 3600)
e["Event"]["date"] = now[:10]
for a in e["Event"].get("Attribute", []): a["timestamp"] = str(int(time.time()) - 3600)
json.dump(e, open("misp.json", "w"))
EOF
"$TIDE" $S ingest marking-defs.json granular.json tlp2.json misp.json >/dev/null 2>&1
"$TIDE" $S ingest --tlp green plain.json >/dev/null 2>&1
STMT=$(cat stmt.id)

# bundle.json checks: every referenced marking id defined (once), TLP defs official
cat >check.py <<'EOF'
import json, sys, os
b = json.load(open(sys.argv[1])); off = sys.argv[2]; what = sys.argv[3]
objs = b["objects"]
defs = {}
for o in objs:
    if o["type"] == "marking-definition":
        if o["id"] in defs: sys.exit("%s defined twice" % o["id"])
        defs[o["id"]] = o
refs = set()
for o in objs:
    refs.update(o.get("object_marking_refs", []))
    refs.update(g["marking_ref"] for g in o.get("granular_markings", []) if "marking_ref" in g)
T2 = {"94868c89-83c2-464b-929b-a1a8aa3c8487": ("TLP:CLEAR", "clear"),
      "bab4a63c-aed9-4cf5-a766-dfca5abac2bb": ("TLP:GREEN", "green"),
      "55d920b0-5e8b-4f79-9ee9-91f868d9b421": ("TLP:AMBER", "amber"),
      "939a9414-2ddd-4d32-a0cd-375ea402b003": ("TLP:AMBER+STRICT", "amber+strict"),
      "e828b379-4e03-4974-9ac4-e53a884c97c1": ("TLP:RED", "red")}
T1 = {"613f2e26-407d-48c7-9eca-b8e91df99dc9": "white", "34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
      "f88d31f6-486f-44da-b317-01333bde0b82": "amber", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red"}
def official2(u):
    p = os.path.join(off, "marking-definition--%s.json" % u)
    if os.path.exists(p): return json.load(open(p))["objects"][0]
    name, v = T2[u]
    return {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + u,
            "created": "2022-10-01T00:00:00.000Z", "name": name, "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension", "tlp_2_0": v}}}
def official1(u):
    v = T1[u]
    return {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + u,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "name": "TLP:" + v.upper(), "definition": {"tlp": v}}
if what == "resolvable":
    missing = refs - set(defs)
    sys.exit("undefined: %s" % sorted(missing) if missing else 0)
if what == "official":
    for i, o in defs.items():
        u = i.split("--", 1)[1]
        if u in T2 and o != official2(u): sys.exit("not the official TLP 2.0 object: %s" % o)
        if u in T1 and o != official1(u): sys.exit("not the TLP 1.0 object: %s" % o)
    sys.exit(0)
# what: an expression over objs, defs, refs
sys.exit(0 if eval(what) else 1)
EOF
ck() { python3 check.py "$1" "$OFF" "$2"; }
RED2=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
RED1=marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed
WHITE1=marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9
GREEN2=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
STRICT2=marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003

# ---- tide export --format stix, no ceiling
"$TIDE" $S export --format stix --output all.json >/dev/null 2>&1
check "export: every referenced marking id is defined in the bundle" 'ck all.json resolvable'
check "export: TLP 2.0 / 1.0 definitions are exactly the official objects" 'ck all.json official'
check "export: the TLP 2.0 red, amber+strict and green definitions are there" "ck all.json '{\"$RED2\", \"$STRICT2\", \"$GREEN2\"} <= set(defs)'"
check "export: TLP 1.0 ids as given (white from tlp:white, red / amber / green granular)" "ck all.json '{\"$WHITE1\", \"$RED1\", \"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"} <= set(defs)'"
check "export: the stored copyright statement travels with its definition" "ck all.json 'defs.get(\"marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f\", {}).get(\"definition\") == {\"statement\": \"Copyright (c) Stark Industries 2017.\"}'"
check "export: ingest --tlp green: the object carries the TLP 2.0 green marking" "ck all.json 'any(\"plain-green.example\" in o.get(\"pattern\", \"\") and o.get(\"object_marking_refs\") == [\"$GREEN2\"] for o in objs)'"
check "export: an object with a TLP 1.0 marking keeps it, no TLP 2.0 one added" "ck all.json 'any(\"stark-c2.example\" in o.get(\"pattern\", \"\") for o in objs) and all(o.get(\"object_marking_refs\") == [\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\", \"marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f\"] for o in objs if \"stark-c2.example\" in o.get(\"pattern\", \"\"))'"

# ---- under --tlp-max green
"$TIDE" $S export --format stix --tlp-max green --output green.json >/dev/null 2>&1
check "export green: every referenced marking id is defined" 'ck green.json resolvable'
check "export green: TLP definitions official" 'ck green.json official'
check "export green: no red / amber definition, no red object" "ck green.json 'not set(defs) & {\"$RED2\", \"$RED1\", \"$STRICT2\", \"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"} and not any(\"red2.example\" in o.get(\"pattern\", \"\") for o in objs)'"
check "export green: a statement marked red never leaves, nor what refers to it" "ck green.json 'not any(\"$STMT\" in json.dumps(o) or \"redtok\" in json.dumps(o) for o in objs)'"
check "export green: the green objects are there (plain --tlp green, tlp:white MISP)" "ck green.json 'any(\"plain-green.example\" in o.get(\"pattern\", \"\") for o in objs) and \"$WHITE1\" in defs'"
check "export at red: the red statement travels with the object that refers to it" "\"$TIDE\" $S export --format stix --tlp-max red --output red.json >/dev/null 2>&1 && ck red.json resolvable && ck red.json '\"$STMT\" in defs'"

# ---- tide case share: a case on the green indicator with the statement, and the tlp:white hash
T0=$(date -u -d '-3 hours' +%s)
cat >access.log <<EOF
$T0.100    120 10.0.0.31 TCP_MISS/200 512 GET http://plain-green.example/gate.php alice DIRECT/192.0.2.10 text/html
$((T0+60)).100    120 10.0.0.31 TCP_MISS/200 512 GET http://stark-c2.example/cfg.bin alice DIRECT/192.0.2.10 application/octet-stream
EOF
"$TIDE" $S match access.log >/dev/null 2>&1
open_case() { "$TIDE" $S case open --host 10.0.0.31 --indicator "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
C1=$(open_case stark-c2.example); C2=$(open_case plain-green.example)
check "case share setup: two cases are open" '[ -n "$C1" ] && [ -n "$C2" ] && [ "$C1" != "$C2" ]'
"$TIDE" $S case share "$C1" --tlp-max amber --output share1.json >/dev/null 2>&1
"$TIDE" $S case share "$C2" --tlp-max amber --output share2.json >/dev/null 2>&1
for f in share1.json share2.json; do
    check "case share $f: every referenced marking id is defined" "ck $f resolvable"
    check "case share $f: TLP definitions official" "ck $f official"
    check "case share $f: the case's own objects carry TLP 2.0 ids" "ck $f 'all(r.split(\"--\")[1] in {\"94868c89-83c2-464b-929b-a1a8aa3c8487\", \"bab4a63c-aed9-4cf5-a766-dfca5abac2bb\", \"55d920b0-5e8b-4f79-9ee9-91f868d9b421\"} for o in objs if o[\"type\"] in (\"report\", \"course-of-action\", \"sighting\") for r in o[\"object_marking_refs\"]) and any(o[\"type\"] == \"report\" for o in objs)'"
done
check "case share: the seed with a TLP 1.0 amber + statement marking: both definitions travel" "ck share1.json 'any(\"stark-c2.example\" in o.get(\"pattern\", \"\") for o in objs) and {\"marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f\", \"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"} <= set(defs)'"
check "case share: the --tlp green seed carries TLP 2.0 green" "ck share2.json 'any(\"plain-green.example\" in o.get(\"pattern\", \"\") and \"$GREEN2\" in o.get(\"object_marking_refs\", []) for o in objs)'"
"$TIDE" $S case share "$C1" --tlp-max green --output share1-green.json >/dev/null 2>&1
check "case share at green: the amber case leaves nothing amber, no amber definition" "ck share1-green.json resolvable && ck share1-green.json '\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\" not in defs and not any(\"stark-c2\" in json.dumps(o) for o in objs)'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
