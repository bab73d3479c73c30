#!/usr/bin/env bash
# check-source.sh - fails, listing FILE:LINE: code, when the C sources in src/ cli/ include/ call
# a function banned by docs/conventions.md: strcpy strcat sprintf vsprintf strtok atoi gets.
# Whole-word matches followed by "(" only, so snprintf, vsnprintf, fgets, strtok_r and
# tide__strcat_x are fine. Mentions inside comments and string literals are ignored.
# Also the layer rules of docs/ARCHITECTURE.md: front ends (cli/) call the engine, never the
# history, the matcher, the match index, sighting batches or the telemetry readers themselves.
# Usage: scripts/check-source.sh [SOURCE_DIR]   (default: the folder above this script)
set -euo pipefail
root=${1:-"$(dirname "${BASH_SOURCE[0]}")/.."}
cd "$root"

banned='strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets'
call="(^|[^A-Za-z0-9_])($banned)[[:space:]]*\\("

dirs=()
for d in src cli include; do
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

# Layer rules: a front end holds no product logic.
layer_offenders=0
layer='tide_history_[a-z_]+|tide_matcher_[a-z_]+|tide_match_index_[a-z_]+|tide_sighting_batch_[a-z_]+|tide_tel_(open|next)[a-z_]*'
if [ -d cli ]; then
    while IFS= read -r hit; do
        echo "$hit  <- cli/ calls the engine (include/tide/engine.h), not this"
        layer_offenders=$((layer_offenders + 1))
    done < <(grep -rnE --include='*.c' --include='*.h' "(^|[^A-Za-z0-9_])($layer)[[:space:]]*\\(" cli || true)
fi

if ((offenders > 0)); then
    echo "check-source.sh: $offenders call(s) of banned functions (use snprintf, memcpy with" \
        "explicit lengths, strtok_r, strtol / tide__parse_long, fgets)" >&2
    exit 1
fi
if ((layer_offenders > 0)); then
    echo "check-source.sh: $layer_offenders call(s) across the layers (docs/ARCHITECTURE.md)" >&2
    exit 1
fi
echo "check-source.sh: no banned functions in ${dirs[*]}, no front end below the engine"
