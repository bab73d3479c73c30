#!/usr/bin/env bash
# hunt_bench.sh - SPEC C10 history / retro-hunt benchmark, in one run, on the reference corpus
# (gen_corpus --indicators 1000000 --events 1000000 --hosts 5000 --plant 2000, bench/out/ref):
#   1. `tide history import` of the whole telemetry into a store without intel: MB/s, and
#      history bytes per raw byte (tide history stats);
#   2. ingest of the 1M-indicator bundle with --no-hunt (into the same scratch store);
#   3. `tide hunt --indicator`-free selection of 10 000 indicators: a second feed of 10 000
#      values taken from iocs.txt is ingested with --no-hunt, then timed:
#        tide hunt --added-since T0 --no-store      (the 10 000 indicators over the history)
#        rg -F -f values.txt telemetry/ (or grep -F -f when rg is absent) over the raw logs
#   and the page-cache floor (cat > /dev/null).
# Usage: bench/hunt_bench.sh [REF_DIR]   (default bench/out/ref; waits for REF_DIR/.complete)
# Environment: TIDE_BIN (default ./build-rel/tide), N (indicators hunted, default 10000).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ref=${1:-$here/out/ref}
tide=${TIDE_BIN:-$root/build-rel/tide}
n=${N:-10000}
[ -x "$tide" ] || { echo "hunt_bench: no tide binary at $tide" >&2; exit 2; }
while [ ! -f "$ref/.complete" ]; do echo "hunt_bench: waiting for $ref/.complete ..."; sleep 30; done
work=$here/out/hunt-bench
store=$work/store
mkdir -p "$work"
now() { date +%s.%N; }
files=$(cd "$ref" && find telemetry -type f | sort)
raw=$(cd "$ref" && cat $files | wc -c)

if [ ! -f "$store/history/MANIFEST" ]; then
  rm -rf "$store"
  t0=$(now)
  (cd "$ref" && "$tide" --store "$store" history import $files) 2>"$work/import.err"
  t1=$(now)
  echo "history import: $(tail -2 "$work/import.err" | head -1)"
  import_s=$(echo "$t1 - $t0" | bc)
else
  import_s=$(cat "$work/import.secs")
fi
echo "$import_s" >"$work/import.secs"
"$tide" --store "$store" history stats --json >"$work/stats.json"
if [ ! -f "$work/.ingested" ]; then
  "$tide" --store "$store" ingest --no-hunt --format stix "$ref/intel/bundle.stix.json" >/dev/null 2>"$work/ingest.err"
  touch "$work/.ingested"
fi
# the 10 000 "new" indicators: every 100th value of the reference list, as a new feed
awk -v n="$n" 'NR % 100 == 1 && c < n { print; c++ }' "$ref/intel/iocs.txt" >"$work/values.txt"
T0=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); sleep 1.1
# a new source name each run: list indicator ids derive from the source, so they are new intel
"$tide" --store "$store" ingest --no-hunt --format list --source "hunt-bench-$(date +%s)" "$work/values.txt" >/dev/null 2>&1
t0=$(now)
"$tide" --store "$store" hunt --added-since "$T0" --no-store --json >"$work/hunt.jsonl" 2>"$work/hunt.err"
t1=$(now)
hunt_s=$(echo "$t1 - $t0" | bc)
if command -v rg >/dev/null; then lit="rg -F -f"; else lit="grep -F -f"; fi
t0=$(now)
(cd "$ref" && $lit "$work/values.txt" $files | wc -l) >"$work/lit.count" || true
t1=$(now)
lit_s=$(echo "$t1 - $t0" | bc)
t0=$(now); (cd "$ref" && cat $files >/dev/null); t1=$(now)
cat_s=$(echo "$t1 - $t0" | bc)
python3 - "$work/stats.json" "$raw" "$import_s" "$hunt_s" "$lit_s" "$cat_s" "$lit" "$(cat "$work/lit.count")" \
    "$(wc -l <"$work/hunt.jsonl")" "$n" "$work/hunt.err" <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); raw = int(sys.argv[2])
imp, hunt, lit, cat = map(float, sys.argv[3:7])
print("reference telemetry: %.1f MB" % (raw / 1e6))
print("history import:      %.1f s  (%.0f MB/s)" % (imp, raw / 1e6 / imp))
print("history size:        %.1f MB in %d partition(s), %d records: %.4f bytes per raw byte"
      % (st["bytes"] / 1e6, st["partitions"], st["records"], st["bytes"] / raw))
print("tide hunt %s indicators: %.3f s -> %s retro-sightings   (target <= 1 s)" % (sys.argv[10], hunt, sys.argv[9]))
print("%s same values over raw logs: %.2f s -> %s lines" % (sys.argv[7], lit, sys.argv[8]))
print("cat > /dev/null (page-cache floor): %.2f s" % cat)
print("hunt speed-up vs %s: %.0fx" % (sys.argv[7].split()[0], lit / hunt if hunt > 0 else 0))
print(open(sys.argv[11]).read().strip())
PY
