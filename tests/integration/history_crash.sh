#!/usr/bin/env bash
# history_crash.sh - crash safety and corruption handling of the history (SPEC C9, issue 5).
# A committed history of some logs; then `tide history import` of more logs is killed with
# SIGKILL at several moments (while reading and spilling runs, while committing / compacting):
# after each kill the hunt must give exactly the results of the old history or of the old plus
# the new logs (never a mix, never an error), and the next writer removes the leftovers. Then
# corrupt run files (a flipped byte, a truncation) and a corrupt MANIFEST are reported with a
# clear error naming the file.
set -u
TIDE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); SRC=$2
GEN=${TIDE_SHARED_BENCH:-$SRC/../shared/bench}/gen_corpus.py
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
[ -f "$GEN" ] || { [ "${CI:-}" = true ] && exit 1; echo "skipped: $GEN absent"; exit 77; }
W=$(mktemp -d /tmp/tide-hcrash.XXXXXX); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
python3 "$GEN" --out "$W/c" --seed 3 --indicators 3000 --events 30000 --hosts 100 --plant 200 >/dev/null
cd "$W/c"
S=$W/s
"$TIDE" --store "$S" ingest --no-hunt intel/bundle.stix.json >/dev/null 2>&1
"$TIDE" --store "$S" history import telemetry/eve.json 2>/dev/null
"$TIDE" --store "$S" hunt --all --json --no-store 2>/dev/null | sort >"$W/old.txt"
# the full picture, in a scratch copy
cp -r "$S" "$W/full"
REST=$(find telemetry -type f ! -name eve.json | sort)
"$TIDE" --store "$W/full" history import $REST 2>/dev/null
"$TIDE" --store "$W/full" hunt --all --json --no-store 2>/dev/null | sort >"$W/new.txt"
check "old and new differ (the test means something)" '[ -s "$W/old.txt" ] && ! cmp -s "$W/old.txt" "$W/new.txt"'
kills=0; olds=0; news=0; bad=0
for delay in 0.3 0.8 1.5 2.5 4 6; do
  TIDE_HISTORY_SPILL=20000 "$TIDE" --store "$S" history import $REST >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills+1)); fi
  wait "$pid" 2>/dev/null
  if ! "$TIDE" --store "$S" hunt --all --json --no-store 2>"$W/err" | sort >"$W/now.txt"; then bad=$((bad+1)); cat "$W/err"; fi
  if cmp -s "$W/now.txt" "$W/old.txt"; then olds=$((olds+1));
  elif cmp -s "$W/now.txt" "$W/new.txt"; then news=$((news+1)); break;
  else bad=$((bad+1)); echo "after kill at $delay s: neither the old nor the new history"; fi
done
echo "kills $kills: old $olds, new $news, bad $bad"
check "every kill left the old or the complete history ($kills kills)" '[ "$bad" -eq 0 ] && [ "$kills" -ge 1 ]'
"$TIDE" --store "$S" history prune --before 1971-01-01 2>/dev/null
nruns=$("$TIDE" --store "$S" history stats --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['runs'])")
check "the next writer removed the leftovers (only the $nruns runs the MANIFEST lists are left)" \
  '[ -z "$(find "$S/history" -name "*.tmp")" ] && [ -z "$(ls "$S/history" | grep -v -e "^MANIFEST$" -e "^LOCK$" -e "^20..-..-..\.[0-9]*\.hst$")" ] && [ "$(find "$S/history" -name "*.hst" | wc -l)" = "$nruns" ]'
"$TIDE" --store "$S" history import $REST 2>/dev/null
if [ "$news" -eq 0 ]; then
  "$TIDE" --store "$S" hunt --all --json --no-store 2>/dev/null | sort >"$W/now.txt"
  check "import after the crashes completes the history" 'cmp -s "$W/now.txt" "$W/new.txt"'
fi

# corruption
C=$W/corrupt; cp -r "$W/full" "$C"
RUN=$(find "$C/history" -name "*.hst" | head -1)
python3 - "$RUN" <<'PY'
import sys, os
p = sys.argv[1]; n = os.path.getsize(p)
with open(p, "r+b") as f:
    f.seek(n // 3); b = f.read(1); f.seek(n // 3); f.write(bytes([b[0] ^ 0x40]))
PY
"$TIDE" --store "$C" hunt --all --json --no-store >/dev/null 2>"$W/err1"; rc=$?
check "flipped byte: hunt fails (exit $rc) naming the file" '[ "$rc" -ne 0 ] && grep -q "$(basename "$RUN")" "$W/err1" && grep -q corrupt "$W/err1"'
cat "$W/err1"
cp -r "$W/full" "$W/t"; RUN=$(find "$W/t/history" -name "*.hst" | head -1)
truncate -s 5000 "$RUN"
"$TIDE" --store "$W/t" hunt --all --json --no-store >/dev/null 2>"$W/err2"; rc=$?
check "truncated file: hunt fails naming the file" '[ "$rc" -ne 0 ] && grep -q "$(basename "$RUN")" "$W/err2"'
cat "$W/err2"
cp -r "$W/full" "$W/m"; sed -i 's/^run \([0-9]*\) /run 1\1 /' "$W/m/history/MANIFEST"
"$TIDE" --store "$W/m" history stats >/dev/null 2>"$W/err3"; rc=$?
check "edited MANIFEST: rejected naming it" '[ "$rc" -ne 0 ] && grep -q "MANIFEST" "$W/err3"'
cat "$W/err3"
echo "history_crash: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
