#!/usr/bin/env bash
# telemetry_bench.sh - read speed of the telemetry readers (SPEC C2 / C10): builds a tiny driver
# (bench/telemetry_read.c) against a Release libtidecore.a, generates the small corpus with
# gen_corpus.py when missing, and times reading every telemetry file RUNS times (default 3),
# printing the best and the median MB/s (wall clock and process CPU time) next to
# `cat > /dev/null`. The machine is shared, so look at several runs.
# Usage: bench/telemetry_bench.sh [build-dir] [corpus-dir]
#   build-dir  default build-bench-tel (configured Release)
#   corpus-dir default bench/out/ref when bench/out/ref/.complete exists (the reference corpus,
#              gen_corpus.py --events 1000000), else bench/out/telcorpus (300 000 events per file)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build-bench-tel}
RUNS=${RUNS:-3}
if [ -n "${2:-}" ]; then
  OUT=$2
elif [ -f "$SRC/bench/out/ref/.complete" ]; then
  OUT=$SRC/bench/out/ref
else
  OUT=$SRC/bench/out/telcorpus
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIDE_BUILD_TESTS=OFF -DTIDE_BUILD_CLI=OFF >/dev/null
fi
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$BUILD/CMakeCache.txt" || echo "warning: $BUILD is not a Release build" >&2
cmake --build "$BUILD" -j2 --target tidecore >/dev/null
DRV=$BUILD/telemetry_read
cc -O2 -I"$SRC/include" "$SRC/bench/telemetry_read.c" "$BUILD/libtidecore.a" \
  $(pkg-config --libs sqlite3 jansson libzstd zlib libpcre2-8 libcrypto libxxhash) -lm -o "$DRV"
if [ ! -f "$OUT/truth.jsonl" ]; then
  python3 "$SRC/../shared/bench/gen_corpus.py" --out "$OUT" --indicators 1000 --events 300000 \
    --hosts 500 --plant 100 >/dev/null
fi
FILES=$(ls "$OUT"/telemetry/zeek/*.log "$OUT"/telemetry/*.json "$OUT"/telemetry/*.log)
# best and median of a list of numbers
stats() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{printf "%6.0f %6.0f", a[NR], a[int((NR+1)/2)]}'; }
printf '%-12s %8s %8s   %-13s   %-13s\n' file MB "cat MB/s" "wall best/med" "cpu best/med"
for f in $FILES; do
  cat "$f" >/dev/null  # warm the page cache
  bytes=$(stat -c %s "$f")
  t0=$(date +%s.%N); cat "$f" >/dev/null; t1=$(date +%s.%N)
  wall="" cpu=""
  for _ in $(seq "$RUNS"); do
    line=$("$DRV" "$f")
    wall="$wall $(echo "$line" | awk -F'\t' '{print $NF}' | awk '{print $1}')"
    cpu="$cpu $(echo "$line" | awk -F'\t' '{print $(NF-2)}' | awk '{print $2}')"
  done
  catmbs=$(awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN{d=c-a; if(d<=0)d=1e-6; printf "%.0f", b/d/1e6}')
  printf '%-12s %8.1f %8s   %s   %s\n' "$(basename "$f")" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" \
    "$catmbs" "$(echo "$wall" | stats)" "$(echo "$cpu" | stats)"
done
