#!/usr/bin/env bash
# source_check.sh - ctest wrapper: runs scripts/check-source.sh on the source folder ($2), and
# checks that the checker itself still catches a banned call and lets snprintf and friends pass.
# $1 = the tide binary (unused), $2 = the source folder.
set -euo pipefail
src=${2:?usage: source_check.sh TIDE SOURCE_DIR}
check="$src/scripts/check-source.sh"

# The checker must flag real offenders and only them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/x" "$tmp/cli" "$tmp/include"
cat >"$tmp/src/x/ok.c" <<'C'
/* strcpy(a, b) in a comment is fine, and so is "sprintf(" in a string */
#include <stdio.h>
static int ok(char *b, size_t n, FILE *f, char *s, char **save)
{
    snprintf(b, n, "%d", 1);
    (void)fgets(b, (int)n, f);
    (void)strtok_r(s, ",", save);
    return my_atoi_x(b); // atoi( in a comment
}
C
if ! out=$(bash "$check" "$tmp" 2>&1); then
    echo "check-source.sh flagged clean code:"
    echo "$out"
    exit 1
fi
cat >"$tmp/cli/bad.c" <<'C'
static void bad(char *d, const char *s, char *buf)
{
    strcpy(d, s);
    int n = atoi (s);
    sprintf(buf, "%d", n);
}
C
if out=$(bash "$check" "$tmp" 2>&1); then
    echo "check-source.sh missed banned calls:"
    echo "$out"
    exit 1
fi
for fn in strcpy atoi sprintf; do
    if ! grep -q "cli/bad.c:[0-9]*: banned $fn()" <<<"$out"; then
        echo "check-source.sh did not report $fn:"
        echo "$out"
        exit 1
    fi
done

# The real tree.
bash "$check" "$src"
