#!/usr/bin/env bash
# readme_commands.sh - keeps README.md honest: the Quick start has exactly the two commands
# (./scripts/demo.sh, ./scripts/test.sh), both exist and do their own set-up, .ci/run runs the
# test command, and every command of the README's Usage block runs (in a fresh store, in the
# order written) with exit 0 and sensible output.
# $1 = the tide binary, $2 = the source folder.
set -euo pipefail
bin=${1:?usage: readme_commands.sh TIDE SOURCE_DIR}
src=${2:?usage: readme_commands.sh TIDE SOURCE_DIR}
readme="$src/README.md"
fail() {
    echo "FAIL: $*"
    exit 1
}
[ -f "$readme" ] || fail "no README.md in $src"

# The fenced block after a "## NAME" heading, without the fences.
block() {
    awk -v h="## $1" '
        $0 == h { insec = 1; next }
        insec && /^## / { exit }
        insec && /^```/ { if (infence) exit; infence = 1; next }
        insec && infence { print }' "$readme"
}

quick=$(block "Quick start")
[ "$quick" = $'./scripts/demo.sh\n./scripts/test.sh' ] ||
    fail "Quick start must hold exactly ./scripts/demo.sh and ./scripts/test.sh, has: $quick"
for s in scripts/demo.sh scripts/test.sh scripts/setup.sh .ci/run; do
    [ -x "$src/$s" ] || fail "$s is missing or not executable"
    bash -n "$src/$s" || fail "$s has a syntax error"
done
for s in scripts/demo.sh scripts/test.sh; do
    grep -q '^\./scripts/setup\.sh' "$src/$s" || fail "$s does not run scripts/setup.sh first"
done
grep -q '^\./scripts/test\.sh' "$src/.ci/run" || fail ".ci/run does not run ./scripts/test.sh"
# every library CMakeLists.txt asks pkg-config for must be installed by setup.sh
declare -A pkg_of=([sqlite3]=libsqlite3-dev [jansson]=libjansson-dev [libzstd]=libzstd-dev
    [zlib]=zlib1g-dev [libpcre2-8]=libpcre2-dev [libcrypto]=libssl-dev [libxxhash]=libxxhash-dev
    [libmicrohttpd]=libmicrohttpd-dev)
while read -r mod; do
    deb=${pkg_of[$mod]:-}
    [ -n "$deb" ] || fail "CMakeLists.txt needs pkg-config module $mod: add its Debian package to setup.sh and to this test"
    grep -qw -- "$deb" "$src/scripts/setup.sh" || fail "setup.sh does not install $deb (for $mod)"
done < <(grep -oE 'pkg_check_modules\([A-Z0-9_]+ REQUIRED IMPORTED_TARGET [^ )]+' \
    "$src/CMakeLists.txt" | awk '{print $4}')

# The Usage block, command by command.
usage=$(block "Usage")
[ -n "$usage" ] || fail "no Usage block"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp"
tide() { "$bin" --store "$tmp/store" "$@"; }
cd "$src"
shared_ok=1
[ -d ../shared/data ] || shared_ok=0
n=0
while IFS= read -r line; do
    cmd=$(sed -E 's/[[:space:]]+#[[:space:]].*$//' <<<"$line")
    [ -n "$cmd" ] || continue
    if [[ "$cmd" == *../shared/data* ]] && [ "$shared_ok" = 0 ]; then
        [ "${CI:-}" = true ] && fail "../shared/data is missing (CI=true)"
        echo "skip (no ../shared/data): $cmd"
        continue
    fi
    echo "\$ $cmd"
    if ! out=$(eval "$cmd" 2>&1); then
        echo "$out" | tail -n 20
        fail "README command failed: $cmd"
    fi
    n=$((n + 1))
    case "$cmd" in
        "tide show "*)
            grep -qE '[1-9][0-9]* indicator|indicator--' <<<"$out" ||
                { echo "$out"; fail "'$cmd' shows no indicator"; } ;;
        "tide search "*)
            grep -q 'indicator' <<<"$out" || { echo "$out"; fail "'$cmd' found nothing"; } ;;
        "tide stats --json")
            python3 -c 'import json,sys; assert json.load(sys.stdin)["objects"] > 0' <<<"$out" ||
                fail "stats --json has no objects: $out" ;;
        "tide help")
            grep -q 'demo' <<<"$out" || fail "tide help does not list the demo verb" ;;
    esac
done <<<"$usage"
[ "$n" -ge 5 ] || fail "only $n README commands ran"
echo "readme_commands: ok ($n commands)"
