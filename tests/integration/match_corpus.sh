#!/usr/bin/env bash
# match_corpus.sh - SPEC C2 done-when: on gen_corpus corpora (several seeds and sizes),
# ingesting intel/bundle.stix.json (and, separately, intel/iocs.csv) and running `tide match`
# over telemetry/ from the corpus root gives recall = precision = 1.0 by score.py; every
# sighting names the host the truth names; stored sightings are exactly the distinct
# (host, indicator) pairs of the truth; a saved index is reused and gives the same output.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
BENCH=${TIDE_SHARED_BENCH:-$SRC/../shared/bench}
if [ ! -f "$BENCH/gen_corpus.py" ]; then
  [ "${CI:-}" = true ] && { echo "shared bench missing at $BENCH (CI=true)"; exit 1; }
  echo "skipped: shared bench absent at $BENCH"; exit 77
fi
command -v python3 >/dev/null || { [ "${CI:-}" = true ] && exit 1; echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-match-corpus.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

hosts_agree() { # every sighting's host is the truth's host for that (file, line, indicator)
  python3 - "$1" "$2" <<'PY'
import json, sys
t = {(d["file"], d["line"], d["indicator"].lower()): d["host"] for d in map(json.loads, open(sys.argv[1] + "/truth.jsonl"))}
bad = [l for l in open(sys.argv[2]) if t.get((json.loads(l)["file"], json.loads(l)["line"], json.loads(l)["indicator"].lower())) != json.loads(l)["host"]]
sys.exit(1 if bad else 0)
PY
}
pairs() { python3 -c "
import json,sys
print(len({(d['host'], d['indicator'].lower()) for d in map(json.loads, open(sys.argv[1]))}))" "$1"; }

for spec in "1 3000 4000 40 60" "2 20000 6000 300 150" "3 500 2000 5 30"; do
  set -- $spec
  C="$W/c$1"
  python3 "$BENCH/gen_corpus.py" --out "$C" --seed $1 --indicators $2 --events $3 --hosts $4 --plant $5 >/dev/null
  for intel in bundle.stix.json iocs.csv; do
    S="$W/s$1-$intel"
    "$TIDE" --store "$S" ingest "$C/intel/$intel" >/dev/null 2>&1
    (cd "$C" && "$TIDE" --store "$S" match telemetry >"$W/m.jsonl" 2>"$W/m.err")
    check "seed $1 ($2 indicators) $intel: recall = precision = 1.0" \
      'python3 "$BENCH/score.py" "$C" "$W/m.jsonl" >"$W/score" && cat "$W/score" | tail -1'
    check "seed $1 $intel: hosts are the truth's" 'hosts_agree "$C" "$W/m.jsonl"'
    want=$(pairs "$C/truth.jsonl"); got=$("$TIDE" --store "$S" sightings --json | wc -l)
    check "seed $1 $intel: stored sightings = distinct host x indicator pairs ($got = $want)" '[ "$got" = "$want" ]'
  done
  # the saved index is reused while intel is unchanged, and gives the same sightings
  (cd "$C" && "$TIDE" --store "$S" match --no-store telemetry >"$W/m2.jsonl" 2>"$W/m2.err")
  check "seed $1: cached index loaded" 'grep -q "index loaded" "$W/m2.err"'
  check "seed $1: same output from the cached index" 'cmp -s "$W/m.jsonl" "$W/m2.jsonl"'
done

# compressed telemetry and stdin give the same sightings
C="$W/c1"; S="$W/s1-bundle.stix.json"
(cd "$C" && "$TIDE" --store "$S" match --no-store telemetry/zeek/conn.log >"$W/plain.jsonl" 2>/dev/null)
gzip -c "$C/telemetry/zeek/conn.log" >"$W/conn.log.gz"
"$TIDE" --store "$S" match --no-store "$W/conn.log.gz" 2>/dev/null | sed "s#$W/conn.log.gz#telemetry/zeek/conn.log#" >"$W/gz.jsonl"
check "gzip input: same sightings" 'cmp -s "$W/plain.jsonl" "$W/gz.jsonl"'
if command -v zstd >/dev/null; then
  zstd -q -c "$C/telemetry/zeek/conn.log" >"$W/conn.log.zst"
  "$TIDE" --store "$S" match --no-store "$W/conn.log.zst" 2>/dev/null | sed "s#$W/conn.log.zst#telemetry/zeek/conn.log#" >"$W/zst.jsonl"
  check "zstd input: same sightings" 'cmp -s "$W/plain.jsonl" "$W/zst.jsonl"'
fi
"$TIDE" --store "$S" match --no-store - <"$C/telemetry/zeek/conn.log" 2>/dev/null | sed 's#"file":"-"#"file":"telemetry/zeek/conn.log"#' >"$W/stdin.jsonl"
check "stdin input: same sightings" 'cmp -s "$W/plain.jsonl" "$W/stdin.jsonl"'
check "plain input had sightings" '[ -s "$W/plain.jsonl" ]'

# usage errors
"$TIDE" --store "$S" match >/dev/null 2>&1; rc=$?
check "no input: exit 2" '[ $rc = 2 ]'
"$TIDE" --store "$S" match --format nosuch "$C/telemetry/eve.json" >/dev/null 2>&1; rc=$?
check "unknown format: exit 2" '[ $rc = 2 ]'
"$TIDE" --store "$S" match "$W/does-not-exist" >/dev/null 2>&1; rc=$?
check "missing file: exit 2" '[ $rc = 2 ]'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
