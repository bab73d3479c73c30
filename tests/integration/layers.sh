#!/usr/bin/env bash
# layers.sh - the layer rules of docs/ARCHITECTURE.md, checked on the source tree. Arrows point
# down only:
#   cli/, server/         (front ends) call the engine, never the history, the matcher, the
#                          match index, sighting batches or the telemetry readers themselves,
#                          and include only the public headers (include/tide/), no internals;
#   src/* below engine     include nothing of the engine (tide/engine.h); src/feeds (the pulls of
#                          tide feeds) sits beside it, feeds its ingest runs, and no other
#                          library folder includes it;
#   src/store              includes nothing of src/cases; the backend contract
#                          (include/tide/sys/store_backend.h) names no jansson or SQLite type;
#   src/cases              reaches the database only through the store;
#   src/history            uses match's key encodings (match/keys.h), not its internals;
#   src/intel              does not call the store.
# The checker is tried first on a planted tree that breaks each rule (it must catch all) and on
# one that keeps them (it must pass), then on the real tree.
# $1 = the tide binary (unused), $2 = the source folder.
set -euo pipefail
src=${2:?usage: layers.sh TIDE SOURCE_DIR}

check() { # check ROOT: prints each violation, returns 1 when there was one
    local root=$1 fail=0
    local layer='tide_history_[a-z_]+|tide_matcher_[a-z_]+|tide_match_index_[a-z_]+|tide_sighting_batch_[a-z_]+|tide_tel_(open|next)[a-z_]*'
    local fe
    for fe in cli server; do
        if [ -d "$root/$fe" ] && grep -rnE --include='*.c' --include='*.h' \
                "(^|[^A-Za-z0-9_])($layer)[[:space:]]*\\(" "$root/$fe"; then
            echo "layers: a front end calls below the engine (above): use include/tide/engine.h"
            fail=1
        fi
        # front ends include the public headers only, never a library folder's internals
        if [ -d "$root/$fe" ] && grep -rnE --include='*.c' --include='*.h' \
                '#include *"(\.\./)?(src/)?(util|store|intel|pattern|ingest|telemetry|match|history|export|cases|engine|auth|demo|feeds)/' \
                "$root/$fe"; then
            echo "layers: a front end includes a library internal header (above): use include/tide/"
            fail=1
        fi
    done
    if grep -rnE --include='*.c' --include='*.h' '#include *"tide/engine\.h"' "$root/src" |
            grep -vE "^$root/src/(engine|feeds)/"; then
        echo "layers: a layer below the engine includes it (above)"
        fail=1
    fi
    if grep -rnE --include='*.c' --include='*.h' '#include *"(\.\./)?feeds/' "$root/src" |
            grep -v "^$root/src/feeds/"; then
        echo "layers: a library layer includes src/feeds, which sits beside the engine (above)"
        fail=1
    fi
    local contract="$root/include/tide/sys/store_backend.h"
    if [ -f "$contract" ] && grep -HnE '#include *[<"](jansson|sqlite3)\.h|json_t|sqlite3' "$contract"; then
        echo "layers: the backend contract names jansson or SQLite (above)"
        fail=1
    fi
    if [ -d "$root/src/store" ] && grep -rnE '#include *"(\.\./)?(cases|engine)/' "$root/src/store"; then
        echo "layers: src/store includes a header of a layer above it (above)"
        fail=1
    fi
    if [ -d "$root/src/cases" ] && grep -rnE '#include *[<"]sqlite3\.h|#include *"store/store_int\.h"' "$root/src/cases"; then
        echo "layers: src/cases reaches SQLite or the SQLite backend's internals (above)"
        fail=1
    fi
    if [ -d "$root/src/history" ] && grep -rnE '#include *"(\.\./)?match/index_int\.h"' "$root/src/history"; then
        echo "layers: src/history includes match's internals (above): match/keys.h has the encodings"
        fail=1
    fi
    if [ -d "$root/src/intel" ] && grep -rnE --include='*.c' '(^|[^A-Za-z0-9_])tide_store_[a-z_]+[[:space:]]*\(' "$root/src/intel"; then
        echo "layers: src/intel calls the store (above)"
        fail=1
    fi
    return $fail
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cli" "$tmp/server" "$tmp/src/store" "$tmp/src/cases" "$tmp/src/history" "$tmp/src/intel" \
    "$tmp/src/engine" "$tmp/src/match" "$tmp/include/tide/sys"
# a tree that keeps every rule: the engine may call anything, front ends the engine
echo 'static int ok(void *h) { return tide_history_commit(h); }' >"$tmp/src/engine/run.c"
echo '#include "tide/engine.h"' >"$tmp/src/engine/x.c"
mkdir -p "$tmp/src/feeds" && echo '#include "tide/engine.h"' >"$tmp/src/feeds/x.c"
echo 'static int ok(void *ws) { return tide_match_run_run(ws); }' >"$tmp/cli/ok.c"
printf '#include "tide/reads.h"\n#include "server_int.h"\n' >"$tmp/server/ok.c"
echo '#include "match/keys.h"' >"$tmp/src/history/keys.c"
if ! out=$(check "$tmp" 2>&1); then
    echo "layers: the checker refused a tree that keeps the rules:"
    echo "$out"
    exit 1
fi
# a tree that breaks each rule once
echo 'static int bad(void *h, void *m) { tide_history_commit(h); return tide_matcher_flush (m); }' >"$tmp/cli/bad.c"
echo 'static int bad(void *h) { return tide_match_index_lookup(h); }' >"$tmp/server/bad.c"
echo '#include "store/front.h"' >"$tmp/server/bad2.c"
echo '#include "tide/engine.h"' >"$tmp/src/cases/bad.c"
echo '#include "feeds/feeds_int.h"' >"$tmp/src/engine/bad.c"
echo 'typedef struct json_t json_t;' >"$tmp/include/tide/sys/store_backend.h"
echo '#include "cases/cases_int.h"' >"$tmp/src/store/bad.c"
echo '#include "store/store_int.h"' >"$tmp/src/cases/bad2.c"
echo '#include "match/index_int.h"' >"$tmp/src/history/bad.c"
echo 'static int bad(void *s) { return tide_store_get(s, 0, 0, 0); }' >"$tmp/src/intel/bad.c"
out=$(check "$tmp" 2>&1) && { echo "layers: the checker passed a tree that breaks the rules"; exit 1; }
for want in "cli/bad.c:1:.*tide_history_commit" "server/bad.c:1:" "server/bad2.c:1:" "cases/bad.c:1:" "engine/bad.c:1:" "store_backend.h:1:" \
        "store/bad.c:1:" "cases/bad2.c:1:" "history/bad.c:1:" "intel/bad.c:1:"; do
    grep -q "$want" <<<"$out" || { echo "layers: the checker missed $want:"; echo "$out"; exit 1; }
done

check "$src" && echo "layers: every arrow points down"
