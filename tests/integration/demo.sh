#!/usr/bin/env bash
# demo.sh - integration test of `tide demo`: into a fresh store, the demo must ingest all four
# generated feeds without rejects, show the campaign graph with indicators under each malware,
# find shared values in several feeds, leave `tide stats --json` with objects > 0, and a second
# run on the same day must store nothing new. --keep must keep the generated files.
# $1 = the tide binary, $2 = the source folder.
set -euo pipefail
tide=${1:?usage: demo.sh TIDE SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp"

fail() {
    echo "FAIL: $*"
    exit 1
}

day=$(date -u +%F)
if ! out=$("$tide" --store "$tmp/store" demo 2>&1); then
    echo "$out"
    fail "tide demo exited non-zero"
fi
echo "$out"
lines=$(wc -l <<<"$out")
[ "$lines" -lt 90 ] || fail "demo output is $lines lines, expected < 90"

grep -q "Operation Low Tide" <<<"$out" || fail "campaign not shown"
grep -qE "intrusion-set FIN-TIDE-DEMO" <<<"$out" || fail "intrusion set not attributed"
grep -qE "by type .*indicator [1-9][0-9]*" <<<"$out" || fail "no indicator count"
for src in demo-stix demo-misp demo-maltrail demo-csv; do
    grep -qE "by source .*$src [1-9]|^ +$src [1-9]| $src [1-9]" <<<"$out" || fail "no objects from $src"
done
for m in KelpLoader UndertowRAT; do
    grep -qE "uses malware $m +<- [1-9][0-9]* indicators" <<<"$out" || fail "no indicators under $m"
done
grep -qE "indicated directly by [1-9][0-9]* indicators" <<<"$out" || fail "no campaign indicators"
# the shared C2 domain is in the STIX bundle, the MISP event and the maltrail list
grep -qE "^    domain [^ ]+: [3-9] indicators" <<<"$out" || fail "shared domain not found in 3 feeds"
# a defanged URL is refanged, normalised and found
grep -qE "^    url http[^ ]+: [1-9][0-9]* indicators?" <<<"$out" || fail "defanged URL not found"
# an upper-case hash is normalised and found in STIX and MISP
grep -qE "^    sha256 [0-9a-f]{64}: [2-9] indicators" <<<"$out" || fail "hash lookup failed"
# detection over the generated Zeek logs: the infected host's chain, a second host, a CIDR hit
grep -qE "^[0-9]+ sightings on 3 hosts \(10\.20\.0\.11" <<<"$out" || fail "detection: not 3 hosts starting with 10.20.0.11"
grep -qE "10\.20\.0\.11 +files sha256 .* -> sha256 " <<<"$out" || fail "detection: the sample's hash not matched"
grep -qE "10\.20\.0\.14 +dns +query +api\.[^ ]+ -> domain " <<<"$out" || fail "detection: parent domain not matched"
grep -qE "10\.20\.0\.15 +conn .* -> cidr4 " <<<"$out" || fail "detection: CIDR not matched"
n=$("$tide" --store "$tmp/store" sightings --json | wc -l)
[ "$n" -ge 7 ] || fail "detection: $n stored sightings, expected >= 7"
# prevention: every format exported something
for f in rpz nft zeek yara; do
    grep -qE "^  $f +[1-9][0-9]* " <<<"$out" || fail "prevention: $f exported nothing"
done
# response and recovery: a case with the two history-only hosts silent, recovered, closed, shared
grep -qE "^Response: .* -> case [0-9]+" <<<"$out" || fail "response: no case opened"
grep -qE "^  hosts: .*10\.20\.0\.31 \(silent\) 10\.20\.0\.32 \(silent\)" <<<"$out" || fail "response: silent hosts not found"
grep -qE "^  hosts: .*10\.20\.0\.11 \(alerted\)" <<<"$out" || fail "response: the alerting host not in scope"
grep -qE "^  tier [1-3]:" <<<"$out" || fail "response: no tier"
grep -qE "^  plan .*isolate.*remove-components" <<<"$out" || fail "response: plan without isolate / remove"
grep -qE "watch ([0-9]+) of \1 verified" <<<"$out" || fail "recovery: not every host verified"
grep -qE "^Lessons recorded, case closed: [1-9][0-9]* new internal" <<<"$out" || fail "lessons: nothing promoted"
grep -qE "shareable STIX bundle .*: [1-9][0-9]* objects" <<<"$out" || fail "share: empty bundle"
for left in "$tmp"/tide-demo-*; do
    [ -e "$left" ] && fail "generated files left behind without --keep: $left"
done

stats=$("$tide" --store "$tmp/store" stats --json) || fail "tide stats --json failed"
objects=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"])' <<<"$stats") ||
    fail "stats --json is not JSON with 'objects': $stats"
[ "$objects" -gt 0 ] || fail "stats --json objects = $objects"

# same data again (same day): nothing new is stored
out2=$("$tide" --store "$tmp/store" demo --keep 2>&1) || { echo "$out2"; fail "second demo run failed"; }
# (current objects: closing the second run's case re-states its lessons' indicator, which
# is a new version of the same internal indicator, not a new object)
objects=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["current"])' <<<"$stats")
objects2=$("$tide" --store "$tmp/store" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["current"])')
if [ "$(date -u +%F)" = "$day" ] && [ "$objects2" != "$objects" ]; then
    echo "$out2"
    fail "re-ingesting the same scenario changed the object count: $objects -> $objects2"
fi
kept=$(sed -n 's/^Scenario files kept in //p' <<<"$out2")
[ -n "$kept" ] || fail "--keep did not print the folder"
for f in bundle.stix.json misp-event.json kelploader.txt feed.csv; do
    [ -s "$kept/$f" ] || fail "--keep did not keep $f"
done
python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["type"]=="bundle" and len(b["objects"])>30' \
    "$kept/bundle.stix.json" || fail "kept bundle is not a STIX bundle"

# usage errors exit 2
set +e
"$tide" --store "$tmp/store" demo --bogus >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "demo --bogus exited $rc, expected 2"
echo "demo: ok ($objects object versions)"
