#!/usr/bin/env bash
# serve_tlp_property.sh - the TLP property of `tide serve`, on random worlds: random indicators
# (domains and addresses) with random TLP 1.0 / 2.0 markings or none (amber), random malware
# families and `indicates` relationships with their own markings, sightings of every value by a
# match run (one host per value), cases opened from some of them; then a key per ceiling reads
# every read route (lookup of every value, search, every object, sightings, the live stream,
# exports, cases and their share bundles, a hunt, stats, metrics; the TAXII 2.1 collections of
# intel and sightings, configured with tlp_max red: objects in pages of 7, manifest, each object
# with every version, its versions). Property: no id, value, host
# or family name of an object above the key's ceiling appears in any answer, and no related
# name appears through a relationship above it; and everything at or below it can be looked up
# (so that the test cannot pass by showing nothing). SEEDS (default "1 2") picks the worlds.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$(cd "$2" && pwd)
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-serve-tlp.XXXXXX)
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
. "$SRC/tests/integration/lib/serve_common.bash"
STREAMS=""
trap 'for p in $STREAMS; do kill $p 2>/dev/null; done; serve_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
LEVELS="clear green amber amber+strict red"
for seed in ${SEEDS:-1 2}; do
    D=$W/w$seed; mkdir -p "$D"; S=$D/s
    python3 - "$seed" "$D" <<'PY'
import json, random, sys
seed, d = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(seed)
T2 = {"clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
      "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
      "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
      "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
      "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}
T1 = {"clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
      "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
      "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
      "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}
ORDER = ["clear", "green", "amber", "amber+strict", "red"]
def marking():
    r = rnd.random()
    if r < 0.15: return None, "amber"          # unmarked counts as amber
    lvl = rnd.choice(ORDER)
    if lvl in T1 and rnd.random() < 0.3: return [T1[lvl]], lvl
    if rnd.random() < 0.15:                     # two markings: the most restrictive wins
        other = rnd.choice(ORDER)
        hi = max(lvl, other, key=ORDER.index)
        return [T2[lvl], T2[other]], hi
    return [T2[lvl]], lvl
def uid():
    return "%08x-%04x-4%03x-8%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12), rnd.getrandbits(12), rnd.getrandbits(48))
now = "2026-12-01T00:00:00.000Z"
objs, truth = [], {"objects": {}, "values": {}, "hosts": {}, "names": {}, "rels": []}
def add(o, lvl):
    m, l = marking() if lvl is None else lvl
    if m: o["object_marking_refs"] = m
    objs.append(o)
    truth["objects"][o["id"]] = l
    return l
mals = []
for i in range(rnd.randint(3, 6)):
    name = "fam%d%s" % (i, uid()[:6])
    o = {"type": "malware", "spec_version": "2.1", "id": "malware--" + uid(), "created": now, "modified": now, "name": name, "is_family": True}
    l = add(o, None)
    truth["names"][name] = l
    mals.append((o["id"], name, l))
events = []
for i in range(rnd.randint(25, 45)):
    if rnd.random() < 0.5:
        v = "v%d-%s.tide-prop.example" % (i, uid()[:8]); pat = "[domain-name:value = '%s']" % v
        ev = {"event_type": "dns", "dns": {"type": "query", "rrname": v, "rrtype": "A"}, "dest_ip": "10.9.0.1", "dest_port": 53, "proto": "UDP"}
    else:
        v = "45.%d.%d.%d" % (rnd.randint(1, 250), rnd.randint(0, 250), rnd.randint(1, 250)); pat = "[ipv4-addr:value = '%s']" % v
        ev = {"event_type": "flow", "dest_ip": v, "dest_port": 443, "proto": "TCP"}
    if v in truth["values"]: continue
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uid(), "created": now, "modified": now, "valid_from": now, "pattern_type": "stix", "pattern": pat}
    l = add(o, None)
    truth["values"][v] = l
    host = "10.7.%d.%d" % (i // 200, i % 200 + 1)
    truth["hosts"][host] = l
    ev.update({"timestamp": "2026-11-30T12:00:%02d.000000+0000" % (i % 60), "src_ip": host, "src_port": 40000 + i})
    events.append(ev)
    for mid, name, ml in mals:
        if rnd.random() < 0.25:
            r = {"type": "relationship", "spec_version": "2.1", "id": "relationship--" + uid(), "created": now, "modified": now,
                 "relationship_type": "indicates", "source_ref": o["id"], "target_ref": mid}
            rl = add(r, None)
            truth["rels"].append([o["id"], name, rl, ml])
            # a relationship leaves only with both its ends (tide/gate.h)
            truth["objects"][r["id"]] = max(rl, l, ml, key=ORDER.index)
json.dump({"type": "bundle", "id": "bundle--" + uid(), "objects": objs}, open(d + "/world.json", "w"))
with open(d + "/eve.json", "w") as f:
    for e in events: f.write(json.dumps(e) + "\n")
json.dump(truth, open(d + "/truth.json", "w"))
PY
    "$TIDE" --store "$S" ingest --format stix "$D/world.json" >/dev/null 2>"$D/ingest.err"
    check "world $seed: ingested" '[ $? -le 1 ] && [ -s "$D/truth.json" ]'
    for l in $LEVELS; do key "$S" "k-${l/+/-}" analyst "$l" >"$D/key.$l"; done
    ADMIN=$(key "$S" adm admin red)
    printf '%s' '{"taxii": {"title": "prop", "api_roots": {"tide": {"title": "tide", "collections": [
      {"id": "aaaaaaaa-0000-4000-8000-000000000001", "title": "intel", "kind": "intel", "tlp_max": "red"},
      {"id": "aaaaaaaa-0000-4000-8000-000000000002", "title": "sightings", "kind": "sightings", "tlp_max": "red"}]}}}}' >"$D/serve.json"
    serve_start "$S" --config "$D/serve.json"
    for l in $LEVELS; do
        curl -sN -H "Authorization: Bearer $(cat "$D/key.$l")" "$BASE/api/v1/sightings/stream" >"$D/stream.$l" 2>/dev/null & STREAMS="$STREAMS $!"
    done
    sleep 1.5
    "$TIDE" --store "$S" match "$D/eve.json" >/dev/null 2>&1
    sleep 3
    # cases from the first sightings, opened with the red key
    code "$ADMIN" GET "/api/v1/sightings?limit=6" >/dev/null
    for sid in $(jget '" ".join(str(s["id"]) for s in d["sightings"])'); do
        code "$ADMIN" POST /api/v1/cases --data-binary "{\"sighting\": $sid}" >/dev/null
    done
    # every read route, for every ceiling
    python3 - "$BASE" "$D" $LEVELS <<'PY' >"$D/result.txt"
import json, re, sys, time, urllib.request, urllib.error
base, d, levels = sys.argv[1], sys.argv[2], sys.argv[3:]
truth = json.load(open(d + "/truth.json"))
ORDER = ["clear", "green", "amber", "amber+strict", "red"]
rank = ORDER.index
def get(k, path, method="GET", body=None):
    req = urllib.request.Request(base + path, method=method, data=body, headers={"Authorization": "Bearer " + k, "Accept": "application/taxii+json;version=2.1"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r: return r.status, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, e.read().decode()
bad, shown = [], 0
for lvl in levels:
    k = open(d + "/key." + lvl).read().strip()
    c = rank(lvl)
    texts = []
    for v, vl in truth["values"].items():
        st, t = get(k, "/api/v1/intel/lookup?value=" + v)
        texts.append(("lookup " + v, json.dumps(json.loads(t)["indicators"])))  # the value asked is echoed
        ids = [i["id"] for i in json.loads(t)["indicators"]]
        if rank(vl) <= c:
            if not ids: bad.append("%s: lookup of %s (%s) shows nothing" % (lvl, v, vl))
            shown += 1
        for i in json.loads(t)["indicators"]:
            for rel in i.get("related", []):
                if not any(r[0] == i["id"] and r[1] == rel["name"] and rank(r[2]) <= c and rank(r[3]) <= c for r in truth["rels"]):
                    bad.append("%s: %s related to %s through intel above the ceiling" % (lvl, i["id"], rel["name"]))
    for oid in truth["objects"]:
        st, t = get(k, "/api/v1/intel/objects/" + oid)
        texts.append((oid, t))
        if (st == 200) != (rank(truth["objects"][oid]) <= c): bad.append("%s: object %s (%s) gave %d" % (lvl, oid, truth["objects"][oid], st))
    for p in ["/api/v1/intel/search", "/api/v1/intel/search?type=malware", "/api/v1/sightings?suppressed=true",
              "/api/v1/exports/txt", "/api/v1/exports/stix", "/api/v1/exports/csv", "/api/v1/exports/misp",
              "/api/v1/cases", "/api/v1/stats", "/api/v1/metrics"]:
        texts.append((p, get(k, p)[1]))
    for cid in range(1, 8):
        for p in ("/api/v1/cases/%d" % cid, "/api/v1/cases/%d?format=markdown" % cid, "/api/v1/cases/%d/share" % cid):
            texts.append((p, get(k, p)[1]))
    for fam in truth["names"]:
        for p in ("/api/v1/intel/search?related=" + fam, "/api/v1/sightings?campaign=" + fam):
            texts.append((p, get(k, p)[1]))
    # TAXII: every page of both collections, the manifest, each object (every version) and its
    # versions; the object route answers exactly for what the ceiling admits
    TC = "/taxii2/tide/collections/aaaaaaaa-0000-4000-8000-00000000000"
    for coll in ("1", "2"):
        for what in ("objects", "manifest"):
            nxt, n = "", 0
            while n < 100:
                st, t = get(k, TC + coll + "/" + what + "/?limit=7&match[version]=all" + ("&next=" + nxt if nxt else ""))
                texts.append(("taxii %s %s" % (coll, what), t))
                dd = json.loads(t)
                if st != 200 or not dd.get("more"): break
                nxt, n = dd["next"], n + 1
    for oid in truth["objects"]:
        st, t = get(k, TC + "1/objects/" + oid + "/?match[version]=all")
        texts.append(("taxii " + oid, t))
        if (st == 200) != (rank(truth["objects"][oid]) <= c): bad.append("%s: TAXII object %s (%s) gave %d" % (lvl, oid, truth["objects"][oid], st))
        st, t = get(k, TC + "1/objects/" + oid + "/versions/")
        texts.append(("taxii versions " + oid, t))
        if (st == 200) != (rank(truth["objects"][oid]) <= c): bad.append("%s: TAXII versions %s (%s) gave %d" % (lvl, oid, truth["objects"][oid], st))
    st, t = get(k, "/api/v1/hunts", "POST", json.dumps({"added_since": "30d", "store": False}).encode())
    hid = json.loads(t)["id"]
    for _ in range(200):
        st, t = get(k, "/api/v1/hunts/%d" % hid)
        if json.loads(t)["status"] != "running": break
        time.sleep(0.1)
    texts.append(("hunt", t))
    texts.append(("stream", open(d + "/stream." + lvl).read()))
    def where(tok, rx=False):
        return [p for p, t in texts if (re.search(tok, t) if rx else tok in t)]
    for oid, ol in truth["objects"].items():
        if rank(ol) > c and where(oid): bad.append("%s: id %s (%s) appears in %s" % (lvl, oid, ol, where(oid)[:3]))
    for v, vl in truth["values"].items():
        if rank(vl) > c and where(v): bad.append("%s: value %s (%s) appears in %s" % (lvl, v, vl, where(v)[:3]))
    for h, hl in truth["hosts"].items():
        rx = re.escape(h) + r"(?![0-9])"
        if rank(hl) > c and where(rx, True): bad.append("%s: host %s (%s) appears in %s" % (lvl, h, hl, where(rx, True)[:3]))
    for n, nl in truth["names"].items():
        if rank(nl) > c and where(n): bad.append("%s: name %s (%s) appears in %s" % (lvl, n, nl, where(n)[:3]))
print("shown %d" % shown)
for b in bad: print("LEAK " + b)
PY
    serve_stop
    for p in $STREAMS; do kill "$p" 2>/dev/null; done; STREAMS=""
    check "world $seed: every value at or below a ceiling is shown to it ($(head -1 "$D/result.txt"))" '[ "$(head -1 "$D/result.txt" | cut -d" " -f2)" -gt 10 ] && ! grep -q "shows nothing" "$D/result.txt"'
    check "world $seed: nothing above a key's ceiling in any read route" 'grep -q "^shown" "$D/result.txt" && ! grep -q "^LEAK" "$D/result.txt"'
    grep "^LEAK" "$D/result.txt" | head -20
    check "world $seed: the streams carried sightings" '[ "$(cat "$D"/stream.* | grep -c "^event: sighting")" -gt 0 ]'
done
echo "serve_tlp_property: $pass passed, $fail failed"
[ "$fail" = 0 ]
