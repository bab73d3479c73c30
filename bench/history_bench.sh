#!/usr/bin/env bash
# history_bench.sh - `tide history import` alone (SPEC C3 / C10): speed per CPU-second and by
# wall, peak RSS, and history bytes per raw byte, on the reference workload (bench/out/ref, or
# the folder given) and on the real logs in ../shared/data (Zeek, Suricata EVE, Squid, web
# access logs: those tide reads; --retention 36500d so that old captures are all kept), each
# into a fresh store, in one run. Target: >= 300 MB/s per core on the reference.
# Usage: bench/history_bench.sh [REF_DIR]
# Environment: TIDE_BIN (default ./build/tide), TIDE_SHARED (default ../shared),
#   TIDE_BENCH_RUNS (default 1) imports of the reference (the fastest by CPU is shown).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ref=${1:-$here/out/ref}
shared=${TIDE_SHARED:-$root/../shared}
tide=${TIDE_BIN:-$root/build/tide}
runs=${TIDE_BENCH_RUNS:-1}
[ -x "$tide" ] || { echo "history_bench: no tide binary at $tide" >&2; exit 2; }
[ -d "$ref/telemetry" ] || { echo "history_bench: no $ref/telemetry (bench/match_bench.sh generates it)" >&2; exit 2; }
tide=$(cd "$(dirname "$tide")" && pwd)/$(basename "$tide")
work=$(mktemp -d /tmp/tide-hbench.XXXXXX); trap 'rm -rf "$work"' EXIT
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "history_bench: needs GNU time (Debian package 'time')" >&2; exit 2; }

# import NAME PATH...: a fresh store; prints one table row
import() {
    local name=$1; shift
    local best="" line=""
    for ((i = 1; i <= runs; i++)); do
        rm -rf "$work/s"
        "$timebin" -f '%e %M %U %S' -o "$work/t" "$tide" --store "$work/s" history import \
            --retention 36500d "$@" >/dev/null 2>"$work/err" || true
        read -r w r u s < <(tail -1 "$work/t")
        local cpu; cpu=$(awk "BEGIN {print $u + $s}")
        if [ -z "$best" ] || awk "BEGIN {exit !($cpu < $best)}"; then
            best=$cpu
            "$tide" --store "$work/s" history stats --json >"$work/stats.json"
            line=$(python3 - "$work/stats.json" "$name" "$w" "$cpu" "$r" <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); name = sys.argv[2]
w, cpu, rss = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]) // 1024
raw = st["raw_bytes"]
print("%-26s %9.1f %7.2f %7.2f %9.0f %9.0f %7d %10d %9.4f" % (name, raw / 1e6, w, cpu,
      raw / 1e6 / w, raw / 1e6 / cpu, rss, st["records"], st["bytes"] / raw if raw else 0))
PY
)
        fi
    done
    echo "$line"
}
printf '%-26s %9s %7s %7s %9s %9s %7s %10s %9s\n' input "raw MB" wall-s CPU-s "MB/s" "MB/CPU-s" "RSS MB" records "B/raw B"
cat $(find "$ref/telemetry" -type f) >/dev/null # warm the page cache
import "reference (SPEC C10)" "$ref/telemetry"
real=()
for p in zeek suricata logs/squid logs/elastic-examples; do
    [ -d "$shared/data/$p" ] && real+=("$shared/data/$p")
done
runs=1
[ ${#real[@]} -gt 0 ] && import "real logs (../shared/data)" "${real[@]}"
exit 0
