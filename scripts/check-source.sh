#!/usr/bin/env bash
# check-source.sh - fails, listing FILE:LINE: code, when the C sources in src/ cli/ include/ call
# a function banned by docs/conventions.md: strcpy strcat sprintf vsprintf strtok atoi gets.
# Whole-word matches followed by "(" only, so snprintf, vsnprintf, fgets, strtok_r and
# tide__strcat_x are fine. Mentions inside comments and string literals are ignored.
# (The layer rules are checked by tests/integration/layers.sh.)
# Usage: scripts/check-source.sh [SOURCE_DIR]   (default: the folder above this script)
set -euo pipefail
root=${1:-"$(dirname "${BASH_SOURCE[0]}")/.."}
cd "$root"

banned='strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets'
call="(^|[^A-Za-z0-9_])($banned)[[:space:]]*\\("

dirs=()
for d in src cli server include; do
    [ -d "$d" ] && dirs+=("$d")
done
if ((${#dirs[@]} == 0)); then
    echo "check-source.sh: no src/ cli/ include/ under $(pwd)" >&2
    exit 2
fi

# Candidates from grep, then a second look at each with comments and strings removed.
offenders=0
while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    code=${rest#*:}
    # Blank out string / char literals and /* ... */ or // comments on that line; skip lines
    # that are the inside of a block comment (" * ...").
    stripped=$(printf '%s\n' "$code" | sed -E \
        -e 's/"([^"\\]|\\.)*"/""/g' \
        -e "s/'([^'\\\\]|\\\\.)*'/''/g" \
        -e 's:/\*.*\*/::g' -e 's://.*$::' -e 's:/\*.*$::')
    case "$stripped" in
        [[:space:]]\**|\**) continue ;;
    esac
    if printf '%s\n' "$stripped" | grep -qE "$call"; then
        fns=$(printf '%s\n' "$stripped" | grep -oE "$call" | grep -oE "$banned" | sort -u |
            sed 's/$/()/' | paste -sd, -)
        echo "$file:$line: banned $fns: $(printf '%s' "$code" | sed -E 's/^[[:space:]]+//')"
        offenders=$((offenders + 1))
    fi
done < <(grep -rnE --include='*.c' --include='*.h' "$call" "${dirs[@]}" || true)

if ((offenders > 0)); then
    echo "check-source.sh: $offenders call(s) of banned functions (use snprintf, memcpy with" \
        "explicit lengths, strtok_r, strtol / tide__parse_long, fgets)" >&2
    exit 1
fi
echo "check-source.sh: no banned functions in ${dirs[*]}"
