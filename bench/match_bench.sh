#!/usr/bin/env bash
# match_bench.sh - SPEC C10 detection benchmark, side by side in one run on the reference
# workload (gen_corpus.py --indicators 1000000 --events 1000000 --hosts 5000 --plant 2000):
#   - index build from the store: seconds, bytes per indicator (targets: <= 3 s, <= 200 B)
#   - tide match as a user runs it (the default: sightings stored, history recorded), first,
#     then --no-history, --no-store and --no-store --no-history beside it: MB/s by wall and by
#     CPU time, events/s, peak RSS, recall / precision by score.py (targets: the default
#     >= 500 MB/s wall on 2 cores and >= 12x py_match.py; --no-store --no-history >= 1 GB/s per
#     CPU-second, pinned to one core; recall = precision = 1.0)
#   - ../shared/bench/py_match.py (the baseline to beat), rg -F -f intel/iocs.txt (literal
#     search, cannot express CIDRs or parent domains), and cat > /dev/null (the floor)
# Usage: bench/match_bench.sh [N_INDICATORS N_EVENTS N_HOSTS N_PLANT]   (default: reference)
# Environment: TIDE_BIN (default ./build/tide), TIDE_SHARED (default ../shared),
#   TIDE_BENCH_SKIP=rg,py to leave baselines out (rg takes minutes and GBs on the reference).
#   TIDE_BENCH_RUNS=N runs tide match N times (default 5) and reports the fastest.
# The corpus and a store with its bundle are generated once and cached under bench/out/.
# shellcheck disable=SC2154
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ni=${1:-1000000}; ne=${2:-1000000}; nh=${3:-5000}; np=${4:-2000}
shared=${TIDE_SHARED:-$root/../shared}
tide=${TIDE_BIN:-$root/build/tide}
skip=${TIDE_BENCH_SKIP:-}
[ -x "$tide" ] || { echo "match_bench: no tide binary at $tide" >&2; exit 2; }
[ -f "$shared/bench/gen_corpus.py" ] || { echo "match_bench: $shared/bench not found" >&2; exit 2; }
tide=$(cd "$(dirname "$tide")" && pwd)/$(basename "$tide")
out="$here/out"
if [ "$ni $ne $nh $np" = "1000000 1000000 5000 2000" ]; then corpus="$out/ref"; else corpus="$out/match-$ni-$ne-$nh-$np"; fi
store="$corpus-store"
mkdir -p "$out"
if [ ! -f "$corpus/.complete" ]; then
    echo "generating the corpus in $corpus (once; minutes for the reference) ..."
    rm -rf "$corpus"
    python3 "$shared/bench/gen_corpus.py" --out "$corpus" --indicators "$ni" --events "$ne" \
        --hosts "$nh" --plant "$np"
    touch "$corpus/.complete"
fi
# .pristine: a store only ever ingested into. One made before every run took a copy of it holds
# the read positions of the runs made on it in place: a default run on a copy found its inputs
# read before and stored no sighting (less work than a user's first run does). Such a store is
# made again, once.
if [ ! -f "$store/.complete" ] || [ ! -f "$store/.pristine" ]; then
    echo "ingesting the bundle into $store (once) ..."
    rm -rf "$store"
    "$tide" --store "$store" ingest --format stix "$corpus/intel/bundle.stix.json" >/dev/null
    touch "$store/.complete" "$store/.pristine"
fi
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "match_bench: needs GNU time (Debian package 'time')" >&2; exit 2; }
# measure NAME CMD... : wall seconds, peak RSS (MB) and CPU seconds (user + sys) into
# wall_NAME / rss_NAME / cpu_NAME
measure() {
    local name=$1; shift
    local t; t=$(mktemp)
    if "$timebin" -f '%e %M %U %S' -o "$t" "$@"; then :; else echo "($name exited $?)" >&2; fi
    read -r w r u s <"$t"; rm -f "$t"
    printf -v "wall_$name" '%s' "$w"; printf -v "rss_$name" '%s' "$((r / 1024))"
    printf -v "cpu_$name" '%s' "$(awk "BEGIN {print $u + $s}")"
}
# SPEC C10 counts one core: tide runs pinned to one CPU when taskset exists (util-linux)
one_core=()
command -v taskset >/dev/null && one_core=(taskset -c 0)
cd "$corpus"
bytes=$(find telemetry -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
events=$(find telemetry -type f -exec cat {} + | grep -vc '^#')
echo "corpus: $ni indicators, $(awk "BEGIN {printf \"%.0f\", $bytes / 1e6}") MB of telemetry, $events events"

# warm the page cache, then the floor
cat $(find telemetry -type f) >/dev/null
measure cat sh -c 'cat $(find telemetry -type f) >/dev/null'

# index build (from the store, the full 1 M) and its size: a first run (CPU, peak RSS) also
# brings the store's pages into the page cache, so the timed build reads them warm
measure index "${one_core[@]}" "$tide" --store "$store" index build --output "$out/bench.idx"
"${one_core[@]}" "$tide" --store "$store" index build --json >"$out/index.json"
build_s=$(python3 -c "import json; print(json.load(open('$out/index.json'))['build_seconds'])")
per_ind=$(python3 -c "import json; print(json.load(open('$out/index.json'))['bytes_per_indicator'])")

# tide match as a user runs it (the default: sightings stored, every observation recorded into
# the history; a fresh copy of the store each run), first, then the variants beside it: --no-history,
# --no-store, and --no-store --no-history (readers and matcher alone, pinned to one core as
# SPEC C10 counts it). The default is not pinned: its history is recorded by a thread of its
# own, on the second core. Each is run TIDE_BENCH_RUNS times (default 5): on a shared VM the
# same binary's time swings by 40% from one hour to the next, so the fastest is kept (by wall
# for the unpinned default, whose target is wall time; by CPU for the others) and every run is
# printed. The sightings of the default are scored.
runs=${TIDE_BENCH_RUNS:-5}
# variant NAME PIN(0|1) ARGS...: best wall / CPU / RSS into wall_NAME, cpu_NAME, rss_NAME
variant() {
    local name=$1 pin=$2; shift 2
    local bw="" bc="" br="" all=()
    local pre=(); [ "$pin" = 1 ] && pre=("${one_core[@]}")
    for ((i = 1; i <= runs; i++)); do
        # every run on a fresh copy of the store (not timed): a run on the store a run before
        # wrote would find its sightings stored already and its inputs read, and skip that work
        rm -rf "$out/run-store"
        cp -a "$store" "$out/run-store"
        rm -rf "$out/run-store/history"
        sync
        measure one "${pre[@]}" sh -c "'$tide' --store '$out/run-store' match --quiet $* telemetry >'$out/tide-$name.jsonl'"
        all+=("$wall_one/$cpu_one")
        local better
        if [ "$pin" = 1 ]; then better=$cpu_one; cur=${bc:-}; else better=$wall_one; cur=${bw:-}; fi
        if [ -z "$cur" ] || awk "BEGIN {exit !($better < $cur)}"; then
            bw=$wall_one; bc=$cpu_one; br=$rss_one
        fi
    done
    printf -v "wall_$name" '%s' "$bw"; printf -v "cpu_$name" '%s' "$bc"; printf -v "rss_$name" '%s' "$br"
    printf -v "runs_$name" '%s' "${all[*]}"
}
variant default 0
hist_stats=$("$tide" --store "$out/run-store" history stats --json 2>/dev/null || true)
variant nohist 0 --no-history
variant nostore 0 --no-store
variant bare 1 --no-store --no-history
rm -rf "$out/run-store"
wall_tide=$wall_default; cpu_tide=$cpu_default; rss_tide=$rss_default
score=$(python3 "$shared/bench/score.py" "$corpus" "$out/tide-default.jsonl" | tail -1)
score_bare=$(python3 "$shared/bench/score.py" "$corpus" "$out/tide-bare.jsonl" | tail -1)

case ",$skip," in *,py,*) wall_py=; rss_py= ;; *)
    measure py sh -c "python3 '$shared/bench/py_match.py' '$corpus' >'$out/py.jsonl'" ;; esac
case ",$skip," in *,rg,*) wall_rg=; rss_rg= ;; *)
    if command -v rg >/dev/null; then
        measure rg sh -c "rg -F -f intel/iocs.txt --no-filename -c telemetry >/dev/null || true"
    else
        echo "(rg not installed: Debian package ripgrep)"; wall_rg=; rss_rg=
    fi ;; esac

mbps() { [ -n "$1" ] && awk "BEGIN {printf \"%.0f\", $bytes / 1e6 / $1}" || echo -; }
evps() { [ -n "$1" ] && awk "BEGIN {printf \"%.2f\", $events / 1e6 / $1}" || echo -; }
echo
printf '%-40s %8s %8s %9s %10s %9s %8s\n' what wall-s CPU-s MB/s MB/CPU-s Mevents/s "RSS MB"
row() { printf '%-40s %8s %8s %9s %10s %9s %8s\n' "$1" "$2" "${3:--}" "$(mbps "$2")" "$(mbps "${3:-}")" "$(evps "$2")" "$4"; }
row "tide match (default: store + history)" "$wall_default" "$cpu_default" "$rss_default"
row "tide match --no-history" "$wall_nohist" "$cpu_nohist" "$rss_nohist"
row "tide match --no-store" "$wall_nostore" "$cpu_nostore" "$rss_nostore"
row "tide match --no-store --no-history (1 core)" "$wall_bare" "$cpu_bare" "$rss_bare"
row "py_match.py" "${wall_py:-}" "" "${rss_py:--}"
row "rg -F -f intel/iocs.txt" "${wall_rg:-}" "" "${rss_rg:--}"
row "cat > /dev/null (floor)" "$wall_cat" "" "$rss_cat"
echo
echo "runs (wall s / CPU s): default ${runs_default}; --no-history ${runs_nohist}; --no-store ${runs_nostore}; --no-store --no-history ${runs_bare}"
echo "tide match (default): $(mbps "$wall_default") MB/s wall (target >= 500 on 2 cores), $(mbps "$cpu_default") MB/s per CPU-second; $score"
echo "tide match --no-store --no-history: $(mbps "$cpu_bare") MB/s per CPU-second (target >= 1000); $score_bare"
[ -n "$hist_stats" ] && echo "history of the default run: $(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print('%d records, %.1f MB, %.4f bytes per raw byte' % (d['records'], d['bytes'] / 1e6, d['bytes'] / max(d['raw_bytes'], 1)))" "$hist_stats")"
echo "index build on one core: ${build_s} s (target <= 3), ${per_ind} bytes per indicator (target <= 64 at 1 M), peak RSS ${rss_index} MB, $cpu_index CPU-s"
# the median of the default's runs beside the fastest: a VM's slow minutes move both, and a
# ratio met only by the fastest run is reported as such
med_default=$(for r in $runs_default; do echo "${r%%/*}"; done | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
[ -n "${wall_py:-}" ] && echo "tide match (default) vs py_match.py: $(awk "BEGIN {printf \"%.1f\", $wall_py / $wall_default}")x faster by wall, fastest run; $(awk "BEGIN {printf \"%.1f\", $wall_py / $med_default}")x by the median run ($med_default s) (target >= 12x on the reference, >= 10x on the acceptance corpus 50000 40000 800 150)"
[ -n "${wall_rg:-}" ] && echo "tide match (default) vs rg -F -f: $(awk "BEGIN {printf \"%.1f\", $wall_rg / $wall_default}")x faster"
exit 0
