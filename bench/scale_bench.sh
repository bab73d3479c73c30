#!/usr/bin/env bash
# scale_bench.sh - does matching stay flat and memory grow linearly with the intel? For each
# indicator count (default 10 000, 100 000 and 1 000 000; 10 000 000 when asked), on the same
# telemetry: the index build (seconds, CPU-s, peak RSS, index bytes and bytes per indicator)
# and `tide match --no-store --no-history` over the telemetry, pinned to one core (wall, CPU-s,
# MB/s per CPU-second, peak RSS, the sightings written), printed as one table with each speed
# relative to the smallest. The sightings matter: the generated intel's CIDRs (3 % of it, /16 to
# /24) cover ever more of the address space, so at 10 M most events match and the run writes
# gigabytes of sightings that the 10 k run does not. Targets (issue 18): <= 64 index bytes per
# indicator at 1 M; match speed at 10 M within 25 % of the speed at 10 k; resident memory
# growing linearly.
# Usage: bench/scale_bench.sh [COUNTS...]        e.g. bench/scale_bench.sh 10000 100000 1000000 10000000
# Environment: TIDE_BIN (default ./build/tide), TIDE_SHARED (default ../shared),
#   TEL (telemetry folder, default bench/out/ref/telemetry, the SPEC C10 reference),
#   TIDE_BENCH_RUNS (match runs per count, default 3; the fastest by CPU is shown).
# Only the intel of each count is generated (gen_corpus.py --events 1: a token telemetry part),
# once, under bench/out/scale-N, and ingested once into bench/out/scale-N-store. 10 M takes
# long: generation and ingest of the bundle (about 6 GB) need tens of minutes and ~20 GB of disk.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${TIDE_SHARED:-$root/../shared}
tide=${TIDE_BIN:-$root/build/tide}
tel=${TEL:-$here/out/ref/telemetry}
runs=${TIDE_BENCH_RUNS:-3}
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(10000 100000 1000000)
[ -x "$tide" ] || { echo "scale_bench: no tide binary at $tide" >&2; exit 2; }
[ -d "$tel" ] || { echo "scale_bench: no telemetry at $tel" >&2; exit 2; }
tide=$(cd "$(dirname "$tide")" && pwd)/$(basename "$tide")
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "scale_bench: needs GNU time (Debian package 'time')" >&2; exit 2; }
one_core=(); command -v taskset >/dev/null && one_core=(taskset -c 0)
out=$here/out; mkdir -p "$out"
bytes=$(find "$tel" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
cat $(find "$tel" -type f) >/dev/null
t=$(mktemp); trap 'rm -f "$t" "$t.err"' EXIT
printf '%-10s %8s %8s %8s %12s %8s %8s %8s %10s %8s %8s %10s\n' indicators build-s build-CPU "bld RSS" "index bytes" "B/ind" match-s match-CPU "MB/CPU-s" "vs first" "RSS MB" sightings
first=""
for n in "${counts[@]}"; do
    c=$out/scale-$n; s=$out/scale-$n-store
    # 1 M: the reference workload's store (match_bench.sh ingests it) when there is one
    if [ "$n" = 1000000 ] && [ -f "$out/ref-store/.complete" ]; then s=$out/ref-store
    elif [ ! -f "$c/.complete" ]; then
        rm -rf "$c"
        python3 "$shared/bench/gen_corpus.py" --out "$c" --indicators "$n" --events 1 --hosts 10 --plant 1 >/dev/null
        touch "$c/.complete"
    fi
    if [ ! -f "$s/.complete" ]; then
        rm -rf "$s"
        "$tide" --store "$s" ingest --no-hunt --format stix "$c/intel/bundle.stix.json" >/dev/null 2>&1
        touch "$s/.complete"
    fi
    "$timebin" -f '%e %M %U %S' -o "$t" "${one_core[@]}" "$tide" --store "$s" index build --json >"$out/scale-$n.json"
    read -r bw br bu bs < <(tail -1 "$t")
    read -r ibytes perind < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['bytes'], d['bytes_per_indicator'])" "$out/scale-$n.json")
    best=""; bestw=""; bestr=""
    for ((i = 1; i <= runs; i++)); do
        "$timebin" -f '%e %M %U %S' -o "$t" "${one_core[@]}" "$tide" --store "$s" match --no-progress --no-store --no-history "$tel" >/dev/null 2>"$t.err"
        read -r w r u sy < <(tail -1 "$t")
        sightings=$(sed -n 's/.*; \([0-9]*\) sightings (.*/\1/p' "$t.err" | tail -1)
        cpu=$(awk "BEGIN {print $u + $sy}")
        if [ -z "$best" ] || awk "BEGIN {exit !($cpu < $best)}"; then best=$cpu; bestw=$w; bestr=$r; fi
    done
    mbs=$(awk "BEGIN {printf \"%.0f\", $bytes / 1e6 / $best}")
    [ -n "$first" ] || first=$mbs
    printf '%-10s %8s %8s %8s %12s %8s %8s %8s %10s %8s %8s %10s\n' "$n" "$bw" "$(awk "BEGIN {print $bu + $bs}")" "$((br / 1024))" "$ibytes" "$perind" "$bestw" "$best" "$mbs" "$(awk "BEGIN {printf \"%.2f\", $mbs / $first}")" "$((bestr / 1024))" "${sightings:-?}"
done
echo "telemetry: $tel, $(awk "BEGIN {printf \"%.0f\", $bytes / 1e6}") MB; match pinned to one core, fastest of $runs by CPU"
