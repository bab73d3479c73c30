#!/usr/bin/env bash
# ab_bench.sh - A/B of two tide binaries on the SPEC C10 reference workload, in one run: for
# the question "did this change slow anything down?". Each round runs both binaries back to
# back, in alternating order, on one core (taskset), so the VM's swings hit both alike:
#   ingest   tide ingest --format stix of the 1 M-indicator bundle into a fresh store
#   index    tide index build from that store
#   match    tide match as a user runs it (sightings stored, history recorded), fresh history
#   nohist   tide match --no-store --no-history (the matcher and readers alone)
# and prints every run and the fastest per binary and step (CPU seconds, user + sys: steadier
# than wall time on a shared machine), with B's change against A.
# Usage: bench/ab_bench.sh A_BIN B_BIN [ROUNDS]    (default 3 rounds)
# Environment: TIDE_SHARED (default ../shared), TIDE_BENCH_STEPS (default
#   "ingest index match nohist"), TIDE_BENCH_CORPUS (a gen_corpus folder; default the
#   reference, generated once into bench/out/ref as match_bench.sh does).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
a=$(readlink -f "${1:?usage: bench/ab_bench.sh A_BIN B_BIN [ROUNDS]}")
b=$(readlink -f "${2:?usage: bench/ab_bench.sh A_BIN B_BIN [ROUNDS]}")
rounds=${3:-3}
shared=${TIDE_SHARED:-$root/../shared}
steps=${TIDE_BENCH_STEPS:-ingest index match nohist}
corpus=${TIDE_BENCH_CORPUS:-$here/out/ref}
timebin=/usr/bin/time
[ -x "$timebin" ] || { echo "ab_bench: needs GNU time (Debian package 'time')" >&2; exit 2; }
if [ ! -f "$corpus/.complete" ]; then
    echo "generating the reference corpus in $corpus (once; minutes) ..."
    rm -rf "$corpus"
    mkdir -p "$(dirname "$corpus")"
    python3 "$shared/bench/gen_corpus.py" --out "$corpus" --indicators 1000000 \
        --events 1000000 --hosts 5000 --plant 2000
    touch "$corpus/.complete"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/tide-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
one_core=()
command -v taskset >/dev/null && one_core=(taskset -c 0)
cd "$corpus"
mapfile -t tel < <(find telemetry -type f | sort)
cat "${tel[@]}" >/dev/null

declare -A best runs
# run BIN_LABEL STEP CMD... : CPU seconds (user + sys) of CMD, kept when the fastest
run() {
    local who=$1 step=$2; shift 2
    local t="$work/time"
    "$timebin" -f '%U %S %e' -o "$t" "$@" >/dev/null 2>"$work/err" ||
        { echo "ab_bench: $who $step failed: $(tail -1 "$work/err")" >&2; exit 1; }
    local cpu wall
    read -r u s wall <"$t"
    cpu=$(awk "BEGIN {printf \"%.2f\", $u + $s}")
    runs[$who.$step]="${runs[$who.$step]:-} $cpu"
    if [ -z "${best[$who.$step]:-}" ] || awk "BEGIN {exit !($cpu < ${best[$who.$step]})}"; then
        best[$who.$step]=$cpu
    fi
}

for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then order="a b"; else order="b a"; fi
    for who in $order; do
        bin=$a; [ "$who" = b ] && bin=$b
        st="$work/store-$who"
        for step in $steps; do
            case $step in
                ingest)
                    rm -rf "$st"
                    run "$who" ingest "${one_core[@]}" "$bin" --store "$st" ingest --no-hunt \
                        --format stix intel/bundle.stix.json ;;
                index)
                    run "$who" index "${one_core[@]}" "$bin" --store "$st" index build ;;
                match)
                    rm -rf "$st/history"
                    run "$who" match "${one_core[@]}" "$bin" --store "$st" match --quiet \
                        "${tel[@]}" ;;
                nohist)
                    run "$who" nohist "${one_core[@]}" "$bin" --store "$st" match --quiet \
                        --no-store --no-history "${tel[@]}" ;;
            esac
        done
    done
    echo "round $r done"
done

echo
echo "A = $a"
echo "B = $b"
printf '%-8s %22s %22s %9s %9s %8s\n' step "A runs (CPU s)" "B runs (CPU s)" "A best" "B best" "B vs A"
for step in $steps; do
    pa=${best[a.$step]} pb=${best[b.$step]}
    printf '%-8s %22s %22s %9s %9s %7s%%\n' "$step" "${runs[a.$step]}" "${runs[b.$step]}" \
        "$pa" "$pb" "$(awk "BEGIN {printf \"%+.1f\", ($pb - $pa) / $pa * 100}")"
done
