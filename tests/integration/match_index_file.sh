#!/usr/bin/env bash
# match_index_file.sh - the match index cache (STATE/match.idx) as `tide match` uses it, since
# the compact layout of issue 18 (IX_VERSION 6: 32-byte entries, 32-bit table slots, the
# entries sharing a key chained in a side list): an index written by an older tide (another
# version), a truncated or a corrupt one is not used but rebuilt, with the same sightings and
# nothing lost; several indicators on one value are all reported, newest first, whether the
# index was just built or loaded from the file.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-ixfile.XXXXXX); trap "[ -n \"${KEEP:-}\" ] || rm -rf $W" EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
cd "$W"
S="--store $W/s"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); EP=$(date -u +%s)
ind() { # ind N PATTERN
  echo "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--c2000000-0000-4000-8000-00000000000$1\",\"created\":\"$NOW\",\"modified\":\"$NOW\",\"valid_from\":\"$NOW\",\"name\":\"n$1\",\"pattern_type\":\"stix\",\"pattern\":\"$2\",\"confidence\":90}"
}
{
  echo '{"type":"bundle","id":"bundle--c2000000-0000-4000-8000-0000000000ff","objects":['
  ind 1 "[domain-name:value = 'shared.evil.example']"; echo ,
  ind 2 "[domain-name:value = 'shared.evil.example']"; echo ,
  ind 3 "[domain-name:value = 'shared.evil.example']"; echo ,
  ind 4 "[ipv4-addr:value = '45.133.1.51']"; echo ,
  ind 5 "[ipv4-addr:value = '203.0.113.0/24']"
  echo ']}'
} >intel.json
"$TIDE" $S ingest intel.json >/dev/null 2>&1
printf '%s.100    120 10.0.0.11 TCP_MISS/200 512 GET http://www.shared.evil.example/gate.php alice DIRECT/45.133.1.51 text/html\n' "$EP" >a.log
printf '%s.200    120 10.0.0.12 TCP_MISS/200 512 GET http://203.0.113.7/x alice DIRECT/203.0.113.7 text/html\n' "$EP" >>a.log
m() { "$TIDE" $S match --no-store --no-history a.log >"$1.jsonl" 2>"$1.err"; }
ids() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["indicator_id"][-1:] for l in open(sys.argv[1])))' "$1"; }
version() { python3 -c 'import struct,sys; print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 8)[0])' "$W/s/match.idx"; }

m built
check "built: three indicators on one domain, newest first, then the IP and the CIDR" '[ "$(ids built.jsonl)" = "3 2 1 4 5" ] && grep -q "index built" built.err'
cur=$(version)
m loaded
check "loaded from match.idx: the same sightings" 'grep -q "index loaded" loaded.err && cmp -s built.jsonl loaded.jsonl'

# an index of the layout before (version 4, or any other): refused by the loader, rebuilt
python3 -c 'import struct,sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); struct.pack_into("<I", d, 8, 4); open(p,"wb").write(d)' "$W/s/match.idx"
m old
check "an old-version match.idx is rebuilt, the same sightings" 'grep -q "index built" old.err && cmp -s built.jsonl old.jsonl && [ "$(version)" = "$cur" ]'
"$TIDE" $S index info >info.out 2>info.err; rc=$?
check "tide index info reads the rebuilt file" '[ $rc -eq 0 ]'

# truncated (a crash while copying it, a full disk): rebuilt, nothing lost
size=$(stat -c %s "$W/s/match.idx")
truncate -s $((size / 2)) "$W/s/match.idx"
m trunc
check "a truncated match.idx is rebuilt, the same sightings" 'grep -q "index built" trunc.err && cmp -s built.jsonl trunc.jsonl && [ "$(stat -c %s "$W/s/match.idx")" = "$size" ]'

# one byte changed in the middle (the checksum catches it)
python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[len(d)//2] ^= 0x5a; open(p,"wb").write(d)' "$W/s/match.idx"
m corrupt
check "a corrupt match.idx is rebuilt, the same sightings" 'grep -q "index built" corrupt.err && cmp -s built.jsonl corrupt.jsonl'

# an explicit --index FILE that is not usable is an error naming it, not a silent rebuild
cp "$W/s/match.idx" old.idx
python3 -c 'import struct,sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); struct.pack_into("<I", d, 8, 4); open(p,"wb").write(d)' old.idx
"$TIDE" $S index info old.idx >/dev/null 2>oldinfo.err; rc=$?
check "tide index info on an old-version file: an error saying to rebuild it" '[ $rc -ne 0 ] && grep -q "version 4 is not $cur (rebuild it)" oldinfo.err'
echo "match_index_file: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
