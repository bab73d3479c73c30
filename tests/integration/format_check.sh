#!/usr/bin/env bash
# format_check.sh - every C file of the tree is formatted as .clang-format says (clang-format
# 14, the version of Debian 12 that formatted it; scripts/setup.sh installs it). Lists the files
# that differ; fix them with `clang-format -i FILE`. Another major version formats some
# constructs differently, so it skips then; without clang-format it skips, except under
# CI=true, where that is a failure. $1 = the tide binary (unused), $2 = the source folder.
set -euo pipefail
src=${2:?usage: format_check.sh TIDE SOURCE_DIR}
want=14
if ! command -v clang-format >/dev/null; then
    [ "${CI:-}" = true ] && { echo "format_check: clang-format is not installed (CI=true)"; exit 1; }
    echo "skipped: clang-format is not installed"
    exit 77
fi
have=$(clang-format --version | sed -E 's/.*version ([0-9]+).*/\1/')
if [ "$have" != "$want" ]; then
    echo "skipped: clang-format $have here, the tree is formatted with $want"
    exit 77
fi
cd "$src"
mapfile -t files < <(find include src cli server tests fuzz bench -name '*.[ch]' -type f | sort)
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]} > 0)); then
    echo "format_check: ${#bad[@]} file(s) not formatted as .clang-format says (clang-format -i):"
    printf '  %s\n' "${bad[@]}"
    exit 1
fi
echo "format_check: ${#files[@]} files formatted as .clang-format says"
