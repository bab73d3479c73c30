#!/usr/bin/env bash
# export_bench.sh - SPEC C6 / C10: times a full `tide export` of 1 M indicators in every format.
#   1. generates (once) bench/out/ref1m with ../shared/bench/gen_corpus.py --indicators N
#      --events 1000 --hosts 100 --plant 10 (reuses bench/out/corpus-N from ingest_bench.sh);
#   2. ingests its STIX bundle into a scratch store bench/out/export-store-N (once);
#   3. runs `tide export --format F` for every format into bench/out/export-N/ and prints a
#      table: format, wall seconds, entries written, output size.
# Usage: bench/export_bench.sh [N]   Environment: TIDE_BIN (default ./build/tide), TIDE_SHARED.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
n=${1:-1000000}
case "$n" in '' | *[!0-9]*) echo "usage: bench/export_bench.sh [N]" >&2; exit 2 ;; esac
shared=${TIDE_SHARED:-$root/../shared}
tide=${TIDE_BIN:-$root/build/tide}
[ -x "$tide" ] || { echo "export_bench: no tide binary at $tide" >&2; exit 2; }
out=$here/out
corpus=$out/ref1m
[ "$n" = 1000000 ] || corpus=$out/ref-$n
if [ ! -f "$corpus/intel/bundle.stix.json" ] && [ -f "$out/corpus-$n/intel/bundle.stix.json" ]; then
    corpus=$out/corpus-$n
fi
if [ ! -f "$corpus/intel/bundle.stix.json" ]; then
    echo "generating $corpus ..." >&2
    python3 "$shared/bench/gen_corpus.py" --out "$corpus" --indicators "$n" --events 1000 \
        --hosts 100 --plant 10 >/dev/null
fi
store=$out/export-store-$n
if [ ! -f "$store/.ingested" ]; then
    rm -rf "$store"
    echo "ingesting $corpus/intel/bundle.stix.json ..." >&2
    s=$(date +%s.%N)
    "$tide" --store "$store" ingest --format stix "$corpus/intel/bundle.stix.json" >/dev/null
    e=$(date +%s.%N)
    printf 'ingest: %.1f s\n' "$(echo "$e - $s" | bc)" >&2
    touch "$store/.ingested"
fi
dest=$out/export-$n
rm -rf "$dest"; mkdir -p "$dest"
printf '%-9s %9s %10s %10s\n' format seconds entries size
for f in rpz nft ipset squid suricata zeek yara stix misp csv txt; do
    o=$dest/$f.out
    case $f in squid|suricata) o=$dest/$f ;; esac
    s=$(date +%s.%N)
    "$tide" --store "$store" export --format "$f" --output "$o" 2>"$dest/$f.err"
    e=$(date +%s.%N)
    written=$(sed -n 's/.*: \([0-9]*\) entries written.*/\1/p' "$dest/$f.err" | head -1)
    size=$(du -sh "$o" | cut -f1)
    printf '%-9s %9.2f %10s %10s\n' "$f" "$(echo "$e - $s" | bc)" "${written:-?}" "$size"
done
