#!/usr/bin/env bash
# store_layers.sh - the store's layering (docs/ARCHITECTURE.md, "Store backends"): the backend
# contract include/tide/sys/store_backend.h names no jansson or SQLite type, the store (src/store)
# includes nothing of src/cases, and src/cases reaches the database only through the store.
# $1 = the tide binary (unused), $2 = the source folder.
set -euo pipefail
src=${2:?usage: store_layers.sh TIDE SOURCE_DIR}
fail=0

contract="$src/include/tide/sys/store_backend.h"
[ -f "$contract" ] || { echo "store_layers: $contract is missing"; exit 1; }
if grep -nE '#include *[<"](jansson|sqlite3)\.h|json_t|sqlite3' "$contract"; then
    echo "store_layers: the backend contract names jansson or SQLite (above)"
    fail=1
fi
if grep -rnE '#include *"(\.\./)?cases/' "$src/src/store"; then
    echo "store_layers: src/store includes a header of src/cases (above): arrows point down"
    fail=1
fi
if grep -rnE '#include *[<"]sqlite3\.h|#include *"store/store_int\.h"' "$src/src/cases"; then
    echo "store_layers: src/cases reaches SQLite or the SQLite backend's internals (above)"
    fail=1
fi
exit $fail
