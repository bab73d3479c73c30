#!/usr/bin/env bash
# pattern_combinatorial.sh - `tide pattern match` evaluates what the OASIS reference matcher
# evaluates (issue 17): nested qualifiers of one kind (REPEATS of REPEATS, WITHIN of WITHIN,
# START/STOP of START/STOP) and REPEATS over many observations, each within 3 s (a few ms here), where
# it used to answer "REPEATS needs too many combinations". The data and the patterns are those
# of the reference's test_combinatorial_explosion (cti-pattern-matcher test_complex.py): 20
# observed-data one second apart, person ages 0..19; plus 60 observations for REPEATS 30.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
W=$(mktemp -d /tmp/tide-patcomb.XXXXXX); trap 'rm -rf "$W"' EXIT
python3 - "$W" <<'PY'
import json, sys
from datetime import datetime, timedelta
def obs(n):
    out = []
    for i in range(n):
        t = (datetime(2004, 10, 11, 21, 44, 58) + timedelta(seconds=i)).isoformat("T") + "Z"
        out.append({"type": "observed-data", "first_observed": t, "last_observed": t, "number_observed": 1,
                    "objects": {"a0": {"type": "person", "name": "alice", "age": i % 20}}})
    return out
json.dump(obs(20), open(sys.argv[1] + "/o20.json", "w"))
json.dump(obs(60), open(sys.argv[1] + "/o60.json", "w"))
PY
pass=0; fail=0
# expect: 0 match, 1 no match (exit codes of tide pattern match); each within 1 s
t() {
  local want=$1 file=$2 pat=$3 s e rc
  s=$(date +%s%N)
  "$TIDE" pattern match --stix-version 2.0 "$pat" "$W/$file" >/dev/null 2>"$W/err"; rc=$?
  e=$(( ($(date +%s%N) - s) / 1000000 ))
  if [ "$rc" = "$want" ] && [ "$e" -lt 3000 ]; then pass=$((pass+1)); echo "ok   $pat ($e ms)"
  else fail=$((fail+1)); echo "FAIL $pat: exit $rc (want $want), $e ms: $(tail -1 "$W/err")"; fi
}
A="[person:age < 20]"
t 0 o20.json "$A REPEATS 10 TIMES"
t 0 o20.json "$A REPEATS 10 TIMES WITHIN 10 SECONDS"
t 0 o20.json "$A REPEATS 10 TIMES START t'2004-10-11T21:40:00Z' STOP t'2004-10-11T21:50:00Z'"
t 0 o20.json "$A REPEATS 10 TIMES AND $A"
t 0 o20.json "$A REPEATS 10 TIMES OR $A"
t 0 o20.json "$A REPEATS 10 TIMES FOLLOWEDBY $A"
t 0 o20.json "$A REPEATS 5 TIMES REPEATS 2 TIMES"
t 0 o20.json "$A REPEATS 2 TIMES REPEATS 5 TIMES"
t 0 o20.json "([person:age < 20] FOLLOWEDBY [person:age > 5]) REPEATS 10 TIMES"
t 1 o20.json "$A REPEATS 10 TIMES WITHIN 8 SECONDS"
t 1 o20.json "$A REPEATS 3 TIMES REPEATS 7 TIMES"
t 0 o20.json "$A REPEATS 4 TIMES REPEATS 5 TIMES WITHIN 19 SECONDS"
t 1 o20.json "$A REPEATS 4 TIMES REPEATS 5 TIMES WITHIN 18 SECONDS"
t 0 o20.json "($A WITHIN 5 SECONDS) WITHIN 3 SECONDS"
t 0 o20.json "($A START t'2004-10-11T21:44:00Z' STOP t'2004-10-11T21:45:10Z') START t'2004-10-11T21:45:00Z' STOP t'2004-10-11T21:46:00Z'"
t 1 o20.json "($A START t'2004-10-11T21:44:00Z' STOP t'2004-10-11T21:45:00Z') START t'2004-10-11T21:45:00Z' STOP t'2004-10-11T21:46:00Z'"
t 0 o60.json "$A REPEATS 30 TIMES"
t 0 o60.json "([person:age < 20] REPEATS 3 TIMES) REPEATS 3 TIMES"
t 0 o60.json "$A REPEATS 30 TIMES WITHIN 29 SECONDS"
t 1 o60.json "$A REPEATS 30 TIMES WITHIN 28 SECONDS"
echo "pattern_combinatorial: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
