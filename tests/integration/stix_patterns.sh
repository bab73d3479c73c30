#!/usr/bin/env bash
# stix_patterns.sh - runs every STIX pattern conformance case (validator + matcher, 2.0 and 2.1)
# of ../shared/data/stix-patterns through `tide pattern` via /work/shared/checks/patterns.py.
# $1 = the tide binary, $2 = the source folder. Skips (77) when the data, the checker or
# python3 is absent, except under CI=true where that is a failure.
set -u
tide=${1:?usage: stix_patterns.sh TIDE_BINARY [SOURCE_DIR]}
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
data=${TIDE_SHARED_DATA:-$src/../shared/data}/stix-patterns
checker=${TIDE_SHARED_CHECKS:-$src/../shared/checks}/patterns.py

missing=""
command -v python3 >/dev/null 2>&1 || missing="python3"
[ -d "$data" ] || missing="$missing $data"
[ -f "$checker" ] || missing="$missing $checker"
if [ -n "$missing" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "stix_patterns: missing:$missing (CI=true)" >&2
        exit 1
    fi
    echo "stix_patterns: skipped, missing:$missing" >&2
    exit 77
fi

out=$(python3 "$checker" "$tide" "$data")
rc=$?
echo "$out"
[ $rc -eq 0 ] || exit 1
# every case must pass: the last line reads "... passed N/N"
last=$(printf '%s\n' "$out" | tail -n 1)
case "$last" in
*"passed "*/*) ;;
*) echo "stix_patterns: unexpected checker output" >&2; exit 1 ;;
esac
ok=${last##*passed }
[ "${ok%/*}" = "${ok#*/}" ] || exit 1
exit 0
