#!/usr/bin/env bash
# telemetry_bench.sh - read speed of the telemetry readers (SPEC C2 / C10): builds a tiny driver
# (bench/telemetry_read.c) against a Release libtidecore.a, generates the corpus with
# gen_corpus.py when missing, and times reading every telemetry file, next to `cat > /dev/null`.
# Usage: bench/telemetry_bench.sh [build-dir]   (default build-bench-tel, configured Release)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build-bench-tel}
OUT=$SRC/bench/out/telcorpus
if [ ! -f "$BUILD/libtidecore.a" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIDE_BUILD_TESTS=OFF -DTIDE_BUILD_CLI=OFF >/dev/null
fi
cmake --build "$BUILD" -j2 --target tidecore >/dev/null
DRV=$BUILD/telemetry_read
cc -O2 -I"$SRC/include" "$SRC/bench/telemetry_read.c" "$BUILD/libtidecore.a" \
  $(pkg-config --libs sqlite3 jansson libzstd zlib libpcre2-8 libcrypto libxxhash) -lm -o "$DRV"
if [ ! -f "$OUT/truth.jsonl" ]; then
  python3 "$SRC/../shared/bench/gen_corpus.py" --out "$OUT" --indicators 1000 --events 300000 \
    --hosts 500 --plant 100 >/dev/null
fi
FILES=$(ls "$OUT"/telemetry/zeek/*.log "$OUT"/telemetry/*.json "$OUT"/telemetry/*.log)
printf '%-14s %10s %10s %10s\n' file MB "cat MB/s" "tide MB/s"
for f in $FILES; do
  cat "$f" >/dev/null  # warm the page cache
  bytes=$(stat -c %s "$f")
  t0=$(date +%s.%N); cat "$f" >/dev/null; t1=$(date +%s.%N)
  best=0
  for _ in 1 2 3; do
    line=$("$DRV" "$f")
    mbs=$(echo "$line" | awk -F'\t' '{print $NF}' | awk '{print $1}')
    best=$(awk -v a="$best" -v b="$mbs" 'BEGIN{print (b>a)?b:a}')
  done
  catmbs=$(awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN{d=c-a; if(d<=0)d=1e-6; printf "%.0f", b/d/1e6}')
  printf '%-14s %10.1f %10s %10s\n' "$(basename "$f")" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" "$catmbs" "$best"
done
